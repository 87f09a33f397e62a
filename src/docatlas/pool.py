"""The process pool behind the two wide stages (extract, render), built to survive what a pool of the
standard library does not:

- a worker that dies (a segfault in a native parser, the out-of-memory killer) or overruns the time budget
  of one item is killed and replaced, and the item it was on is handed to `fallback` in the parent (the
  extract stage retries the file without its parser; render writes a page saying what failed), with the
  reason; `multiprocessing.Pool` waits for such an item forever;
- Ctrl-C (SIGINT to the whole process group) and SIGTERM: workers ignore SIGINT and the parent, whose wait
  wakes twice a second, kills them all and lets the exception through within a second;
- workers die with the parent (`PR_SET_PDEATHSIG` on Linux, and a check of the parent's pid), so no orphan
  keeps writing pages after a `kill -9` of the build.

Items go to workers in chunks over a pipe and results come back a chunk at a time (one message each way, as
`multiprocessing.Pool` does: per-item messages cost 50 µs an item in the parent); each worker keeps the index
of the item it is on, and when it began it, in shared memory, so the parent knows which item killed a worker
or ran out of time. The other items of a lost chunk are handed out again. Results are yielded chunk by chunk,
in no particular order.

A worker given a memory bound (`retire`) that holds more than that of its own after an item sends what it
did, says it is leaving and ends; the rest of its chunk is handed out again and a fresh fork takes its place,
under the same supervision (slot, budget, fallback). A forked worker only grows: every object it reads has its
reference count written, which copies the parent's page under it.

`run(meanwhile=...)` gives the parent work of its own while the workers run: every item is handed out at once
(one chunk per worker), then `meanwhile` runs in the parent, then the parent collects. No thread: a worker
replaced later is forked by the only thread there is, never beside one holding a lock.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import resource
import signal
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
WORKER_MEMORY = 512 << 20  # bytes a worker may need on a big repository (PyTorch's largest files)
_TICK = 0.25  # seconds between looks at the clock and at dead workers
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class Failure:
    """What a worker sends back when `fn` raised (it should not: stages guard their own work)."""

    def __init__(self, exc: BaseException) -> None:
        self.kind = type(exc).__name__
        self.message = str(exc)
        self.trace = traceback.format_exc()


def cap_jobs(requested: int) -> tuple[int, str]:
    """Worker processes for `requested`: at most the CPUs this process may use and what available memory
    holds (WORKER_MEMORY each); returns (jobs, a warning or "")."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    by_memory = max(1, _available_memory() // WORKER_MEMORY) if _available_memory() else requested
    cap = max(1, min(cpus, by_memory))
    if requested <= cap:
        return requested, ""
    why = f"{cpus} CPUs" if cap == cpus else f"memory for {cap} workers ({_available_memory() >> 20:,} MiB free)"
    return cap, f"--jobs {requested} is more than this machine has ({why}); using {cap}"


