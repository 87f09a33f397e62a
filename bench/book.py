"""The repository guide on a corpus: a full build, then what the guide's task costs beside it, its size, its
chapters, and whether every link of the guide, llms.txt and the front page resolves.

    python bench/book.py pytorch-1.13.1 --out /tmp/book/pytorch [--jobs 2] [--repeat 3]

The build is the one `docatlas build CORPUS -o OUT --full` runs (with `--llms-full`); the guide's cost is
measured again in this process, in-process and single-threaded, on the built model (a fresh renderer memo
for each run, so nothing is reused), and set against the full build's wall time.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from docatlas.config import make_config  # noqa: E402
from docatlas.pipeline import build  # noqa: E402
from docatlas.render.book import BOOK, LLMS, LLMS_FULL, book_pages  # noqa: E402
from docatlas.render.format import Memo  # noqa: E402
from link_check import broken_links  # noqa: E402

CORPORA = Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora"))


def _tolerate_index_errors() -> None:
    from docatlas.store.writer import IndexWrite

    commit = IndexWrite.commit

    def tolerant(self: IndexWrite, pages: dict[str, str], diagnostics: list) -> str:  # type: ignore[type-arg]
        if isinstance(self.error, UnicodeEncodeError):
            print(f"index not written (the store cannot take a row: {self.error}); the pages are complete")
            self.abort()
            return "none"
        return commit(self, pages, diagnostics)

    IndexWrite.commit = tolerant  # type: ignore[method-assign]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tolerate-index-errors", action="store_true",
                    help="finish the build when the index cannot store a row (cpython-3.11: lone surrogates in "
                         "facts); the pages, the guide included, are written before the index is committed")
    args = ap.parse_args()
    if args.tolerate_index_errors:
        _tolerate_index_errors()
    repo = CORPORA / args.corpus if not Path(args.corpus).is_dir() else Path(args.corpus)
    cfg = make_config(repo, args.out, jobs=args.jobs, full=True, llms_full=True, force=True)
    t = time.perf_counter()
    report = build(cfg)
    wall = time.perf_counter() - t
    model = report.model
    assert model is not None
    print(f"full build: {wall:.1f} s wall, {report.files:,} files, {report.pages:,} pages, "
          f"timings {report.timings.get('link')} s link, {report.timings.get('render+write')} s render+write")
    runs = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        for page in book_pages(Memo(), model, cfg):
            page.signature()
            page.text()
        runs.append(time.perf_counter() - start)
    best = min(runs)
    print(f"guide task (book + llms.txt + llms-full.txt, in-process): best {best:.3f} s, median "
          f"{statistics.median(runs):.3f} s of {args.repeat}; {100 * best / wall:.2f}% of the full build's wall time")
    out = cfg.output
    for name in (BOOK, LLMS, LLMS_FULL, "index.md"):
        print(f"{name}: {(out / name).stat().st_size:,} bytes")
    book = (out / BOOK).read_text(encoding="utf-8")
    chapters = re.findall(r"^#{3,6} ([\d.]+)\. `([^`]+)`", book, re.M)
    print(f"chapters ({len(chapters)}): " + ", ".join(f"{n} {p}" for n, p in chapters))
    links = len(re.findall(r"^- \[", (out / LLMS).read_text(encoding="utf-8"), re.M))
    print(f"llms.txt links: {links}")
    total_bad = 0
    for page in (BOOK, LLMS, "index.md"):
        checked, bad = broken_links(out, page, repo)
        total_bad += len(bad)
        print(f"links in {page}: {checked:,} checked, {len(bad)} broken")
        for b in bad[:10]:
            print("  ", b)
    sys.exit(1 if total_bad else 0)


if __name__ == "__main__":
    main()
