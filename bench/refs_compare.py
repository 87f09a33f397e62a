"""Accuracy of docatlas's Python references against jedi, an independent static resolver.

    python bench/refs_compare.py pytorch-1.13.1 django-5.2 [--sample 2500] [--seed 0] [--jobs 2]
    python bench/refs_compare.py pytorch-1.13.1 --c-index OUT/.docatlas-index.sqlite [--functions 200]

C/C++ (`--c-index`, the index of a docatlas build of the corpus): GNU Global (`gtags`, then `global -rx NAME`)
on a reproducible random sample of functions defined in C-family files: the share of the C-family files Global
lists as referencing the function's name (the defining file left out) that are among the files docatlas's
`refs` table says use it (any definition of the same qualified name).

For each corpus (in $DOCATLAS_CORPORA or ~/.cache/docatlas-corpora): every Python file is extracted and the
references resolved as a build does (`link.references`), then a reproducible random sample (`--seed`) of the
name and attribute loads (`ast.Name`/`ast.Attribute` in load context) in the test files (under a top-level
`test/` or `tests/` folder) is given to jedi, `Script.goto(line, col, follow_imports=True)`, with the corpus
root and, for Django, its `tests/` folder on jedi's `sys.path`. The loads counted are those jedi resolves to a
class, function, method or property defined in the corpus. To spend jedi's time on such loads, the population
is first cut to loads whose name is the name of some class, function or method of the corpus (a property of
the text and the definitions, not of docatlas's answers; a load of an alias `import a as b` is left out by
it). For them:
- precision: of the loads docatlas resolves, the share with the same target (file, and jedi's definition line
  inside docatlas's definition of the same name);
- recall: the share docatlas resolves at all.
Mismatches are printed (up to `--show`) so they can be read.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import sys
import time
from multiprocessing import Pool
from pathlib import Path

from docatlas.extract import extract_file
from docatlas.link.references import python_refs
from docatlas.link.resolve import PythonIndex, python_roots
from docatlas.model import FileFacts, ScannedFile
from docatlas.scan import scan

CORPORA = Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora"))
_ROOT = Path()


def _extract(scanned: ScannedFile) -> FileFacts:
    return extract_file(str(_ROOT), scanned)


def _init(root: Path) -> None:
    global _ROOT
    _ROOT = root


def loads(text: str) -> list[tuple[int, int, str]]:
    """(line, byte col, name) of every name and attribute load: for an attribute, where its name starts."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            out.append((node.lineno, node.col_offset, node.id))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and node.end_col_offset is not None:
            out.append((node.end_lineno or node.lineno, node.end_col_offset - len(node.attr), node.attr))
    return sorted(set(out))


