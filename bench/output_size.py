"""Output size: where the bytes of a built output folder are, by page kind, by file-page section and by construct.

    python bench/output_size.py OUT [OUT2 ...] [--repo REPO] [--top 10]

Reads the pages (never the `.docatlas-cache/` folder, which `.gitignore` keeps out of what is published) and
prints, per folder given (side by side when several, e.g. a build before and after a change): bytes and page
counts per page kind; the file pages' bytes per `##` section and the Detailed Analysis per `###` subsection
(headings inside fenced blocks are not headings); bytes of some constructs across all pages (link targets to
pages and to sources, `<a id>` anchors, the embedded source); the largest pages and files and how many pages
pass 512 KB, what a Git host renders. With `--repo`, the published output as a multiple of the repository, two
ways: bytes to bytes (file sizes, `.git` and symlinks left out) and disk to disk (the blocks files and folders
take, as `du` counts them: issue 15's "567 MB for a 134 MB repository"; ~11,000 pages under 4 KB each take a
whole block).
"""

from __future__ import annotations

import argparse
import os
import re
import stat
from collections import Counter
from pathlib import Path

PAGE_LIMIT = 512 * 1024
FILE_LIMIT = 100 * 1024 * 1024
_LINK = re.compile(rb"\]\(([^)\s]*)\)")
_ANCHOR = re.compile(rb'<a id="[^"]*"></a>')
_FENCE = re.compile(rb"^ {0,3}(`{3,}|~{3,})")
_STRUCT_PART = re.compile(r"_docs-\d+\.md$")


