"""Compare docatlas's C/C++/CUDA definitions with universal-ctags, and time the tree-sitter extraction.

    python bench/ctags_compare.py [CORPUS] [--jobs N] [--samples N] [--headers-corpus DIR] [--no-ctags]

CORPUS defaults to pytorch-1.13.1 under $DOCATLAS_CORPORA (or ~/.cache/docatlas-corpora). Prints three
tables: (1) extraction time per language over every file docatlas analyses with tree-sitter, (2) the share
of headers that parse with error nodes with the plain C++ grammar versus docatlas's macro handling, and
(3) recall and precision per kind against `ctags --output-format=json`, with sample disagreements.

Keys are (file, qualified name, kind); ctags's anonymous scopes (`__anon…`) are dropped from its qualified
names, and a nested namespace `a::b` of docatlas also counts as `a`, as ctags lists both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from docatlas import languages
from docatlas.extract import REGISTRY, load_extractor
from docatlas.extract import tsadapter as ts
from docatlas.extract.cfamily import parse_c_family
from docatlas.text import decode

C_FAMILY = {"c", "cpp", "c-header", "cuda"}
KINDS = ("namespace", "class", "struct", "union", "enum", "function", "macro")
SKIP_DIRS = {".git", "node_modules", "__pycache__", "third_party"}
NOT_DEFINITIONS = {"declaration", "defaulted", "deleted", "pure"}


def corpora_root() -> Path:
    return Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora"))


def walk(root: Path, include_third_party: bool) -> list[tuple[str, str]]:
    """(relative path, language) of every file docatlas would give to a tree-sitter extractor."""
    out = []
    skip = SKIP_DIRS - ({"third_party"} if include_third_party else set())
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        for name in sorted(filenames):
            rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
            lang = languages.language_for_name(rel)
            if lang in REGISTRY and lang not in ("python", "python-stub", "markdown", "rst"):
                out.append((rel, lang))
    return out


def _extract_one(args: tuple[str, str, str]) -> tuple[str, str, float, list[tuple[str, str, str, bool]], int,
                                                      float]:
    root, rel, lang = args
    data = Path(root, rel).read_bytes()
    extractor = load_extractor(lang)
    assert extractor is not None
    t0 = time.perf_counter()
    facts = extractor(rel, decode(data, rel, lang)[0])  # the extractor's own result: it returns its timings
    dt = time.perf_counter() - t0
    rules = facts.seconds.get("rules", 0.0)
    syms = []
    if lang in C_FAMILY:
        for s in facts.symbols:
            definition = not (NOT_DEFINITIONS & set(s.flags))
            name = s.signature.partition("(")[0] if s.kind == "test" else s.name  # the gtest macro
            syms.append((s.kind, name, s.qualname, definition))
    return rel, lang, dt, syms, len(data), rules


def extract_all(root: Path, files: list[tuple[str, str]], jobs: int):
    t0 = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        results = list(pool.map(_extract_one, [(str(root), rel, lang) for rel, lang in files], chunksize=32))
    return results, time.perf_counter() - t0


def timing_table(results, wall: float, jobs: int) -> None:
    per: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0, 0.0])
    for _rel, lang, dt, _syms, size, rules in results:
        row = per[lang]
        row[0] += 1
        row[1] += dt
        row[2] += size
        row[3] += rules
    print(f"\n## Extraction time per language (sum of per-file time in {jobs} worker processes; wall {wall:.1f}s)\n")
    print("| language | files | MB | seconds | of which findings rules (crules) | MB/s |")
    print("|---|---:|---:|---:|---:|---:|")
    for lang, (n, secs, size, rules) in sorted(per.items(), key=lambda kv: -kv[1][1]):
        print(f"| {lang} | {n:,} | {size / 1e6:.1f} | {secs:.2f} | {rules:.2f} | "
              f"{size / 1e6 / secs if secs else 0:.1f} |")
    fam = [r for r in results if r[1] in C_FAMILY]
    secs = sum(r[2] for r in fam)
    rules = sum(r[5] for r in fam)
    print(f"\nC/C++/CUDA together: {len(fam):,} files, {sum(r[4] for r in fam) / 1e6:.1f} MB, {secs:.1f}s of "
          f"extraction ({secs / jobs:.1f}s per process with {jobs} processes), {rules:.1f}s of it in crules")


def error_share(root: Path, label: str) -> None:
    """Share of headers whose tree has error nodes: plain C++ grammar vs blanked macros + CUDA grammar."""
    headers = [p for p in sorted(root.rglob("*")) if p.suffix in (".h", ".hpp", ".hh", ".cuh") and p.is_file()]
    if not headers:
        return
    plain = handled = 0
    for p in headers:
        data = p.read_bytes()
        plain += ts.parse("cpp", data).root_node.has_error
        handled += parse_c_family(data, "cuda")[0].has_error
    n = len(headers)
    print(f"| {label} | {n:,} | {plain:,} ({100 * plain / n:.1f}%) | {handled:,} ({100 * handled / n:.1f}%) |")


def run_ctags(root: Path, files: list[str]) -> list[dict]:
    ctags = shutil.which("ctags")
    if ctags is None:
        sys.exit("ctags not found (install universal-ctags)")
    # ctags's own CUDA parser is C-based and loses namespaces and classes: read CUDA files as C++ instead
    cmd = [ctags, "--output-format=json", "--fields=+n+K+S", "--languages=C,C++", "--langmap=C++:+.cu.cuh.hip",
           "-L", "-", "-f", "-"]
    proc = subprocess.run(cmd, cwd=root, input="\n".join(files), capture_output=True, text=True, check=False)
    tags = []
    for line in proc.stdout.splitlines():
        try:
            tag = json.loads(line)
        except json.JSONDecodeError:
            continue
        if tag.get("_type") == "tag":
            tags.append(tag)
    return tags


def _strip_anon(qualname: str) -> str:
    return "::".join(_norm(p) for p in qualname.split("::") if not p.startswith("__anon"))


def _norm(name: str) -> str:
    """`operator ==` (ctags) and `operator==` (docatlas) are one name."""
    if name.startswith("operator"):
        rest = name[len("operator"):].strip()
        return "operator" + (" " + rest if rest[:1].isalpha() else rest.replace(" ", ""))
    return name


def ctags_keys(tags: list[dict]) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for t in tags:
        kind = t.get("kind")
        if kind not in KINDS or t["name"].startswith("__anon"):
            continue
        scope = t.get("scope", "") if kind != "macro" else ""
        qual = _strip_anon(f"{scope}::{t['name']}" if scope else t["name"])
        out[kind].add((t["path"], qual))
    return out


def our_keys(results) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for rel, lang, _dt, syms, _size, _rules in results:
        if lang not in C_FAMILY:
            continue
        # ctags scopes a type local to `TEST_F(Suite, Name) { struct S {}; }` as `TEST_F::S`
        tests = {qual: name for kind, name, qual, _ in syms if kind == "test"}
        for kind, _name, qual, definition in syms:
            for tq, macro in tests.items():
                if qual.startswith(tq + "::"):
                    ns = tq.rpartition("::")[0]
                    qual = (f"{ns}::{macro}" if ns else macro) + qual[len(tq):]
            if kind == "test":  # ctags lists `TEST_F(Suite, Name) { }` as a function named TEST_F
                ns = qual.rpartition("::")[0]
                out["function"].add((rel, f"{ns}::{tests[qual]}" if ns else tests[qual]))

            if kind in ("function", "method"):
                if definition:
                    out["function"].add((rel, qual))
            elif kind == "namespace":
                parts = qual.split("::")
                for i in range(1, len(parts) + 1):
                    out["namespace"].add((rel, "::".join(parts[:i])))
            elif kind in KINDS:
                out[kind].add((rel, qual))
        for key in list(out["function"]):
            if "operator" in key[1]:
                out["function"].discard(key)
                out["function"].add((key[0], _strip_anon(key[1])))
    return out


def compare(ours: dict[str, set[tuple[str, str]]], theirs: dict[str, set[tuple[str, str]]], samples: int) -> None:
    print("\n## docatlas vs universal-ctags (keys: file, qualified name, kind)\n")
    print("| kind | ctags | docatlas | both | recall | precision | recall by name only |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    details = []
    for kind in KINDS:
        a, b = ours.get(kind, set()), theirs.get(kind, set())
        both = a & b
        a_names = {(p, q.rpartition("::")[2]) for p, q in a}
        b_names = {(p, q.rpartition("::")[2]) for p, q in b}
        recall = len(both) / len(b) if b else 1.0
        precision = len(both) / len(a) if a else 1.0
        name_recall = len(a_names & b_names) / len(b_names) if b_names else 1.0
        print(f"| {kind} | {len(b):,} | {len(a):,} | {len(both):,} | {100 * recall:.1f}% | {100 * precision:.1f}% "
              f"| {100 * name_recall:.1f}% |")
        details.append((kind, sorted(b - a), sorted(a - b)))
    for kind, missed, extra in details:
        print(f"\n### {kind}: {len(missed):,} only in ctags, {len(extra):,} only in docatlas")
        for label, items in (("only ctags", missed), ("only docatlas", extra)):
            step = max(1, len(items) // samples) if items else 1
            for path, qual in items[::step][:samples]:
                print(f"- {label}: `{qual}` in {path}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", default=str(corpora_root() / "pytorch-1.13.1"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--samples", type=int, default=8, help="disagreements shown per kind and side")
    ap.add_argument("--headers-corpus", default=str(corpora_root() / "torch-wheel-2.13"),
                    help="second corpus for the error-node share (skipped when absent)")
    ap.add_argument("--third-party", action="store_true", help="include third_party/ folders")
    ap.add_argument("--no-ctags", action="store_true")
    args = ap.parse_args(argv)
    root = Path(args.corpus).expanduser()
    if not root.is_dir():
        print(f"corpus not found: {root}", file=sys.stderr)
        return 2
    files = walk(root, args.third_party)
    results, wall = extract_all(root, files, args.jobs)
    timing_table(results, wall, args.jobs)
    print("\n## Headers whose parse tree has error nodes\n")
    print("| corpus | headers | plain C++ grammar | docatlas (macros blanked, CUDA grammar, "
          "first #if branch on error) |")
    print("|---|---:|---:|---:|")
    error_share(root, root.name)
    extra_root = Path(args.headers_corpus).expanduser()
    if extra_root.is_dir() and extra_root != root:
        error_share(extra_root, extra_root.name)
    if not args.no_ctags:
        c_files = [rel for rel, lang in files if lang in C_FAMILY]
        t0 = time.perf_counter()
        tags = run_ctags(root, c_files)
        print(f"\nctags: {len(tags):,} tags from {len(c_files):,} files in {time.perf_counter() - t0:.1f}s")
        compare(our_keys(results), ctags_keys(tags), args.samples)
    counts = Counter(lang for _rel, lang in files)
    print("\nfiles per language:", ", ".join(f"{k} {v:,}" for k, v in counts.most_common()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
