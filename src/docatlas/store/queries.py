"""Reading the index: `search`, `show` and the file, folder and symbol records behind them, `export` and `stats`."""

from __future__ import annotations

import logging
import math
import re
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docatlas.store.schema import (
    EXPORT_SCHEMA,
    FOLDER_ROWID_BASE,
    MODULE_IS,
    NAME_IDS,
    QUALNAME_IDS,
    SCHEMA_VERSION,
    USE_COUNT,
    fqname_is,
    fqname_prefix,
    fts_query,
    identifier_words,
    name_is,
    prefix_args,
    prefix_ranged,
    qualname_is,
    read_meta,
    search_words,
    text_args,
    text_hash,
    text_prefix,
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
# Result rows: path, line, kind, name, qualified name, summary, signature, language, definition, in a test file,
# link rank, how many resolved references point at the symbol (`refs`; 0 for files and folders), so
# that the `Linear` everyone uses comes before its quantized variants. Candidates are gathered without the use
# count (a correlated count per row made a prefix like `tes`, 29k matches, cost ~100 ms; the column holds the
# qualname until then, and a 13th the base classes, for the full-text words) and counted for the
# few kept (`_with_uses`).
_SYM_COLS = ("s.path, s.line, s.kind, s.name, s.fqname, s.summary, s.signature, f.language, s.definition, "
             "f.purpose = 'test', f.rank, s.qualname, s.bases, s.macro, s.condition, s.bridge")
_FILE_COLS = ("f.path, 0, 'file', f.name, f.module, f.docstring, '', f.language, 1, f.purpose = 'test', f.rank, "
              "'', '', '', '', ''")
_FOLDER_COLS = "d.path, 0, 'folder', d.name, d.path, d.summary, '', '', 1, 0, 0.0, '', '', '', '', ''"
_SYM_FROM = "FROM symbols s JOIN files f ON f.path = s.path"
# candidates kept per tier before the use counts order them: the best by (definition, non-test, shorter name,
# link rank)
_POOL = 200
_COMMON = 20_000  # rows a word may match and still gather partial-match candidates
_TEXT_POOL = 100  # full-text candidates re-ranked (bm25's best); each costs a row and a use count
# words that carry no meaning in a question ("where is softmax implemented on CUDA"); dropped only when the
# query's words do not all match, before the partial matches are ranked
_STOPWORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "by", "can", "do", "does", "find", "for", "from", "get", "how", "i", "in",
    "is", "it", "of", "on", "or", "show", "the", "to", "use", "used", "what", "where", "which", "who", "why", "with"})
# how much a query word found in each search column counts (name, qualified name, identifier words, path,
# summary): a word in the name says more than one in the path, which says more than one in a docstring
_COLUMN_WEIGHTS = (4, 3, 3, 2, 1)
_WORD = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+[0-9]*")


def _path_filter(glob: str | None, column: str) -> tuple[str, list[str]]:
    """`--path` as SQL: a glob (`*` crosses `/`), or without wildcards a file or a folder and what is under it."""
    if not glob:
        return "", []
    glob = glob.strip().strip("/") if not _GLOB_CHARS & set(glob) else glob.strip()
    if _GLOB_CHARS & set(glob):
        return f" AND {column} GLOB ?", [glob]
    return f" AND ({column} = ? OR substr({column}, 1, ?) = ?)", [glob, str(len(glob) + 1), glob + "/"]


