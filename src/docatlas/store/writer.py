"""Writing a build into the index: every file's rows, the link stage's rows and the facts cache, in one
transaction (in place) or into a fresh file renamed over the old one."""

from __future__ import annotations

import logging
import os
import pickle
import posixpath
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from docatlas import __version__
from docatlas import diagnostics as dx
from docatlas import paths as P
from docatlas.config import Config
from docatlas.model import Diagnostic, FileFacts
from docatlas.safetext import terminal
from docatlas.store.cache import STORED, FactsCache, pickle_facts, store_link_state
from docatlas.store.intern import Interned, Strings
from docatlas.store.refs import write_rows as refs_rows
from docatlas.store.schema import (
    CACHE_NAME,
    CACHE_TABLES,
    FOLDER_ROWID_BASE,
    INDEX_NAME,
    INDEXES,
    PY_LANGUAGES,
    SCHEMA_VERSION,
    TABLES,
    close_conn,
    connect,
    identifier_words,
    make_cache_dir,
    search_words,
)
from docatlas.summary import FileSummary

log = logging.getLogger(__name__)


class LinkedModel(Protocol):
    """What the writer reads of the link stage's `RepoModel`: the store may not import the link stage, and
    this says which parts of the model its rows come from."""

    @property
    def name(self) -> str: ...
    @property
    def files(self) -> Mapping[str, FileFacts]: ...
    @property
    def folders(self) -> Mapping[str, Any]: ...  # link.stage.Folder: .files, .subfolders
    @property
    def module_of(self) -> Mapping[str, str]: ...
    @property
    def imports(self) -> Mapping[str, list[Any]]: ...  # link.resolve.ResolvedImport: .imp, .category, .target
    @property
    def purposes(self) -> Mapping[str, Any]: ...  # link.stage.Purpose: .label, .reason
    @property
    def rank(self) -> Mapping[str, float]: ...
    @property
    def tested_by(self) -> Mapping[str, list[Any]]: ...  # link.stage.TestLink
    def summary(self, path: str) -> FileSummary: ...
    def subtree_files(self, folder: str) -> list[str]: ...


_INSERT_SYMBOL = "INSERT INTO symbol_rows VALUES (?,?,?,?,?,?,?,?,?,?)"
_INSERT_SEARCH = "INSERT INTO search(rowid, name, qualname, words, path, summary) VALUES (?,?,?,?,?,?)"
# The search table is contentless (`content=''`: it keeps no second copy of names, paths and summaries), so a
# row is removed by giving FTS5 the values it was indexed with; the rows below rebuild them from the tables.
_DELETE_SEARCH = "INSERT INTO search(search, rowid, name, qualname, words, path, summary) VALUES ('delete',?,?,?,?,?,?)"


# -- writing ------------------------------------------------------------------------------------------------
def _test_link_rows(model: LinkedModel, ids: Mapping[str, int],
                    targets: Iterable[str] | None = None) -> list[tuple[int, int, str, str, str]]:
    """`test_link_rows` values (target, test file: their `files.id`; names, via, cases), from the link stage's
    `tested_by` (of `targets` alone when given): the same links the pages show."""
    tested_by = model.tested_by
    pairs = tested_by.items() if targets is None else ((t, tested_by.get(t, ())) for t in targets)
    rows = {(ids[target], ids[tl.test], "\n".join(tl.names), tl.via, "\n".join(tl.cases))
            for target, links in pairs for tl in links}
    return sorted(rows)


def _fqname(module: str, qualname: str, language: str) -> str:
    if module and language in PY_LANGUAGES:
        return f"{module}.{qualname}"
    return qualname


_NAME_MARK = "\x01"  # see the `symbols` view's `signature`


