"""The index file itself: its schema and version, opening and checking it, and the words of its full-text search.

Why one SQLite file: programs (editors, retrieval pipelines, agents) query it without parsing Markdown, and the
CLI answers `search`/`show` from it in milliseconds. It is published with the pages, so it holds only what the
queries serve: the cache of extracted facts and the link stage's output live in a second file,
`.docatlas-cache/facts.sqlite` inside the output folder (a `.gitignore` there keeps it out of Git), so deleting
the output folder still resets everything.

Safety: a build changes the index in a single transaction (or writes a fresh file beside it and renames it
into place), so an interrupted build leaves the previous index usable. An index that cannot be read, has
another schema version or was built by another docatlas/options is rebuilt with a warning, never a crash.
The schema is documented in docs/index-schema.md; bump SCHEMA_VERSION when it changes.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import sqlite3
from pathlib import Path
from typing import Any

from docatlas.errors import DocatlasError
from docatlas.paths import CACHE_DIR as CACHE_DIR  # the store's names for them
from docatlas.paths import make_cache_dir as make_cache_dir
from docatlas.safetext import terminal

log = logging.getLogger(__name__)

INDEX_NAME = "docatlas.sqlite"
CACHE_NAME = "facts.sqlite"
SCHEMA_VERSION = 25
EXPORT_SCHEMA = "docatlas-export/1"
FOLDER_ROWID_BASE = 1 << 40  # FTS rowids: symbols > 0, files -id, folders -(BASE + id)
DEFINITION_COLUMNS = "{name qualname words}"
PY_LANGUAGES = ("python", "python-stub", "cython")  # a symbol's fqname is `files.module` + "." + its qualname


def text_hash(text: str) -> int:
    """`strings.hash` of a text, 32 bits: the first two bytes of its UTF-8 with the ASCII letters lower-cased
    (what `COLLATE NOCASE` folds), then 16 bits of BLAKE2b over all of those bytes. Texts equal under NOCASE
    share it; texts that begin alike are near each other, so a prefix is a range of it (`hash_range`). The
    index holds these 4-byte keys (`strings_hash`) instead of a B-tree over the whole texts; a lookup compares
    the text too, so two texts that share a key are never confused."""
    folded = _folded(text)
    return _lead(folded, b"\0") + int.from_bytes(hashlib.blake2b(folded, digest_size=2).digest(), "big") - _SIGN


def hash_range(prefix: str) -> tuple[int, int]:
    """The least and greatest `text_hash` of a text that begins with `prefix` under `COLLATE NOCASE`."""
    folded = _folded(prefix)
    return _lead(folded, b"\0") - _SIGN, _lead(folded, b"\xff") + 0xFFFF - _SIGN


def _folded(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass").lower()  # bytes.lower folds ASCII only, as NOCASE does


def _lead(folded: bytes, fill: bytes) -> int:
    return int.from_bytes(folded[:2].ljust(2, fill), "big") << 16


_SIGN = 1 << 31  # keys are stored signed: a SQLite integer in -2^31..2^31 takes 4 bytes


def text_is(alias: str) -> str:
    """`alias.text = ? COLLATE NOCASE` on `strings` as its index serves it; bind `text_args(text)`."""
    return f"{alias}.hash = ? AND {alias}.text = ? COLLATE NOCASE"


def text_args(text: str) -> list[Any]:
    """The arguments of one `text_is`: the text's hash, then the text."""
    return [text_hash(text), text]


def text_prefix(alias: str, ranged: bool) -> str:
    """`alias.text` begins with a query (`>= ? AND < ?`, COLLATE NOCASE) on `strings`: through the range of
    `strings_hash` the query's first two bytes give when `ranged`, else by reading every row in turn, which is
    cheaper when that range holds a large share of them (`prefix_ranged`); bind `prefix_args`."""
    within = f"{alias}.text >= ? COLLATE NOCASE AND {alias}.text < ? COLLATE NOCASE"
    return f"{alias}.hash BETWEEN ? AND ? AND {within}" if ranged else within


def prefix_args(query: str, high: str, ranged: bool) -> list[Any]:
    return [*hash_range(query), query, high] if ranged else [query, high]


