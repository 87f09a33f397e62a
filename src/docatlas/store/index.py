"""The SQLite index in the output folder: what was built (files, symbols, imports, tests, findings, folders,
diagnostics), a full-text search over it, and the per-file facts cache that makes rebuilds incremental.

Why one SQLite file: programs (editors, retrieval pipelines, agents) query it without parsing Markdown, the
CLI answers `search`/`show` from it in milliseconds, and the cache of extracted facts lives next to the output
it produced, so deleting the output folder resets everything.

Safety: a build changes the index in a single transaction (or writes a fresh file beside it and renames it
into place), so an interrupted build leaves the previous index usable. An index that cannot be read, has
another schema version or was built by another docatlas/options is rebuilt with a warning, never a crash.
The schema is documented in docs/index-schema.md; bump SCHEMA_VERSION when it changes.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import pickle
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docatlas import __version__
from docatlas import paths as P
from docatlas.config import Config
from docatlas.errors import DocatlasError
from docatlas.fingerprint import code_fingerprint
from docatlas.model import Diagnostic, FileFacts, ScannedFile
from docatlas.summary import FileSummary

log = logging.getLogger(__name__)

INDEX_NAME = "docatlas.sqlite"
SCHEMA_VERSION = 3
EXPORT_SCHEMA = "docatlas-export/1"
# A file whose mtime lies this close to (or after) the start of the build that cached it may have changed
# again within the file system's timestamp granularity ("racy" in git's words): its digest is re-checked.
RACY_NS = 2_000_000_000
FOLDER_ROWID_BASE = 1 << 40  # FTS rowids: symbols > 0, files -id, folders -(BASE + id)
DEFINITION_COLUMNS = "{name qualname words}"

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE files(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, folder TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
    language TEXT NOT NULL, purpose TEXT NOT NULL, purpose_reason TEXT NOT NULL, module TEXT NOT NULL,
    size INTEGER NOT NULL, digest TEXT NOT NULL, lines INTEGER NOT NULL, binary INTEGER NOT NULL,
    binary_kind TEXT NOT NULL, generated TEXT NOT NULL, vendored INTEGER NOT NULL, docstring TEXT NOT NULL,
    parse_ok INTEGER NOT NULL, rank REAL NOT NULL, page TEXT NOT NULL, kw_page TEXT NOT NULL);
CREATE INDEX files_name ON files(name);
CREATE INDEX files_module ON files(module);
CREATE TABLE folders(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, parent TEXT, name TEXT NOT NULL COLLATE NOCASE,
    files INTEGER NOT NULL, subfolders INTEGER NOT NULL, subtree_files INTEGER NOT NULL, summary TEXT NOT NULL);
CREATE TABLE symbols(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
    qualname TEXT NOT NULL COLLATE NOCASE, fqname TEXT NOT NULL COLLATE NOCASE, line INTEGER NOT NULL,
    end_line INTEGER NOT NULL, signature TEXT NOT NULL, summary TEXT NOT NULL, parent TEXT NOT NULL,
    decorators TEXT NOT NULL, bases TEXT NOT NULL, flags TEXT NOT NULL, definition INTEGER NOT NULL);
CREATE INDEX symbols_path ON symbols(path);
CREATE INDEX symbols_name ON symbols(name);
CREATE INDEX symbols_qualname ON symbols(qualname);
CREATE INDEX symbols_fqname ON symbols(fqname);
CREATE TABLE imports(
    path TEXT NOT NULL, module TEXT NOT NULL, names TEXT NOT NULL, alias TEXT NOT NULL, level INTEGER NOT NULL,
    line INTEGER NOT NULL, conditional TEXT NOT NULL, system INTEGER NOT NULL, category TEXT NOT NULL,
    target TEXT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX imports_path ON imports(path);
CREATE INDEX imports_target ON imports(target);
CREATE TABLE tests(
    path TEXT NOT NULL, name TEXT NOT NULL, line INTEGER NOT NULL, framework TEXT NOT NULL, kind TEXT NOT NULL);
CREATE INDEX tests_path ON tests(path);
CREATE TABLE test_links(
    target TEXT NOT NULL, test_path TEXT NOT NULL, names TEXT NOT NULL, via TEXT NOT NULL, cases TEXT NOT NULL);
CREATE INDEX test_links_target ON test_links(target);
CREATE INDEX test_links_test ON test_links(test_path);
CREATE TABLE findings(
    path TEXT NOT NULL, category TEXT NOT NULL, rule TEXT NOT NULL, message TEXT NOT NULL, line INTEGER NOT NULL,
    evidence TEXT NOT NULL);
CREATE INDEX findings_path ON findings(path);
CREATE TABLE diagnostics(
    path TEXT NOT NULL, line INTEGER NOT NULL, col INTEGER NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,
    stage TEXT NOT NULL);
CREATE INDEX diagnostics_path ON diagnostics(path);
CREATE TABLE facts_cache(
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL,
    facts BLOB NOT NULL, summary BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE link_state(id INTEGER PRIMARY KEY, state BLOB NOT NULL);
CREATE VIRTUAL TABLE search USING fts5(
    name, qualname, words, path, summary, kind UNINDEXED, lang UNINDEXED, tokenize = 'unicode61');
INSERT INTO search(search, rank) VALUES ('rank', 'bm25(10.0, 4.0, 6.0, 2.0, 1.0)');
"""

