"""Link-stage figures on a real corpus: import/include resolution, tests <-> code.

Run by hand: `python bench/link_stats.py pytorch-1.13.1|django-5.2 [--facts-cache FILE]`. Corpora live under
~/.cache/docatlas-corpora or $DOCATLAS_CORPORA. Extraction runs in a process pool; `--facts-cache` pickles the
facts so that reruns measure only the link stage.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pickle
import sys
import time
from collections import Counter
from pathlib import Path

from docatlas.extract import extract_file
from docatlas.link.resolve import C_LANGS
from docatlas.link.stage import RepoModel, link
from docatlas.model import FileFacts, Import, ScannedFile
from docatlas.scan import scan

_ROOT = ""


def _extract(s: ScannedFile) -> FileFacts:
    return extract_file(_ROOT, s, 5_000_000)


def corpus_dir(name: str) -> Path:
    base = Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora"))
    return base / name


def facts_for(root: Path, cache: Path | None) -> dict[str, FileFacts]:
    if cache and cache.exists():
        with cache.open("rb") as fh:
            data: dict[str, FileFacts] = pickle.load(fh)
        return data
    global _ROOT
    _ROOT = str(root)
    files = scan(root, root / ".docatlas-bench-none").files
    with multiprocessing.get_context("fork").Pool() as pool:
        facts = {f.path: f for f in pool.imap_unordered(_extract, files, chunksize=32)}
    _fill_includes(root, facts)
    if cache:
        with cache.open("wb") as fh:
            pickle.dump(facts, fh)
    return facts


def _fill_includes(root: Path, facts: dict[str, FileFacts]) -> None:
    """Until the C/C++ extractor lands, take `#include`s straight from the tree-sitter tree (bench only)."""
    c_files = [p for p, f in facts.items() if f.language in C_LANGS and not f.binary]
    if not c_files or any(facts[p].imports for p in c_files):
        return
    from dataclasses import replace

    from docatlas.extract import tsadapter

    print(f"(C/C++ extractor not present: {len(c_files)} files' includes read by the bench itself)")
    for p in c_files:
        data = (root / p).read_bytes()
        tree = tsadapter.parse("cpp", data)
        imps: list[Import] = []
        stack = [(tree.root_node, "")]
        while stack:
            node, cond = stack.pop()
            if node.type == "preproc_include":
                arg = node.child_by_field_name("path")
                if arg is not None:
                    text = data[arg.start_byte:arg.end_byte].decode("utf-8", "replace")
                    imps.append(Import(module=text.strip('"<>'), line=node.start_point[0] + 1,
                                       system=text.startswith("<"), conditional=cond))
            inner = "#if" if node.type in ("preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif") else cond
            stack.extend((c, inner) for c in node.children)
        imps.sort(key=lambda i: i.line)
        facts[p] = replace(facts[p], imports=tuple(imps))


def python_stats(model: RepoModel, package: str) -> None:
    counts: Counter[str] = Counter()
    unresolved: Counter[tuple[str, str, str]] = Counter()
    for path, entries in model.imports.items():
        if not path.startswith(package + "/") or model.files[path].language not in ("python", "python-stub"):
            continue
        seen: dict[int, str] = {}
        for r in entries:
            imp = r.imp
            absolute = imp.module if not imp.level else model.module_of.get(path, "")
            if imp.level == 0 and not (imp.module == package or imp.module.startswith(package + ".")):
                continue
            if imp.level and not absolute.startswith(package):
                continue
            key = id(imp)
            best = seen.get(key)
            if best == "repo":
                continue
            seen[key] = r.category if r.category in ("repo", "namespace") else (best or r.category)
            if r.category not in ("repo", "namespace"):
                unresolved[(imp.module, r.category, r.reason)] += 1
        counts.update(c if c != "namespace" else "repo" for c in seen.values())
    total = sum(counts.values())
    print(f"\n`{package}.*` imports (absolute and relative) inside `{package}/`: {total}")
    for cat, n in counts.most_common():
        print(f"  {cat:12} {n:6}  {100 * n / total:.2f}%")
    print(f"  resolved to files: {100 * counts['repo'] / total:.2f}%")
    by_head: Counter[tuple[str, str]] = Counter()
    for (mod, cat, reason), n in unresolved.items():
        by_head[(f"{mod} [{cat}]", reason)] += n
    print("  not resolved to a file (statement, category, reason):")
    for (mod, reason), n in sorted(by_head.items(), key=lambda kv: (-kv[1], kv[0]))[:40]:
        print(f"    {n:4} x {mod}: {reason}")
    if len(by_head) > 40:
        print(f"    ... {len(by_head) - 40} more distinct statements")


def include_stats(model: RepoModel) -> None:
    cats: Counter[str] = Counter()
    unresolved: Counter[str] = Counter()
    for path, entries in model.imports.items():
        if model.files[path].language not in C_LANGS or model.files[path].vendored:
            continue
        for r in entries:
            cats[r.category] += 1
            if r.category == "unresolved":
                unresolved[r.imp.module] += 1
    total = sum(cats.values())
    if not total:
        print("\nno #include facts")
        return
    print(f"\n#include directives in non-vendored C/C++/CUDA files: {total}")
    for cat, n in cats.most_common():
        print(f"  {cat:12} {n:6}")
    repo_like = cats["repo"] + cats["unresolved"]
    print(f"  repository includes resolved: {cats['repo']} / {repo_like} = {100 * cats['repo'] / repo_like:.2f}%")
    print(f"  include roots (top 10): {model.include_roots[:10]}")
    print("  unresolved repository-looking headers (top 25):")
    for mod, n in unresolved.most_common(25):
        print(f"    {n:4} x {mod}")


def test_stats(model: RepoModel, folder: str, direct: bool = True) -> None:
    tests = [p for p in model.files if p.startswith(folder + "/") and p.endswith(".py")
             and (not direct or p.count("/") == folder.count("/") + 1) and model.purposes[p].label == "test"]
    covered = [p for p in tests if model.tests_of.get(p)]
    where = f"{folder}/*.py" if direct else f"{folder}/**/*.py"
    print(f"\n`{where}` test files: {len(tests)}; with at least one resolved module under test: {len(covered)}")
    for p in sorted(set(tests) - set(covered)):
        print(f"  none: {p}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus")
    ap.add_argument("--facts-cache", type=Path)
    args = ap.parse_args(argv)
    root = corpus_dir(args.corpus)
    if not root.is_dir():
        print(f"corpus not found: {root}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    facts = facts_for(root, args.facts_cache)
    t1 = time.perf_counter()
    model = link(args.corpus, facts)
    t2 = time.perf_counter()
    print(f"{args.corpus}: {len(facts)} files; extract {t1 - t0:.1f}s, link {t2 - t1:.1f}s")
    print(f"python roots: {len(model.python_roots)} ({', '.join(repr(r) for r in model.python_roots[:8])} ...)")
    if args.corpus.startswith("pytorch"):
        python_stats(model, "torch")
        include_stats(model)
        test_stats(model, "test")
    elif args.corpus.startswith("django"):
        python_stats(model, "django")
        testers = sorted({tl.test for tl in model.tested_by.get("django/db/models/query.py", ())})
        under_tests = [t for t in testers if t.startswith("tests/")]
        print(f"\ndjango/db/models/query.py tested by {len(testers)} files, {len(under_tests)} under tests/, e.g.:")
        for t in under_tests[:10]:
            print(f"  {t}: {model.run_commands.get(t)}")
        test_stats(model, "tests", direct=False)
    else:
        include_stats(model)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
