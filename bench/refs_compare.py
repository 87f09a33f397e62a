"""Accuracy of docatlas's Python references against jedi, an independent static resolver.

    python bench/refs_compare.py pytorch-1.13.1 django-5.2 [--sample 2500] [--seed 0] [--jobs 2]
    python bench/refs_compare.py pytorch-1.13.1 --c-index OUT/docatlas.sqlite [--functions 200] [--gtags-db DIR]

C/C++ (`--c-index`, the index of a docatlas build of the corpus; `--gtags-db DIR` keeps Global's tags): GNU
Global (`gtags`, then `global -rx NAME`) on a reproducible random sample (`--seed`) of `--functions` functions
defined in C-family files that Global lists as referenced from another C-family file (files declaring or
defining the name left out). For each (function, file) pair Global lists: is the file among docatlas's resolved
users of the function (`refs`, any definition of the same qualified name), or among its possible users (an
ambiguous use listing it among its candidates, `ref_candidates`)? Printed: the per-function mean and the pooled
recall of both, by class of pair (the name has one or several qualified names; the file's include closure
reaches a declaration or definition of this function, only another definition of the name, or none: Global
matches tokens, so a pair whose closure reaches only another definition is another function's use), and why
each pair docatlas does not resolve is not (`C_CLASSES`: what docatlas recorded there, else the shape of
Global's line, a heuristic).

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
from collections import Counter
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from docatlas.extract import extract_file
from docatlas.link.cresolve import MAX_CANDIDATES
from docatlas.link.graph import include_closure
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


def _gtags(root: Path, db: str) -> dict[str, str]:
    """GNU Global's environment over `root`, its tag files in `db` (made when missing)."""
    import subprocess

    os.makedirs(db, exist_ok=True)
    if not os.path.exists(os.path.join(db, "GRTAGS")):
        t0 = time.perf_counter()
        subprocess.run(["gtags", "--skip-unreadable", "-q", db], cwd=root, check=True)
        print(f"{root.name}: gtags {time.perf_counter() - t0:.0f} s", flush=True)
    return {**os.environ, "GTAGSROOT": str(root), "GTAGSDBPATH": db}


def _global_refs(name: str, env: dict[str, str], root: Path) -> list[tuple[str, int, str]]:
    """(path, line, text) of every line `global -rx NAME` lists."""
    import subprocess

    out = subprocess.run(["global", "-rx", name], env=env, cwd=root, capture_output=True, text=True,
                         errors="replace").stdout
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[1].isdigit():
            rows.append((parts[2], int(parts[1]), parts[3] if len(parts) > 3 else ""))
    return rows


# Why a file Global lists is not among docatlas's users of a function, most telling first
C_CLASSES = {
    "possible": "an ambiguous use lists it among its candidates (possibly used by)",
    "other-resolved": "docatlas resolved the file's use of the name to another definition",
    "other-candidates": "an ambiguous use, whose candidates (include closure, else folder) exclude it",
    "many-candidates": f"an ambiguous use with more than {MAX_CANDIDATES} candidates (counted, not listed)",
    "member-use": "docatlas records `x.name(...)`/`p->name(...)` there: a method's call, and this is no method",
    "other-qualifier": "docatlas records `q::name` there and this definition's qualified name does not end so",
    "unmatched": "a use docatlas records, but no definition of that kind matches (e.g. a value use of a type)",
    "macro-body": "Global's line is in a #define body and docatlas records no use of the name there",
    "directive": "Global's line is another preprocessor directive (`#if defined(name)`, `#include`, `#undef`)",
    "member": "Global's line has the name after `.` or `->` (a member of some class, not this function)",
    "comment-string": "the name only in a comment or string literal on Global's line",
    "call-missed": "Global's line calls the name (`name(`, `ns::name(`) and docatlas records no use there",
    "declaration": "Global's line declares something of that name (`T name(...)`: a variable, a prototype)",
    "token": "the name on Global's line, not called: a variable, parameter, field, type or label of that name",
}


def _base(used: str) -> str:
    """The name a C-family use is resolved by: `ns::f`, `.f` (a member) -> `f`."""
    return used.rsplit("::", 1)[-1].lstrip(".")