_INSERT_SYMBOL = f"INSERT INTO symbols VALUES ({','.join('?' * 15)})"
_INSERT_SEARCH = "INSERT INTO search(rowid, name, qualname, words, path, summary, kind, lang) VALUES (?,?,?,?,?,?,?,?)"


class IndexUnavailable(DocatlasError):
    """The index cannot be used for a query (missing, unreadable, or built by another schema)."""


class QueryError(DocatlasError):
    """A search query that cannot be run (nothing searchable in it)."""


# -- identifier-aware words ---------------------------------------------------------------------------------
_IDENT = re.compile(r"[A-Za-z0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+[0-9]*")


def identifier_words(*texts: str) -> str:
    """Extra tokens for FTS: the CamelCase parts of every identifier (`RecompileTests` -> `recompile tests`).

    The unicode61 tokenizer already splits on `_`, `.`, `::` and `/`, so only what it keeps together is split
    here; words are lower-cased and de-duplicated in first-seen order so the column stays small.
    """
    seen: dict[str, None] = {}
    for text in texts:
        for chunk in _IDENT.findall(text):
            for part in _camel_parts(chunk):
                seen.setdefault(part, None)
    return " ".join(seen)


@functools.lru_cache(maxsize=1 << 16)
def _camel_parts(chunk: str) -> tuple[str, ...]:
    """Lower-cased CamelCase parts of one identifier chunk, () when it has only one (names repeat a lot)."""
    parts = _CAMEL.findall(chunk)
    return tuple(p.lower() for p in parts) if len(parts) > 1 else ()


def fts_query(query: str) -> str:
    """A safe FTS5 expression: every whitespace-separated term quoted (so no user text is FTS syntax) and
    matched as a prefix, all terms required. Raises QueryError when nothing searchable is left."""
    terms = []
    for raw in query.split():
        if not _IDENT.search(raw):
            continue
        terms.append('"' + raw.replace('"', '""') + '"*')
    if not terms:
        raise QueryError(f"nothing to search for in {query!r}: give a name, a word or a path")
    return " AND ".join(terms)


# -- cache key ----------------------------------------------------------------------------------------------


def cache_key(cfg: Config) -> str:
    """What the cached facts and the previous pages depend on besides the files: code and output options."""
    options = {
        "exclude": list(cfg.exclude), "embed_source": cfg.embed_source, "max_embed_bytes": cfg.max_embed_bytes,
        "head_lines": cfg.head_lines, "max_file_bytes": cfg.max_file_bytes, "project_name": cfg.name,
        "list_limit": cfg.list_limit, "schema": SCHEMA_VERSION,
    }
    return code_fingerprint() + ":" + hashlib.sha1(json.dumps(options, sort_keys=True).encode()).hexdigest()


# -- opening ------------------------------------------------------------------------------------------------
def index_path(output: Path) -> Path:
    return output / INDEX_NAME


_INDEXES = "\n".join(line for line in _SCHEMA.splitlines() if line.startswith("CREATE INDEX"))
_TABLES = "\n".join(line for line in _SCHEMA.splitlines() if not line.startswith("CREATE INDEX"))


def _connect(path: Path) -> sqlite3.Connection:
    # check_same_thread=False: an `IndexWrite` may be written in a thread and committed in the building one
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def _check(conn: sqlite3.Connection) -> str:
    """Why this index cannot be reused, or "" when it can."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version != SCHEMA_VERSION:
        return f"schema version {version}, expected {SCHEMA_VERSION}"
    conn.execute("SELECT count(*) FROM meta").fetchone()
    return ""


def open_index(output: Path) -> sqlite3.Connection:
    """A read-only connection for queries; IndexUnavailable with a helpful message when there is no usable index."""
    path = index_path(output)
    if not path.is_file():
        raise IndexUnavailable(f"no index at {path}: run `docatlas build` first (or pass -o/--output)")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        problem = _check(conn)
    except sqlite3.DatabaseError as exc:
        raise IndexUnavailable(f"{path} is unreadable ({exc}); run `docatlas build` to rebuild it") from exc
    if problem:
        conn.close()
        raise IndexUnavailable(f"{path} has {problem}; run `docatlas build` to rebuild it")
    return conn


def pickle_facts(facts: FileFacts) -> bytes:
    """A file's facts as the facts cache stores them."""
    return pickle.dumps(facts, protocol=5)