def compare(name: str, sample: int, seed: int, jobs: int, show: int) -> dict[str, float]:
    import jedi

    root = CORPORA / name
    t0 = time.perf_counter()
    files = [f for f in scan(root, root / ".docatlas-none").files if f.path.endswith(".py") and not f.vendored]
    with Pool(jobs, initializer=_init, initargs=(root,)) as pool:
        facts = {f.path: f for f in pool.map(_extract, files, chunksize=32)}
    paths = sorted(facts)
    index = PythonIndex(paths, python_roots(set(paths)))
    t1 = time.perf_counter()
    result = python_refs(facts, index, paths)
    t2 = time.perf_counter()
    resolved = sum(c[0] for c in result.counts.values())
    external = sum(c[1] for c in result.counts.values())
    unresolved = sum(c[2] for c in result.counts.values())
    print(f"{name}: {len(paths)} Python files, extract {t1 - t0:.1f} s, resolve {t2 - t1:.1f} s; uses: "
          f"{resolved} resolved, {external} external, {unresolved} unresolved", flush=True)
    tests = [p for p in paths if p.split("/", 1)[0] in ("test", "tests")]
    defined = {s.name for f in facts.values() for s in f.symbols if s.kind in ("class", "function", "method")}
    population = []
    for p in tests:
        text = (root / p).read_text(encoding="utf-8", errors="replace")
        population += [(p, *ld) for ld in loads(text) if ld[2] in defined]
    rng = random.Random(seed)
    picked = sorted(rng.sample(population, min(sample, len(population))))
    extra = [str(root / "tests")] if (root / "tests" / "runtests.py").exists() else []
    project = jedi.Project(str(root), added_sys_path=extra, smart_sys_path=False, load_unsafe_extensions=False)
    ours = {(r[0], r[1], r[2] - 1): r for refs in result.outgoing.values() for r in refs}
    counted = agree = answered = 0
    misses: list[str] = []
    script = None
    script_path = ""
    lines: list[str] = []
    t3 = time.perf_counter()
    for n, (p, line, col, word) in enumerate(picked):
        if p != script_path:
            text = (root / p).read_text(encoding="utf-8", errors="replace")
            lines = text.splitlines()
            script = jedi.Script(text, path=str(root / p), project=project)
            script_path = p
        raw = lines[line - 1].encode("utf-8")
        ccol = len(raw[:col].decode("utf-8", errors="replace"))
        try:
            defs = script.goto(line, ccol, follow_imports=True)  # type: ignore[union-attr]
        except Exception:
            continue
        target = None
        for d in defs:
            mp = d.module_path
            if d.type in ("class", "function", "property") and mp is not None and d.line:
                try:
                    rel = Path(mp).resolve().relative_to(root.resolve()).as_posix()
                except ValueError:
                    continue
                target = (rel, d.line, d.name)
                break
        if target is None:
            continue
        counted += 1
        ref = ours.get((p, line, ccol))
        if ref is None:
            if len(misses) < show:
                misses.append(f"  unresolved {p}:{line}:{ccol + 1} {word} -> jedi {target[0]}:{target[1]}")
            continue
        answered += 1
        sym = next((s for s in facts[ref[5]].symbols if s.qualname == ref[6] and s.line == ref[7]), None) \
            if ref[5] in facts else None
        same = (ref[5] == target[0] and sym is not None and sym.name == target[2]
                and sym.line <= target[1] <= sym.end_line)
        if same:
            agree += 1
        elif len(misses) < show:
            misses.append(f"  differs    {p}:{line}:{ccol + 1} {word} -> ours {ref[5]}:{ref[7]} {ref[6]}, "
                          f"jedi {target[0]}:{target[1]}")
        if (n + 1) % 500 == 0:
            print(f"  {n + 1}/{len(picked)} loads asked, {counted} counted, {time.perf_counter() - t3:.0f} s",
                  flush=True)
    precision = agree / answered if answered else 0.0
    recall = answered / counted if counted else 0.0
    print(f"{name}: {len(picked)} sampled loads (seed {seed}) of {len(population)} named like a definition "
          f"in {len(tests)} test files; "
          f"{counted} resolved by jedi to a repository class/function/method/property; docatlas resolves "
          f"{answered} ({recall:.1%} recall), {agree} to the same target ({precision:.1%} precision); "
          f"jedi {time.perf_counter() - t3:.0f} s")
    for m in misses:
        print(m)
    return {"counted": counted, "answered": answered, "agree": agree}