def prefix_ranged(conn: sqlite3.Connection, query: str) -> bool:
    """Whether `strings_hash` serves a prefix search for `query`: its range holds under 1/16 of the strings
    (PyTorch: `te` begins 47,086 of 225,280, where the prefix `tes` took 94 ms through the index and 38 ms
    reading every row; `co` begins 3,968, and `Conv2d` took 4.5 ms through the index, 15 ms reading every row)."""
    low, high = hash_range(query)
    within = conn.execute("SELECT count(*) FROM strings WHERE hash BETWEEN ? AND ?", (low, high)).fetchone()[0]
    return bool(within * 16 < (conn.execute("SELECT max(id) FROM strings").fetchone()[0] or 0))


def fqname_is(query: str, alias: str = "") -> tuple[str, list[Any]]:
    """`symbols.fqname = ?` as the indexes serve it, and its arguments: a Python symbol's fqname is not stored
    (it is its file's module and its qualname), so the query is split at each `.` into a module (looked up by
    `files_module_nocase`) and a qualname; any other symbol's fqname is its qualname (`strings_hash`)."""
    a = f"{alias}." if alias else ""
    splits = [(query[:i], query[i + 1:]) for i, ch in enumerate(query) if ch == "." and 0 < i < len(query) - 1]
    parts = [_PY_SYMBOLS + f"m.module = ? COLLATE NOCASE AND {text_is('q')}"] * len(splits)
    parts.append(_OTHER_SYMBOLS + text_is("q"))
    return (f"{a}id IN ({' UNION ALL '.join(parts)})",
            [x for m, rest in splits for x in (m, *text_args(rest))] + text_args(query))


def fqname_prefix(query: str, high: str, ranged: bool = True) -> tuple[str, list[Any]]:
    """`fqname >= ? AND fqname < ?` (a prefix) on `symbols` as the indexes serve it: Python symbols by a
    module that begins with the query, or by a module the query begins with and a qualname prefix; the others
    by qualname (`text_prefix`: `ranged` is `prefix_ranged(conn, query)`)."""
    splits = [(query[:i], query[i + 1:]) for i, ch in enumerate(query) if ch == "." and i > 0]
    parts = [_PY_SYMBOLS + "m.module = ? COLLATE NOCASE AND q.text >= ? COLLATE NOCASE AND "
             "q.text < ? COLLATE NOCASE"] * len(splits)
    parts.append(_PY_SYMBOLS + "m.module >= ? COLLATE NOCASE AND m.module < ? COLLATE NOCASE")
    parts.append(_OTHER_SYMBOLS + text_prefix("q", ranged))
    args = [x for m, rest in splits for x in (m, rest, rest + high[len(query):])] + [query, high]
    args += prefix_args(query, high, ranged)
    return f"id IN ({' UNION ALL '.join(parts)})", args


def qualname_is(alias: str = "") -> str:
    """`symbols.qualname = ?` as the indexes serve it (the qualname is a `strings` id: `strings_hash`); bind
    `text_args(qualname)`."""
    return f"{alias}{'.' if alias else ''}id IN ({QUALNAME_IDS})"


def name_is(alias: str = "") -> str:
    """`symbols.name = ?` as the indexes serve it (`strings_hash`); bind `text_args(name)`."""
    return f"{alias}{'.' if alias else ''}id IN ({NAME_IDS})"


# resolved references to the definition (path ?1, qualname ?2, its `text_hash` ?3): `refs` counted from the
# tables under it, by the qualname's `strings` row (`strings_hash`) and the target file's uses of it
# (`ref_uses_target`)
USE_COUNT = ("SELECT coalesce(sum(r.n), 0) FROM strings q CROSS JOIN ref_uses u ON u.target = q.id "
             "CROSS JOIN ref_sites r ON r.use = u.id WHERE u.target_file = (SELECT id FROM files WHERE path = ?1) "
             "AND q.hash = ?3 AND q.text = ?2")
# `files.module = ?` as the one index on modules serves it (`files_module_nocase`, then the binary comparison):
# bind the module twice
MODULE_IS = "(module = ? COLLATE NOCASE AND module = ?)"
NAME_IDS = f"SELECT y.id FROM strings n JOIN symbol_rows y ON y.name = n.id WHERE {text_is('n')}"
QUALNAME_IDS = f"SELECT y.id FROM strings q JOIN symbol_rows y ON y.qualname = q.id WHERE {text_is('q')}"
_PY_SYMBOLS = ("SELECT y.id FROM files m JOIN symbol_rows y ON y.file = m.id JOIN strings q ON q.id = y.qualname "
               "WHERE m.language IN ('python', 'python-stub', 'cython') AND ")