def unpickle_facts(blob: bytes) -> FileFacts:
    facts: FileFacts = pickle.loads(blob)
    return facts


class LazyFacts(Mapping[str, FileFacts]):
    """Every file's facts by path, in path order: those extracted by this build, and cached ones unpickled on
    first use. Unpickling all of PyTorch's took half a second; a rebuild that renders a few pages needs few."""

    def __init__(self, blobs: dict[str, bytes], loaded: dict[str, FileFacts]) -> None:
        self._blobs = blobs
        self._loaded = dict(loaded)
        self._paths = sorted(set(blobs) | set(loaded))

    def __getitem__(self, path: str) -> FileFacts:
        found = self._loaded.get(path)
        if found is None:
            found = self._loaded[path] = unpickle_facts(self._blobs[path])  # KeyError: not a file of this build
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._loaded or path in self._blobs

    @property
    def unpickled(self) -> int:
        """How many cached facts were unpickled so far (for tests and profiling)."""
        return sum(1 for p in self._loaded if p in self._blobs)


# -- the facts cache ----------------------------------------------------------------------------------------
@dataclass
class FactsCache:
    """The previous build's per-file facts, keyed by path with the stat and digest they were taken from."""

    path: Path
    key: str
    entries: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # path -> (size, mtime_ns, digest)
    meta: dict[str, str] = field(default_factory=dict)
    usable: bool = False  # the previous index exists, is readable, and was built with the same key
    start_ns: int = field(default_factory=time.time_ns)
    restat: dict[str, tuple[int, int]] = field(default_factory=dict)  # same digest, new stat: update the cache
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime_ns) from this scan
    reason: str = ""

    @classmethod
    def load(cls, cfg: Config, full: bool = False) -> FactsCache:
        """Read the cache's keys (not the facts): cheap even for a huge repository."""
        cache = cls(path=index_path(cfg.output), key=cache_key(cfg))
        if full:
            cache.reason = "--full"
            return cache
        if not cache.path.exists():
            cache.reason = "no previous index"
            return cache
        try:
            conn = sqlite3.connect(f"{cache.path.as_uri()}?mode=ro", uri=True)
            try:
                problem = _check(conn)
                if not problem:
                    cache.meta = _read_meta(conn)
                    if cache.meta.get("cache_key") != cache.key:
                        problem = "built by another docatlas version or with other options"
                if problem:
                    cache.reason = problem
                    log.warning("%s: %s; rebuilding it", cache.path, problem)
                    return cache
                cache.entries = {p: (s, m, d) for p, s, m, d in
                                 conn.execute("SELECT path, size, mtime_ns, digest FROM facts_cache")}
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            cache.reason = f"unreadable ({exc})"
            cache.entries, cache.meta = {}, {}
            log.warning("%s is unreadable (%s); rebuilding it", cache.path, exc)
            return cache
        cache.usable = True
        return cache

    @property
    def pages_trusted(self) -> bool:
        """Whether the manifest's page digests describe the pages on disk: only when the last build completed
        (a build marks the index incomplete before it writes pages, and complete when it commits the index)."""
        return self.meta.get("complete") == "1"

    def split(self, root: Path, files: list[ScannedFile]) -> tuple[list[str], list[ScannedFile]]:
        """(paths whose cached facts are still right, files to extract). A file whose size and mtime match is
        not read; one whose stat changed (or is racy) is hashed and reused when its bytes did not change."""
        hits: list[str] = []
        todo: list[ScannedFile] = []
        racy_after = int(self.meta.get("start_ns", "0")) - RACY_NS
        for f in files:
            self.stats[f.path] = (f.size, f.mtime_ns)
            entry = self.entries.get(f.path)
            if entry is None:
                todo.append(f)
                continue
            size, mtime, digest = entry
            if size == f.size and mtime == f.mtime_ns and mtime < racy_after:
                hits.append(f.path)
                continue
            if size == f.size and digest:
                try:
                    data = (root / f.path).read_bytes()
                except OSError:
                    todo.append(f)
                    continue
                if hashlib.sha1(data).hexdigest() == digest:
                    hits.append(f.path)
                    if mtime != f.mtime_ns:
                        self.restat[f.path] = (f.size, f.mtime_ns)
                    continue
            todo.append(f)
        return hits, todo

    def facts(self, paths: Iterable[str]) -> tuple[dict[str, bytes], dict[str, FileSummary]]:
        """The cached facts of `paths` (all of them known), still pickled (`LazyFacts` unpickles on use), and
        their summaries."""
        wanted = set(paths)
        blobs: dict[str, bytes] = {}
        summaries: dict[str, FileSummary] = {}
        if not wanted:
            return blobs, summaries
        conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)
        try:
            for path, blob, summary in conn.execute("SELECT path, facts, summary FROM facts_cache"):
                if path in wanted:
                    blobs[path] = blob
                    summaries[path] = pickle.loads(summary)
        finally:
            conn.close()
        return blobs, summaries

    def unchanged(self, hits: list[str], todo: list[ScannedFile], pages: dict[str, str],
                  intact: Callable[[], bool]) -> bool:
        """Whether the last complete build already produced exactly this output: same files, same bytes, same
        code and options, and every page it wrote still there (`intact`). Then a rebuild has nothing to do."""
        if not self.usable or todo or self.meta.get("complete") != "1" or len(hits) != len(self.entries):
            return False
        if self.meta.get("pages") != str(len(pages)) or not pages:
            return False
        return intact()

    def mark_dirty(self) -> None:
        """Before pages change: the index no longer describes the pages until the build commits a new one."""
        if not self.usable:
            return
        try:
            conn = _connect(self.path)
            try:
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('complete', '0')")
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:  # pragma: no cover - the file went bad since load()
            log.warning("%s: cannot mark as in progress (%s); rebuilding it", self.path, exc)
            self.usable = False

    def save_restat(self) -> None:
        """A no-op build still records new stats of unchanged files, so the next one need not hash them."""
        if not self.restat or not self.usable:
            return
        try:
            conn = _connect(self.path)
            try:
                with _transaction(conn):
                    conn.executemany("UPDATE facts_cache SET size = ?, mtime_ns = ? WHERE path = ?",
                                     [(s, m, p) for p, (s, m) in sorted(self.restat.items())])
                    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('start_ns', ?)",
                                 (str(self.start_ns),))
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:  # pragma: no cover
            log.warning("%s: cannot update the cache (%s)", self.path, exc)

    def diagnostics(self, stages: tuple[str, ...] = ("extract", "render")) -> list[Diagnostic]:
        """Diagnostics of these stages that the last build recorded (for a build that does not redo them)."""
        conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)
        try:
            return [Diagnostic(*row) for row in conn.execute(
                "SELECT path, line, col, code, message FROM diagnostics WHERE stage IN "
                f"({','.join('?' * len(stages))})", stages)]
        finally:
            conn.close()

    def link_state(self) -> dict[str, Any] | None:
        """The last build's link stage output (`link.link_state`), or None when there is none to trust."""
        if not self.usable or not self.pages_trusted:
            return None
        conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT state FROM link_state WHERE id = 1").fetchone()
        finally:
            conn.close()
        if row is None:
            return None
        state: dict[str, Any] = pickle.loads(row[0])
        return state