def _symbol_rows(facts: FileFacts, module: str, file_id: int,
                 interned: Interned) -> list[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Each symbol's `symbol_rows` values (after the id) and what `_symbol_search_row` reads: the name, the
    fqname, the summary, the bases and the C fields (macro, condition, bridge).

    The stored row leaves out what the `symbols` view derives: the path (the file's id), the name and the
    qualname (`strings` ids: most qualnames are also the targets or enclosing definitions of references),
    the kind, decorators, bases, flags, macro, condition and bridge (a `symbol_shapes` id), the signature (a
    `texts` id), the fqname (the
    file's module and the qualname, or the qualname), a parent that begins the qualname (its length), the
    name in the signature (its first occurrence is `_NAME_MARK`; a signature with a mark of its own is stored
    behind two of them)."""
    rows = []
    bound: dict[str, set[str]] = {}  # C: function -> the names this file's bindings give it
    for s in facts.symbols:
        if s.kind == "binding" and s.target:
            bound.setdefault(s.target, set()).add(s.name)
    for s in facts.symbols:
        fq = _fqname(module, s.qualname, facts.language)
        parent: str | int = len(s.parent) if s.parent and s.qualname.startswith(s.parent) else s.parent
        bridge = s.target if s.kind in ("binding", "module") else " ".join(sorted(
            bound.get(s.qualname, set()) | bound.get(s.name, set()))) if s.kind in ("function", "method") else ""
        sig = s.signature
        if _NAME_MARK in sig:  # kept as written, behind two marks
            sig = _NAME_MARK * 2 + sig
        elif s.name and s.name in sig:  # the view puts the name back
            sig = sig.replace(s.name, _NAME_MARK, 1)
        bases = "\n".join(s.bases)
        shape = interned.shapes[(s.kind, "\n".join(s.decorators), bases, " ".join(s.flags),
                                 0 if "declaration" in s.flags else 1, s.macro, s.condition, bridge)]
        sid = interned.strings
        rows.append(((file_id, shape, sid[s.name], sid[s.qualname], s.line, s.end_line, interned.texts[sig],
                      s.summary, parent),
                     (s.name, fq, s.qualname, s.summary, bases, s.macro, s.condition, bridge)))
    return rows


def _per_file(conn: sqlite3.Connection, files: Iterable[tuple[FileFacts, str]], first: int,
              ids: Mapping[str, int], interned: Interned, failures: list[Diagnostic] | None = None) -> None:
    """Rows that depend on each file alone (replaced only when the file changed), symbol ids from `first`:
    one statement per table for many files, not one per file, in batches that keep memory flat (the rows of
    all of PyTorch held at once added 250 MB to the build's peak)."""
    symbols: list[tuple[Any, ...]] = []
    search: list[tuple[Any, ...]] = []
    tests: list[tuple[Any, ...]] = []
    findings: list[tuple[Any, ...]] = []
    diagnostics: list[tuple[Any, ...]] = []
    nxt = first
    lists = (symbols, search, tests, findings, diagnostics)
    for facts, module in files:
        p = facts.path
        sizes, start = [len(rows) for rows in lists], nxt
        try:
            for row, (name, fq, qualname, summary, bases, *c_fields) in _symbol_rows(facts, module, ids[p], interned):
                symbols.append((nxt, *row))
                search.append(_symbol_search_row(nxt, name, fq, qualname, p, summary, bases, *c_fields))
                nxt += 1
            # a test's name is mostly its qualname, a finding's message the same on many rows: `strings` ids
            sid = interned.strings
            tests.extend((ids[p], sid[t.name], t.line, sid[t.framework], sid[t.kind]) for t in facts.tests)
            findings.extend((ids[p], sid[f.category], sid[f.rule], sid[f.message], f.line, f.evidence)
                            for f in facts.findings)
            diagnostics.extend((d.path, d.line, d.col, d.code, d.message) for d in facts.diagnostics)
        except Exception as exc:  # a bug of docatlas on this file's facts: its rows, never the index
            for rows, n in zip(lists, sizes, strict=True):
                del rows[n:]
            nxt = start
            d = dx.INTERNAL_ERROR.at(p, stage="indexing", error=f"{type(exc).__name__}: {exc}",
                                     effect="its symbols are not searchable")
            diagnostics.append((d.path, d.line, d.col, d.code, d.message))
            log.debug("%s", terminal(str(d)), exc_info=True)
            if failures is not None:
                failures.append(d)
        if len(symbols) >= _BATCH:
            _insert_rows(conn, symbols, search, tests, findings, diagnostics)
            for rows in (symbols, search, tests, findings, diagnostics):
                rows.clear()
    _insert_rows(conn, symbols, search, tests, findings, diagnostics)


_BATCH = 20_000  # symbols per batch of inserts


def _insert_rows(conn: sqlite3.Connection, symbols: list[tuple[Any, ...]], search: list[tuple[Any, ...]],
                 tests: list[tuple[Any, ...]], findings: list[tuple[Any, ...]],
                 diagnostics: list[tuple[Any, ...]]) -> None:
    conn.executemany(_INSERT_SYMBOL, symbols)
    conn.executemany(_INSERT_SEARCH, search)
    conn.executemany("INSERT INTO test_rows VALUES (?,?,?,?,?)", tests)
    conn.executemany("INSERT INTO finding_rows VALUES (?,?,?,?,?,?)", findings)
    conn.executemany("INSERT INTO diagnostics VALUES (?,?,?,?,?, 'extract')", diagnostics)


def _symbol_search_row(rowid: int, name: str, fqname: str, qualname: str, path: str, summary: str, bases: str,
                       macro: str, condition: str, bridge: str) -> tuple[Any, ...]:
    """A symbol's search row. The path is left out when the fqname holds the file's module (a Python symbol:
    `torch.nn.modules.linear.Linear` has the words of `torch/nn/modules/linear.py` already), and else its
    extension, which the file's own row keeps (`--lang` filters by language): on PyTorch the path words of
    every symbol were 4.7 of the table's 16 MB, these 1.2 and 0.6 of them."""
    words = search_words(fqname, bases.split("\n"), (macro, condition, bridge))
    return rowid, name, fqname, words, posixpath.splitext(path)[0] if fqname == qualname else "", summary


def _delete_per_file(conn: sqlite3.Connection, paths: list[str]) -> None:
    rows = [(p,) for p in paths]
    conn.executemany(_DELETE_SEARCH, [_symbol_search_row(*r) for p in paths for r in conn.execute(
        "SELECT id, name, fqname, qualname, path, summary, bases, macro, condition, bridge FROM symbols "
        "WHERE path = ?",
        (p,)).fetchall()])
    for table in ("symbol_rows", "test_rows", "finding_rows"):
        conn.executemany(f"DELETE FROM {table} WHERE file IN (SELECT id FROM files WHERE path = ?)", rows)
    conn.executemany("DELETE FROM facts_cache WHERE path = ?", rows)
    conn.executemany("DELETE FROM diagnostics WHERE path = ? AND stage = 'extract'", rows)


def _file_row(i: int, path: str, f: FileFacts, model: LinkedModel) -> tuple[Any, ...]:
    """A file's `files` row. Its pages are generated columns (`path` + `_docs.md`, `_kw.md`) but where the
    page name differs from the path (a folder named like a page, a name too long: `paths._page`), whose
    stem `page_stem` holds: two page names a row were 1.0 of PyTorch's 3.5 MB of `files`."""
    purpose = model.purposes[path]
    page = P.file_page(path)
    stem = page[: -len("_docs.md")] if page != path + "_docs.md" else ""
    return (i, path, P.folder_of(path), path.rsplit("/", 1)[-1], f.language, purpose.label, purpose.reason,
            model.module_of.get(path, ""), f.size, f.digest, f.lines, int(f.binary), f.binary_kind, f.generated,
            int(f.vendored), f.docstring, int(f.parse_ok), float(model.rank.get(path, 0.0) or 0.0), stem)


def _file_search_row(i: int, path: str, f: FileFacts, model: LinkedModel) -> tuple[Any, ...]:
    """A file's search row (rowid -i)."""
    return _file_search_values(i, path, model.module_of.get(path, ""), f.docstring)


def _file_search_values(i: int, path: str, module: str, docstring: str) -> tuple[Any, ...]:
    return -i, path.rsplit("/", 1)[-1], module or path, identifier_words(path, module), path, docstring


def _folder_search_row(i: int, path: str) -> tuple[Any, ...]:
    return -(FOLDER_ROWID_BASE + i), path.rsplit("/", 1)[-1], path, identifier_words(path), path, ""


def _delete_file_search(conn: sqlite3.Connection, where: str, args: tuple[Any, ...] = ()) -> None:
    """Remove the search rows of the `files` rows that `where` selects (before those rows change)."""
    conn.executemany(_DELETE_SEARCH, [_file_search_values(*r) for r in conn.execute(
        f"SELECT id, path, module, docstring FROM files WHERE {where}", args).fetchall()])


_INSERT_FILE = f"INSERT INTO files VALUES ({','.join('?' * 19)})"  # `page`, `kw_page` are generated


def _refresh_files(conn: sqlite3.Connection, model: LinkedModel, changed: list[str], sid: Strings) -> None:
    """Rewrite the `files`, search and `imports` rows of edited files, keeping their ids, when the link stage's
    output was reused (`link.link_inputs`): only their own facts (size, digest, lines, docstring, the lines of
    their imports, their purpose's evidence) can differ."""
    conn.executemany("DELETE FROM import_rows WHERE file IN (SELECT id FROM files WHERE path = ?)",
                     [(p,) for p in changed])
    conn.executemany(_INSERT_IMPORT, _import_rows(model, changed, dict(conn.execute("SELECT path, id FROM files")),
                                                  sid))
    for path in changed:
        found = conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        f = model.files[path]
        _delete_file_search(conn, "id = ?", (found[0],))
        conn.execute("DELETE FROM files WHERE id = ?", (found[0],))
        conn.execute(_INSERT_FILE, _file_row(found[0], path, f, model))
        conn.execute(_INSERT_SEARCH, _file_search_row(found[0], path, f, model))


_INSERT_IMPORT = "INSERT INTO import_rows VALUES (?,?,?,?,?,?,?,?,?,?,?)"


def _import_rows(model: LinkedModel, paths: Iterable[str], ids: Mapping[str, int],
                 sid: Strings) -> Iterator[tuple[Any, ...]]:
    """`import_rows` values: texts as `strings` ids (a module, a reason repeat on thousands of imports), the
    target as its `files.id` (0: none; a target that is not a scanned file, minus its `strings` id)."""
    for path in paths:
        resolved = model.imports.get(path)
        if resolved is None:
            entries: list[tuple[Any, str, str, str]] = [(imp, "", "", "") for imp in model.files[path].imports]
        else:
            entries = [(r.imp, r.category, r.target, r.reason) for r in resolved]
        for imp, category, target, reason in entries:
            to = (ids.get(target) or -sid[target]) if target else 0
            yield (ids[path], sid[imp.module], sid["\n".join(imp.names)], sid[imp.alias], imp.level, imp.line,
                   sid[imp.conditional], int(imp.system), sid[category], to, sid[reason])


def _relinked_repo(conn: sqlite3.Connection, model: LinkedModel, changed: list[str], scan_diagnostics: list[Diagnostic],
                   link_state: dict[str, Any], sid: Strings) -> None:
    """`_whole_repo` for a build that linked again over the same files: what can change for a file that was not
    edited is its rank (PageRank moves everywhere with one edge) and its test links, so those are updated in
    place, the edited files' rows rewritten, and the rest (folders, names, search rows) kept."""
    _refresh_files(conn, model, changed, sid)
    # After a `relink` (`link_state` gives the parts it started from, `STORED`), the ranks it kept are the very
    # ones read and each file's test links that did not change the very list read: only the others are looked at
    # (PyTorch, a test case added: 10,770 ranks and 14,021 test links compared, 0.05 s).
    read: Mapping[str, Any] = link_state.get(STORED) or {}
    if read.get("rank") is not model.rank:
        before = dict(conn.execute("SELECT path, rank FROM files"))  # (an edit mostly moves no rank: 10,770
        ranks = ((float(model.rank.get(p, 0.0) or 0.0), p) for p in model.files)  # updates, 0.06 s, for none)
        conn.executemany("UPDATE files SET rank = ? WHERE path = ?", [(r, p) for r, p in ranks if before.get(p) != r])
    ids = dict(conn.execute("SELECT path, id FROM files"))
    tested_before: Mapping[str, Any] | None = read.get("tested_by")
    if tested_before is None:
        old = set(conn.execute("SELECT target, test, names, via, cases FROM test_link_rows"))
        new = set(_test_link_rows(model, ids))
    else:
        targets = sorted({t for t, links in model.tested_by.items() if tested_before.get(t) is not links}
                         | (tested_before.keys() - model.tested_by.keys()))
        old = {row for t in targets if t in ids for row in conn.execute(
            "SELECT target, test, names, via, cases FROM test_link_rows WHERE target = ?", (ids[t],))}
        new = set(_test_link_rows(model, ids, targets))
    conn.executemany("DELETE FROM test_link_rows WHERE target = ? AND test = ? AND names = ? AND via = ? AND "
                     "cases = ?", sorted(old - new))
    conn.executemany("INSERT INTO test_link_rows VALUES (?,?,?,?,?)", sorted(new - old))
    _scan_and_link_state(conn, scan_diagnostics, link_state, whole=False)


def _scan_and_link_state(conn: sqlite3.Connection, scan_diagnostics: list[Diagnostic],
                         link_state: dict[str, Any], whole: bool = True) -> None:
    """The scan's diagnostics and the link stage's output, replaced (render diagnostics come with `commit`)."""
    conn.execute("DELETE FROM diagnostics WHERE stage = 'scan'")
    conn.executemany("INSERT INTO diagnostics VALUES (?,?,?,?,?, 'scan')",
                     [(d.path, d.line, d.col, d.code, d.message) for d in scan_diagnostics])
    store_link_state(conn, link_state, whole)


def file_ids(conn: sqlite3.Connection, paths: Iterable[str]) -> dict[str, int]:
    """Each file's `files.id`: kept for a file already in the index (its `symbol_rows` and `ref_sites` name it),
    the next free ones for new files in path order."""
    ids: dict[str, int] = dict(conn.execute("SELECT path, id FROM files").fetchall())
    nxt = max(ids.values(), default=0) + 1
    for p in sorted(paths):
        if p not in ids:
            ids[p] = nxt
            nxt += 1
    return ids


def _whole_repo(conn: sqlite3.Connection, model: LinkedModel, scan_diagnostics: list[Diagnostic],
                link_state: dict[str, Any], ids: Mapping[str, int], sid: Strings) -> None:
    """Rows that depend on the whole repository (the link stage): rewritten on every build, O(files)."""
    _delete_file_search(conn, "1")
    conn.executemany(_DELETE_SEARCH, [_folder_search_row(i, p) for i, p in conn.execute(
        "SELECT id, path FROM folders WHERE path != ''").fetchall()])
    for table in ("files", "folders", "import_rows", "test_link_rows"):
        conn.execute(f"DELETE FROM {table}")
    # Rows are streamed (generators), not listed: this runs beside the render workers, whose memory it adds to.
    paths = sorted(model.files)
    conn.executemany(_INSERT_FILE, (_file_row(ids[p], p, model.files[p], model) for p in paths))
    conn.executemany(_INSERT_SEARCH, (_file_search_row(ids[p], p, model.files[p], model) for p in paths))
    folders = sorted(model.folders.items())
    conn.executemany("INSERT INTO folders VALUES (?,?,?,?,?,?,?,?)", (
        (i, path, P.folder_of(path) if path else None, path.rsplit("/", 1)[-1] if path else "", len(folder.files),
         len(folder.subfolders), len(model.subtree_files(path)) if path else len(model.files), "")
        for i, (path, folder) in enumerate(folders, 1)))
    conn.executemany(_INSERT_SEARCH, (_folder_search_row(i, path) for i, (path, _) in enumerate(folders, 1) if path))

    conn.executemany(_INSERT_IMPORT, _import_rows(model, paths, ids, sid))
    conn.executemany("INSERT INTO test_link_rows VALUES (?,?,?,?,?)", _test_link_rows(model, ids))
    _scan_and_link_state(conn, scan_diagnostics, link_state)


def _fresh_db(path: Path, cache: Path) -> sqlite3.Connection:
    """A new index at `path` with a new facts cache at `cache` attached (both temp files, renamed into place)."""
    for p in (path, cache):
        if p.exists():
            p.unlink()
    conn = connect(path)
    conn.execute("ATTACH DATABASE ? AS cache", (str(cache),))
    for db in ("main", "cache"):
        conn.execute(f"PRAGMA {db}.journal_mode=OFF")  # a temp file renamed into place only when complete
        conn.execute(f"PRAGMA {db}.synchronous=OFF")
        conn.execute(f"PRAGMA {db}.page_size=8192")
    conn.execute("PRAGMA cache_size=-16384")  # 16 MB wrote PyTorch's index as fast as 64 MB, beside the workers
    conn.executescript(TABLES)  # indexes come after the bulk insert (`INDEXES`): much cheaper than per row
    conn.executescript(CACHE_TABLES)
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    conn.execute(f"PRAGMA cache.user_version={SCHEMA_VERSION}")
    return conn



class IndexWrite:
    """Storing a build in the index: in place (one transaction, only changed files' rows) when the previous
    index is usable, else a fresh file renamed over the old one.

    `write` stores every row the facts and the link stage give, before the render workers fork (`pipeline`:
    beside them, each object it reads would have its reference count written in pages they share); `commit`
    adds what rendering found (page count, page-name clashes) and makes the result the index; until then a
    reader sees the previous index, marked incomplete. `blobs` holds facts already pickled by the extract workers.
    When the build reused the stored link stage output (`FactsCache.link_state`), the rows made from it are
    kept and only the edited files' own rows change."""

    def __init__(self, cfg: Config, model: LinkedModel, cache: FactsCache, extracted: Iterable[str],
                 scan_diagnostics: list[Diagnostic], link_state: dict[str, Any], link_reused: bool = False,
                 blobs: dict[str, bytes] | None = None, readers: bool = False) -> None:
        self.cfg, self.model, self.cache = cfg, model, cache
        self.readers = readers  # the cache is read beside this write until it commits (`store.lazyfacts`)
        self.changed = sorted(set(extracted))
        self.scan_diagnostics, self.link_state, self.link_reused = scan_diagnostics, link_state, link_reused
        self.blobs = blobs or {}
        self.mode = ""
        self.seconds = 0.0  # spent in `write`
        self.cpu_seconds = 0.0  # CPU seconds of `write` (`time.thread_time`: this thread's alone)
        self.failures: list[Diagnostic] = []  # DA306: a file whose rows could not be made (the build reports it)
        self._conn: sqlite3.Connection | None = None
        self._tmp: Path | None = None
        self._cache_tmp: Path | None = None

    def write(self) -> None:
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            self._write()
        finally:
            self.seconds = time.perf_counter() - start
            self.cpu_seconds = time.thread_time() - cpu

    def _write(self) -> None:
        cache, model = self.cache, self.model
        if cache.usable:
            conn = connect(cache.path)
            try:
                # one transaction over both files (SQLite commits attached databases atomically)
                conn.execute("ATTACH DATABASE ? AS cache", (str(cache.file),))
                conn.execute("PRAGMA cache.journal_mode=DELETE")
                if self.readers:  # dirty pages stay in memory until the commit: a spill would lock the readers out
                    conn.execute("PRAGMA cache_spill=OFF")
                conn.execute("BEGIN IMMEDIATE")
                deleted = sorted(set(cache.entries) - set(model.files))
                ids = file_ids(conn, model.files)
                _delete_per_file(conn, sorted(set(self.changed) | set(deleted)))
                interned = Interned(conn)
                sid = interned.strings
                _write_rows(conn, model, self.changed, cache, self.blobs, ids, interned, self.failures)
                self.blobs.clear()  # in the cache now; the pipeline is done with them
                if self.link_reused:
                    _refresh_files(conn, model, self.changed, sid)
                elif not deleted and len(cache.entries) == len(model.files):
                    _relinked_repo(conn, model, self.changed, self.scan_diagnostics, self.link_state, sid)
                    update = getattr(model, "refs_update", {})
                    refs_rows(conn, model, update.get("rewritten") if "touched" in update else None, sid)
                else:
                    _whole_repo(conn, model, self.scan_diagnostics, self.link_state, ids, sid)
                    refs_rows(conn, model, None, sid)
                interned.flush(conn)
                self._conn, self.mode = conn, "incremental"
                return
            except sqlite3.DatabaseError as exc:
                close_conn(conn, rollback=True)
                log.warning("%s: cannot update (%s); rebuilding it", cache.path, exc)
            except BaseException:
                close_conn(conn, rollback=True)
                raise
        self._tmp = cache.path.with_name(INDEX_NAME + ".tmp")
        self._tmp.parent.mkdir(parents=True, exist_ok=True)  # the pages may not have made the folder yet
        self._cache_tmp = make_cache_dir(cache.path.parent) / (CACHE_NAME + ".tmp")
        conn = _fresh_db(self._tmp, self._cache_tmp)
        try:
            conn.execute("BEGIN IMMEDIATE")
            ids = file_ids(conn, model.files)
            self.failures.clear()  # an in-place update that failed may have found some: all again
            interned = Interned(conn)
            sid = interned.strings
            _write_rows(conn, model, sorted(model.files), cache, self.blobs, ids, interned, self.failures)
            self.blobs.clear()  # in the cache now; the pipeline is done with them
            _whole_repo(conn, model, self.scan_diagnostics, self.link_state, ids, sid)
            refs_rows(conn, model, None, sid)
            interned.flush(conn)
            for statement in INDEXES.splitlines():
                conn.execute(statement)
            # A fresh file is not the index until `commit` renames it, so its rows can be committed here and
            # the file copied packed, beside the render workers: the WITHOUT ROWID tables filled in key order
            # keep about an eighth of their pages free (4 of PyTorch's 151 MB)
            conn.execute("COMMIT")
            conn.execute("VACUUM main")
            conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            close_conn(conn, rollback=True)
            raise
        self._conn, self.mode = conn, "full"

    def commit(self, pages: dict[str, str], render_diagnostics: list[Diagnostic]) -> str:
        """Finish what `write` began; returns "incremental" or "full"."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("IndexWrite.commit before write")
        model = self.model
        meta = {
            "generator": "docatlas", "version": __version__, "schema_version": str(SCHEMA_VERSION),
            "cache_key": self.cache.key, "output_key": self.cache.output_key, "complete": "1",
            "start_ns": str(self.cache.start_ns),
            "project": model.name, "files": str(len(model.files)), "pages": str(len(pages)),
            "root": str(self.cfg.root), "binary": str(sum(1 for p in model.files if model.summary(p).binary)),
        }
        try:
            conn.execute("DELETE FROM diagnostics WHERE stage = 'render'")
            conn.executemany("INSERT INTO diagnostics VALUES (?,?,?,?,?, 'render')",
                             [(d.path, d.line, d.col, d.code, d.message) for d in render_diagnostics])
            conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", sorted(meta.items()))
            conn.execute("INSERT OR REPLACE INTO cache.meta(key, value) VALUES ('start_ns', ?)", (meta["start_ns"],))
            conn.execute("COMMIT")
            if self.mode == "full":
                conn.execute("PRAGMA optimize")
        except BaseException:
            close_conn(conn, rollback=True)
            raise
        conn.close()
        self._conn = None
        if self._tmp is not None and self._cache_tmp is not None:
            # the cache first: stopped between the two, the old index names another build than the new cache
            # (`meta.start_ns`), and the next build starts afresh
            os.replace(self._cache_tmp, self.cache.file)
            os.replace(self._tmp, self.cache.path)
            self.cache.path.with_name(INDEX_NAME + "-journal").unlink(missing_ok=True)
        return self.mode

    def abort(self) -> None:
        """Leave the index as it was (the build stopped before its pages were done)."""
        if self._conn is not None:
            close_conn(self._conn, rollback=True)
            self._conn = None
        for tmp in (self._tmp, self._cache_tmp):
            if tmp is not None:
                tmp.unlink(missing_ok=True)



def _write_rows(conn: sqlite3.Connection, model: LinkedModel, changed: list[str], cache: FactsCache,
                blobs: dict[str, bytes], ids: Mapping[str, int], interned: Interned,
                failures: list[Diagnostic] | None = None) -> None:
    """The changed files' own rows and cached facts."""
    first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM symbol_rows").fetchone()[0]
    _per_file(conn, ((model.files[p], model.module_of.get(p, "")) for p in changed), first, ids, interned, failures)

    def cached() -> Iterator[tuple[Any, ...]]:  # one at a time: the pickled facts of PyTorch are 35 MB
        for path in changed:
            f = model.files[path]
            if not any(d.code == dx.UNREADABLE.code for d in f.diagnostics):  # unreadable: the next build tries again
                size, mtime = cache.stats.get(path, (f.size, 0))
                summary = pickle.dumps(model.summary(path), protocol=5)
                yield path, size, mtime, f.digest, blobs.get(path) or pickle_facts(f), summary

    conn.executemany("INSERT OR REPLACE INTO facts_cache VALUES (?,?,?,?,?,?)", cached())
    conn.executemany("UPDATE facts_cache SET size = ?, mtime_ns = ? WHERE path = ?",
                     [(s, m, p) for p, (s, m) in sorted(cache.restat.items())])