def _line_class(fname: str, lines: list[str], line: int) -> str:
    """What Global's line is, from its text alone (a heuristic: the classes of the pairs docatlas records no
    use for): a macro body, a member, a call, a declaration, text, or another token."""
    import re

    text = lines[line - 1] if 0 < line <= len(lines) else ""
    n = line - 1
    if text.lstrip().startswith("#") and not text.lstrip().lstrip("#").lstrip().startswith("define"):
        return "directive"
    in_macro = text.lstrip().startswith("#")
    while not in_macro and n > 0 and lines[n - 1].rstrip().endswith("\\"):
        n -= 1
        in_macro = lines[n].lstrip().startswith("#define")
    if in_macro:
        return "macro-body"
    code = re.sub(r'"(\\.|[^"\\])*"', '""', text.split("//", 1)[0])
    name = re.escape(fname)
    if not re.search(rf"\b{name}\b", code):
        return "comment-string"
    if re.search(rf"(\.|->)\s*{name}\b", code):
        return "member"
    call = re.search(rf"\b{name}\s*(<[^;()]*>)?\s*\(", code)
    if call is None:
        return "token"
    # `Type name(args)`, `std::lock_guard<M> lock(m)`: a declaration (of a variable or a function), not a call
    before = re.search(r"([\w>]+)\s*[*&]*\s+$", code[:call.start()])
    if before is not None and before.group(1) not in _NOT_TYPES:
        return "declaration"
    return "call-missed"


_NOT_TYPES = frozenset({"return", "else", "new", "case", "throw", "delete", "co_return", "co_await", "do", "sizeof"})