def noop_report(report: Any, cache: FactsCache, t0: float, t: float) -> None:
    """Complete the `BuildReport` of a build that found nothing to do (`FactsCache.unchanged`): the numbers
    and file diagnostics of the last complete build, which this one would have reproduced exactly."""
    cache.save_restat()
    report.diagnostics.extend(cache.diagnostics())
    report.diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    report.files = int(cache.meta.get("files", "0"))
    report.binary = int(cache.meta.get("binary", "0"))
    report.pages = int(cache.meta.get("pages", "0"))
    now = time.perf_counter()
    report.timings["cache"] = round(now - t, 3)
    report.seconds = round(now - t0, 3)


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (autocommit connections)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


# -- writing ------------------------------------------------------------------------------------------------
def _test_links(model: Any) -> list[tuple[str, str, str, str, str]]:
    """(target, test file, names, via, cases) rows, from the link stage's `tested_by`: the same links the
    pages show."""
    rows = {(target, tl.test, "\n".join(tl.names), tl.via, "\n".join(tl.cases))
            for target, links in model.tested_by.items() for tl in links}
    return sorted(rows)


def _fqname(module: str, qualname: str, language: str) -> str:
    if module and language in ("python", "python-stub", "cython"):
        return f"{module}.{qualname}"
    return qualname


