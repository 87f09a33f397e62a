"""Where the index write's CPU goes: a full build with `IndexWrite.write` under cProfile.

    python bench/index_profile.py REPO OUTPUT [--jobs 2] [--top 25] [--no-profile]

Builds REPO into OUTPUT (use a scratch folder: `--full` is passed, so the index is written afresh), profiles
only `IndexWrite.write` (the build process writes the index rows before the render workers fork, one core
busy), and prints its CPU seconds (`time.thread_time`, with the profiler's own cost unless --no-profile) and
the functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

from docatlas.cli import main as cli_main
from docatlas.store import writer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", type=Path)
    ap.add_argument("output", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--no-profile", action="store_true", help="only time the write")
    args = ap.parse_args()
    runs: list[tuple[cProfile.Profile | None, float, float]] = []
    real = writer.IndexWrite.write

    def profiled(self: writer.IndexWrite) -> None:
        prof = None if args.no_profile else cProfile.Profile()
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            if prof is None:
                real(self)
            else:
                prof.runcall(real, self)
        finally:
            runs.append((prof, time.perf_counter() - start, time.thread_time() - cpu))

    writer.IndexWrite.write = profiled  # type: ignore[method-assign]
    code = cli_main(["build", str(args.repo), "-o", str(args.output), "-j", str(args.jobs), "-q", "--full"])
    for prof, wall, cpu in runs:
        print(f"index write: {wall:.2f} s wall, {cpu:.2f} CPU-s")
        if prof is not None:
            pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
    return code


if __name__ == "__main__":
    sys.exit(main())
