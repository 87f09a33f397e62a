"""Where symbol references cost CPU in a full build, part by part (run by hand; `bench/build.py --refs-off`
gives their total).

    python bench/refs_profile.py REPO OUTPUT [--jobs 2] [--top 20] [--refs-off] [--render-profile]

Builds REPO into OUTPUT (a scratch folder; `--full`) in this process and reports:
- extract: CPU seconds the workers spent in `extract.crefs.collect`/`merge` and `extract.pyrefs.collect`
  (summed over workers through shared memory; the C-family uses' captures are made by `extract.cfamily`'s
  own walk, `crefs.query_patterns`, and are not in `collect`'s share), and the bytes of
  `FileFacts.references` in the pickled facts the workers send back (pickling, unpickling and the facts cache
  pay for them);
- link: `link.references.attach` (C and Python resolution, test links) under cProfile, its CPU seconds and top
  functions (both halves in this process: a build resolves the Python files in a forked child when it has two
  jobs or more);
- index: the index write (`IndexWrite.write`, before the render pool forks) under cProfile, with the CPU
  seconds of `store.refs.write_rows` (the `refs` rows) and the write's total;
- render: the render workers' user and system CPU seconds, minor page faults and how many were forked
  (replacements past the memory bound included; `pool._worker` wrapped), and the build process's CPU
  seconds in `pipeline._render` (its own tasks, and the pool's upkeep); with `--render-profile`, the workers'
  functions under cProfile (summed over workers).
`--refs-off` switches references off as `bench/build.py --refs-off` does, for the same figures without them.
The profilers add their own cost: compare parts with each other, and use `bench/build.py` for totals.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pickle
import pstats
import resource
import sys
import time
from pathlib import Path
from typing import Any

from docatlas import pipeline, pool
from docatlas.cli import main as cli_main
from docatlas.extract import cfamily, crefs, pyrefs, python
from docatlas.link import references, stage
from docatlas.store import cache, writer


def _timed(fn: Any, slot: int, spent: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[slot] += time.process_time() - start
    return wrapper


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", type=Path)
    ap.add_argument("output", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--refs-off", action="store_true", help="symbol references off (as bench/build.py)")
    ap.add_argument("--render-profile", action="store_true", help="cProfile the render workers")
    args = ap.parse_args()
    if args.refs_off:
        pyrefs.collect = lambda *a, **k: ((), ())
        crefs.collect = lambda *a, **k: None
        crefs.query_patterns = lambda grammar: ""  # type: ignore[assignment]
        references.attach = lambda *a, **k: None
    render = _render_meter(args.output, args.render_profile)
    # 0 crefs.collect, 1 crefs.merge, 2 pyrefs.collect, 3 bytes of pickled references, 4 bytes of pickled facts
    spent = multiprocessing.RawArray("d", 5)  # inherited by the forked workers
    cfamily.crefs.collect = _timed(crefs.collect, 0, spent)  # type: ignore[attr-defined]
    cfamily.crefs.merge = _timed(crefs.merge, 1, spent)  # type: ignore[attr-defined]
    python.pyrefs.collect = _timed(pyrefs.collect, 2, spent)  # type: ignore[attr-defined]
    real_pickle = cache.pickle_facts

    def sized(facts: Any) -> bytes:
        blob = real_pickle(facts)
        spent[4] += len(blob)
        if facts.references is not None:
            spent[3] += len(pickle.dumps(facts.references, protocol=5))
        return blob

    pipeline.pickle_facts = sized  # type: ignore[attr-defined]
    profiles: dict[str, tuple[cProfile.Profile, float]] = {}
    real_attach = references.attach

    def attach(model: Any, index: Any, beside: bool = False) -> None:
        prof = cProfile.Profile()  # (`beside` ignored: both halves in this process, under the profiler)
        cpu = time.process_time()
        prof.runcall(real_attach, model, index)
        profiles["link: references.attach"] = (prof, time.process_time() - cpu)

    if not args.refs_off:
        stage.references.attach = attach  # type: ignore[attr-defined]
    real_write = writer.IndexWrite.write

    def write(self: writer.IndexWrite) -> None:
        prof = cProfile.Profile()
        cpu = time.thread_time()
        prof.runcall(real_write, self)
        profiles["index write"] = (prof, time.thread_time() - cpu)

    writer.IndexWrite.write = write  # type: ignore[method-assign]
    start = time.perf_counter()
    code = cli_main(["build", str(args.repo), "-o", str(args.output), "-j", str(args.jobs), "-q", "--full"])
    print(f"build: {time.perf_counter() - start:.1f} s wall (exit {code})")
    print(f"extract (workers' CPU): crefs.collect {spent[0]:.2f} s, crefs.merge {spent[1]:.2f} s, "
          f"pyrefs.collect {spent[2]:.2f} s; references {spent[3] / 1e6:.1f} MB of {spent[4] / 1e6:.1f} MB "
          f"pickled facts")
    render.report(args.top)
    for name, (prof, cpu) in profiles.items():
        stats = pstats.Stats(prof)
        print(f"\n== {name}: {cpu:.2f} CPU-s (profiled)")
        if name == "index write":
            for (file, _line, func), row in stats.stats.items():  # type: ignore[attr-defined]
                if func == "write_rows" and file.endswith("store/refs.py"):
                    print(f"   of which store.refs.write_rows: {row[3]:.2f} s cumulative")
        stats.sort_stats("cumulative").print_stats(args.top)
    return code


class _RenderMeter:
    """The render workers' CPU, faults and count (each writes its figures as it exits), and the build
    process's CPU in `pipeline._render`."""

    def __init__(self, folder: Path, profile: bool) -> None:
        self.figures = multiprocessing.RawArray("d", 4)  # user s, system s, minor faults, workers
        self.lock = multiprocessing.Lock()
        self.folder = folder.parent / (folder.name + ".render-prof")
        self.profile = profile
        self.parent_cpu = 0.0

    def report(self, top: int) -> None:
        f = self.figures
        print(f"render workers: {int(f[3])} forked, user {f[0]:.2f} s, system {f[1]:.2f} s, "
              f"{f[2] / 1e6:.2f} M minor faults; build process in pipeline._render {self.parent_cpu:.2f} CPU-s")
        if self.profile and self.folder.is_dir():
            files = sorted(str(p) for p in self.folder.glob("*.prof"))
            if files:
                print("\n== render workers under cProfile (summed)")
                pstats.Stats(*files).sort_stats("cumulative").print_stats(top)
                pstats.Stats(*files).sort_stats("tottime").print_stats(top)