# CROSS JOIN: `strings` first (by `strings_hash`, or read in turn for a wide prefix), then the qualname index
_OTHER_SYMBOLS = ("SELECT y.id FROM strings q CROSS JOIN symbol_rows y ON y.qualname = q.id "
                  "JOIN files m ON m.id = y.file "
                  "WHERE NOT (m.module != '' AND m.language IN ('python', 'python-stub', 'cython')) AND ")

_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE files(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, folder TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
    language TEXT NOT NULL, purpose TEXT NOT NULL, purpose_reason TEXT NOT NULL, module TEXT NOT NULL,
    size INTEGER NOT NULL, digest TEXT NOT NULL, lines INTEGER NOT NULL, binary INTEGER NOT NULL,
    binary_kind TEXT NOT NULL, generated TEXT NOT NULL, vendored INTEGER NOT NULL, docstring TEXT NOT NULL,
    parse_ok INTEGER NOT NULL, rank REAL NOT NULL, page_stem TEXT NOT NULL,
    page TEXT GENERATED ALWAYS AS (CASE WHEN binary THEN '' ELSE coalesce(nullif(page_stem, ''), path) || '_docs.md'
        END) VIRTUAL,
    kw_page TEXT GENERATED ALWAYS AS (CASE WHEN binary THEN '' ELSE coalesce(nullif(page_stem, ''), path) || '_kw.md'
        END) VIRTUAL);
CREATE INDEX files_name ON files(name);
CREATE INDEX files_module_nocase ON files(module COLLATE NOCASE);
CREATE TABLE folders(
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, parent TEXT, name TEXT NOT NULL COLLATE NOCASE,
    files INTEGER NOT NULL, subfolders INTEGER NOT NULL, subtree_files INTEGER NOT NULL, summary TEXT NOT NULL);
CREATE TABLE symbol_shapes(
    id INTEGER PRIMARY KEY, kind TEXT NOT NULL, decorators TEXT NOT NULL, bases TEXT NOT NULL, flags TEXT NOT NULL,
    definition INTEGER NOT NULL, macro TEXT NOT NULL, condition TEXT NOT NULL, bridge TEXT NOT NULL);
