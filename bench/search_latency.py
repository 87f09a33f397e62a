"""Search latency on a real index, and incremental rebuild times against the full build, in one run.

    python bench/search_latency.py [--corpus pytorch-1.13.1] [--jobs 2] [--work DIR] [--reuse]

The corpus is copied (mtimes kept) into a work folder first, because the rebuild scenarios edit and delete
files: full build (--full), no-op rebuild, rebuild after editing one .py and one .cu file, rebuild after
deleting a folder. Then each query is timed over several runs on the finished index (median, best, worst).
Corpora live in $DOCATLAS_CORPORA or ~/.cache/docatlas-corpora.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from docatlas.config import make_config
from docatlas.pipeline import BuildReport, build
from docatlas.store import queries, schema

QUERIES = [
    "recompile", "Module", "forward", "conv2d", "at::native::add", "cache_limit", "TensorIterator",
    "linear transformation", "torch.nn.modules.module.Module", "test", "cuda kernel launch",
]
EDIT_PY = ["torch/nn/modules/linear.py", "torch/functional.py"]
EDIT_CU = ["aten/src/ATen/native/cuda/Activation.cu", "aten/src/ATen/native/cuda/BinaryMulKernel.cu"]
DELETE_FOLDER = ["torch/distributed/elastic", "caffe2/python/mint", "test/jit"]


def corpora() -> Path:
    return Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora"))


def first_existing(root: Path, candidates: list[str], want_dir: bool = False) -> Path | None:
    for c in candidates:
        p = root / c
        if (p.is_dir() if want_dir else p.is_file()):
            return p
    suffix = ".py" if candidates[0].endswith(".py") else ".cu"
    if not want_dir:
        return next(iter(sorted(root.rglob(f"*{suffix}"))), None)
    return None


def timed_build(repo: Path, out: Path, jobs: int, label: str, **options: object) -> BuildReport:
    t = time.perf_counter()
    report = build(make_config(repo, out, jobs=jobs, **options))
    wall = time.perf_counter() - t
    stages = ", ".join(f"{k} {v:.2f}" for k, v in report.timings.items())
    print(f"{label:<24} {wall:8.2f} s  files {report.files:>6}  written {report.written:>6}  "
          f"removed {report.removed:>5}  [{stages}]", flush=True)
    report.seconds = wall
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="pytorch-1.13.1")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None, help="work folder [default: a temporary one]")
    ap.add_argument("--reuse", action="store_true", help="skip the copy and the builds; time queries only")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    src = corpora() / args.corpus
    if not src.is_dir():
        print(f"corpus not found: {src} (set DOCATLAS_CORPORA)", file=sys.stderr)
        return 2
    work = args.work or Path(tempfile.mkdtemp(prefix="docatlas-bench-"))
    repo, out = work / args.corpus, work / "out"
    if not args.reuse:
        shutil.rmtree(repo, ignore_errors=True)
        t = time.perf_counter()
        shutil.copytree(src, repo, symlinks=True)
        print(f"copied {src} -> {repo} in {time.perf_counter() - t:.1f} s", flush=True)
        full = timed_build(repo, out, args.jobs, "full build (--full)", full=True)
        noop = timed_build(repo, out, args.jobs, "no-op rebuild")
        edited = []
        for path in (first_existing(repo, EDIT_PY), first_existing(repo, EDIT_CU)):
            if path is not None:
                with path.open("a", encoding="utf-8") as fh:
                    fh.write("\n// docatlas bench edit\n" if path.suffix == ".cu" else "\n# docatlas bench edit\n")
                edited.append(path.relative_to(repo).as_posix())
        edit = timed_build(repo, out, args.jobs, "edit 1 .py + 1 .cu")
        folder = first_existing(repo, DELETE_FOLDER, want_dir=True)
        gone = folder.relative_to(repo).as_posix() if folder else "(none)"
        if folder:
            shutil.rmtree(folder)
        deleted = timed_build(repo, out, args.jobs, "delete a folder")
        print(f"\nedited: {', '.join(edited)}; deleted folder: {gone}")
        print(f"{'scenario':<24} {'wall s':>8} {'% of full':>10} {'index s':>8}")
        for label, r in (("full build", full), ("no-op rebuild", noop), ("edit .py + .cu", edit),
                         ("delete folder", deleted)):
            print(f"{label:<24} {r.seconds:8.2f} {100 * r.seconds / full.seconds:9.1f}% "
                  f"{r.timings.get('index', 0.0):8.2f}")
        size = (out / schema.INDEX_NAME).stat().st_size
        print(f"index file: {size / 1e6:.1f} MB")

    conn = schema.open_index(out)
    counts = conn.execute("SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM symbols)").fetchone()
    print(f"\nsearch latency on {counts[0]:,} files, {counts[1]:,} symbols ({args.runs} runs, limit 20)")
    print(f"{'query':<34} {'median ms':>10} {'max ms':>8} {'hits':>5}  top result")
    for q in QUERIES:
        times = []
        hits: list[queries.Hit] = []
        for _ in range(args.runs):
            t = time.perf_counter()
            hits = queries.search(conn, q, limit=20)
            times.append((time.perf_counter() - t) * 1000)
        top = f"{hits[0].path}:{hits[0].line} {hits[0].kind} {hits[0].qualname}" if hits else "-"
        print(f"{q:<34} {statistics.median(times):10.1f} {max(times):8.1f} {len(hits):>5}  {top[:90]}")
    t = time.perf_counter()
    conn2 = schema.open_index(out)
    queries.search(conn2, "recompile")
    print(f"cold (open + first query): {(time.perf_counter() - t) * 1000:.1f} ms")
    for target in ("torch.nn.Module.forward", "at::native::add", "torch/nn/modules/linear.py", "torch/nn"):
        t = time.perf_counter()
        found = queries.show(conn, target)
        kind = found["type"] if found else "not found"
        print(f"show {target:<32} {(time.perf_counter() - t) * 1000:8.1f} ms  {kind}")
    print(f"\nwork folder: {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