def _symbol_rows(facts: FileFacts, module: str) -> list[tuple[Any, ...]]:
    return [(facts.path, s.kind, s.name, s.qualname, _fqname(module, s.qualname, facts.language), s.line,
             s.end_line, s.signature, s.summary, s.parent, "\n".join(s.decorators), "\n".join(s.bases),
             " ".join(s.flags), 0 if "declaration" in s.flags else 1) for s in facts.symbols]


def _per_file(conn: sqlite3.Connection, files: Iterable[tuple[FileFacts, str]], first: int) -> None:
    """Rows that depend on each file alone (replaced only when the file changed), symbol ids from `first`:
    one statement per table for many files, not one per file, in batches that keep memory flat (the rows of
    all of PyTorch held at once added 250 MB to the build's peak)."""
    symbols: list[tuple[Any, ...]] = []
    search: list[tuple[Any, ...]] = []
    tests: list[tuple[Any, ...]] = []
    findings: list[tuple[Any, ...]] = []
    diagnostics: list[tuple[Any, ...]] = []
    nxt = first
    for facts, module in files:
        p = facts.path
        for r in _symbol_rows(facts, module):
            symbols.append((nxt, *r))
            search.append((nxt, r[2], r[4], identifier_words(r[4]), p, r[8], r[1], facts.language))
            nxt += 1
        tests.extend((p, t.name, t.line, t.framework, t.kind) for t in facts.tests)
        findings.extend((p, f.category, f.rule, f.message, f.line, f.evidence) for f in facts.findings)
        diagnostics.extend((d.path, d.line, d.col, d.code, d.message) for d in facts.diagnostics)
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
    conn.executemany("INSERT INTO tests VALUES (?,?,?,?,?)", tests)
    conn.executemany("INSERT INTO findings VALUES (?,?,?,?,?,?)", findings)
    conn.executemany("INSERT INTO diagnostics VALUES (?,?,?,?,?, 'extract')", diagnostics)


def _delete_per_file(conn: sqlite3.Connection, paths: list[str]) -> None:
    rows = [(p,) for p in paths]
    conn.executemany("DELETE FROM search WHERE rowid IN (SELECT id FROM symbols WHERE path = ?)", rows)
    for table in ("symbols", "tests", "findings", "facts_cache"):
        conn.executemany(f"DELETE FROM {table} WHERE path = ?", rows)
    conn.executemany("DELETE FROM diagnostics WHERE path = ? AND stage = 'extract'", rows)


def _file_row(i: int, path: str, f: FileFacts, model: Any) -> tuple[Any, ...]:
    """A file's `files` row."""
    purpose = model.purposes[path]
    return (i, path, P.folder_of(path), path.rsplit("/", 1)[-1], f.language, purpose.label, purpose.reason,
            model.module_of.get(path, ""), f.size, f.digest, f.lines, int(f.binary), f.binary_kind, f.generated,
            int(f.vendored), f.docstring, int(f.parse_ok), float(model.rank.get(path, 0.0) or 0.0),
            "" if f.binary else P.file_page(path), "" if f.binary else P.kw_page(path))


def _file_search_row(i: int, path: str, f: FileFacts, model: Any) -> tuple[Any, ...]:
    """A file's search row (rowid -i)."""
    module = model.module_of.get(path, "")
    return (-i, path.rsplit("/", 1)[-1], module or path, identifier_words(path, module), path, f.docstring, "file",
            f.language)


_INSERT_FILE = f"INSERT INTO files VALUES ({','.join('?' * 20)})"


def _refresh_files(conn: sqlite3.Connection, model: Any, changed: list[str]) -> None:
    """Rewrite the `files`, search and `imports` rows of edited files, keeping their ids, when the link stage's
    output was reused (`link.link_inputs`): only their own facts (size, digest, lines, docstring, the lines of
    their imports, their purpose's evidence) can differ."""
    conn.executemany("DELETE FROM imports WHERE path = ?", [(p,) for p in changed])
    conn.executemany(_INSERT_IMPORT, _import_rows(model, changed))
    for path in changed:
        found = conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
        f = model.files[path]
        conn.execute("DELETE FROM files WHERE id = ?", (found[0],))
        conn.execute(_INSERT_FILE, _file_row(found[0], path, f, model))
        conn.execute("DELETE FROM search WHERE rowid = ?", (-found[0],))
        conn.execute(_INSERT_SEARCH, _file_search_row(found[0], path, f, model))


_INSERT_IMPORT = "INSERT INTO imports VALUES (?,?,?,?,?,?,?,?,?,?,?)"


