"""`pool.Pool`: a dead, hung or failing worker costs one item (its fallback), never the run or another item;
`pool.Aside`: a child that fails or dies costs its answer being worked out here, never a wrong one."""

from __future__ import annotations

import ctypes
import faulthandler
import functools
import os
import time

from docatlas.pool import Aside, Pool, cap_jobs


def work(x: int) -> int:
    if x == 5:
        faulthandler.disable()
        ctypes.string_at(0)  # a segfault, as in a native parser
    if x == 7:
        time.sleep(3600)
    if x == 3:
        raise ValueError("three")
    return x * 2


def instead(x: int, why: str) -> int:
    assert isinstance(why, str)
    return -x


def test_each_failure_costs_its_item_only() -> None:
    reasons: dict[int, str] = {}

    def fallback(x: int, why: str) -> int:
        reasons[x] = why
        return -x

    items = list(range(200))
    got = sorted(Pool(work, 2, fallback, budget=1.0).run(items))
    want = sorted(-x if x in (3, 5, 7) else x * 2 for x in items)
    assert got == want
    assert reasons[3] == "ValueError: three"
    assert reasons[5] == "the worker process was killed by SIGSEGV"
    assert reasons[7].startswith("it took longer than 1 s")


def test_stopping_early_leaves_no_worker() -> None:
    pool = Pool(lambda x: (time.sleep(0.05), x)[1], 2, instead)
    run = pool.run(list(range(1000)))
    next(run)
    run.close()  # as an exception in the consumer does (Ctrl-C)
    time.sleep(0.2)
    children = [p for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == os.getpid()]
    assert children == []


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def test_cap_jobs() -> None:
    jobs, warning = cap_jobs(100_000)
    assert 1 <= jobs <= (os.cpu_count() or 1) and "--jobs 100000" in warning
    assert cap_jobs(1) == (1, "")


def test_an_error_of_the_fallback_is_not_taken_for_a_dead_worker() -> None:
    """A full disk while writing the page of a failed item must reach the caller as what it is."""
    import errno

    import pytest

    def fallback(x: int, why: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        list(Pool(work, 2, fallback, budget=30.0).run(list(range(20))))


_HELD: list[bytearray] = []


def grow(x: int) -> tuple[int, int]:
    """Keeps 4 MB per item, as a renderer's memo grows; says which process did the item."""
    _HELD.append(bytearray(4 << 20))
    return x * 2, os.getpid()


def test_a_worker_past_its_memory_bound_is_replaced_and_loses_no_item() -> None:
    """`retire`: a worker holding more than the bound hands back what it did, ends, and a fresh one (sharing
    the parent's pages again) does the rest of its chunk; every item is done once, none by the fallback."""
    items = list(range(120))
    got = list(Pool(grow, 2, lambda x, why: (-1, 0), retire=24 << 20).run(items))
    assert sorted(r for r, _ in got) == [x * 2 for x in items]
    workers = {pid for _, pid in got}
    assert len(workers) > 2  # replaced: 480 MB in all cannot stay under 24 MB a worker in two processes
    assert 0 not in workers
    unbounded = list(Pool(grow, 2, lambda x, why: (-1, 0)).run(items))
    assert len({pid for _, pid in unbounded}) == 2


def _slow_double(x: int) -> int:
    time.sleep(0.05)
    return x * 2


def _marked(folder: str, x: int) -> int:
    if x == 3:
        raise ValueError("three")
    time.sleep(0.02)
    open(os.path.join(folder, str(x)), "w").close()  # a marker: done
    return x * 2


def test_meanwhile_runs_once_while_the_workers_have_every_item(tmp_path) -> None:
    """`run(meanwhile=...)`: the parent's own work runs once, after every item is handed out, and the workers
    do them all meanwhile (handed out one chunk at a time, they would wait for the parent); then every result
    comes back, a failing one through the fallback as without it."""
    items = [x for x in range(40) if x != 3] + [3]
    calls: list[set[str]] = []

    def meanwhile() -> None:
        deadline = time.monotonic() + 10.0
        while len(os.listdir(tmp_path)) < len(items) - 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        calls.append(set(os.listdir(tmp_path)))

    got = sorted(Pool(functools.partial(_marked, str(tmp_path)), 2, instead).run(items, meanwhile=meanwhile))
    assert got == sorted(-x if x == 3 else x * 2 for x in items)
    assert calls == [{str(x) for x in items if x != 3}]  # once, and every item was done while it ran


def test_meanwhile_that_raises_leaves_no_worker() -> None:
    def meanwhile() -> None:
        raise RuntimeError("the parent's own work failed")

    run = Pool(_slow_double, 2, instead).run(list(range(100)), meanwhile=meanwhile)
    try:
        next(run)
    except RuntimeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("the exception of meanwhile was lost")
    time.sleep(0.2)
    assert [p for p in os.listdir("/proc") if p.isdigit() and _parent(int(p)) == os.getpid()] == []


def test_aside_answers_from_its_child() -> None:
    here = os.getpid()
    aside = Aside(os.getpid)
    assert aside.result() not in (here, None)
    assert not aside.proc.is_alive()


def test_aside_whose_child_dies_or_fails_is_worked_out_here() -> None:
    here = os.getpid()

    def crash() -> str:
        if os.getpid() != here:
            faulthandler.disable()
            ctypes.string_at(0)
        return "here"

    def fail() -> str:
        if os.getpid() != here:
            raise ValueError("child")
        return "here"

    assert Aside(crash).result() == "here"
    assert Aside(fail).result() == "here"


def test_aside_closed_unasked_leaves_no_child() -> None:
    aside = Aside(functools.partial(time.sleep, 3600))
    start = time.monotonic()
    aside.close()
    assert not aside.proc.is_alive() and time.monotonic() - start < 30
