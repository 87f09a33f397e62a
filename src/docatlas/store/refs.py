"""The `refs` table: every resolved symbol reference (`link.references`), and the queries over it; the
`ref_candidates` view: C-family uses of a name several definitions share, one row per candidate (each use
names its set of candidates, stored once in `cand_sets`).

One row per reference: where it is (path, line, 1-based col, kind, enclosing symbol, the text used) and what
it denotes (target path, qualified name, definition line); `test` says whether the referring file is a test.
Stored as one `ref_sites` row per file and what it uses, its sites a JSON array the view expands (`json_each`).
Written by the index writer (`store.writer`): whole when the link stage ran, only the files whose references
were resolved again after a relink (`link.references.update`).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from docatlas.store import intern
from docatlas.store.intern import Rows, Strings
from docatlas.store.schema import fqname_is, name_is, qualname_is, text_args

KINDS = ("call", "subclass", "decorator", "annotation", "import", "read")
# Kinds no code reference resolves to (a document heading, a config key, a Python module a C table defines: its
# importers are its file's "imported by"), so "used 0 times" would be said without having been looked for
UNREFERENCED_KINDS = frozenset(("heading", "key", "dependency", "module", "binding", "target"))


def _by_use(file: int, sites: Iterable[tuple[int, str]]) -> Iterator[tuple[int, int, int, str]]:
    """One file's (use, site) pairs as table rows: per use, how many sites and where, a JSON array of
    `[line, col, enclosing]` (the enclosing symbol's text as a `strings` id) in the order given."""
    found: dict[int, list[str]] = {}
    for use, site in sites:
        at = found.get(use)
        if at is None:
            found[use] = [site]
        else:
            at.append(site)
    for use, listed in found.items():
        yield (use, file, len(listed), "[" + ",".join(listed) + "]")


def _rows(model: Any, paths: Iterable[str], ids: dict[str, int], sid: Strings,
          uses: _Uses) -> Iterator[tuple[int, int, int, str]]:
    """`ref_sites` values: per file, per what it uses (kind, name, target) as a `ref_uses` id, how many times
    and where (`_by_use`, in source order). One row per (use, file) rather than per site: PyTorch's 646,613
    references are 178,563 such rows, a quarter of the B-tree entries to insert, and the key (use first) keeps
    the sites of one symbol's uses together, so they need no index of their own; `ref_sites_file` finds a
    file's."""

    def sites(path: str) -> Iterator[tuple[int, str]]:
        for r in model.refs.outgoing.get(path, ()):
            key = (r[3], r[8], r[5], r[6], r[7])
            use = uses.ids.get(key)
            if use is None:
                row = (sid[r[3]], sid[r[8]], ids[r[5]], sid[r[6]], r[7])
                use = uses.find(key, row) or uses.add(key, row)
            yield use, f"[{r[1]},{r[2]},{sid[r[4]]}]"

    for path in paths:
        yield from _by_use(ids[path], sites(path))


class _Uses:
    """Ids of `ref_uses` rows, what a reference uses: (kind, name as written, target file, target, its line)
    repeats on many references (81,799 of them under 648,333 references in PyTorch 1.13.1), so each is stored
    once. Keyed by the texts as the link stage gives them; rows first seen in this write are collected in
    `new`. Stored rows are looked up one at a time, or all read at once when a write asks for many (as
    `intern.Strings`). A row no reference names any more is left: no view row reaches it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.ids: dict[tuple[str, str, str, str, int], int] = {}
        self.next: int = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM ref_uses").fetchone()[0]
        self.lookups = intern.BULK if self.next > 1 else 0
        self.new: list[tuple[int, int, int, int, int, int]] = []

    def find(self, key: tuple[str, str, str, str, int], row: tuple[int, int, int, int, int]) -> int | None:
        """The stored row's id, or None."""
        if not self.lookups:
            return None
        self.lookups -= 1
        if not self.lookups:
            stored = {tuple(k): i for i, *k in self.conn.execute(
                "SELECT u.id, k.text, n.text, f.path, q.text, u.target_line FROM ref_uses u "
                "JOIN strings k ON k.id = u.kind JOIN strings n ON n.id = u.name JOIN files f ON f.id = u.target_file "
                "JOIN strings q ON q.id = u.target")}
            stored.update(self.ids)
            self.ids.update(stored)
            return self.ids.get(key)
        found = self.conn.execute("SELECT id FROM ref_uses WHERE target_file = ? AND target = ? AND kind = ? "
                                  "AND name = ? AND target_line = ?",
                                  (row[2], row[3], row[0], row[1], row[4])).fetchone()
        if found is None:
            return None
        self.ids[key] = found[0]
        return int(found[0])

    def add(self, key: tuple[str, str, str, str, int], row: tuple[int, int, int, int, int]) -> int:
        found = self.ids[key] = self.next
        self.next += 1
        self.new.append((found, *row))
        return found


class _Sets:
    """Ids of candidate sets (`cand_sets`): the definitions a C-family name could mean are the same for every
    use of the name (18,626 (definition, name) pairs under 318,499 uses in PyTorch 1.13.1), so each set is
    stored once and a use names it; sets first seen in this write are collected in `new` (rows of `cand_sets`).
    A set no use names any more is left: no view row reaches it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.ids: dict[tuple[tuple[int, int, int], ...], int] = {}
        self.next = 0  # (0: the stored sets not read yet; an edit of files without ambiguous uses never reads them)
        self.new: list[tuple[int, int, int, int, int]] = []

    def _read(self) -> None:
        found: dict[int, list[tuple[int, int, int]]] = {}
        for set_id, file, target, line in self.conn.execute(
                "SELECT id, target_file, target, target_line FROM cand_sets ORDER BY id, seq"):
            found.setdefault(set_id, []).append((file, target, line))
        self.ids = {tuple(v): k for k, v in found.items()}
        self.next = max(found, default=0) + 1

    def __call__(self, options: tuple[tuple[int, int, int], ...]) -> int:
        if not self.next:
            self._read()
        found = self.ids.get(options)
        if found is None:
            found = self.ids[options] = self.next
            self.next += 1
            self.new.extend((found, i, *o) for i, o in enumerate(options))
        return found


def _candidate_rows(model: Any, paths: Iterable[str], ids: dict[str, int], sid: Strings,
                    sets: _Sets, uses: Rows) -> Iterator[tuple[int, int, int, str]]:
    """`cand_sites` values: per file, per C-family use several definitions could mean as a `cand_uses` row
    (kind, name, set of candidates, their number: 10,072 under PyTorch's 221,098 such uses), how many times
    and where, as `_rows` does."""
    candidates = getattr(model.refs, "candidates", {})
    known: dict[tuple[tuple[str, str, int], ...], int] = {}  # the set of each options tuple met in this write

    def sites(path: str) -> Iterator[tuple[int, str]]:
        for line, col, kind, enclosing, name, options in candidates.get(path, ()):
            key = options if type(options) is tuple else tuple(map(tuple, options))  # hashable whatever stored it
            cands = known.get(key)
            if cands is None:
                cands = known[key] = sets(tuple((ids[p], sid[t], ln) for p, t, ln in options))
            yield uses[(sid[kind], sid[name], cands, len(options))], f"[{line},{col},{sid[enclosing]}]"

    for path in paths:
        yield from _by_use(ids[path], sites(path))


_INSERT = "INSERT INTO ref_sites VALUES (?,?,?,?)"
_INSERT_CANDIDATE = "INSERT INTO cand_sites VALUES (?,?,?,?)"


def _insert_in_key_order(conn: sqlite3.Connection, table: str, rows: Iterator[tuple[Any, ...]]) -> None:
    """All rows of an empty `ref_sites` or `cand_sites` table, inserted in the order of its key (use, file):
    made file by file they come in random key order, and a B-tree takes them in order at half the cost.
    SQLite sorts them, in a temporary table, not in this process's memory."""
    conn.execute(f"CREATE TEMP TABLE {table}_unsorted(use, file, n, sites)")
    conn.executemany(f"INSERT INTO temp.{table}_unsorted VALUES (?,?,?,?)", rows)
    conn.execute(f"INSERT INTO main.{table} SELECT * FROM temp.{table}_unsorted ORDER BY use, file")
    conn.execute(f"DROP TABLE temp.{table}_unsorted")


def write_rows(conn: sqlite3.Connection, model: Any, paths: list[str] | None, sid: Strings) -> None:
    """All rows (`paths` None) or those of `paths` replaced, in the writer's transaction (after `files`); new
    texts are left in `sid` for the writer to flush."""
    ids: dict[str, int] = dict(conn.execute("SELECT path, id FROM files").fetchall())
    if paths is None:
        for table in ("ref_sites", "ref_uses", "cand_sites", "cand_uses", "cand_sets"):
            conn.execute(f"DELETE FROM {table}")
        sets, uses, cand_uses = _Sets(conn), _Uses(conn), Rows(conn, "cand_uses")
        _insert_in_key_order(conn, "ref_sites", _rows(model, sorted(model.files), ids, sid, uses))
        _insert_in_key_order(conn, "cand_sites", _candidate_rows(model, sorted(model.refs.candidates), ids, sid,
                                                                 sets, cand_uses))
    elif paths:
        sets, uses, cand_uses = _Sets(conn), _Uses(conn), Rows(conn, "cand_uses")
        gone = [(ids[p],) for p in paths if p in ids]
        conn.executemany("DELETE FROM ref_sites WHERE file = ?", gone)
        conn.executemany("DELETE FROM cand_sites WHERE file = ?", gone)
        conn.executemany(_INSERT, _rows(model, sorted(paths), ids, sid, uses))
        conn.executemany(_INSERT_CANDIDATE, _candidate_rows(model, sorted(paths), ids, sid, sets, cand_uses))
    else:
        return
    conn.executemany("INSERT INTO ref_uses VALUES (?,?,?,?,?,?)", uses.new)
    conn.executemany("INSERT INTO cand_sets VALUES (?,?,?,?,?)", sets.new)
    cand_uses.flush(conn)


def candidate_sites(conn: sqlite3.Connection, path: str, qualname: str) -> list[dict[str, Any]]:
    """The uses that may mean this definition: a C-family name several definitions share (`ref_candidates`),
    each with how many definitions it could mean."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'ref_candidates'").fetchone() is None:
        return []
    return [{"path": p, "line": ln, "col": c, "kind": k, "enclosing": e, "name": n, "candidates": m,
             "test": bool(t)}
            for p, ln, c, k, e, n, m, t in conn.execute(
                "SELECT path, line, col, kind, enclosing, name, candidates, test FROM ref_candidates "
                "WHERE target_path = ? AND target = ? ORDER BY path, line, col", (path, qualname))]


def available(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'refs'").fetchone() is not None


def targets(conn: sqlite3.Connection, symbol: str) -> list[tuple[str, str]]:
    """(path, qualname) of the definitions `symbol` names: a fully qualified name, a qualified name, or a
    bare name (every definition so named)."""
    fq_sql, fq_args = fqname_is(symbol)
    rows = conn.execute(f"SELECT path, qualname FROM symbols WHERE {fq_sql} ORDER BY path, line", fq_args).fetchall()
    if not rows:
        rows = conn.execute(f"SELECT path, qualname FROM symbols WHERE {qualname_is()} ORDER BY path, line",
                            text_args(symbol)).fetchall()
    if not rows:
        rows = conn.execute(f"SELECT path, qualname FROM symbols WHERE {name_is()} ORDER BY path, line",
                            text_args(symbol)).fetchall()
    return [(str(p), str(q)) for p, q in rows]


def sites(conn: sqlite3.Connection, path: str, qualname: str, kind: str | None = None,
          tests_only: bool = False) -> list[dict[str, Any]]:
    sql = ("SELECT path, line, col, kind, enclosing, name, test FROM refs WHERE target_path = ? AND target = ?"
           + (" AND kind = ?" if kind else "") + (" AND test = 1" if tests_only else "")
           + " ORDER BY path, line, col")
    args: list[Any] = [path, qualname] + ([kind] if kind else [])
    return [{"path": p, "line": ln, "col": c, "kind": k, "enclosing": e, "name": n, "test": bool(t)}
            for p, ln, c, k, e, n, t in conn.execute(sql, args)]


def by_file(found: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(file, uses) most uses first, then by path."""
    counts = Counter(s["path"] for s in found)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def use_counts(conn: sqlite3.Connection, path: str) -> dict[str, tuple[int, int]]:
    """qualname -> (files, sites) of the references to each definition of `path` from other files."""
    if not available(conn):
        return {}
    return {q: (int(f), int(n)) for q, f, n in conn.execute(
        "SELECT target, count(DISTINCT path), count(*) FROM refs WHERE target_path = ? GROUP BY target",
        (path,))}


def outgoing(conn: sqlite3.Connection, path: str) -> list[dict[str, Any]]:
    """A file's references, as the export gives them."""
    if not available(conn):
        return []
    return [{"line": ln, "col": c, "name": n, "kind": k, "target": t, "target_path": tp, "target_line": tl}
            for ln, c, n, k, t, tp, tl in conn.execute(
                "SELECT line, col, name, kind, target, target_path, target_line FROM refs WHERE path = ? "
                "ORDER BY line, col", (path,))]