def _import_rows(model: Any, paths: Iterable[str]) -> Iterator[tuple[Any, ...]]:
    for path in paths:
        resolved = model.imports.get(path)
        if resolved is None:
            entries: list[tuple[Any, str, str, str]] = [(imp, "", "", "") for imp in model.files[path].imports]
        else:
            entries = [(r.imp, r.category, r.target, r.reason) for r in resolved]
        for imp, category, target, reason in entries:
            yield (path, imp.module, "\n".join(imp.names), imp.alias, imp.level, imp.line, imp.conditional,
                   int(imp.system), category, target, reason)


def _relinked_repo(conn: sqlite3.Connection, model: Any, changed: list[str], scan_diagnostics: list[Diagnostic],
                   link_state: dict[str, Any]) -> None:
    """`_whole_repo` for a build that linked again over the same files: what can change for a file that was not
    edited is its rank (PageRank moves everywhere with one edge) and its test links, so those are updated in
    place, the edited files' rows rewritten, and the rest (folders, names, search rows) kept."""
    _refresh_files(conn, model, changed)
    conn.executemany("UPDATE files SET rank = ? WHERE path = ?",
                     ((float(model.rank.get(p, 0.0) or 0.0), p) for p in model.files))
    old = set(conn.execute("SELECT target, test_path, names, via, cases FROM test_links"))
    new = set(_test_links(model))
    conn.executemany("DELETE FROM test_links WHERE target = ? AND test_path = ? AND names = ? AND via = ? AND "
                     "cases = ?", sorted(old - new))
    conn.executemany("INSERT INTO test_links VALUES (?,?,?,?,?)", sorted(new - old))
    _scan_and_link_state(conn, scan_diagnostics, link_state)


def _scan_and_link_state(conn: sqlite3.Connection, scan_diagnostics: list[Diagnostic],
                         link_state: dict[str, Any]) -> None:
    """The scan's diagnostics and the link stage's output, replaced (render diagnostics come with `commit`)."""
    conn.execute("DELETE FROM diagnostics WHERE stage = 'scan'")
    conn.executemany("INSERT INTO diagnostics VALUES (?,?,?,?,?, 'scan')",
                     [(d.path, d.line, d.col, d.code, d.message) for d in scan_diagnostics])
    conn.execute("DELETE FROM link_state")
    conn.execute("INSERT INTO link_state VALUES (1, ?)", (pickle.dumps(link_state, protocol=5),))


def _whole_repo(conn: sqlite3.Connection, model: Any, scan_diagnostics: list[Diagnostic],
                link_state: dict[str, Any]) -> None:
    """Rows that depend on the whole repository (the link stage): rewritten on every build, O(files)."""
    for table in ("files", "folders", "imports", "test_links"):
        conn.execute(f"DELETE FROM {table}")
    conn.execute("DELETE FROM search WHERE rowid < 0")
    # Rows are streamed (generators), not listed: this runs beside the render workers, whose memory it adds to.
    paths = sorted(model.files)
    conn.executemany(_INSERT_FILE, (_file_row(i, p, model.files[p], model) for i, p in enumerate(paths, 1)))
    conn.executemany(_INSERT_SEARCH, (_file_search_row(i, p, model.files[p], model)
                                      for i, p in enumerate(paths, 1)))
    folders = sorted(model.folders.items())
    conn.executemany("INSERT INTO folders VALUES (?,?,?,?,?,?,?,?)", (
        (i, path, P.folder_of(path) if path else None, path.rsplit("/", 1)[-1] if path else "", len(folder.files),
         len(folder.subfolders), len(model.subtree_files(path)) if path else len(model.files), "")
        for i, (path, folder) in enumerate(folders, 1)))
    conn.executemany(_INSERT_SEARCH, (
        (-(FOLDER_ROWID_BASE + i), path.rsplit("/", 1)[-1], path, identifier_words(path), path, "", "folder", "")
        for i, (path, _) in enumerate(folders, 1) if path))

    conn.executemany(_INSERT_IMPORT, _import_rows(model, paths))
    conn.executemany("INSERT INTO test_links VALUES (?,?,?,?,?)", _test_links(model))
    _scan_and_link_state(conn, scan_diagnostics, link_state)


def _fresh_db(path: Path) -> sqlite3.Connection:
    if path.exists():
        path.unlink()
    conn = _connect(path)
    conn.execute("PRAGMA journal_mode=OFF")  # a temp file renamed into place only when complete
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA page_size=8192")
    conn.execute("PRAGMA cache_size=-16384")  # 16 MB wrote PyTorch's index as fast as 64 MB, beside the workers
    conn.executescript(_TABLES)  # indexes come after the bulk insert (`_INDEXES`): much cheaper than per row
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
    return conn


