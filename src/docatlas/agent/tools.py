"""The index as answers for coding agents: plain functions over a read-only connection, bounded.

Every list is bounded by a `limit` and continues with an opaque `next` token (pass it back as `cursor`); every
answer is cut to `MAX_BYTES` of JSON and says so (`cut`). Bad input raises `ToolInputError` with a message the
agent can act on. `refs` reads the index's table of resolved symbol references (`store.refs`).
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from docatlas.errors import DocatlasError
from docatlas.link.runners import RepoRunners
from docatlas.link.stage import run_commands
from docatlas.store import queries, schema
from docatlas.store import refs as store_refs
from docatlas.store.lazyfacts import unpickle_facts

MAX_BYTES = 60_000
MAX_LIMIT = 200
SOURCE_MAX_LINES = 400
SHOWN = 100  # items per list in a `show` answer


class ToolInputError(DocatlasError):
    """An argument the tools cannot use (unknown path, bad range, bad cursor)."""


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit():
        raise ToolInputError(f"cursor {cursor!r} is not one this server gave (pass back `next` unchanged)")
    return int(cursor)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ToolInputError(f"limit must be from 1 to {MAX_LIMIT}, not {limit}")
    return limit


def _page(items: list[Any], offset: int, limit: int, key: str, extra: dict[str, Any]) -> dict[str, Any]:
    shown = items[offset: offset + limit]
    out = {**extra, key: shown, "total": len(items), "offset": offset,
           "next": str(offset + len(shown)) if offset + len(shown) < len(items) else None}
    return capped(out, key)


def capped(out: dict[str, Any], key: str) -> dict[str, Any]:
    """`out` with its list `key` shortened until its JSON fits MAX_BYTES; `cut` says how many were dropped and
    `next` then continues after the last one kept."""
    items = out.get(key)
    if not isinstance(items, list) or len(json.dumps(out, ensure_ascii=False)) <= MAX_BYTES:
        return out
    keep = len(items)
    while keep > 0 and len(json.dumps({**out, key: items[:keep]}, ensure_ascii=False)) > MAX_BYTES - 200:
        keep = keep // 2 if keep > 8 else keep - 1
    offset = int(out.get("offset", 0))
    return {**out, key: items[:keep], "next": str(offset + keep),
            "cut": f"{len(items) - keep} more left out to stay under {MAX_BYTES} bytes; continue with `next`"}


def search(conn: sqlite3.Connection, query: str, kind: str | None, limit: int) -> dict[str, Any]:
    try:
        hits = queries.search(conn, query, kind=kind or None, limit=_limit(limit))
    except schema.QueryError as exc:
        raise ToolInputError(str(exc)) from exc
    return capped({"query": query, "results": [h.as_dict() for h in hits],
                   "note": f"at most {limit} results, ranked: exact, prefix, words, mentions"}, "results")


def show(conn: sqlite3.Connection, target: str) -> dict[str, Any]:
    found = queries.show(conn, target)
    if found is None:
        raise ToolInputError(f"nothing called {target!r} in the index; try the search tool")
    records = [found.get("file"), found.get("folder"), found, *found.get("files", {}).values()]
    for rec in records:
        if not isinstance(rec, dict):
            continue
        for key, items in list(rec.items()):
            if isinstance(items, list) and len(items) > SHOWN:
                rec[key] = items[:SHOWN]
                rec.setdefault("cut", {})[key] = f"first {SHOWN} of {len(items)} shown" + \
                    (" (outline lists every symbol)" if key == "symbols" else "")
    text = json.dumps(found, ensure_ascii=False, default=str)
    if len(text) > MAX_BYTES:
        return {"type": found["type"], "cut": f"answer of {len(text)} bytes cut to {MAX_BYTES}",
                "json_prefix": text[:MAX_BYTES]}
    return found


def _file_row(conn: sqlite3.Connection, path: str) -> tuple[str, str, str, int]:
    row = conn.execute("SELECT path, language, module, binary FROM files WHERE path = ?",
                       (path.strip().strip("/"),)).fetchone()
    if row is None:
        raise ToolInputError(f"{path!r} is not a documented file of this repository (paths are repo-relative)")
    return cast(tuple[str, str, str, int], row)


def tests_for(conn: sqlite3.Connection, target: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """Test files that exercise a file (or the file defining a symbol), with their cases and run commands."""
    path = target.strip().strip("/")
    if conn.execute("SELECT 1 FROM files WHERE path = ?", (path,)).fetchone() is None:
        syms = queries.symbol_records(conn, target)
        if not syms:
            raise ToolInputError(f"{target!r} is neither a documented file nor a symbol in the index")
        path = syms[0]["path"]
    links = conn.execute("SELECT test_path, names, via, cases FROM test_links WHERE target = ? ORDER BY test_path",
                         (path,)).fetchall()
    out = []
    for test, names, via, cases in links:
        out.append({"test": test, "imports": names.split("\n") if names else [], "via": via,
                    "cases_named_after_it": cases.split("\n") if cases else [], "run": _run(conn, test)})
    return _page(out, _offset(cursor), _limit(limit), "tests",
                 {"target": path, "how": "test files, test helpers and files of a test suite's own folder that "
                                         "import the target (directly or through a package that re-exports it) "
                                         "or use its definitions, as the link stage found them"})


def refs(conn: sqlite3.Connection, symbol: str, kind: str | None, tests_only: bool, limit: int,
         cursor: str | None) -> dict[str, Any]:
    """Every resolved reference to the definitions `symbol` names, most used definition first; sites in path
    and line order."""
    if kind is not None and kind not in store_refs.KINDS:
        raise ToolInputError(f"kind must be one of {', '.join(store_refs.KINDS)}, not {kind!r}")
    if not store_refs.available(conn):
        raise ToolInputError("this index has no table of references; rebuild it with `docatlas build`")
    records = queries.symbol_records(conn, symbol)
    named = [(r["path"], r["qualname"]) for r in records if r["kind"] not in store_refs.UNREFERENCED_KINDS]
    if records and not named:
        kinds = ", ".join(sorted({r["kind"] for r in records}))
        raise ToolInputError(f"{symbol!r} names only a {kinds}, which no code reference resolves to")
    named = named or store_refs.targets(conn, symbol.strip())
    if not named:
        raise ToolInputError(f"nothing called {symbol!r} is defined in the index")
    found = [(p, q, store_refs.sites(conn, p, q, kind, tests_only)) for p, q in named]
    found.sort(key=lambda t: (-len(t[2]), t[0], t[1]))
    definitions = []
    for p, q, s in found:
        maybe = [c for c in store_refs.candidate_sites(conn, p, q)
                 if (not kind or c["kind"] == kind) and (c["test"] or not tests_only)]
        definitions.append({"path": p, "qualname": q, "uses": len(s), "files": len({x["path"] for x in s}),
                            "ambiguous_uses": len(maybe), "ambiguous_files": len({c["path"] for c in maybe})})
    sites = [{"target_path": p, "target": q, **site} for p, q, s in found for site in s]
    how = ("references resolved statically (imports, attribute chains, class bases; C by name through includes)"
           + (f", of kind {kind}" if kind else "") + (", from test files only" if tests_only else "")
           + "; a use that could not be resolved is not counted; ambiguous_uses counts the C-family uses of a name "
           "several definitions share that may mean this one (not among the sites)")
    return _page(sites, _offset(cursor), _limit(limit), "sites", {"definitions": definitions, "how": how})


def _cached_facts(conn: sqlite3.Connection, path: str) -> bytes | None:
    """A file's pickled facts from the facts cache beside the index (`.docatlas-cache/`, not published with
    it: None when it is not there)."""
    index = conn.execute("PRAGMA database_list").fetchone()[2]
    cache = schema.cache_path(Path(index).parent) if index else None
    if cache is None or not cache.is_file():
        return None
    with closing(sqlite3.connect(f"{cache.as_uri()}?mode=ro", uri=True)) as facts_db:
        row = facts_db.execute("SELECT facts FROM facts_cache WHERE path = ?", (path,)).fetchone()
    return None if row is None else cast(bytes, row[0])


def _run(conn: sqlite3.Connection, test: str) -> list[str]:
    blob = _cached_facts(conn, test)
    if blob is None:
        return []
    facts = unpickle_facts(blob)
    module = conn.execute("SELECT module FROM files WHERE path = ?", (test,)).fetchone()[0]
    root = ""
    if module:
        stem = test.rsplit(".", 1)[0].removesuffix("/__init__")
        suffix = module.replace(".", "/")
        root = stem[: -len(suffix)].rstrip("/") if stem.endswith(suffix) else ""
    py_index = SimpleNamespace(root_of={test: root}, module_of={test: module})
    paths = {r[0] for r in conn.execute("SELECT path FROM files WHERE name = 'runtests.py'")}
    marker = "test/libregrtest/__init__.py"  # the evidence `link.runners.repo_runners` looks for
    regr = conn.execute("SELECT path FROM files WHERE path LIKE ? ORDER BY path", (f"%{marker}",)).fetchone()
    conf = conn.execute("SELECT path FROM files WHERE name IN ('pytest.ini', 'conftest.py') ORDER BY path").fetchone()
    runners = RepoRunners(regrtest=(regr[0][: -len(marker)].rstrip("/") or ".") if regr else "",
                          pytest=conf[0] if conf else "")
    return run_commands(test, facts, cast(Any, py_index), paths, runners)[0]


def outline(conn: sqlite3.Connection, path: str, limit: int, cursor: str | None) -> dict[str, Any]:
    p, language, module, _ = _file_row(conn, path)
    rows = conn.execute("SELECT kind, qualname, line, end_line, signature, summary, parent FROM symbols "
                        "WHERE path = ? ORDER BY line, id", (p,)).fetchall()
    symbols = [{"kind": k, "qualname": q, "line": a, "end_line": b, "signature": s, "summary": su,
                "depth": q.count(".") if parent else 0} for k, q, a, b, s, su, parent in rows]
    return _page(symbols, _offset(cursor), _limit(limit), "symbols",
                 {"path": p, "language": language, "module": module})


def read_source(conn: sqlite3.Connection, repo: Path, path: str, start: int, end: int | None) -> dict[str, Any]:
    p, _, _, binary = _file_row(conn, path)
    if binary:
        raise ToolInputError(f"{p} is a binary file")
    root = repo.resolve()
    file = (root / p).resolve()
    if root not in file.parents or not file.is_file():
        raise ToolInputError(f"{p} is not readable inside the repository")
    if start < 1 or (end is not None and end < start):
        raise ToolInputError(f"bad line range {start}-{end}: lines count from 1 and end >= start")
    last = end if end is not None else start + SOURCE_MAX_LINES - 1
    last = min(last, start + SOURCE_MAX_LINES - 1)
    lines = file.read_bytes().decode("utf-8", errors="replace").splitlines()
    if start > len(lines) and lines:
        raise ToolInputError(f"{p} has {len(lines)} lines; start {start} is past the end")
    chosen = lines[start - 1: last]
    text, used = [], 0
    for n, line in enumerate(chosen, start):
        entry = f"{n:>6}  {line}"
        if used + len(entry) > MAX_BYTES:
            break
        text.append(entry)
        used += len(entry) + 1
    long_line = not text and bool(chosen)
    if long_line:  # one line longer than the cap (minified code): its head, so the next call moves on
        text = [f"{start:>6}  {chosen[0]}"[:MAX_BYTES]]
    stop = start + len(text) - 1
    wanted = min(end or len(lines), len(lines))
    more = stop < wanted
    out: dict[str, Any] = {"path": p, "start": start, "end": stop, "lines_in_file": len(lines),
                           "text": "\n".join(text), "next_start": stop + 1 if more else None}
    if more:
        out["cut"] = f"stopped at line {stop}: at most {SOURCE_MAX_LINES} lines and {MAX_BYTES} bytes per call"
    if long_line:
        out["cut"] = f"line {start} is longer than {MAX_BYTES} bytes: its first {MAX_BYTES} characters shown" + \
            (f"; {out['cut']}" if more else "")
    return out
