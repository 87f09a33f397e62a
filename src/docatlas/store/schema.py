"""The index file itself: its schema and version, opening and checking it, and the words of its full-text search.

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
import logging
import re
import sqlite3
from pathlib import Path

from docatlas.errors import DocatlasError

log = logging.getLogger(__name__)

INDEX_NAME = "docatlas.sqlite"
SCHEMA_VERSION = 5
EXPORT_SCHEMA = "docatlas-export/1"
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
CREATE TABLE refs(
    path TEXT NOT NULL, line INTEGER NOT NULL, col INTEGER NOT NULL, kind TEXT NOT NULL, enclosing TEXT NOT NULL,
    name TEXT NOT NULL, target_path TEXT NOT NULL, target TEXT NOT NULL, target_line INTEGER NOT NULL,
    test INTEGER NOT NULL);
CREATE INDEX refs_path ON refs(path);
CREATE INDEX refs_target ON refs(target_path, target);
CREATE TABLE ref_candidates(
    path TEXT NOT NULL, line INTEGER NOT NULL, col INTEGER NOT NULL, kind TEXT NOT NULL, enclosing TEXT NOT NULL,
    name TEXT NOT NULL, target_path TEXT NOT NULL, target TEXT NOT NULL, target_line INTEGER NOT NULL,
    candidates INTEGER NOT NULL, test INTEGER NOT NULL);
CREATE INDEX ref_candidates_path ON ref_candidates(path);
CREATE INDEX ref_candidates_target ON ref_candidates(target_path, target);
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



# -- opening ------------------------------------------------------------------------------------------------
def index_path(output: Path) -> Path:
    return output / INDEX_NAME


INDEXES = "\n".join(line for line in _SCHEMA.splitlines() if line.startswith("CREATE INDEX"))
TABLES = "\n".join(line for line in _SCHEMA.splitlines() if not line.startswith("CREATE INDEX"))


def connect(path: Path) -> sqlite3.Connection:
    # check_same_thread=False: an `IndexWrite` may be written in a thread and committed in the building one
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def read_meta(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def check(conn: sqlite3.Connection) -> str:
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
        problem = check(conn)
    except sqlite3.DatabaseError as exc:
        raise IndexUnavailable(f"{path} is unreadable ({exc}); run `docatlas build` to rebuild it") from exc
    if problem:
        conn.close()
        raise IndexUnavailable(f"{path} has {problem}; run `docatlas build` to rebuild it")
    return conn

class transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception (autocommit connections)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")



def close_conn(conn: sqlite3.Connection, rollback: bool) -> None:
    try:
        if rollback and conn.in_transaction:
            conn.execute("ROLLBACK")
    finally:
        conn.close()