def _with_uses(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Replace each row's last column (the symbol's qualname) by its use count (resolved references to it)."""
    rows = list(rows)
    keys = sorted({(r[0], r[11]) for r in rows if r[11] and r[2] not in ("file", "folder")})
    # one indexed count a key: a row-value `IN (VALUES ...)` over them all is not planned on the index
    counts = {k: conn.execute(USE_COUNT, (*k, text_hash(k[1]))).fetchone()[0] for k in keys}
    return [(*r[:11], counts.get((r[0], r[11]), 0) if r[2] not in ("file", "folder") else 0) for r in rows]


def search(conn: sqlite3.Connection, query: str, *, kind: str | None = None, lang: str | None = None,
           path: str | None = None, limit: int = 20) -> list[Hit]:
    """Ranked results, in tiers: exact name (or qualified name, path, module), then name prefix, then full text
    with every query word ("text" when the words are all in names, "mention" when some are only in paths or
    summaries), then, for a query of several words, the rows that have only some of them ("partial"). Within
    the exact and prefix tiers: the query's own spelling first, definitions before declarations, non-test
    files, the most used (resolved references), the link stage's rank, shorter. Within full text: the words
    found in names weigh more than in paths, which weigh more than in summaries; then the same order."""
    q = query.strip()
    expr = fts_query(q)  # validates the query before anything runs
    hits: list[Hit] = []
    seen: set[tuple[str, int, str, str]] = set()

    def add(rows: Iterable[tuple[Any, ...]], match: str | list[str]) -> None:
        for i, r in enumerate(rows):
            key = (r[0], r[1], r[2], r[4])
            if key in seen or len(hits) >= limit:
                continue
            seen.add(key)
            hits.append(Hit(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                            match if isinstance(match, str) else match[i]))

    def order(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        # the query's own spelling first (`forward` before `Forward`), then definitions, non-test files, uses, rank
        return sorted(_with_uses(conn, rows), key=lambda r: (
            q not in (r[3], r[4]) and not r[3].startswith(q), -r[8], r[9], -r[11], -r[10], len(r[4]), r[0], r[1],
            r[2], r[4]))

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
    pre_order = "ORDER BY s.definition DESC, f.purpose = 'test', f.rank DESC"
    if q and " " not in q:
        rows: list[tuple[Any, ...]] = []
        if want_sym:
            fq_sql, fq_args = fqname_is(q)  # name, qualname or fqname, each by its index
            rows += conn.execute(
                f"SELECT {_SYM_COLS} {_SYM_FROM} WHERE s.id IN ({NAME_IDS} "
                f"UNION ALL {QUALNAME_IDS} UNION ALL SELECT id FROM symbols WHERE {fq_sql}){sym_where} "
                f"{pre_order}, length(s.fqname) LIMIT ?",
                [*text_args(q), *text_args(q), *fq_args, *sym_args, _POOL]).fetchall()
        if want_file:
            rows += conn.execute(
                f"SELECT {_FILE_COLS} FROM files f WHERE (f.name = ? OR f.path = ? OR {MODULE_IS}){file_where} LIMIT ?",
                [q, q.strip("/"), q, q, *file_args, _POOL]).fetchall()
        if want_folder:
            rows += conn.execute(
                f"SELECT {_FOLDER_COLS} FROM folders d WHERE d.path = ? AND d.path != ''{folder_where} LIMIT ?",
                [q.strip("/"), *folder_args, _POOL]).fetchall()
        add(order(rows), "exact")
        hi = q + "\U0010ffff"
        rows = []
        if want_sym and len(hits) < limit:
            # a qualified prefix (`torch.nn.Lin`, `at::native::ad`) is looked up by qualified name only: every
            # symbol of PyTorch's `test` package would otherwise be a prefix match of `tes`
            # and the shortest names are taken before the join (`tes`: 29k names): the strings that begin with
            # the query first (CROSS JOIN; by their range of `strings_hash` or read in turn: `prefix_ranged`)
            # (a Python symbol's fqname is its file's module and its qualname: `schema.fqname_prefix`)
            ranged = prefix_ranged(conn, q)
            within, within_args = (fqname_prefix(q, hi, ranged) if "." in q or ":" in q else (
                "id IN (SELECT y.id FROM strings n CROSS JOIN symbol_rows y ON y.name = n.id "
                f"WHERE {text_prefix('n', ranged)})", prefix_args(q, hi, ranged)))
            column = "fqname" if "." in q or ":" in q else "name"
            tie = "" if column == "fqname" else ", name, id"  # as the name index ordered them (schema 10)
            rows += conn.execute(
                f"SELECT {_SYM_COLS} {_SYM_FROM} WHERE s.id IN (SELECT id FROM symbols WHERE {within} "
                f"ORDER BY length({column}){tie} LIMIT ?){sym_where} "
                f"{pre_order.replace('f.rank DESC', 'length(s.name), f.rank DESC')} LIMIT ?",
                [*within_args, _POOL * 5, *sym_args, _POOL]).fetchall()
        if want_file and len(hits) < limit:
            rows += conn.execute(
                f"SELECT {_FILE_COLS} FROM files f WHERE f.name >= ? AND f.name < ?{file_where} LIMIT ?",
                [q, hi, *file_args, _POOL]).fetchall()
        add(order(rows), "prefix")
    filters = ((sym_where, sym_args) if want_sym else None, (file_where, file_args) if want_file else None,
               (folder_where, folder_args) if want_folder else None)
    if len(hits) < limit:
        words = [w for w in q.split() if _WORD.search(w)]
        ranked, labels = _full_text(conn, expr, words, len(words), filters)
        add(ranked, labels)
        meaningful = [w for w in words if w.lower() not in _STOPWORDS] or words
        if len(hits) < limit and len(words) > 1:
            # nothing (or too little) has every word: rank what has some of them, most words first
            # bm25 scores every row a word matches (`test`: 60k in PyTorch), so the candidates come from names
            # with the rarer words, and the words in paths, summaries or common still count in the ranking
            counts = {w: conn.execute("SELECT count(*) FROM search WHERE search MATCH ?",
                                      [f"{{name words}} : {fts_query(w)}"]).fetchone()[0] for w in meaningful}
            rare = [w for w in meaningful if counts[w] <= _COMMON] or [min(meaningful, key=lambda w: counts[w])]
            any_word = " OR ".join(fts_query(w) for w in rare)
            ranked, labels = _full_text(conn, f"{{name words}} : ({any_word})", meaningful, 1, filters,
                                        _TEXT_POOL // 2)
            add(ranked, labels)
    return hits


def _full_text(conn: sqlite3.Connection, expr: str, words: list[str], need: int, filters: tuple[Filter, Filter, Filter],
               pool: int = _TEXT_POOL) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Full-text candidates (the best `pool` by bm25) re-ranked: most query words found, non-test files, the
    words' weight by column (`_COLUMN_WEIGHTS`) plus a little for uses, definitions, uses, link rank, bm25.
    Rows with fewer than `need` words are dropped. Returns the rows and their match labels."""
    # The search table is contentless (it keeps no copy of the text): kind, language and path are checked on
    # the rows it points at, in bm25 order, and the words are looked for in those rows' own columns.
    picked: list[tuple[Any, ...]] = []
    keys: list[tuple[int, float, bool, float]] = []
    for rid, bm25 in conn.execute("SELECT rowid, rank FROM search WHERE search MATCH ? ORDER BY rank", [expr]):
        if len(picked) >= pool:
            break
        row = _row_for(conn, rid, filters)
        if row is None:
            continue
        found, weight, in_names = _word_hits(words, _search_columns(row))
        if found >= need:
            picked.append(row[:12])
            keys.append((found, weight, in_names, bm25))
    rows = _with_uses(conn, picked)
    # uses add up to 3 (a thousand references) to the words' weight: a word in the name of `Function`, which
    # everyone subclasses, outweighs both words in the name of a helper nobody calls; a private name costs 1
    scored = sorted(zip(rows, keys, strict=True), key=lambda p: (
        -p[1][0], p[0][9], -(p[1][1] + min(3.0, math.log10(1 + p[0][11])) - _private(p[0][3])), -p[0][8],
        -p[0][11], -p[0][10],
        p[1][3], p[0][0], p[0][1], p[0][4]))
    labels = ["text" if k[2] else "partial" if k[0] < len(words) else "mention" for _, k in scored]
    return [r for r, _ in scored], labels


