"""What a file page says about the uses of its definitions (`link.references`): who uses each definition,
how much each test file uses the file, and real call sites as usage examples."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from docatlas import paths as P
from docatlas.link.reftests import examples
from docatlas.link.stage import RepoModel

PER_DEFINITION = 3  # files listed per definition, tests and other files each: `docatlas refs` lists them all
DEFINITIONS = 50


def usage_link_context(model: RepoModel, path: str) -> dict[str, Any]:
    """Used-by lists and the chosen example sites: link-stage facts, part of the page's signature."""
    page = P.file_page(path)
    incoming = model.refs.incoming.get(path, [])
    by_def: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    lines: dict[str, int] = {}
    for r in incoming:
        by_def[r[6]][r[0]].append(r)
        lines[r[6]] = r[7]
    defs: list[dict[str, Any]] = []
    is_test: dict[str, bool] = {}  # per referring file, looked up once
    for refs in by_def.values():
        for p in refs:
            if p not in is_test:
                is_test[p] = model.purposes[p].label == "test"

    def shown(users: dict[str, list[Any]], files: list[str]) -> list[dict[str, Any]]:
        return [{"path": p, "uses": len(users[p]), "link": P.url_quote(P.source_link(page, p, users[p][0][1]))}
                for p in files[:PER_DEFINITION]]  # (links only for the files shown)

    for qual, users in by_def.items():
        files = sorted(users, key=lambda p: (-len(users[p]), p))
        tests = [p for p in files if is_test[p]]
        others = [p for p in files if not is_test[p]]
        defs.append({"name": qual, "line": lines[qual], "files": len(files),
                     "sites": sum(len(v) for v in users.values()),
                     "tests": shown(users, tests), "more_tests": max(0, len(tests) - PER_DEFINITION),
                     "others": shown(users, others), "more_others": max(0, len(others) - PER_DEFINITION),
                     "possible": [], "possible_files": 0, "possible_sites": 0})
    possible = getattr(model.refs, "possible", {}).get(path, {})
    known = {d["name"]: d for d in defs}
    sym_lines: dict[str, int] = {}
    for sym in model.files[path].symbols:
        sym_lines.setdefault(sym.qualname, sym.line)
    for qual, users in possible.items():
        d = known.get(qual)
        if d is None:
            d = known[qual] = {"name": qual, "line": sym_lines.get(qual, 0), "files": 0, "sites": 0, "tests": [],
                               "more_tests": 0, "others": [], "more_others": 0}
            defs.append(d)
        ordered = sorted(users, key=lambda u: (-u[1], u[0]))
        d["possible"] = [{"path": p, "uses": n, "candidates": k, "link": P.url_quote(P.source_link(page, p, ln))}
                         for p, n, k, ln in ordered[:PER_DEFINITION]]
        d["possible_files"] = len(users)
        d["possible_sites"] = sum(u[1] for u in users)
    defs.sort(key=lambda d: (-d["sites"], -d["possible_sites"], d["name"]))
    sites = [{"path": r[0], "line": r[1], "name": r[8], "enclosing": r[4], "target": r[6],
              "link": P.url_quote(P.source_link(page, r[0], r[1]))} for r in examples(incoming, model.purposes)]
    return {"used_by": defs[:DEFINITIONS], "used_by_total": sum(1 for d in defs if d["files"]),
            "possibly_used_total": sum(1 for d in defs if d["possible_files"]), "used_by_defs": len(defs),
            "used_by_files": len({r[0] for r in incoming}), "used_by_sites": len(incoming),
            "per_definition": PER_DEFINITION, "example_sites": sites,
            "uses_of_tests": {tl.test: tl.uses for tl in model.tested_by.get(path, [])}}


# What `str.splitlines` ends a line at besides the newline (text read in universal-newline mode holds no `\r`)
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _plain(text: str) -> bool:
    """Whether `text` breaks lines at newlines alone. One `in` per character, not a character class: a regular
    expression took 5.5 ms on `test/test_nn.py` (879,013 characters), eight searches 0.4 ms."""
    return not any(c in text for c in _OTHER_BREAKS)


def _window(file: str, first: int, n: int) -> tuple[int, list[str]]:
    """(How many of the first `n` lines a file has, its lines `first` to `n` of them) as a whole read and
    `str.splitlines` give them (UTF-8, undecodable bytes replaced, universal newlines), reading only as far as
    the `n`th newline: the first `n` lines end there at the latest, whatever other breaks `splitlines` finds
    before it. An example's file is often a large test file: read chunks holding only lines before `first`
    are counted and dropped, never split into lines."""
    chunks: list[str] = []
    counts: list[int] = []
    found = 0
    plain = True
    with open(file, encoding="utf-8", errors="replace") as fh:
        while found < n:
            chunk = fh.read(_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            counts.append(chunk.count("\n"))
            found += counts[-1]
            plain = plain and _plain(chunk)
    if not plain:  # other breaks: lines as `splitlines` numbers them (rare)
        lines = "".join(chunks).splitlines()[:n]
        return len(lines), lines[first - 1:]
    skipped = 0  # newlines in the chunks dropped: the text kept starts within line `skipped + 1`, which must be
    drop = 0  # before line `first` (that line starts after the newline ending line `first - 1`)
    while drop < len(chunks) - 1 and skipped + counts[drop] <= first - 2:
        skipped += counts[drop]
        drop += 1
    parts = "".join(chunks[drop:]).split("\n", n - skipped)  # lines skipped + 1 ... n, then the rest
    if len(parts) > n - skipped:
        parts = parts[:n - skipped]
    elif parts[-1] == "":
        parts.pop()  # (no line after the last newline)
    return skipped + len(parts), parts[first - 1 - skipped:]


_CHUNK = 1 << 16


def snippets(root: str, sites: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each example site with its source: the line, one before and up to two after (at most 4 lines, trailing
    blank lines dropped); a site whose file cannot be read is left out."""
    out = []
    for s in sites:
        line = s["line"]
        first = max(1, line - 1)
        try:
            count, text = _window(f"{root}/{s['path']}", first, line + 2)  # lines first, first + 1, ...
        except OSError:
            continue
        last = min(count, line + 2)
        while last > line and not text[last - first].strip():
            last -= 1  # no trailing blank lines
        lang = "python" if s["path"].endswith((".py", ".pyi")) else "cpp"
        out.append({**s, "first": first, "last": last, "lang": lang, "code": "\n".join(text[:last - first + 1])})
    return out