def _available_memory() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux), and leave at once if it already
    has (the parent may have died between the fork and this call)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def private_memory() -> int:
    """Bytes this process holds alone (`Private_Clean` + `Private_Dirty` of /proc/self/smaps_rollup): what a
    forked worker has allocated or copied from its parent since the fork; 0 where /proc does not say."""
    total = 0
    try:
        with open("/proc/self/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith((b"Private_Clean:", b"Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return 0
    return total


def trim_heap() -> None:
    """Hand the C heap's free pages back to the system (glibc's `malloc_trim`; nothing elsewhere). Freed
    objects of over 512 bytes (pickled facts, strings) leave holes in the heap that the process keeps: a
    worker forked then would share them for nothing, and a later allocation of small objects (Python's own
    arenas, mapped apart) could not reuse them."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _faults() -> int:
    """Minor page faults of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _worker(conn: Connection, fn: Callable[[Any], Any], parent: int, slot: int, current: Any,
            began: Any, retire: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)
    gc.disable()  # workers build many small short-lived objects; the cyclic collector only costs time here
    look_at = _faults() + retire // _PAGE
    while True:
        try:
            chunk = conn.recv()
        except (EOFError, OSError):
            break
        if chunk is None:
            break
        results = []
        leaving = False
        for i, item in chunk:
            # the start first, then the item: the parent reads the item, then its start, so it never pairs this
            # item with an earlier start (or with 0.0, which would read as hours of work and kill the worker)
            began[slot] = time.monotonic()  # CLOCK_MONOTONIC: the same clock in every process
            current[slot] = i
            try:
                result: Any = fn(item)
            except Exception as exc:  # sent back: the parent turns it into a diagnostic
                result = Failure(exc)
            results.append((i, result))
            # Past `retire` bytes of its own (what it allocated, and the parent's pages it wrote to, if only to
            # count a reference), the worker sends what it did of the chunk, says it is leaving, and ends: the
            # parent hands the rest out again and forks a fresh worker, which shares the parent's pages again.
            # Its memos go with it: caches, made again on demand. A look at its memory walks the page tables
            # (20 ms for 700 MB), so it is taken only once the minor page faults since the last look (each
            # page it copies or allocates is one; a system call to count) could have made up the difference.
            if retire and _faults() >= look_at:
                held = private_memory()
                if held > retire:
                    leaving = True
                    break
                look_at = _faults() + (retire - held) // _PAGE + 1
        current[slot] = -1
        try:
            conn.send((results, leaving))
        except (OSError, ValueError):
            os._exit(0)
        if leaving:
            break
    os._exit(0)


class Aside(Generic[R]):
    """`fn()` worked out in a forked child while this process goes on with other work; `result()` waits for
    its answer (pickled over a pipe: keep it small). A child that fails or dies is made up for by calling `fn`
    here, so the answer never depends on it. The child ignores Ctrl-C, as workers do, and dies with this
    process. For work that reads what the fork shares and writes nothing (a look at the output's pages while
    the parent reads the last build's state)."""

    def __init__(self, fn: Callable[[], R]) -> None:
        self.fn = fn
        ctx = multiprocessing.get_context("fork")
        here, there = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_aside, args=(there, fn, os.getpid()), daemon=True)
        self.proc.start()
        there.close()
        self.conn: Connection = here

    def result(self) -> R:
        try:
            ok, value = self.conn.recv()
        except (EOFError, OSError):  # the child died before answering, or `close` came first
            ok, value = False, None
        finally:
            self.close()
        return value if ok else self.fn()

    def close(self) -> None:
        """Stop the child if its answer was not asked for (the caller found it had no need of it)."""
        self.conn.close()
        if self.proc.is_alive():
            self.proc.terminate()
        self.proc.join()


