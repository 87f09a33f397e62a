"""Where the index thread's CPU goes: a full build with `IndexWrite.write` under cProfile.

    python bench/index_profile.py REPO OUTPUT [--jobs 2] [--top 25]

Builds REPO into OUTPUT (use a scratch folder: `--full` is passed, so the index is written afresh), profiles
only the thread that writes the index (it runs beside the render workers), and prints its CPU seconds
(`time.thread_time`) and the functions with the most cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from pathlib import Path

from docatlas.cli import main as cli_main
from docatlas.store import writer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo", type=Path)
    ap.add_argument("output", type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    profiles: list[tuple[cProfile.Profile, writer.IndexWrite]] = []
    real = writer.IndexWrite.write

    def profiled(self: writer.IndexWrite) -> None:
        prof = cProfile.Profile()
        profiles.append((prof, self))
        prof.runcall(real, self)

    writer.IndexWrite.write = profiled  # type: ignore[method-assign]
    code = cli_main(["build", str(args.repo), "-o", str(args.output), "-j", str(args.jobs), "-q", "--full"])
    for prof, w in profiles:
        print(f"index thread: {w.seconds:.2f} s wall, {w.cpu_seconds:.2f} CPU-s ({w.mode})")
        pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)
    return code


if __name__ == "__main__":
    sys.exit(main())
