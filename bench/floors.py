"""The floors under a full build: what reading and parsing a corpus costs with nothing else done.

    python bench/floors.py pytorch-1.13.1 [--jobs 2]

Reads every file docatlas would analyse, parses the Python ones with `ast` and the C-family ones with the
tree-sitter grammar docatlas uses (no macro blanking, no queries, no retries), and writes as many bytes as
the last build wrote (`--written-mb`, default PyTorch's 305 MB) to a temporary folder in files of the same
average size. Each is CPU time of one process; the wall floor with N workers is at best their sum / N. A full
build cannot go below that sum / N plus what it adds (the link stage, rendering, the index); compare
`bench/build.py`'s figures with these, measured in the same run of the same machine.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from docatlas.config import make_config
from docatlas.extract import tsadapter as ts
from docatlas.scan import scan

CORPORA = Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora"))
C_FAMILY = {"c", "cpp", "cuda", "c-header"}  # what docatlas parses with the CUDA (C++) or C grammar


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="corpus name under $DOCATLAS_CORPORA, or a path")
    ap.add_argument("--jobs", type=int, default=2, help="workers to divide the CPU floors by")
    ap.add_argument("--written-mb", type=float, default=305.0, help="bytes a full build writes, in MB")
    ap.add_argument("--pages", type=int, default=24221, help="pages a full build writes")
    args = ap.parse_args()
    root = Path(args.corpus) if Path(args.corpus).is_dir() else CORPORA / args.corpus
    if not root.is_dir():
        sys.exit(f"corpus not found: {root}")
    cfg = make_config(root, Path(tempfile.mkdtemp(prefix="docatlas-floor-out-")))
    files = scan(cfg.root, cfg.output, cfg.exclude).files

    start = time.process_time()
    data = {}
    for f in files:
        try:
            data[f.path] = (root / f.path).read_bytes()
        except OSError:
            continue
    read_cpu = time.process_time() - start

    py = [d for f in files if f.language in ("python", "python-stub") for d in [data.get(f.path)] if d is not None]
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for d in py:
            with contextlib.suppress(SyntaxError, ValueError, RecursionError):
                ast.parse(d)
    py_cpu = time.process_time() - start

    cfam = [(f.language, d) for f in files if f.language in C_FAMILY for d in [data.get(f.path)] if d is not None]
    start = time.process_time()
    for lang, d in cfam:
        ts.parse("c" if lang == "c" else "cuda", d)
    c_cpu = time.process_time() - start

    out = Path(tempfile.mkdtemp(prefix="docatlas-floor-"))
    size = int(args.written_mb * 1e6 / args.pages)
    blob = b"x" * size
    start = time.perf_counter()
    cpu = time.process_time()
    try:
        for i in range(args.pages):
            folder = out / f"d{i // 100}"
            if i % 100 == 0:
                folder.mkdir()
            (folder / f"p{i}.md").write_bytes(blob)
        write_wall, write_cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cfg.output, ignore_errors=True)

    total = read_cpu + py_cpu + c_cpu + write_cpu
    print(f"corpus {root.name}: {len(files)} files ({len(py)} Python, {len(cfam)} C-family)")
    print(f"read every file       {read_cpu:7.2f} s CPU")
    print(f"ast.parse (Python)    {py_cpu:7.2f} s CPU")
    print(f"tree-sitter (C/C++)   {c_cpu:7.2f} s CPU")
    print(f"write {args.pages} pages    {write_cpu:7.2f} s CPU ({write_wall:.2f} s wall, {args.written_mb:.0f} MB)")
    print(f"sum                   {total:7.2f} s CPU; over {args.jobs} workers at best {total / args.jobs:.2f} s wall")


if __name__ == "__main__":
    main()