def _render_meter(output: Path, profile: bool) -> _RenderMeter:
    meter = _RenderMeter(output, profile)
    if profile:
        meter.folder.mkdir(parents=True, exist_ok=True)
        for old in meter.folder.glob("*.prof"):
            old.unlink()
    real_worker, real_render = pool._worker, pipeline._render

    def worker(conn: Any, fn: Any, *rest: Any) -> None:
        if getattr(fn, "func", None) is not pipeline._render_task:
            return real_worker(conn, fn, *rest)
        prof = cProfile.Profile() if profile else None
        real_exit = os._exit

        def leave(code: int) -> None:  # (the worker ends with os._exit: its figures first)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            with meter.lock:
                for i, v in enumerate((usage.ru_utime, usage.ru_stime, usage.ru_minflt, 1)):
                    meter.figures[i] += v
            if prof is not None:
                prof.dump_stats(str(meter.folder / f"{os.getpid()}.prof"))
            real_exit(code)

        os._exit = leave  # type: ignore[assignment]  # (this forked worker's own module state)
        task = fn if prof is None else (lambda item: prof.runcall(fn, item))
        return real_worker(conn, task, *rest)

    def render(*args: Any, **kwargs: Any) -> Any:
        cpu = time.process_time()
        try:
            return real_render(*args, **kwargs)
        finally:
            meter.parent_cpu += time.process_time() - cpu

    pool._worker = worker  # type: ignore[assignment]
    pipeline._render = render
    return meter


if __name__ == "__main__":
    sys.exit(main())