def kind_of(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    if rel.startswith(".docatlas-cache/"):
        return ""
    if rel.startswith("_keywords/"):
        return "_keywords/ (repo keyword pages)"
    if name.endswith("_docs.md"):
        return "P_docs.md (file pages)"
    if _STRUCT_PART.search(name):
        return "P_docs-N.md (Code Structure parts)"
    if name.endswith("_kw.md"):
        return "P_kw.md (file keyword indexes)"
    if rel == "keywords.md":
        return "keywords.md"
    if rel in ("index.md", "comprehensive_book.md", "llms.txt", "llms-full.txt") or rel.startswith("guide/"):
        return "front page, guide, llms"
    if name in ("sub.md",) or re.fullmatch(r"sub-\d+\.md", name):
        return "sub.md (subtree keyword indexes)"
    if name == "index.md":
        return "D/index.md (folder indexes)"
    if name == "doc.md":
        return "D/doc.md (folder overviews)"
    if name.endswith(".sqlite"):
        return "docatlas.sqlite (index)"
    if name.startswith(".docatlas"):
        return ".docatlas-* (manifest; stats before)"
    return "other"


def sections(data: bytes) -> tuple[Counter[str], Counter[str]]:
    """Bytes per `##` section and per `###` subsection of Detailed Analysis (headings in fences skipped)."""
    top: Counter[str] = Counter()
    sub: Counter[str] = Counter()
    current, current_sub = "(title)", ""
    fence = b""
    for line in data.splitlines(keepends=True):
        n = len(line)
        if fence:
            bare = line.strip()
            if bare.startswith(fence) and not bare.strip(fence[:1]):
                fence = b""
        else:
            m = _FENCE.match(line)
            if m:
                fence = m.group(1)
            elif line.startswith(b"## "):
                current = line[3:].strip().decode("utf-8", "replace")
                current_sub = ""
            elif line.startswith(b"### ") and current == "Detailed Analysis":
                current_sub = line[4:].strip().decode("utf-8", "replace")
        if line.startswith(b"---") and n <= 4:
            current, current_sub = "(footer)", ""
        top[current] += n
        if current == "Detailed Analysis":
            sub[current_sub or "(before the first ###)"] += n
    return top, sub


def measure(out: Path) -> dict[str, object]:
    kinds: Counter[str] = Counter()
    disk: Counter[str] = Counter()  # blocks, as `du` counts them
    folders = 0
    counts: Counter[str] = Counter()
    top: Counter[str] = Counter()
    sub: Counter[str] = Counter()
    constructs: Counter[str] = Counter()
    largest_pages: list[tuple[int, str]] = []
    largest_files: list[tuple[int, str]] = []
    over = 0
    for dirpath, dirnames, filenames in os.walk(out):
        dirnames[:] = sorted(d for d in dirnames if d != ".docatlas-cache")
        folders += os.lstat(dirpath).st_blocks * 512
        for name in filenames:
            full = Path(dirpath, name)
            rel = full.relative_to(out).as_posix()
            kind = kind_of(rel)
            if not kind:
                continue
            st = full.stat()
            size = st.st_size
            kinds[kind] += size
            disk[kind] += st.st_blocks * 512
            counts[kind] += 1
            largest_files.append((size, rel))
            if not name.endswith(".md"):
                continue
            largest_pages.append((size, rel))
            over += size > PAGE_LIMIT
            data = full.read_bytes()
            for m in _LINK.finditer(data):
                target = m.group(1)
                page_link = b".md" in target and not target.startswith(b"http")
                constructs["link targets to pages"] += len(target) if page_link else 0
                constructs["link targets to sources"] += 0 if page_link else len(target)
            constructs["<a id> anchors"] += sum(len(m.group(0)) for m in _ANCHOR.finditer(data))
            if kind.startswith("P_docs.md"):
                t, s = sections(data)
                top.update(t)
                sub.update(s)
    largest_pages.sort(reverse=True)
    largest_files.sort(reverse=True)
    return {"kinds": kinds, "disk": disk, "folders": folders, "counts": counts, "top": top, "sub": sub,
            "constructs": constructs, "pages": largest_pages, "files": largest_files, "over": over,
            "total": sum(kinds.values())}


def _mb(n: int) -> str:
    return f"{n / 1e6:9.1f}"


def table(title: str, rows: list[str], cols: list[Counter[str]], counts: list[Counter[str]] | None = None) -> None:
    print(f"\n{title} (MB)")
    for r in rows:
        cells = []
        for i, c in enumerate(cols):
            cell = _mb(c.get(r, 0))
            if counts is not None:
                cell += f" ({counts[i].get(r, 0):>6,})"
            cells.append(cell)
        print(f"  {r[:44]:<44}" + "".join(cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="+", type=Path, help="built output folders (compared side by side)")
    ap.add_argument("--repo", type=Path, help="the documented repository, for the size ratio")
    ap.add_argument("--top", type=int, default=8, help="how many of the largest pages to name")
    args = ap.parse_args()
    results = [measure(o) for o in args.out]
    print("folders: " + " | ".join(str(o) for o in args.out))

    def order(key: str) -> list[str]:
        merged: Counter[str] = Counter()
        for r in results:
            merged.update(r[key])  # type: ignore[arg-type]
        return [k for k, _ in merged.most_common()]

    table("By page kind (page count)", order("kinds"), [r["kinds"] for r in results],  # type: ignore[misc]
          [r["counts"] for r in results])  # type: ignore[misc]
    table("On disk by page kind (blocks, as du counts them)", order("disk"),
          [r["disk"] for r in results])  # type: ignore[misc]
    table("File pages by ## section", order("top"), [r["top"] for r in results])  # type: ignore[misc]
    table("Detailed Analysis by ### subsection", order("sub"), [r["sub"] for r in results])  # type: ignore[misc]
    table("Constructs, all pages", order("constructs"), [r["constructs"] for r in results])  # type: ignore[misc]
    repo = repo_disk = 0
    if args.repo:
        for dirpath, dirnames, filenames in os.walk(args.repo):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            repo_disk += os.lstat(dirpath).st_blocks * 512
            for f in filenames:
                st = os.lstat(Path(dirpath, f))
                repo_disk += st.st_blocks * 512
                repo += 0 if stat.S_ISLNK(st.st_mode) else st.st_size
    for out, r in zip(args.out, results, strict=True):
        on_disk = sum(r["disk"].values()) + r["folders"]  # type: ignore[attr-defined,operator]
        print(f"\n{out}: published {r['total'] / 1e6:.1f} MB"  # type: ignore[operator]
              + (f" = {r['total'] / repo:.2f}x the repository ({repo / 1e6:.1f} MB, .git excluded)"  # type: ignore[operator]
                 if repo else ""))
        print(f"  on disk {on_disk / 1e6:.1f} MB" + (f" = {on_disk / repo_disk:.2f}x the repository's "
                                                      f"{repo_disk / 1e6:.1f} MB" if repo else ""))
        print(f"  pages over 512 KB: {r['over']}; largest file {r['files'][0][0] / 1e6:.1f} MB "  # type: ignore[index]
              f"{r['files'][0][1]}" + (" (over 100 MB!)" if r["files"][0][0] > FILE_LIMIT else ""))  # type: ignore[index]
        for size, rel in r["pages"][: args.top]:  # type: ignore[index]
            print(f"  {size / 1024:8.1f} KB  {rel}")


if __name__ == "__main__":
    main()