def write_index(cfg: Config, model: Any, cache: FactsCache, extracted: Iterable[str],
                scan_diagnostics: list[Diagnostic], pages: dict[str, str], render_diagnostics: list[Diagnostic],
                link_state: dict[str, Any], link_reused: bool = False,
                blobs: dict[str, bytes] | None = None) -> str:
    """Store the build in the index in one go (`IndexWrite` in two steps). Returns "incremental" or "full"."""
    writer = IndexWrite(cfg, model, cache, extracted, scan_diagnostics, link_state, link_reused, blobs)
    writer.write()
    return writer.commit(pages, render_diagnostics)


class IndexWrite:
    """Storing a build in the index: in place (one transaction, only changed files' rows) when the previous
    index is usable, else a fresh file renamed over the old one.

    `write` stores every row the facts and the link stage give; it may run in a thread while the pages render
    in worker processes (on PyTorch it is 4 s of one core that would otherwise run after them). `commit` adds
    what rendering found (page count, page-name clashes) and makes the result the index; until then a reader
    sees the previous index, marked incomplete. `blobs` holds facts already pickled by the extract workers.
    When the build reused the stored link stage output (`FactsCache.link_state`), the rows made from it are
    kept and only the edited files' own rows change."""

    def __init__(self, cfg: Config, model: Any, cache: FactsCache, extracted: Iterable[str],
                 scan_diagnostics: list[Diagnostic], link_state: dict[str, Any], link_reused: bool = False,
                 blobs: dict[str, bytes] | None = None) -> None:
        self.cfg, self.model, self.cache = cfg, model, cache
        self.changed = sorted(set(extracted))
        self.scan_diagnostics, self.link_state, self.link_reused = scan_diagnostics, link_state, link_reused
        self.blobs = blobs or {}
        self.mode = ""
        self.seconds = 0.0  # spent in `write`
        self.error: BaseException | None = None
        self._conn: sqlite3.Connection | None = None
        self._tmp: Path | None = None

    def run(self) -> None:
        """`write`, keeping any exception for `commit` to raise (the thread's target)."""
        try:
            self.write()
        except BaseException as exc:  # re-raised by commit in the building thread
            self.error = exc

    def write(self) -> None:
        start = time.perf_counter()
        try:
            self._write()
        finally:
            self.seconds = time.perf_counter() - start

    def _write(self) -> None:
        cache, model = self.cache, self.model
        if cache.usable:
            conn = _connect(cache.path)
            try:
                conn.execute("BEGIN IMMEDIATE")
                deleted = sorted(set(cache.entries) - set(model.files))
                _delete_per_file(conn, sorted(set(self.changed) | set(deleted)))
                _write_rows(conn, model, self.changed, cache, self.blobs)
                self.blobs.clear()  # in the cache now; the pipeline is done with them
                if self.link_reused:
                    _refresh_files(conn, model, self.changed)
                elif not deleted and len(cache.entries) == len(model.files):
                    _relinked_repo(conn, model, self.changed, self.scan_diagnostics, self.link_state)
                else:
                    _whole_repo(conn, model, self.scan_diagnostics, self.link_state)
                self._conn, self.mode = conn, "incremental"
                return
            except sqlite3.DatabaseError as exc:
                _close(conn, rollback=True)
                log.warning("%s: cannot update (%s); rebuilding it", cache.path, exc)
            except BaseException:
                _close(conn, rollback=True)
                raise
        self._tmp = cache.path.with_name(INDEX_NAME + ".tmp")
        self._tmp.parent.mkdir(parents=True, exist_ok=True)  # the pages may not have made the folder yet
        conn = _fresh_db(self._tmp)
        try:
            conn.execute("BEGIN IMMEDIATE")
            _write_rows(conn, model, sorted(model.files), cache, self.blobs)
            self.blobs.clear()  # in the cache now; the pipeline is done with them
            _whole_repo(conn, model, self.scan_diagnostics, self.link_state)
            for statement in _INDEXES.splitlines():
                conn.execute(statement)
        except BaseException:
            _close(conn, rollback=True)
            raise
        self._conn, self.mode = conn, "full"

    def commit(self, pages: dict[str, str], render_diagnostics: list[Diagnostic]) -> str:
        """Finish what `write` began (raising what it raised); returns "incremental" or "full"."""
        if self.error is not None:
            raise self.error
        conn = self._conn
        if conn is None:
            raise RuntimeError("IndexWrite.commit before write")
        model = self.model
        meta = {
            "generator": "docatlas", "version": __version__, "schema_version": str(SCHEMA_VERSION),
            "cache_key": self.cache.key, "complete": "1", "start_ns": str(self.cache.start_ns),
            "project": model.name, "files": str(len(model.files)), "pages": str(len(pages)),
            "root": str(self.cfg.root), "binary": str(sum(1 for p in model.files if model.summary(p).binary)),
        }
        try:
            conn.execute("DELETE FROM diagnostics WHERE stage = 'render'")
            conn.executemany("INSERT INTO diagnostics VALUES (?,?,?,?,?, 'render')",
                             [(d.path, d.line, d.col, d.code, d.message) for d in render_diagnostics])
            conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", sorted(meta.items()))
            conn.execute("COMMIT")
            if self.mode == "full":
                conn.execute("PRAGMA optimize")
        except BaseException:
            _close(conn, rollback=True)
            raise
        conn.close()
        self._conn = None
        if self._tmp is not None:
            os.replace(self._tmp, self.cache.path)
            self.cache.path.with_name(INDEX_NAME + "-journal").unlink(missing_ok=True)
        return self.mode

    def abort(self) -> None:
        """Leave the index as it was (the build stopped before its pages were done)."""
        if self._conn is not None:
            _close(self._conn, rollback=True)
            self._conn = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