def compare_c(name: str, index: str, functions: int, seed: int, show: int, gtags_db: str,
              sample_misses: int = 0) -> Counter[str]:
    """GNU Global against docatlas's resolved (`refs`) and possible (`ref_candidates`) users of a sample of
    C-family functions, the files Global lists that are neither classified by why (`C_CLASSES`)."""
    import sqlite3
    import tempfile

    from docatlas.extract import extract_file

    root = CORPORA / name
    env = _gtags(root, gtags_db or tempfile.mkdtemp(prefix="refs-gtags-"))
    conn = sqlite3.connect(index)
    langs = dict(conn.execute("SELECT path, language FROM files WHERE language IN "
                              "('c', 'cpp', 'c-header', 'cuda', 'objc', 'objcpp', 'metal')").fetchall())
    c_files = set(langs)
    includes: dict[str, set[str]] = {}
    for p, t in conn.execute("SELECT path, target FROM imports WHERE category = 'repo' AND target != ''"):
        if p in c_files:
            includes.setdefault(p, set()).add(t)
    funcs = sorted(set(conn.execute("SELECT path, name, qualname FROM symbols WHERE kind = 'function' AND "
                                    "flags NOT LIKE '%declaration%'")))
    funcs = [f for f in funcs if f[0] in c_files]
    rng = random.Random(seed)
    rng.shuffle(funcs)
    has_cands = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ref_candidates'").fetchone() is not None
    uses_cache: dict[str, list[Any]] = {}
    closures: dict[str, set[str]] = {}

    cache_db = Path(index).parent / ".docatlas-cache" / "facts.sqlite"
    cache = sqlite3.connect(cache_db) if cache_db.exists() else None

    def uses_of(p: str) -> list[Any]:  # docatlas's recorded uses in one file: the build's facts, else extracted
        from docatlas.store.lazyfacts import unpickle_facts

        if p not in uses_cache:
            row = cache.execute("SELECT facts FROM facts_cache WHERE path = ?", (p,)).fetchone() if cache else None
            if row is not None:
                refs = unpickle_facts(row[0]).references
            else:
                scanned = ScannedFile(path=p, size=(root / p).stat().st_size, mtime_ns=0, language=langs[p])
                refs = extract_file(str(root), scanned).references
            uses_cache[p] = list(refs.uses) if refs is not None else []
            if len(uses_cache) > 64:
                uses_cache.pop(next(iter(uses_cache)))
        return uses_cache[p]

    tally: Counter[str] = Counter()
    per_r: list[float] = []
    per_p: list[float] = []
    classes: Counter[str] = Counter()
    kinds_of_unmatched: Counter[str] = Counter()
    misses: list[str] = []
    pending: dict[str, list[tuple[str, set[int], str, str, int]]] = {}  # file -> misses its uses must explain
    missed_one: list[tuple[str, str, str, set[int]]] = []  # (name, qualname, file, Global's lines): one definition
    named_as = "(name = ? OR name = '.' || ? OR substr(name, -length(?) - 2) = '::' || ?)"  # `f`, `.f`, `ns::f`
    for path, fname, qual in funcs:
        if tally["functions"] >= functions:
            break
        rows = [r for r in _global_refs(fname, env, root) if r[0] in c_files]
        # a file declaring or defining the name (a header's prototype) is a definition site, not a use
        named = list(conn.execute("SELECT path, qualname FROM symbols WHERE name = ?", (fname,)))
        defining = {p for p, _ in named}
        theirs = sorted({r[0] for r in rows} - defining - {path})
        if not theirs:
            continue
        fclass = "one" if len({q for _, q in named}) == 1 else "several"
        own = {p for p, q in named if q == qual}  # files declaring or defining this qualified name
        others = {p for p, q in named if q != qual}
        ours = {p for (p,) in conn.execute("SELECT DISTINCT path FROM refs WHERE target = ?", (qual,))}
        maybe = set()
        if has_cands:
            maybe = {p for (p,) in conn.execute("SELECT DISTINCT path FROM ref_candidates WHERE target = ?",
                                                (qual,))} - ours
        hit = set(theirs) & ours
        possible = set(theirs) & maybe
        tally["functions"] += 1
        tally[f"functions {fclass}"] += 1
        per_r.append(len(hit) / len(theirs))
        per_p.append(len(hit | possible) / len(theirs))
        for f in theirs:
            if f not in closures:
                closures[f] = include_closure(f, includes)
            reach = closures[f]
            pclass = "reaches it" if own & reach else "reaches another" if others & reach else "reaches none"
            got = "resolved" if f in hit else "possible" if f in possible else "missed"
            for key in ("all", f"name: {fclass}", f"closure: {pclass}"):
                tally[f"{key} pairs"] += 1
                tally[f"{key} {got}"] += 1
        for f in theirs:
            if f in hit:
                continue
            if f in possible:
                classes["possible"] += 1
                continue
            if conn.execute(f"SELECT 1 FROM refs WHERE path = ? AND {named_as}", (f, *[fname] * 4)).fetchone():
                classes["other-resolved"] += 1
            elif has_cands and conn.execute(f"SELECT 1 FROM ref_candidates WHERE path = ? AND {named_as}",
                                            (f, *[fname] * 4)).fetchone():
                classes["other-candidates"] += 1
            else:
                lines = {r[1] for r in rows if r[0] == f}
                pending.setdefault(f, []).append((fname, lines, qual, path, len(set(named))))
            if fclass == "one":
                missed_one.append((fname, qual, f, {r[1] for r in rows if r[0] == f}))
    for f in sorted(pending):  # each file's facts read once
        uses = uses_of(f)
        try:
            text = (root / f).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            text = []
        for fname, lines, qual, path, n_named in pending[f]:
            recorded = [u for u in uses if _base(u[0]) == fname and u[1] in lines]
            if recorded:  # the number of definitions of the name, not of the tier the file's use saw
                if any(u[0].startswith(".") for u in recorded):
                    cls = "member-use"
                elif all("::" in u[0] and not ("::" + qual).endswith("::" + u[0]) for u in recorded):
                    cls = "other-qualifier"
                elif n_named > MAX_CANDIDATES:
                    cls = "many-candidates"
                else:
                    cls = "unmatched"
                    kinds_of_unmatched.update(u[3] for u in recorded)
            else:
                got_cls = {_line_class(fname, text, ln) for ln in lines}
                order = ("call-missed", "member", "macro-body", "declaration", "directive", "token", "comment-string")
                cls = next(c for c in order if c in got_cls)
            classes[cls] += 1
            if len(misses) < show and cls in ("call-missed", "unmatched"):
                misses.append(f"  {cls:<11} {qual} ({path}) used in {f}:{min(lines)}")
    t = tally
    print(f"{name}: {t['functions']} functions (seed {seed}) that Global lists as referenced from another "
          f"C-family file ({t['functions one']} whose name has one qualified name in the repository, "
          f"{t['functions several']} several); {t['all pairs']} (function, file) pairs (files declaring or "
          f"defining the name left out).")
    print(f"  per-function mean recall: resolved users {sum(per_r) / max(1, len(per_r)):.1%}, resolved + possible "
          f"{sum(per_p) / max(1, len(per_p)):.1%}")
    print("  pooled recall over (function, file) pairs, by class of pair:")
    for key, what in (("all", "all pairs"), ("name: one", "name with one qualified name"),
                      ("name: several", "name with several qualified names"),
                      ("closure: reaches it", "file's include closure reaches a declaration/definition of it"),
                      ("closure: reaches another", "closure reaches another definition of the name, not it"),
                      ("closure: reaches none", "closure reaches no definition of the name")):
        n = t[f"{key} pairs"]
        r, pb = t[f"{key} resolved"], t[f"{key} resolved"] + t[f"{key} possible"]
        print(f"    {what:<62} {n:>6} pairs ({n / max(1, t['all pairs']):5.1%}): resolved {r / max(1, n):6.1%}, "
              f"resolved + possible {pb / max(1, n):6.1%}")
    pairs = max(1, t["all pairs"])
    verdict = []
    for what, value in (("pooled, resolved", t["all resolved"] / pairs),
                        ("pooled, resolved + possible", (t["all resolved"] + t["all possible"]) / pairs),
                        ("per-function mean, resolved", sum(per_r) / max(1, len(per_r))),
                        ("per-function mean, resolved + possible", sum(per_p) / max(1, len(per_p)))):
        verdict.append(f"{what} {value:.1%} {'meets' if value >= 0.9 else 'misses'}")
    print(f"  target (>= 90% of the files Global lists in docatlas's used-by): {'; '.join(verdict)}")
    print("  the pairs docatlas does not resolve, by why:")
    for cls, what in C_CLASSES.items():
        print(f"    {cls:<17} {classes[cls]:>6} ({classes[cls] / pairs:5.1%} of pairs)  {what}")
    if kinds_of_unmatched:
        print(f"  kinds of the unmatched uses: {dict(sorted(kinds_of_unmatched.items()))}")
    for m in misses:
        print(m)
    if sample_misses:
        _show_misses(root, missed_one, sample_misses, seed, uses_of, path_of={q: p for p, _, q in funcs})
    return tally + classes


