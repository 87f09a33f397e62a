"""Parallel scaling: full builds of a corpus at several job counts, with efficiency and the serial stages.

    python bench/scaling.py pytorch-1.13.1 [--jobs 1,2,4,8,16] [--repeat 1]

Each job count builds the corpus from scratch into its own temporary output folder (the corpus is read in
place, never written). Prints, per job count: wall and CPU seconds, peak PSS of the process tree, the
speed-up over one job and the parallel efficiency (speed-up / jobs), then the seconds of the steps that run
in the build process alone whatever the job count: the stages scan, cache, link, finish and index (the
commit), and, inside render+write, the index rows written before the render pool forks (`index-write`) and
the build process's own render tasks after it (`render:own`: the keyword index, the guide, the root folder).
From the serial seconds of the first pooled run and one job's wall time it prints the efficiency they alone
allow at each job count (Amdahl's law: a bound, not a measurement). Job counts above the machine's cores are
still run, and marked, since their figures mean little there. Medians of `--repeat` runs; `ctags -R` is
timed in the same run as yardstick (`bench/build.py` explains why).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from build import CORPORA, compile_docatlas, docatlas, run  # bench/build.py: one runner and /proc sampler

# what runs in the build process alone (`BuildReport.timings`): stages, then two parts of render+write
SERIAL = ("scan", "cache", "link", "finish", "index", "index-write", "render:own")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="corpus name under $DOCATLAS_CORPORA, or a path")
    ap.add_argument("--jobs", default="1,2,4,8,16", help="comma-separated job counts")
    ap.add_argument("--repeat", type=int, default=1, help="runs per job count; medians are printed")
    ap.add_argument("--extra", default="", help="extra docatlas build options, space separated")
    ap.add_argument("--no-memory", action="store_true",
                    help="no memory sampling, which slows what it measures (see bench/build.py): for times")
    args = ap.parse_args()
    sample = not args.no_memory
    compile_docatlas()
    src = Path(args.corpus) if Path(args.corpus).is_dir() else CORPORA / args.corpus
    if not src.is_dir():
        sys.exit(f"corpus not found: {src} (run ../shared/corpora/fetch {args.corpus})")
    counts = [int(j) for j in args.jobs.split(",")]
    cores = os.cpu_count() or 1
    tmp = Path(tempfile.mkdtemp(prefix="docatlas-scaling-"))
    results: dict[int, dict[str, float]] = {}
    try:
        ctags = [run(["ctags", "-R", "-f", str(tmp / "tags"), str(src)], sample) for _ in range(args.repeat)] \
            if shutil.which("ctags") else []
        for jobs in counts:
            runs = []
            for i in range(args.repeat):
                out = tmp / f"out-{jobs}-{i}"
                runs.append(docatlas(src, out, jobs, tmp / "report.json", ["--full", *args.extra.split()],
                                     sample=sample))
                shutil.rmtree(out, ignore_errors=True)
            results[jobs] = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]}
        base = results[counts[0]]["wall"] * counts[0]  # one job's wall time (scaled if 1 was not run)
        print(f"corpus {src.name}; {cores} cores; medians of {args.repeat} run(s)")
        print(f"{'jobs':>5}{'wall s':>10}{'cpu s':>10}{'PSS MB':>10}{'speed-up':>10}{'efficiency':>12}"
              f"{'serial s':>10}{'extract s':>11}{'render s':>10}")
        for jobs in counts:
            r = results[jobs]
            speedup = base / r["wall"]
            mark = "  (more jobs than cores)" if jobs > cores else ""
            print(f"{jobs:>5}{r['wall']:>10.2f}{r['cpu']:>10.2f}{r['peak_pss_mb']:>10.0f}{speedup:>10.2f}"
                  f"{speedup / jobs:>12.0%}{_serial(r):>10.2f}{r.get('stage:extract', 0.0):>11.2f}"
                  f"{r.get('stage:render+write', 0.0):>10.2f}{mark}")
        print("\nserial steps (s, median) per job count; the rest of extract and render+write is the pools':")
        for jobs in counts:
            r = results[jobs]
            print(f"  jobs {jobs}: " + ", ".join(f"{s} {r.get(f'stage:{s}', 0.0):.2f}" for s in SERIAL)
                  + f"; extract {r.get('stage:extract', 0.0):.2f}, render+write {r.get('stage:render+write', 0.0):.2f}")
        pooled = [j for j in counts if 1 < j <= cores]  # (at one job nothing is pooled: no `render:own` apart)
        if 1 in results and pooled:
            t1, serial = results[1]["wall"], _serial(results[pooled[0]])
            print(f"\nserial steps at {pooled[0]} jobs: {serial:.2f} s, {serial / t1:.1%} of one job's {t1:.2f} s; "
                  "the efficiency they alone allow (Amdahl, T1 / (n * (S + (T1 - S) / n)): a bound, not "
                  "measured): " + ", ".join(f"{n} jobs {t1 / (n * (serial + (t1 - serial) / n)):.0%}"
                                             for n in (2, 4, 8, 16)))
        if ctags:
            t = statistics.median(c["wall"] for c in ctags)
            print(f"\nctags -R: {t:.2f} s; " + ", ".join(f"jobs {j}: {results[j]['wall'] / t:.2f}x" for j in counts))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _serial(r: dict[str, float]) -> float:
    return sum(r.get(f"stage:{s}", 0.0) for s in SERIAL)


if __name__ == "__main__":
    main()