def _aside(conn: Connection, fn: Callable[[], Any], parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent(parent)
    try:
        answer = (True, fn())
    except Exception:  # (the parent calls `fn` itself, and meets the error there)
        answer = (False, None)
    with contextlib.suppress(OSError, ValueError):
        conn.send(answer)
    os._exit(0)


class _Slot:
    """One worker: its process, its pipe, and the items of the chunk it was given."""

    def __init__(self, ctx: Any, fn: Callable[[Any], Any], n: int, current: Any, began: Any,
                 retire: int = 0) -> None:
        here, there = ctx.Pipe(duplex=True)
        current[n] = -1
        self.proc = ctx.Process(target=_worker, args=(there, fn, os.getpid(), n, current, began, retire),
                                daemon=True)
        self.proc.start()
        there.close()
        self.conn: Connection = here
        self.pending: deque[int] = deque()

    def kill(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            if self.proc.pid is not None:
                os.kill(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.conn.close()

    def reap(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.join(timeout=1.0)


class Pool(Generic[T, R]):
    """`run` maps `fn` over items in `jobs` forked workers (state inherited, nothing pickled but the items
    and results); see the module's docstring."""

    def __init__(self, fn: Callable[[T], R], jobs: int, fallback: Callable[[T, str], R],
                 budget: float = 0.0, retire: int = 0) -> None:
        self.fn, self.jobs, self.fallback = fn, jobs, fallback
        self.budget = budget  # seconds one item may take; 0: no limit
        self.retire = retire  # bytes of its own past which a worker is replaced after its item; 0: never
        self.ctx = multiprocessing.get_context("fork")

    def _slot(self, n: int, current: Any, began: Any) -> _Slot:
        return _Slot(self.ctx, self.fn, n, current, began, self.retire)

    def run(self, items: list[T], started: Callable[[], None] | None = None,
            meanwhile: Callable[[], None] | None = None) -> Iterator[R]:
        """`fn` of each item, as chunks come back. `started`: called once the workers exist; `meanwhile`: the
        parent's own work, done once every item is handed out (the items are then one chunk per worker)."""
        todo: deque[int] = deque(range(len(items)))
        n_slots = min(self.jobs, len(items))
        chunk = max(1, min(64, len(items) // (self.jobs * 8) or 1))
        if meanwhile is not None:  # one chunk per worker, dealt round: the items come largest first (a render's
            # folders), so each chunk holds its share of the large ones rather than the first all of them
            chunk = max(1, -(-len(items) // max(1, n_slots)))
            todo = deque(i for n in range(n_slots) for i in range(n, len(items), n_slots))
        current = self.ctx.RawArray("q", n_slots)  # the item each worker is on (-1: none)
        began = self.ctx.RawArray("d", n_slots)  # when it began it (time.monotonic)
        slots = [self._slot(n, current, began) for n in range(n_slots)]
        if started is not None:
            started()
        left = len(items)
        try:
            while left:
                for n, slot in enumerate(slots):
                    if not slot.pending and todo:
                        size = chunk if meanwhile is None else len(range(n, len(items), n_slots))
                        give = [todo.popleft() for _ in range(min(size, len(todo)))]
                        try:
                            slot.conn.send([(i, items[i]) for i in give])
                            slot.pending.extend(give)
                        except OSError:  # it died while idle (the out-of-memory killer): a new one, same items
                            slot.kill()
                            slot.reap()
                            todo.extendleft(reversed(give))
                            slots[n] = self._slot(n, current, began)
                if meanwhile is not None:  # the workers have every item: the parent's own work meanwhile
                    meanwhile()
                    meanwhile = None
                busy = [s for s in slots if s.pending]
                ready = wait([s.conn for s in busy] + [s.proc.sentinel for s in busy], timeout=_TICK)
                now = time.monotonic()
                for n, slot in enumerate(slots):
                    if not slot.pending:
                        continue
                    lost, results, leaving = "", None, False
                    try:
                        if slot.conn.poll():
                            results, leaving = slot.conn.recv()
                    except (EOFError, OSError):
                        lost = "the worker process died"
                    if results is not None:  # yielded outside the `try`: what the consumer raises is its own
                        if leaving:  # it ends after this message (`retire`): the rest of its chunk goes back
                            done = {i for i, _ in results}
                            todo.extendleft(reversed([i for i in slot.pending if i not in done]))
                        slot.pending.clear()
                        left -= len(results)
                        if leaving:  # and a fresh worker takes its place
                            slot.reap()
                            with contextlib.suppress(OSError):
                                slot.conn.close()
                            if left:
                                slots[n] = self._slot(n, current, began)
                        for i, result in results:
                            yield self._result(items[i], result)
                        continue
                    on = current[n]
                    if not lost:
                        if slot.proc.sentinel in ready and not slot.proc.is_alive():
                            lost = "the worker process died"
                        elif self.budget and on >= 0 and began[n] > 0 and now - began[n] > self.budget:
                            lost = f"it took longer than {self.budget:g} s (the time budget of one item)"
                    if lost:
                        slot.kill()
                        slot.reap()
                        code = slot.proc.exitcode
                        if code is not None and code < 0 and "died" in lost:
                            lost = f"the worker process was killed by {_signal_name(-code)}"
                        first = on if on in slot.pending else slot.pending[0]
                        slot.pending.remove(first)
                        todo.extendleft(reversed(slot.pending))  # the rest of its chunk: done again
                        slot.pending.clear()
                        log.debug("item %r: %s", items[first], lost)
                        left -= 1
                        yield self.fallback(items[first], lost)
                        slots[n] = self._slot(n, current, began) if left else slot
        finally:
            for slot in slots:
                if slot.pending or not slot.proc.is_alive():
                    slot.kill()
                else:
                    with contextlib.suppress(OSError, ValueError):
                        slot.conn.send(None)
            deadline = time.monotonic() + 1.0
            for slot in slots:
                slot.proc.join(timeout=max(0.0, deadline - time.monotonic()))
                if slot.proc.is_alive():
                    slot.kill()
                    slot.reap()
                with contextlib.suppress(OSError):
                    slot.conn.close()

    def _result(self, item: T, result: Any) -> R:
        if isinstance(result, Failure):
            log.debug("item %r raised in a worker:\n%s", item, result.trace)
            return self.fallback(item, f"{result.kind}: {result.message}")
        out: R = result
        return out


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
