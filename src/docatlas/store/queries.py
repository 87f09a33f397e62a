"""Reading the index: `search`, `show` and the file, folder and symbol records behind them, `export` and `stats`."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docatlas.store.schema import (
    DEFINITION_COLUMNS,
    EXPORT_SCHEMA,
    FOLDER_ROWID_BASE,
    SCHEMA_VERSION,
    fts_query,
    read_meta,
)

log = logging.getLogger(__name__)

# -- queries ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    """One search result; `match` says why it ranks where it does (exact, prefix, text, mention)."""

    path: str
    line: int
    kind: str
    name: str
    qualname: str
    summary: str
    signature: str
    language: str
    match: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "kind": self.kind, "name": self.name,
                "qualname": self.qualname, "summary": self.summary, "signature": self.signature,
                "language": self.language, "match": self.match}


_GLOB_CHARS = set("*?[")
# the last column: how many resolved references point at the symbol (`refs`), so that the `Linear` everyone
# uses comes before its quantized variants
_SYM_COLS = ("s.path, s.line, s.kind, s.name, s.fqname, s.summary, s.signature, f.language, s.definition, "
             "f.purpose = 'test', f.rank, "
             "(SELECT count(*) FROM refs r WHERE r.target_path = s.path AND r.target = s.qualname) AS uses")
_FILE_COLS = "f.path, 0, 'file', f.name, f.module, f.docstring, '', f.language, 1, f.purpose = 'test', f.rank, 0"
_FOLDER_COLS = "d.path, 0, 'folder', d.name, d.path, d.summary, '', '', 1, 0, 0.0, 0"


def _path_filter(glob: str | None, column: str) -> tuple[str, list[str]]:
    """`--path` as SQL: a glob (`*` crosses `/`), or without wildcards a file or a folder and what is under it."""
    if not glob:
        return "", []
    glob = glob.strip().strip("/") if not _GLOB_CHARS & set(glob) else glob.strip()
    if _GLOB_CHARS & set(glob):
        return f" AND {column} GLOB ?", [glob]
    return f" AND ({column} = ? OR substr({column}, 1, ?) = ?)", [glob, str(len(glob) + 1), glob + "/"]


def search(conn: sqlite3.Connection, query: str, *, kind: str | None = None, lang: str | None = None,
           path: str | None = None, limit: int = 20) -> list[Hit]:
    """Ranked results: exact name (or qualified name, path, module), then name prefix, then full text over
    names and identifier words (definitions), then full text over summaries and paths (mentions). Within a
    tier: definitions before declarations, non-test files first, then the most used (resolved references), then
    the link stage's rank, then shorter."""
    q = query.strip()
    expr = fts_query(q)  # validates the query before anything runs
    hits: list[Hit] = []
    seen: set[tuple[str, int, str, str]] = set()

    def add(rows: Iterable[tuple[Any, ...]], match: str) -> None:
        for r in rows:
            key = (r[0], r[1], r[2], r[4])
            if key in seen or len(hits) >= limit:
                continue
            seen.add(key)
            hits.append(Hit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], match))

    def order(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # the query's own spelling first (`forward` before `Forward`), then definitions, non-test files, rank
        return sorted(rows, key=lambda r: (q not in (r[3], r[4]) and not r[3].startswith(q), -r[8], r[9], -r[11],
                                           -r[10], len(r[4]), r[0], r[1], r[2], r[4]))

    want_sym = kind not in ("file", "folder")
    want_file = kind in (None, "file")
    want_folder = kind in (None, "folder") and not lang
    sym_where, sym_args = _path_filter(path, "s.path")
    file_where, file_args = _path_filter(path, "f.path")
    folder_where, folder_args = _path_filter(path, "d.path")
    if want_sym and kind:
        sym_where, sym_args = sym_where + " AND s.kind = ?", [*sym_args, kind]
    if lang:
        sym_where, sym_args = sym_where + " AND f.language = ?", [*sym_args, lang]
        file_where, file_args = file_where + " AND f.language = ?", [*file_args, lang]
    cap = limit * 4 + 50
    sym_from = "FROM symbols s JOIN files f ON f.path = s.path"
    sym_order = "ORDER BY s.definition DESC, f.purpose = 'test', uses DESC, f.rank DESC"
    if q and " " not in q:
        rows: list[tuple[Any, ...]] = []
        if want_sym:
            rows += conn.execute(
                f"SELECT {_SYM_COLS} {sym_from} WHERE (s.name = ? OR s.qualname = ? OR s.fqname = ?){sym_where} "
                f"{sym_order}, length(s.fqname) LIMIT ?", [q, q, q, *sym_args, cap]).fetchall()
        if want_file:
            rows += conn.execute(
                f"SELECT {_FILE_COLS} FROM files f WHERE (f.name = ? OR f.path = ? OR f.module = ?){file_where} "
                f"LIMIT ?", [q, q.strip("/"), q, *file_args, cap]).fetchall()
        if want_folder:
            rows += conn.execute(
                f"SELECT {_FOLDER_COLS} FROM folders d WHERE d.path = ? AND d.path != ''{folder_where} LIMIT ?",
                [q.strip("/"), *folder_args, cap]).fetchall()
        add(order(rows), "exact")
        hi = q + "\U0010ffff"
        rows = []
        if want_sym and len(hits) < limit:
            rows += conn.execute(
                f"SELECT {_SYM_COLS} {sym_from} WHERE ((s.name >= ? AND s.name < ?) OR (s.fqname >= ? AND "
                f"s.fqname < ?)){sym_where} {sym_order}, length(s.name) LIMIT ?",
                [q, hi, q, hi, *sym_args, cap]).fetchall()
        if want_file and len(hits) < limit:
            rows += conn.execute(
                f"SELECT {_FILE_COLS} FROM files f WHERE f.name >= ? AND f.name < ?{file_where} LIMIT ?",
                [q, hi, *file_args, cap]).fetchall()
        add(order(rows), "prefix")
    for column_expr, match in ((f"{DEFINITION_COLUMNS} : ({expr})", "text"), (expr, "mention")):
        if len(hits) >= limit:
            break
        fts_where, fts_args = _path_filter(path, "path")
        if kind:
            fts_where, fts_args = fts_where + " AND kind = ?", [*fts_args, kind]
        if lang:
            fts_where, fts_args = fts_where + " AND lang = ?", [*fts_args, lang]
        ids = [r[0] for r in conn.execute(
            f"SELECT rowid FROM search WHERE search MATCH ?{fts_where} ORDER BY rank LIMIT ?",
            [column_expr, *fts_args, limit + len(hits)])]
        add(_rows_for(conn, ids), match)
    return hits


def _rows_for(conn: sqlite3.Connection, rowids: list[int]) -> list[tuple[Any, ...]]:
    """Search rowids -> result rows, in the given order."""
    out = []
    for rid in rowids:
        if rid > 0:
            row = conn.execute(f"SELECT {_SYM_COLS} FROM symbols s JOIN files f ON f.path = s.path "
                               f"WHERE s.id = ?", (rid,)).fetchone()
        elif rid > -FOLDER_ROWID_BASE:
            row = conn.execute(f"SELECT {_FILE_COLS} FROM files f WHERE f.id = ?", (-rid,)).fetchone()
        else:
            row = conn.execute(f"SELECT {_FOLDER_COLS} FROM folders d WHERE d.id = ?",
                               (-rid - FOLDER_ROWID_BASE,)).fetchone()
        if row is not None:
            out.append(row)
    return out


def _dicts(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def file_record(conn: sqlite3.Connection, path: str) -> dict[str, Any] | None:
    """Everything the index knows about one file (the `show` view and the export record share it)."""
    rows = _dicts(conn.execute("SELECT * FROM files WHERE path = ?", (path,)))
    if not rows:
        return None
    rec = rows[0]
    rec.pop("id")
    for k in ("binary", "vendored", "parse_ok"):
        rec[k] = bool(rec[k])
    rec["symbols"] = _dicts(conn.execute(
        "SELECT kind, name, qualname, fqname, line, end_line, signature, summary, parent, decorators, bases, "
        "flags FROM symbols WHERE path = ? ORDER BY line, id", (path,)))
    for s in rec["symbols"]:
        s["decorators"] = s["decorators"].split("\n") if s["decorators"] else []
        s["bases"] = s["bases"].split("\n") if s["bases"] else []
        s["flags"] = s["flags"].split() if s["flags"] else []
    rec["imports"] = _dicts(conn.execute(
        "SELECT module, names, alias, level, line, conditional, system, category, target, reason FROM imports "
        "WHERE path = ? ORDER BY rowid", (path,)))
    for i in rec["imports"]:
        i["names"] = i["names"].split("\n") if i["names"] else []
        i["system"] = bool(i["system"])
    rec["imported_by"] = [r[0] for r in conn.execute(
        "SELECT DISTINCT path FROM imports WHERE target = ? AND path != ? ORDER BY path", (path, path))]
    rec["tests"] = _dicts(conn.execute(
        "SELECT name, line, framework, kind FROM tests WHERE path = ? ORDER BY line, name", (path,)))
    rec["tested_by"] = _links(conn, "SELECT test_path AS test, names, via, cases FROM test_links "
                                     "WHERE target = ? ORDER BY test_path", path)
    rec["tests_of"] = _links(conn, "SELECT target, names, via, cases FROM test_links "
                                    "WHERE test_path = ? ORDER BY target", path)
    rec["findings"] = _dicts(conn.execute(
        "SELECT category, rule, message, line, evidence FROM findings WHERE path = ? ORDER BY line, rule", (path,)))
    rec["diagnostics"] = _dicts(conn.execute(
        "SELECT line, col, code, message FROM diagnostics WHERE path = ? ORDER BY line, col, code", (path,)))
    return rec


def _links(conn: sqlite3.Connection, sql: str, path: str) -> list[dict[str, Any]]:
    rows = _dicts(conn.execute(sql, (path,)))
    for r in rows:
        r["names"] = r["names"].split("\n") if r["names"] else []
        r["cases"] = r["cases"].split("\n") if r["cases"] else []
    return rows


def folder_record(conn: sqlite3.Connection, path: str) -> dict[str, Any] | None:
    rows = _dicts(conn.execute("SELECT * FROM folders WHERE path = ?", (path,)))
    if not rows:
        return None
    rec = rows[0]
    rec.pop("id")
    rec["subfolder_list"] = [r[0] for r in conn.execute(
        "SELECT path FROM folders WHERE parent = ? ORDER BY path", (path,))]
    rec["file_list"] = _dicts(conn.execute(
        "SELECT path, language, purpose, docstring FROM files WHERE folder = ? ORDER BY path", (path,)))
    prefix = path + "/" if path else ""
    under = "substr(path, 1, ?) = ?"
    args = (len(prefix), prefix)
    rec["languages"] = dict(conn.execute(
        f"SELECT language, count(*) FROM files WHERE {under} GROUP BY language ORDER BY count(*) DESC, language",
        args).fetchall())
    rec["symbols"] = conn.execute(f"SELECT count(*) FROM symbols WHERE {under}", args).fetchone()[0]
    rec["tests"] = conn.execute(f"SELECT count(*) FROM tests WHERE {under} AND kind = 'test'", args).fetchone()[0]
    return rec


def symbol_records(conn: sqlite3.Connection, target: str) -> list[dict[str, Any]]:
    """Symbols a qualified name denotes: exact (`pkg.mod.Class.meth`, `at::native::add`, `Class.meth`),
    through Python re-exports (`torch.nn.Module` is `torch.nn.modules.module.Module`), or by suffix."""
    cols = ("SELECT id, path, kind, name, qualname, fqname, line, end_line, signature, summary, parent, flags "
            "FROM symbols")
    order = " ORDER BY definition DESC, path, line"
    rows = _dicts(conn.execute(f"{cols} WHERE fqname = ?{order}", (target,)))
    if not rows and "." in target:
        rows = _follow_reexports(conn, target, cols)
    if not rows:
        rows = _dicts(conn.execute(f"{cols} WHERE qualname = ?{order}", (target,)))
    if not rows:
        last = re.split(r"\.|::", target)[-1]
        candidates = _dicts(conn.execute(f"{cols} WHERE name = ?{order}", (last,)))
        suffixed = [c for c in candidates
                    if target.endswith(("." + c["qualname"], "::" + c["qualname"]))]
        if suffixed:
            best = max(len(c["qualname"]) for c in suffixed)
            rows = [c for c in suffixed if len(c["qualname"]) == best]
            shared = max(_shared_parts(c["fqname"], target) for c in rows)
            rows = [c for c in rows if _shared_parts(c["fqname"], target) == shared]
    for r in rows:
        r["flags"] = r["flags"].split() if r["flags"] else []
        r["children"] = [c[0] for c in conn.execute(
            "SELECT qualname FROM symbols WHERE path = ? AND parent = ? ORDER BY line", (r["path"], r["qualname"]))]
        r.pop("id")
    return rows


def _shared_parts(a: str, b: str) -> int:
    """How many leading name parts (split at `.` and `::`) two qualified names share."""
    n = 0
    for x, y in zip(re.split(r"\.|::", a), re.split(r"\.|::", b), strict=False):
        if x != y:
            break
        n += 1
    return n


def _follow_reexports(conn: sqlite3.Connection, target: str, cols: str) -> list[dict[str, Any]]:
    parts = target.split(".")
    for i in range(len(parts) - 1, 0, -1):
        row = conn.execute("SELECT path FROM files WHERE module = ? ORDER BY path LIKE '%.pyi', path",
                           (".".join(parts[:i]),)).fetchone()
        if row:
            return _find_in(conn, row[0], parts[i:], cols, set())
    return []


def _find_in(conn: sqlite3.Connection, path: str, rest: list[str], cols: str,
             visited: set[tuple[str, str]]) -> list[dict[str, Any]]:
    key = (path, ".".join(rest))
    if key in visited or len(visited) > 50:
        return []
    visited.add(key)
    rows = _dicts(conn.execute(f"{cols} WHERE path = ? AND qualname = ? ORDER BY line", (path, key[1])))
    if rows:
        return rows
    module = conn.execute("SELECT module FROM files WHERE path = ?", (path,)).fetchone()
    if module and module[0] and len(rest) > 1:
        sub = conn.execute("SELECT path FROM files WHERE module = ?", (f"{module[0]}.{rest[0]}",)).fetchone()
        if sub:
            found = _find_in(conn, sub[0], rest[1:], cols, visited)
            if found:
                return found
    star = []
    for names, target in conn.execute("SELECT names, target FROM imports WHERE path = ? AND category = 'repo' "
                                      "ORDER BY rowid", (path,)):
        for name in names.split("\n"):
            orig, _, alias = name.partition(" as ")
            if (alias or orig) == rest[0]:
                found = _find_in(conn, target, [orig, *rest[1:]], cols, visited)
                if not found and target != path:
                    found = _find_in(conn, target, rest[1:], cols, visited) if len(rest) > 1 else []
                if found:
                    return found
            elif orig == "*":
                star.append(target)
    for target in star:
        found = _find_in(conn, target, rest, cols, visited)
        if found:
            return found
    return []


def show(conn: sqlite3.Connection, target: str) -> dict[str, Any] | None:
    """What TARGET names, most specific first: a file, a folder, a Python module, a qualified symbol."""
    t = target.strip()
    norm = t[2:] if t.startswith("./") else t
    norm = norm.rstrip("/") if norm not in ("/", ".") else ""
    rec = file_record(conn, norm)
    if rec:
        return {"type": "file", "file": rec}
    folder = folder_record(conn, norm)
    if folder:
        return {"type": "folder", "folder": folder}
    row = conn.execute("SELECT path FROM files WHERE module = ? ORDER BY path LIKE '%.pyi', path", (t,)).fetchone()
    if row:
        return {"type": "file", "file": file_record(conn, row[0])}
    symbols = symbol_records(conn, t)
    if symbols:
        files = {s["path"]: file_record(conn, s["path"]) for s in symbols}
        return {"type": "symbol", "symbols": symbols, "files": files}
    return None


def export_records(conn: sqlite3.Connection, output: Path) -> Iterator[dict[str, Any]]:
    """One record per file, in path order, with the rendered page text read from the output folder."""
    meta = read_meta(conn)
    for (path,) in conn.execute("SELECT path FROM files ORDER BY path").fetchall():
        rec = file_record(conn, path)
        assert rec is not None
        text = None
        if rec["page"]:
            try:
                text = (output / rec["page"]).read_text(encoding="utf-8")
            except OSError:
                text = None
        yield {"schema": EXPORT_SCHEMA, "project": meta.get("project", ""), **rec, "page_text": text}


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    """Counts for `docatlas stats`: by language, purpose and symbol kind, and the diagnostics by code."""
    def counts(sql: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in conn.execute(sql).fetchall()}

    meta = read_meta(conn)
    return {
        "project": meta.get("project", ""), "version": meta.get("version", ""),
        "schema_version": SCHEMA_VERSION,
        "files": conn.execute("SELECT count(*) FROM files").fetchone()[0],
        "folders": conn.execute("SELECT count(*) FROM folders").fetchone()[0],
        "symbols": conn.execute("SELECT count(*) FROM symbols").fetchone()[0],
        "imports": conn.execute("SELECT count(*) FROM imports").fetchone()[0],
        "tests": conn.execute("SELECT count(*) FROM tests WHERE kind = 'test'").fetchone()[0],
        "findings": conn.execute("SELECT count(*) FROM findings").fetchone()[0],
        "languages": counts("SELECT language, count(*) FROM files GROUP BY 1 ORDER BY 2 DESC, 1"),
        "purposes": counts("SELECT purpose, count(*) FROM files GROUP BY 1 ORDER BY 2 DESC, 1"),
        "symbol_kinds": counts("SELECT kind, count(*) FROM symbols GROUP BY 1 ORDER BY 2 DESC, 1"),
        "findings_by_category": counts("SELECT category, count(*) FROM findings GROUP BY 1 ORDER BY 2 DESC, 1"),
        "diagnostics": counts("SELECT code, count(*) FROM diagnostics GROUP BY 1 ORDER BY 2 DESC, 1"),
        "diagnostic_files": conn.execute("SELECT count(DISTINCT path) FROM diagnostics").fetchone()[0],
    }