def _close(conn: sqlite3.Connection, rollback: bool) -> None:
    try:
        if rollback and conn.in_transaction:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


def _write_rows(conn: sqlite3.Connection, model: Any, changed: list[str], cache: FactsCache,
                blobs: dict[str, bytes]) -> None:
    """The changed files' own rows and cached facts."""
    first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM symbols").fetchone()[0]
    _per_file(conn, ((model.files[p], model.module_of.get(p, "")) for p in changed), first)

    def cached() -> Iterator[tuple[Any, ...]]:  # one at a time: the pickled facts of PyTorch are 35 MB
        for path in changed:
            f = model.files[path]
            if not any(d.code == "DA101" for d in f.diagnostics):  # unreadable: the next build tries again
                size, mtime = cache.stats.get(path, (f.size, 0))
                summary = pickle.dumps(model.summary(path), protocol=5)
                yield path, size, mtime, f.digest, blobs.get(path) or pickle_facts(f), summary

    conn.executemany("INSERT OR REPLACE INTO facts_cache VALUES (?,?,?,?,?,?)", cached())
    conn.executemany("UPDATE facts_cache SET size = ?, mtime_ns = ? WHERE path = ?",
                     [(s, m, p) for p, (s, m) in sorted(cache.restat.items())])


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
_SYM_COLS = ("s.path, s.line, s.kind, s.name, s.fqname, s.summary, s.signature, f.language, s.definition, "
             "f.purpose = 'test', f.rank")
_FILE_COLS = "f.path, 0, 'file', f.name, f.module, f.docstring, '', f.language, 1, f.purpose = 'test', f.rank"
_FOLDER_COLS = "d.path, 0, 'folder', d.name, d.path, d.summary, '', '', 1, 0, 0.0"


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
    tier: definitions before declarations, non-test files first, then the link stage's rank, then shorter."""
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
        return sorted(rows, key=lambda r: (q not in (r[3], r[4]) and not r[3].startswith(q), -r[8], r[9], -r[10],
                                           len(r[4]), r[0], r[1], r[2], r[4]))

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
    sym_order = "ORDER BY s.definition DESC, f.purpose = 'test', f.rank DESC"
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
    meta = _read_meta(conn)
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

    meta = _read_meta(conn)
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


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows without build-specific ids and stats, sorted: two indexes of the same input compare
    equal whether they were built in one go or incrementally (used by the tests)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    skip = {"files": {"id"}, "folders": {"id"}, "symbols": {"id"}, "facts_cache": {"mtime_ns", "facts", "summary"},
            "link_state": {"state"}}
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                 "'search%' AND name != 'meta' ORDER BY name").fetchall():
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] not in skip.get(table, set())]
        out[table] = sorted(conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall(), key=repr)
    out["search"] = sorted(conn.execute("SELECT name, qualname, words, path, summary, kind, lang FROM search"),
                           key=repr)
    return out


__all__ = ["INDEX_NAME", "SCHEMA_VERSION", "FactsCache", "Hit", "IndexUnavailable", "IndexWrite", "LazyFacts",
           "QueryError", "cache_key", "dump", "export_records", "identifier_words", "open_index", "search", "show",
           "stats", "write_index"]