def compare_c(name: str, index: str, functions: int, seed: int, show: int) -> None:
    import sqlite3
    import subprocess
    import tempfile

    root = CORPORA / name
    db = tempfile.mkdtemp(prefix="refs-gtags-")
    t0 = time.perf_counter()
    subprocess.run(["gtags", "--skip-unreadable", "-q", db], cwd=root, check=True)
    print(f"{name}: gtags {time.perf_counter() - t0:.0f} s", flush=True)
    env = {**os.environ, "GTAGSROOT": str(root), "GTAGSDBPATH": db}
    conn = sqlite3.connect(index)
    c_files = {p for (p,) in conn.execute("SELECT path FROM files WHERE language IN "
                                          "('c', 'cpp', 'c-header', 'cuda', 'objc', 'objcpp', 'metal')")}
    funcs = sorted(set(conn.execute("SELECT path, name, qualname FROM symbols WHERE kind = 'function' AND "
                                    "flags NOT LIKE '%declaration%'")))
    funcs = [f for f in funcs if f[0] in c_files]
    rng = random.Random(seed)
    rng.shuffle(funcs)
    listed = found = sampled = maybe_found = 0
    has_cands = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ref_candidates'").fetchone() is not None
    u_listed = u_found = u_sampled = 0
    per: list[float] = []
    misses: list[str] = []
    for path, fname, qual in funcs:
        if sampled >= functions:
            break
        out = subprocess.run(["global", "-rx", fname], env=env, cwd=root, capture_output=True, text=True).stdout
        theirs = {line.split()[2] for line in out.splitlines() if len(line.split()) > 2} & c_files
        theirs.discard(path)
        # a file declaring or defining the name (a header's prototype) is a definition site, not a use
        defining = {p for (p,) in conn.execute("SELECT DISTINCT path FROM symbols WHERE name = ?", (fname,))}
        theirs -= defining
        unique = len({q for (q,) in conn.execute("SELECT DISTINCT qualname FROM symbols WHERE name = ?",
                                                 (fname,))}) == 1
        if not theirs:
            continue
        sampled += 1
        ours = {p for (p,) in conn.execute("SELECT DISTINCT path FROM refs WHERE target = ?", (qual,))}
        hit = theirs & ours
        maybe = set()
        if has_cands:
            maybe = {p for (p,) in conn.execute("SELECT DISTINCT path FROM ref_candidates WHERE target = ?",
                                                (qual,))}
            maybe_found += len(theirs & (ours | maybe))
        listed += len(theirs)
        found += len(hit)
        per.append(len(hit) / len(theirs))
        if unique:
            u_sampled += 1
            u_listed += len(theirs)
            u_found += len(hit)
        if len(theirs - ours - maybe) and len(misses) < show:
            missing = sorted(theirs - ours - maybe)
            misses.append(f"  {qual} ({path}): {len(hit)}/{len(theirs)}; e.g. not in ours: {', '.join(missing[:3])}")
    print(f"{name}: {sampled} functions (seed {seed}) with references in Global; of the {listed} (function, "
          f"file) pairs Global lists, docatlas's used-by has {found} ({found / max(1, listed):.1%}); mean per "
          f"function {sum(per) / max(1, len(per)):.1%} (files declaring or defining the name left out of "
          f"Global's list); for the {u_sampled} whose name has one qualified name in the repository: "
          f"{u_found}/{u_listed} ({u_found / max(1, u_listed):.1%})")
    if has_cands:
        print(f"{name}: with the ambiguous uses that list it among their candidates (`ref_candidates`): "
              f"{maybe_found}/{listed} ({maybe_found / max(1, listed):.1%})")
    for m in misses:
        print(m)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpora", nargs="+")
    ap.add_argument("--sample", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=40)
    ap.add_argument("--c-index", default="", help="compare C/C++ against GNU Global, using this docatlas index")
    ap.add_argument("--functions", type=int, default=200)
    args = ap.parse_args()
    sys.setrecursionlimit(10000)
    if args.c_index:
        for name in args.corpora:
            compare_c(name, args.c_index, args.functions, args.seed, args.show)
        return
    total = {"counted": 0, "answered": 0, "agree": 0}
    for name in args.corpora:
        for k, v in compare(name, args.sample, args.seed, args.jobs, args.show).items():
            total[k] += int(v)
    if len(args.corpora) > 1 and total["counted"]:
        print(f"all: {total['counted']} loads counted, recall {total['answered'] / total['counted']:.1%}, "
              f"precision {total['agree'] / max(1, total['answered']):.1%}")


if __name__ == "__main__":
    main()