def _search_columns(row: tuple[Any, ...]) -> list[str]:
    """A result row's text as the search table indexed it: name, qualified name (module for files), identifier
    words (with base classes, the row's 13th column, and the C fields, the 14th to 16th), path, summary (none
    for folders). The path counts for a Python symbol too, whose search row leaves it out (its fqname has its
    module's words): a word found in both weighs as the qualified name's."""
    bases = row[12].split("\n") if len(row) > 12 and row[12] else []
    c_fields = (row[13], row[14], row[15]) if len(row) > 15 else ("", "", "")
    words = search_words(row[4], bases, c_fields) if row[2] != "file" else identifier_words(row[0], row[4])
    return [row[3], row[4], words, row[0], row[5] if row[2] != "folder" else ""]


def _private(name: str) -> int:
    """1 for a private name (`_filter_prefetch_queryset`), which a reader asking a question rarely means."""
    return int(name.startswith("_") and not name.endswith("__"))


def _word_hits(words: list[str], columns: list[str]) -> tuple[int, float, bool]:
    """How many query words a search row has (as a prefix of one of its words, as FTS matched them), their
    summed best column weight (half for a word only found as a prefix: `function` in `functions`), and whether
    all of them are in the name columns. The name's own CamelCase parts count as the name."""
    tokens = [set(_WORD.findall(c.lower())) for c in columns]
    tokens[0] |= {p.lower() for chunk in _WORD.findall(columns[0]) for p in _CAMEL.findall(chunk)}
    found = 0
    weight = 0.0
    in_names = True
    for w in words:
        parts = _WORD.findall(w.lower())
        best, where = 0.0, len(tokens)
        for col, (toks, wt) in enumerate(zip(tokens, _COLUMN_WEIGHTS, strict=True)):
            score = wt if all(p in toks for p in parts) else wt / 2 if all(
                any(t.startswith(p) for t in toks) for p in parts) else 0
            if score > best:
                best, where = score, col
        if best:
            found += 1
            weight += best
        in_names = in_names and where <= 2
    return found, weight, in_names