CREATE TABLE texts(id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE symbol_rows(
    id INTEGER PRIMARY KEY, file INTEGER NOT NULL, shape INTEGER NOT NULL, name INTEGER NOT NULL,
    qualname INTEGER NOT NULL, line INTEGER NOT NULL, end_line INTEGER NOT NULL, signature INTEGER NOT NULL,
    summary TEXT NOT NULL, parent NOT NULL);
CREATE INDEX symbol_rows_file ON symbol_rows(file);
CREATE INDEX symbol_rows_name ON symbol_rows(name);
CREATE INDEX symbol_rows_qualname ON symbol_rows(qualname);
CREATE VIEW symbols AS SELECT s.id AS id, f.path AS path, h.kind AS kind, n.text COLLATE NOCASE AS name,
    q.text COLLATE NOCASE AS qualname,
    CASE WHEN f.module != '' AND f.language IN ('python', 'python-stub', 'cython')
        THEN f.module || '.' || q.text ELSE q.text END COLLATE NOCASE AS fqname, s.line AS line,
    s.end_line AS end_line,
    CASE WHEN substr(g.text, 1, 2) = char(1, 1) THEN substr(g.text, 3)
        ELSE replace(g.text, char(1), n.text) END AS signature, s.summary AS summary,
    CASE typeof(s.parent) WHEN 'integer' THEN substr(q.text, 1, s.parent) ELSE s.parent END AS parent,
    h.decorators AS decorators, h.bases AS bases, h.flags AS flags, h.definition AS definition,
    h.macro AS macro, h.condition AS condition, h.bridge AS bridge,
    CASE WHEN f.module != '' AND f.language IN ('python', 'python-stub', 'cython')
        THEN f.module || '.' || q.text END COLLATE NOCASE AS fq
    FROM symbol_rows s LEFT JOIN files f ON f.id = s.file LEFT JOIN strings q ON q.id = s.qualname
    LEFT JOIN strings n ON n.id = s.name LEFT JOIN symbol_shapes h ON h.id = s.shape
    LEFT JOIN texts g ON g.id = s.signature;
CREATE TABLE import_rows(
    file INTEGER NOT NULL, module INTEGER NOT NULL, names INTEGER NOT NULL, alias INTEGER NOT NULL,
    level INTEGER NOT NULL, line INTEGER NOT NULL, conditional INTEGER NOT NULL, system INTEGER NOT NULL,
    category INTEGER NOT NULL, target INTEGER NOT NULL, reason INTEGER NOT NULL);
CREATE INDEX import_rows_file ON import_rows(file);
CREATE INDEX import_rows_target ON import_rows(target);
CREATE VIEW imports AS SELECT i.rowid AS rowid, f.path AS path, m.text AS module, n.text AS names,
    a.text AS alias, i.level AS level, i.line AS line, c.text AS conditional, i.system AS system,
    k.text AS category, coalesce(t.path, x.text, '') AS target, r.text AS reason
    FROM import_rows i LEFT JOIN files f ON f.id = i.file LEFT JOIN strings m ON m.id = i.module
    LEFT JOIN strings n ON n.id = i.names LEFT JOIN strings a ON a.id = i.alias
    LEFT JOIN strings c ON c.id = i.conditional LEFT JOIN strings k ON k.id = i.category
    LEFT JOIN files t ON t.id = i.target LEFT JOIN strings x ON x.id = -i.target
    LEFT JOIN strings r ON r.id = i.reason;
CREATE TABLE test_rows(
    file INTEGER NOT NULL, name INTEGER NOT NULL, line INTEGER NOT NULL, framework INTEGER NOT NULL,
    kind INTEGER NOT NULL);
CREATE INDEX test_rows_file ON test_rows(file);
CREATE VIEW tests AS SELECT f.path AS path, n.text AS name, t.line AS line, w.text AS framework,
    k.text AS kind FROM test_rows t LEFT JOIN files f ON f.id = t.file LEFT JOIN strings n ON n.id = t.name
    LEFT JOIN strings w ON w.id = t.framework LEFT JOIN strings k ON k.id = t.kind;
CREATE TABLE test_link_rows(
    target INTEGER NOT NULL, test INTEGER NOT NULL, names TEXT NOT NULL, via TEXT NOT NULL, cases TEXT NOT NULL);
CREATE INDEX test_link_rows_target ON test_link_rows(target);
CREATE INDEX test_link_rows_test ON test_link_rows(test);
CREATE VIEW test_links AS SELECT t.path AS target, x.path AS test_path, r.names AS names, r.via AS via,
    r.cases AS cases FROM test_link_rows r JOIN files t ON t.id = r.target JOIN files x ON x.id = r.test;
CREATE TABLE strings(id INTEGER PRIMARY KEY, text TEXT NOT NULL, hash INTEGER NOT NULL);
CREATE INDEX strings_hash ON strings(hash);
CREATE TABLE ref_uses(
    id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name INTEGER NOT NULL, target_file INTEGER NOT NULL,
    target INTEGER NOT NULL, target_line INTEGER NOT NULL);
CREATE INDEX ref_uses_target ON ref_uses(target_file, target);
CREATE TABLE ref_sites(
    use INTEGER NOT NULL, file INTEGER NOT NULL, n INTEGER NOT NULL, sites TEXT NOT NULL,
    PRIMARY KEY(use, file)) WITHOUT ROWID;
CREATE INDEX ref_sites_file ON ref_sites(file);
CREATE VIEW refs AS SELECT f.path AS path, json_extract(j.value, '$[0]') AS line,
    json_extract(j.value, '$[1]') AS col, k.text AS kind, e.text AS enclosing, n.text AS name,
    t.path AS target_path, q.text AS target, u.target_line AS target_line, f.purpose = 'test' AS test
    FROM ref_sites r JOIN ref_uses u ON u.id = r.use JOIN files t ON t.id = u.target_file
    LEFT JOIN files f ON f.id = r.file JOIN json_each(r.sites) j
    LEFT JOIN strings e ON e.id = json_extract(j.value, '$[2]')
    LEFT JOIN strings n ON n.id = u.name LEFT JOIN strings q ON q.id = u.target LEFT JOIN strings k ON k.id = u.kind;
CREATE TABLE cand_sets(
    id INTEGER NOT NULL, seq INTEGER NOT NULL, target_file INTEGER NOT NULL, target INTEGER NOT NULL,
    target_line INTEGER NOT NULL, PRIMARY KEY(id, seq)) WITHOUT ROWID;
CREATE INDEX cand_sets_target ON cand_sets(target_file, target);
CREATE TABLE cand_uses(
    id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name INTEGER NOT NULL, cands INTEGER NOT NULL,
    candidates INTEGER NOT NULL);
CREATE INDEX cand_uses_cands ON cand_uses(cands);
CREATE TABLE cand_sites(
    use INTEGER NOT NULL, file INTEGER NOT NULL, n INTEGER NOT NULL, sites TEXT NOT NULL,
    PRIMARY KEY(use, file)) WITHOUT ROWID;
CREATE INDEX cand_sites_file ON cand_sites(file);
CREATE VIEW ref_candidates AS SELECT f.path AS path, json_extract(j.value, '$[0]') AS line,
    json_extract(j.value, '$[1]') AS col, k.text AS kind, e.text AS enclosing, n.text AS name,
    t.path AS target_path, q.text AS target, c.target_line AS target_line, u.candidates AS candidates,
    f.purpose = 'test' AS test
    FROM cand_sites r JOIN cand_uses u ON u.id = r.use JOIN cand_sets c ON c.id = u.cands
    JOIN files t ON t.id = c.target_file LEFT JOIN files f ON f.id = r.file JOIN json_each(r.sites) j
    LEFT JOIN strings e ON e.id = json_extract(j.value, '$[2]') LEFT JOIN strings n ON n.id = u.name
    LEFT JOIN strings q ON q.id = c.target LEFT JOIN strings k ON k.id = u.kind;
CREATE TABLE finding_rows(
    file INTEGER NOT NULL, category INTEGER NOT NULL, rule INTEGER NOT NULL, message INTEGER NOT NULL,
    line INTEGER NOT NULL, evidence TEXT NOT NULL);
CREATE INDEX finding_rows_file ON finding_rows(file);
CREATE VIEW findings AS SELECT f.path AS path, c.text AS category, u.text AS rule, m.text AS message,
    r.line AS line, r.evidence AS evidence FROM finding_rows r LEFT JOIN files f ON f.id = r.file
    LEFT JOIN strings c ON c.id = r.category LEFT JOIN strings u ON u.id = r.rule
    LEFT JOIN strings m ON m.id = r.message;
CREATE TABLE diagnostics(
    path TEXT NOT NULL, line INTEGER NOT NULL, col INTEGER NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,
    stage TEXT NOT NULL);
CREATE INDEX diagnostics_path ON diagnostics(path);
CREATE VIRTUAL TABLE search USING fts5(
    name, qualname, words, path, summary, content = '', tokenize = 'unicode61');
INSERT INTO search(search, rank) VALUES ('rank', 'bm25(10.0, 4.0, 6.0, 2.0, 1.0)');
"""


# The private cache file, attached to the index's connection as `cache` while a build writes both in one
# transaction. `meta.start_ns` pairs it with the index: a cache whose build is not the index's is not used.
CACHE_TABLES = """
CREATE TABLE cache.meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE cache.facts_cache(
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, digest TEXT NOT NULL,
    facts BLOB NOT NULL, summary BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE cache.link_state(id INTEGER PRIMARY KEY, state BLOB NOT NULL);
"""


class IndexUnavailable(DocatlasError):
    """The index cannot be used for a query (missing, unreadable, or built by another schema)."""


class QueryError(DocatlasError):
    """A search query that cannot be run (nothing searchable in it)."""


# -- identifier-aware words ---------------------------------------------------------------------------------
_IDENT = re.compile(r"[A-Za-z0-9]+")
_UNICODE_WORD = re.compile(r"[^\W_]")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+[0-9]*")


def identifier_words(*texts: str) -> str:
    """Extra tokens for FTS: the CamelCase parts of every identifier (`RecompileTests` -> `recompile tests`).

    The unicode61 tokenizer already splits on `_`, `.`, `::` and `/`, so only what it keeps together is split
    here; words are lower-cased and de-duplicated in first-seen order so the column stays small.
    """
    return " ".join(dict.fromkeys(part for text in texts for segment in text.split(".")
                                  for part in _segment_parts(segment)))


@functools.lru_cache(maxsize=1 << 16)
def _segment_parts(segment: str) -> tuple[str, ...]:
    """The CamelCase parts of one dotted segment's identifiers, in order: `torch`, `nn`, `Conv2d` repeat on
    thousands of qualified names, so each is split once (`.` is never inside an identifier chunk)."""
    return tuple(part for chunk in _IDENT.findall(segment) for part in _camel_parts(chunk))


@functools.lru_cache(maxsize=1 << 16)
def _camel_parts(chunk: str) -> tuple[str, ...]:
    """Lower-cased CamelCase parts of one identifier chunk, () when it has only one (names repeat a lot)."""
    parts = _CAMEL.findall(chunk)
    return tuple(p.lower() for p in parts) if len(parts) > 1 else ()


def search_words(fqname: str, bases: list[str], c_fields: tuple[str, str, str] = ("", "", "")) -> str:
    """The `words` column of a symbol's search row: its qualified name's CamelCase parts and the last part of
    each base class (`Adam(Optimizer)` is found by `adam optimizer`); for C and C++, the identifiers of its
    export or registration macro, its preprocessor condition and its bridge (a binding's C function, the
    Python names a function is bound as), so `builtin_abs` finds the binding `abs` and `abs` the function."""
    names = list(dict.fromkeys(b.split("[", 1)[0].rsplit(".", 1)[-1] for b in bases if b))
    macro, condition, bridge = c_fields
    c_names = [w for w in _C_WORD.findall(f"{macro} {condition} {bridge}") if w not in _DIRECTIVE_WORDS]
    words = identifier_words(fqname, *names, *c_names)
    return " ".join(dict.fromkeys([*words.split(), *(n.lower() for n in names), *c_names]))


_C_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_:.]*")
_DIRECTIVE_WORDS = frozenset(("if", "ifdef", "ifndef", "elif", "else", "of", "defined", "extern"))


MAX_QUERY_CHARS = 400  # longer queries are refused with a message (a 10,000-character one took 25 s)
MAX_QUERY_TERMS = 12


def check_query(query: str) -> None:
    """QueryError for a query too long or with too many terms to be a search (the message says the limits)."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(query):,} characters; at most {MAX_QUERY_CHARS}): search for a "
                         f"name or a few words")
    if len(query.split()) > MAX_QUERY_TERMS:
        raise QueryError(f"too many words in the query ({len(query.split())}; at most {MAX_QUERY_TERMS})")


def fts_query(query: str) -> str:
    """A safe FTS5 expression: every whitespace-separated term quoted (so no user text is FTS syntax) and
    matched as a prefix, all terms required. Raises QueryError when nothing searchable is left."""
    check_query(query)
    terms = []
    for raw in query.split():
        if not _UNICODE_WORD.search(raw):  # `größe`, `変数`: unicode61 indexes letters of every script
            continue
        terms.append('"' + raw.replace('"', '""') + '"*')
    if not terms:
        raise QueryError(f"nothing to search for in {terminal(repr(query))}: give a name, a word or a path")
    return " AND ".join(terms)



# -- opening ------------------------------------------------------------------------------------------------
def index_path(output: Path) -> Path:
    return output / INDEX_NAME


def cache_path(output: Path) -> Path:
    return output / CACHE_DIR / CACHE_NAME


_INDEX = ("CREATE INDEX", "CREATE UNIQUE INDEX")  # made after a fresh index's rows: sorted once, pages full
INDEXES = "\n".join(line for line in _SCHEMA.splitlines() if line.startswith(_INDEX))
TABLES = "\n".join(line for line in _SCHEMA.splitlines() if not line.startswith(_INDEX))


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
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


def recover(path: Path) -> None:
    """Roll back what a killed build left half-done (a hot `-journal`): a read-only connection cannot, and
    would fail with "attempt to write a readonly database". SQLite does it on the first read of a writable
    connection, and only when no live process holds the database's write lock."""
    journal = path.with_name(path.name + "-journal")
    try:
        if not journal.is_file() or journal.stat().st_size == 0:
            return
        conn = sqlite3.connect(str(path), timeout=5)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return  # not writable here: opening it says what is wrong


def open_index(output: Path) -> sqlite3.Connection:
    """A read-only connection for queries; IndexUnavailable with a helpful message when there is no usable index."""
    path = index_path(output)
    if not path.is_file():
        raise IndexUnavailable(f"no index at {path}: run `docatlas build` first (or pass -o/--output)")
    recover(path)
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