def _show_misses(root: Path, missed: list[tuple[str, str, str, set[int]]], n: int, seed: int, uses_of: Any,
                 path_of: dict[str, str]) -> None:
    """A reproducible random sample of `n` pairs Global lists and docatlas neither resolves nor lists as
    possible, on functions whose name has one qualified name: Global's lines and what docatlas recorded on
    them, to be classified by reading (real miss, or not a use of the function)."""
    pick = random.Random(seed).sample(missed, min(n, len(missed)))
    print(f"\n  {len(pick)} of the {len(missed)} missed pairs on single-definition names (seed {seed}):")
    for fname, qual, f, lines in sorted(pick, key=lambda m: (m[2], m[0])):
        try:
            text = (root / f).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            text = []
        recorded = [u for u in uses_of(f) if _base(u[0]) == fname]
        print(f"  - {qual} ({path_of.get(qual, '?')}) in {f}: docatlas records "
              f"{[(u[0], u[1], u[3]) for u in recorded][:4] or 'nothing'}")
        for ln in sorted(lines)[:3]:
            line = text[ln - 1].strip() if 0 < ln <= len(text) else ""
            print(f"      {ln}: {line[:150]}  [{_line_class(fname, text, ln)}]")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpora", nargs="+")
    ap.add_argument("--sample", type=int, default=2500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--show", type=int, default=40)
    ap.add_argument("--c-index", default="", help="compare C/C++ against GNU Global, using this docatlas index")
    ap.add_argument("--functions", type=int, default=200)
    ap.add_argument("--gtags-db", default="", help="GNU Global's tag folder, made when missing (else a temporary one)")
    ap.add_argument("--sample-misses", type=int, default=0,
                    help="C: print this many missed pairs on single-definition names, with Global's lines")
    args = ap.parse_args()
    sys.setrecursionlimit(10000)
    if args.c_index:
        for name in args.corpora:
            compare_c(name, args.c_index, args.functions, args.seed, args.show, args.gtags_db, args.sample_misses)
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