Filter = tuple[str, list[str]] | None


def _row_for(conn: sqlite3.Connection, rid: int, filters: tuple[Filter, Filter, Filter]) -> tuple[Any, ...] | None:
    """A search rowid's result row when it passes the filters (None: that kind is not wanted) of its kind:
    symbols (rowid > 0), files (-id) and folders (-(BASE + id))."""
    sym, file, folder = filters
    if rid > 0:
        if sym is None:
            return None
        sql, args = f"SELECT {_SYM_COLS} FROM symbols s JOIN files f ON f.path = s.path WHERE s.id = ?", sym
    elif rid > -FOLDER_ROWID_BASE:
        if file is None:
            return None
        sql, args, rid = f"SELECT {_FILE_COLS} FROM files f WHERE f.id = ?", file, -rid
    else:
        if folder is None:
            return None
        sql, args, rid = f"SELECT {_FOLDER_COLS} FROM folders d WHERE d.id = ?", folder, -rid - FOLDER_ROWID_BASE
    row: tuple[Any, ...] | None = conn.execute(sql + args[0], [rid, *args[1]]).fetchone()
    return row


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
    rec.pop("page_stem")  # what `page` and `kw_page` are made of
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
        "SELECT DISTINCT f.path FROM import_rows i JOIN files f ON f.id = i.file WHERE i.target IN "
        "((SELECT id FROM files WHERE path = ?1), -(SELECT id FROM strings WHERE hash = ?2 AND text = ?1)) "
        "AND f.path != ?1 ORDER BY f.path", (path, text_hash(path)))]
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
    cols = ("SELECT id, path, kind, name, qualname, fqname, line, end_line, signature, summary, parent, flags, "
            "macro, condition, bridge FROM symbols")
    order = " ORDER BY definition DESC, path, line"
    fq_sql, fq_args = fqname_is(target)
    rows = _dicts(conn.execute(f"{cols} WHERE {fq_sql}{order}", fq_args))
    if not rows and "." in target:
        rows = _follow_reexports(conn, target, cols)
    if not rows:
        rows = _dicts(conn.execute(f"{cols} WHERE {qualname_is()}{order}", text_args(target)))
    if not rows:
        last = re.split(r"\.|::", target)[-1]
        candidates = _dicts(conn.execute(f"{cols} WHERE {name_is()}{order}", text_args(last)))
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
        row = conn.execute(f"SELECT path FROM files WHERE {MODULE_IS} ORDER BY path LIKE '%.pyi', path",
                           (".".join(parts[:i]),) * 2).fetchone()
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
        sub = conn.execute(f"SELECT path FROM files WHERE {MODULE_IS}", (f"{module[0]}.{rest[0]}",) * 2).fetchone()
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


def _bindings_named(conn: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    """Bindings registered under `name` (`m.def("_jit_pass_lint", ...)` in `torch::jit`): the Python name alone
    is what a reader knows of them, not the C++ namespace they are registered in."""
    if "::" in name:
        return []
    return [r for q in dict.fromkeys(row[0] for row in conn.execute(
        f"SELECT qualname FROM symbols WHERE kind = 'binding' AND {name_is()} ORDER BY path, line",
        text_args(name)))
        for r in symbol_records(conn, q) if r["kind"] == "binding" and r["name"] == name]


_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_STRING_DEFINE = re.compile(r'#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)\s+"([A-Za-z_][A-Za-z0-9_.]*)"\s*\Z')
_REACHES = ("WITH RECURSIVE reach(p) AS (VALUES(?) UNION SELECT i.target FROM imports i JOIN reach r ON i.path = r.p "
            "WHERE i.category = 'repo' AND i.target != '') SELECT 1 FROM reach WHERE p = ? LIMIT 1")


def _modules_named_by_macro(conn: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    """`PyModuleDef` module symbols named by a macro that another file defines (`PySocket_MODULE_NAME`, which
    `Modules/socketmodule.h` defines as `"_socket"`), when that file is in the module file's include closure:
    what `show _socket` means. Each record says where the name comes from (`module_name`)."""
    if not _MODULE_NAME.match(name) or conn.execute(
            "SELECT 1 FROM symbols WHERE kind = 'module' AND flags LIKE '%name-macro%' LIMIT 1").fetchone() is None:
        return []
    found = []
    pattern = '%"' + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
    for mpath, signature in conn.execute("SELECT path, signature FROM symbols WHERE kind = 'macro' AND signature "
                                         "LIKE ? ESCAPE '\\' ORDER BY path, line", (pattern,)).fetchall():
        m = _STRING_DEFINE.match(signature)
        if m is None or m.group(2) != name:
            continue
        for rec in symbol_records(conn, m.group(1)):
            if rec["kind"] == "module" and "name-macro" in rec["flags"] and (
                    rec["path"] == mpath or conn.execute(_REACHES, (rec["path"], mpath)).fetchone()):
                rec["module_name"] = f'{name} (`{m.group(1)}` is "{name}" in {mpath})'
                found.append(rec)
    return found


def binding_implementations(conn: sqlite3.Connection, binding: dict[str, Any]) -> list[dict[str, Any]]:
    """The definition of the C/C++ function a binding names (its `bridge`): in the binding's own file if defined
    there, else the one definition anywhere of that qualified name, tried in the binding's namespace and those
    around it, innermost first (`&LintGraph` in `torch::jit` is `torch::jit::LintGraph`). A name defined more
    than once (CPython's many `static` functions of one name) gives nothing: the page of the binding's file
    links the one its translation unit has (`link.cdecls.bridge_implementations`)."""
    target = binding["bridge"].lstrip(":")
    cols = "SELECT path, kind, qualname, line, end_line, signature FROM symbols"
    defined = "definition = 1 AND kind IN ('function', 'method')"
    rows = _dicts(conn.execute(f"{cols} WHERE path = ? AND qualname = ? AND {defined}", (binding["path"], target)))
    if rows:
        return rows
    scope = binding["qualname"].split("::")[:-1]
    for i in range(len(scope), -1, -1):
        rows = _dicts(conn.execute(f"{cols} WHERE {qualname_is()} AND {defined} ORDER BY path, line LIMIT 2",
                                   text_args("::".join([*scope[:i], target]))))
        if rows:
            return rows if len(rows) == 1 else []
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
    row = conn.execute(f"SELECT path FROM files WHERE {MODULE_IS} ORDER BY path LIKE '%.pyi', path", (t, t)).fetchone()
    if row:
        return {"type": "file", "file": file_record(conn, row[0])}
    # an extension module named by a macro comes first: `_socket` is also an INI key of CPython's `Tools/freeze`
    symbols = _modules_named_by_macro(conn, t) + symbol_records(conn, t) or _bindings_named(conn, t)
    if symbols:
        for s in symbols:
            if s["kind"] == "binding" and s["bridge"]:
                s["implementations"] = binding_implementations(conn, s)
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

