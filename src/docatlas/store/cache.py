"""The facts cache: each file's extracted facts, kept with the stat and digest they were taken from, so a
rebuild reads and extracts only what changed.

It lives in its own file (`store.schema.cache_path`, `.docatlas-cache/` in the output folder), not in the
published index: on PyTorch the pickled facts and link state were 75 MB of a 228 MB index. The index's `meta`
(cache key, completeness, build start) still decides whether the cache may be used, and the cache's own
`meta.start_ns` must be the index's: a cache left by another build than the index's is not trusted."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import marshal
import os
import pickle
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from docatlas.config import Config
from docatlas.fingerprint import code_fingerprint
from docatlas.keyed import Keyed
from docatlas.model import Diagnostic, FileFacts, ScannedFile
from docatlas.store.lazyfacts import CachedBlobs
from docatlas.store.schema import (
    SCHEMA_VERSION,
    cache_path,
    check,
    connect,
    index_path,
    read_meta,
    recover,
    transaction,
)
from docatlas.summary import FileSummary

log = logging.getLogger(__name__)

# A file whose mtime lies this close to (or after) the start of the build that cached it may have changed
# again within the file system's timestamp granularity ("racy" in git's words): its digest is re-checked.
RACY_NS = 2_000_000_000


def _digest(options: dict[str, Any]) -> str:
    return hashlib.sha1(json.dumps(options, sort_keys=True).encode()).hexdigest()


def facts_key(cfg: Config) -> str:
    """What one file's cached facts depend on besides its bytes: docatlas's code, the index schema and the
    largest file it reads. Another key means every file is extracted again."""
    return code_fingerprint() + ":" + _digest({"max_file_bytes": cfg.max_file_bytes, "schema": SCHEMA_VERSION})


def output_key(cfg: Config) -> str:
    """The options that change the output but not the facts: which files the scan leaves out, and the page
    options. Another key means every page is looked at again (its signature decides whether it is rewritten),
    never that a file is extracted again."""
    return _digest({"exclude": list(cfg.exclude), "embed_source": cfg.embed_source,
                    "max_embed_bytes": cfg.max_embed_bytes, "head_lines": cfg.head_lines,
                    "project_name": cfg.name, "list_limit": cfg.list_limit,
                    "llms_full": cfg.llms_full_bytes if cfg.llms_full else 0})


def pickle_facts(facts: FileFacts) -> bytes:
    """A file's facts as the facts cache stores them."""
    return pickle.dumps(facts, protocol=5)


# -- the facts cache ----------------------------------------------------------------------------------------
@dataclass
class FactsCache:
    """The previous build's per-file facts, keyed by path with the stat and digest they were taken from."""

    path: Path  # the index
    key: str  # `facts_key`: the cached facts are used only when the last build had the same
    output_key: str = ""  # `output_key`: a build with the same can skip pages it need not look at
    entries: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # path -> (size, mtime_ns, digest)
    meta: dict[str, str] = field(default_factory=dict)
    usable: bool = False  # the previous index exists, is readable, and was built with the same key
    start_ns: int = field(default_factory=time.time_ns)
    restat: dict[str, tuple[int, int]] = field(default_factory=dict)  # same digest, new stat: update the cache
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (size, mtime_ns) from this scan
    reason: str = ""
    file: Path = Path()  # the cache file (`schema.cache_path`), beside the index unless given
    # the parts of the link state as `link_state` read them (`store_link_state` rewrites only changed ones)
    stored_parts: dict[str, Any] = field(default_factory=dict, repr=False)
    # the same by what they hold: each field of the state (a sharded one whole) and `refs.<field>` of its references
    read_parts: dict[str, Any] = field(default_factory=dict, repr=False)
    _blobs: CachedBlobs | None = field(default=None, init=False, repr=False)  # (`blobs`: one for the build)

    def __post_init__(self) -> None:
        if self.file == Path():
            self.file = cache_path(self.path.parent)

    def _read(self) -> sqlite3.Connection:
        return _read_mapped(self.file)

    @classmethod
    def load(cls, cfg: Config, full: bool = False) -> FactsCache:
        """Read the cache's keys (not the facts): cheap even for a huge repository."""
        cache = cls(path=index_path(cfg.output), key=facts_key(cfg), output_key=output_key(cfg),
                    file=cache_path(cfg.output))
        if full:
            cache.reason = "--full"
            return cache
        if not cache.path.exists():
            cache.reason = "no previous index"
            return cache
        try:
            recover(cache.path)  # a killed build's hot journal: rolled back before the read-only look
            conn = sqlite3.connect(f"{cache.path.as_uri()}?mode=ro", uri=True)
            try:
                problem = check(conn)
                if not problem:
                    cache.meta = read_meta(conn)
                    if cache.meta.get("cache_key") != cache.key:
                        problem = "built by another docatlas version or with other options"
                if problem:
                    cache.reason = problem
                    log.warning("%s: %s; rebuilding it", cache.path, problem)
                    return cache
            finally:
                conn.close()
            if not cache.file.is_file():
                cache.reason = "no facts cache"
                cache.meta = {}
                return cache
            conn = cache._read()
            try:
                token = conn.execute("SELECT value FROM meta WHERE key = 'start_ns'").fetchone()
                if token is None or token[0] != cache.meta.get("start_ns"):
                    cache.reason = "the facts cache belongs to another build than the index"
                    cache.meta = {}
                    log.warning("%s: %s; rebuilding it", cache.file, cache.reason)
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

    @property
    def same_output_options(self) -> bool:
        """Whether the last build had the same scan and page options (`output_key`) as this one."""
        return self.usable and self.meta.get("output_key") == self.output_key

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

    def facts(self, paths: Iterable[str], only: Collection[str] | None = None) \
            -> tuple[dict[str, bytes], dict[str, FileSummary]]:
        """The cached facts of `paths` (all of them known), still pickled (`LazyFacts` unpickles on use), or
        only those of `only` (the others read on use, `blobs`), and the summaries of all `paths`."""
        wanted = set(paths)
        blobs: dict[str, bytes] = {}
        summaries: dict[str, FileSummary] = {}
        if not wanted:
            return blobs, summaries
        conn = self._read()
        try:
            if only is None:
                for path, blob, summary in conn.execute("SELECT path, facts, summary FROM facts_cache"):
                    if path in wanted:
                        blobs[path] = blob
                        summaries[path] = pickle.loads(summary)
            else:
                summaries = {path: pickle.loads(summary) for path, summary in
                             conn.execute("SELECT path, summary FROM facts_cache") if path in wanted}
                blobs = self.blobs().many(only)
        finally:
            conn.close()
        return blobs, summaries

    def blobs(self) -> CachedBlobs:
        """The reader of files' cached facts one at a time, as this build found them (`store.lazyfacts`)."""
        if self._blobs is None:
            self._blobs = CachedBlobs(self.file, {p: digest for p, (_, _, digest) in self.entries.items()})
        return self._blobs

    def unchanged(self, hits: list[str], todo: list[ScannedFile], pages: dict[str, str],
                  intact: Callable[[], bool]) -> bool:
        """Whether the last complete build already produced exactly this output: same files, same bytes, same
        code and options, and every page it wrote still there (`intact`). Then a rebuild has nothing to do."""
        if not self.usable or todo or self.meta.get("complete") != "1" or len(hits) != len(self.entries):
            return False
        if self.meta.get("pages") != str(len(pages)) or not pages or not self.same_output_options:
            return False
        return intact()

    def mark_dirty(self) -> None:
        """Before pages change: the index no longer describes the pages until the build commits a new one."""
        if not self.usable:
            return
        try:
            conn = connect(self.path)
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
            conn = connect(self.path)
            try:
                conn.execute("ATTACH DATABASE ? AS cache", (str(self.file),))
                with transaction(conn):  # both files in one transaction: their start_ns stay paired
                    conn.executemany("UPDATE facts_cache SET size = ?, mtime_ns = ? WHERE path = ?",
                                     [(s, m, p) for p, (s, m) in sorted(self.restat.items())])
                    for db in ("main", "cache"):
                        conn.execute(f"INSERT OR REPLACE INTO {db}.meta(key, value) VALUES ('start_ns', ?)",
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

    def link_state(self, prefetch: bool = True) -> dict[str, Any] | None:
        """The last build's link stage output (`link.link_state`), or None when there is none to trust. What
        was read is kept (`stored_parts`) so that the next store rewrites only the parts that changed. Without
        `prefetch`, the references into each file are read on use too (`prefetch_rows` reads them before a
        render that needs them all)."""
        if not self.usable or not self.pages_trusted:
            return None
        conn = self._read()
        try:
            row = conn.execute("SELECT state FROM link_state WHERE id = 1").fetchone()
            parts = conn.execute("SELECT name, data FROM link_parts").fetchall() \
                if row is not None and row[0] == _IN_PARTS else []
        except sqlite3.OperationalError:  # no `link_parts` table: nothing to trust
            return None
        finally:
            conn.close()
        if row is None:
            return None
        if row[0] != _IN_PARTS:
            return None
        loaded = {name: pickle.loads(data) for name, data in parts}
        whole: dict[str, Any] = {k: v for k, v in loaded.items() if _SHARD not in k}
        whole.update(_unsharded(loaded))
        state: dict[str, Any] = {k: v for k, v in whole.items() if "." not in k}
        refs = state.get("refs")
        if refs is not None:
            for name, value in whole.items():
                if name.startswith("refs."):
                    setattr(refs, name[5:], value)
        self.stored_parts = {**loaded, **{name: whole[name] for name in _SHARDED if name in whole}}  # (`_sharded`)
        self.read_parts = {**state, **{k: v for k, v in whole.items() if k.startswith("refs.")}}
        if refs is not None and hasattr(refs, "join"):  # its per-file parts, read on use (`store_link_state`)
            refs.join({kind: Rows(self.file, kind, prefetch=prefetch and kind in _PREFETCH)
                       for kind in _row_kinds(refs)})
        return state


# Reads of most of the cache at once (facts, summaries, the link state's parts, the references into each file) go
# through a memory map instead of SQLite's page cache (PyTorch: 83 MB of facts), on connections that read once and
# close before anything writes the cache in this build.
_MMAP_BYTES = 1 << 30


def _read_mapped(file: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{file.as_uri()}?mode=ro", uri=True)
    conn.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
    return conn


# -- the link state -----------------------------------------------------------------------------------
# The link stage's output is one pickled row, except the parts of the symbol references that grow with the
# repository (each file's references, the references into each file, C-family candidates: 50 of PyTorch's 64 MB):
# those are one row per file (`link_rows`), marshalled, so that an edit reads and writes only the rows of the
# files it resolves again. The references into each file are read whole (one query, unmarshalled on use)
# because render workers read them: a worker never queries the cache while the index writer holds it.
REF_ROWS = ("CREATE TABLE IF NOT EXISTS cache.link_rows(kind TEXT NOT NULL, path TEXT NOT NULL, "
            "data BLOB NOT NULL, PRIMARY KEY (kind, path)) WITHOUT ROWID")
# Each row's key alone, read by every rebuild (`Rows`): without it, listing them read the leaf pages of the rows
# themselves (PyTorch: 94 MB of references, 57 ms for the three kinds' 16,939 keys; 10 ms so).
REF_KEYS = "CREATE INDEX IF NOT EXISTS cache.link_rows_keys ON link_rows(kind)"
# The references into each file are read by every page that lists its users: all of them at once before the render
# workers fork (`Rows(prefetch=True)`), so that no worker reads the cache while the build writes it, unless the few
# pages of a small edit read the handful they need (PyTorch: 9 of 3,992 rows, 35 MB; `link_state(prefetch=False)`,
# beside facts read on use, `store.lazyfacts`, whose write keeps its pages in memory until it commits).
_PREFETCH = frozenset({"incoming"})


def prefetch_rows(state: Mapping[str, Any] | None) -> None:
    """Read at once the rows `link_state(prefetch=False)` left to be read on use (before a whole render)."""
    refs = state.get("refs") if state is not None else None
    for kind in _PREFETCH:
        rows = getattr(refs, kind, None)
        if isinstance(rows, Rows):
            rows.fetch_all()


def _row_kinds(refs: Any) -> tuple[str, ...]:
    return tuple(refs.split()[1])


# The rest is stored as one pickled row per part (`link_parts`): each field of the state, and each field of the
# references' skeleton as `refs.<field>`. A rebuild that reused the link stage changes a few: given the parts
# it read (`STORED`, from `FactsCache.stored_parts`), only the parts that differ are written again (on PyTorch
# the whole pickle was 31 MB, written on every edit).
PARTS = "CREATE TABLE IF NOT EXISTS cache.link_parts(name TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID"
STORED = "__stored__"  # key of a state dict under which the caller gives the parts it read
_IN_PARTS = b"parts"  # `link_state.state` when the state is in `link_parts`


def store_link_state(conn: sqlite3.Connection, state: dict[str, Any], whole: bool) -> None:
    """Store `link.link_state` in the writer's transaction (the cache attached as `cache`): the per-file parts
    of its references (`RefIndex.split`) as rows, only the changed ones when every part says which changed
    (`link.references.Overlay`: `changes`, `removed`) and `whole` is false, the rest as one pickle per part,
    only the parts that differ from those read (`state[STORED]`) unless `whole`."""
    stored: Mapping[str, Any] | None = state.get(STORED)
    state = {k: v for k, v in state.items() if k != STORED}
    refs = state.get("refs")
    conn.execute(REF_ROWS)
    conn.execute(REF_KEYS)
    conn.execute(PARTS)
    if refs is not None and hasattr(refs, "split"):
        skeleton, parts = refs.split()
        state = {**state, "refs": skeleton}
        whole = whole or any(getattr(rows, "changes", None) is None for rows in parts.values())
        if whole:
            conn.execute("DELETE FROM cache.link_rows")
        for kind, rows in parts.items():
            # `references.Packed` holds its values marshalled already (`blobs`): stored as they are
            packed: Mapping[str, bytes] | None = getattr(rows, "blobs", None)
            if whole:
                blobs: Iterable[tuple[str, bytes]] = ((p, packed[p] if packed is not None else marshal.dumps(rows[p]))
                                                      for p in sorted(rows))
            else:
                changes: dict[str, Any] = getattr(rows, "changes")  # noqa: B009 (an Overlay, not a store type)
                gone = sorted({*getattr(rows, "removed"), *changes})  # noqa: B009
                conn.executemany("DELETE FROM cache.link_rows WHERE kind = ? AND path = ?", ((kind, p) for p in gone))
                blobs = ((p, marshal.dumps(v)) for p, v in sorted(changes.items()))
            conn.executemany("INSERT INTO cache.link_rows VALUES (?, ?, ?)", ((kind, p, b) for p, b in blobs))
    named = {k: v for k, v in state.items() if k != "refs"}
    skeleton = state.get("refs")
    if skeleton is not None and dataclasses.is_dataclass(skeleton):
        split = [f.name for f in dataclasses.fields(skeleton)]
        named["refs"] = dataclasses.replace(cast(Any, skeleton), **dict.fromkeys(split))
        named.update({f"refs.{name}": getattr(skeleton, name) for name in split})
    elif skeleton is not None:
        named["refs"] = skeleton
    named = _sharded(named, stored)
    for name in _KEYED:  # (after a full link, plain dicts)
        value = named.get(name)
        if value is not None and not isinstance(value, Keyed):
            named[name] = Keyed.of(value)
    if whole or stored is None:
        conn.execute("DELETE FROM cache.link_parts")
        changed = sorted(named)
    else:
        changed = sorted(k for k, v in named.items() if k == "refs" or not same_part(stored.get(k, MISSING_PART), v))
        gone = sorted(set(stored) - set(named) - set(_SHARDED))
        conn.executemany("DELETE FROM cache.link_parts WHERE name = ?", ((k,) for k in gone))
    conn.executemany("INSERT OR REPLACE INTO cache.link_parts VALUES (?, ?)",
                     ((k, pickle.dumps(named[k], protocol=5)) for k in changed))
    conn.execute("DELETE FROM cache.link_state")
    conn.execute("INSERT INTO cache.link_state VALUES (1, ?)", (_IN_PARTS,))


MISSING_PART = object()  # what a part absent from the last build's state compares as (`same_part`)
# Parts kept in shards: a dict part whose entries an edit changes a few of (each edited file's imports, their lines
# made again; the references' faces of the edited files, and the C-family definitions of the names they define) is
# stored as `SHARDS` pickles by a hash of the key, and its keys in order, so that a rebuild writes again only the
# shards holding a changed entry (PyTorch's imports: 6 MB, 0.3-0.6 s to pickle whole on an edit that added an
# import; a function added to a .py and a .cu file wrote the faces and C definitions whole, 1.8 and 5.6 MB).
_SHARDED = ("refs.interfaces", "refs.c_defs")
# Parts read per file by the pages that show it, kept as one pickle per file (`keyed.Keyed`): a rebuild reads each
# as a dict of bytes, and unpickles only the values of the pages it renders (PyTorch: related files 41 ms whole,
# 9 ms so; the possible users of C-family files 31 and 2 ms; test links 14 and 2 ms; C declaration pairs 9 and 1).
_KEYED = ("imports", "related", "tests_of", "c_pairs", "refs.possible")
_SHARD = "#"
SHARDS = 32


def _sharded(named: dict[str, Any], stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """`named` with each part of `_SHARDED` that is a dict replaced by its shards and its keys (`_unsharded`). A part
    that is the very dict read (`stored`, as `FactsCache.link_state` keeps it) takes the shards read (PyTorch's
    C-family definitions: 39,810 names hashed again on every edit of a Python file, 30 ms)."""
    for name in _SHARDED:
        value = named.get(name)
        if type(value) is not dict:
            continue
        del named[name]
        read = [f"{name}{_SHARD}{i:02}" for i in range(SHARDS)] + [f"{name}{_SHARD}keys"]
        if stored is not None and stored.get(name) is value and all(k in stored for k in read):
            named.update({k: stored[k] for k in read})
            continue
        shards: list[dict[str, Any]] = [{} for _ in range(SHARDS)]
        for key, item in value.items():
            shards[zlib.crc32(key.encode("utf-8", "surrogatepass")) % SHARDS][key] = item
        named[f"{name}{_SHARD}keys"] = tuple(value)
        named.update({f"{name}{_SHARD}{i:02}": shard for i, shard in enumerate(shards)})
    return named


def _unsharded(loaded: Mapping[str, Any]) -> dict[str, Any]:
    """The sharded parts of `loaded` (`_sharded`) whole again, their keys in the order they had."""
    out: dict[str, Any] = {}
    for name in _SHARDED:
        keys = loaded.get(f"{name}{_SHARD}keys")
        if keys is None:
            continue
        merged: dict[str, Any] = {}
        for i in range(SHARDS):
            merged.update(loaded.get(f"{name}{_SHARD}{i:02}", {}))
        out[name] = {key: merged[key] for key in keys}
    return out


def same_part(old: Any, new: Any) -> bool:
    """Whether a part is unchanged: the very object read (the usual case), else equal."""
    if old is new:
        return True
    try:
        return bool(old == new)
    except Exception:  # pragma: no cover - values that cannot be compared are written again
        return False


class Rows(Mapping[str, Any]):
    """One part of the stored link state, one row per file (`store_link_state`), read-only: every key is read
    at once, values on first use (`prefetch`: every row's bytes read at once, for processes forked later)."""

    def __init__(self, file: Path, kind: str, prefetch: bool = False) -> None:
        self._file, self._kind = file, kind
        self._values: dict[str, Any] = {}
        self._local = threading.local()
        self._pid = os.getpid()
        conn = _read_mapped(file) if prefetch else self._conn()
        try:
            if prefetch:
                self._blobs: dict[str, bytes] | None = dict(conn.execute(
                    "SELECT path, data FROM link_rows WHERE kind = ? ORDER BY path", (kind,)))
                self._keys = list(self._blobs)
            else:
                self._blobs = None
                self._keys = [p for (p,) in conn.execute(
                    "SELECT path FROM link_rows WHERE kind = ? ORDER BY path", (kind,))]
        finally:
            if prefetch:
                conn.close()
                self._local = threading.local()
        self._key_set = frozenset(self._keys)

    def fetch_all(self) -> None:
        """Every row's bytes read now (as `prefetch` does): no read of the cache file after this."""
        if self._blobs is None:
            conn = _read_mapped(self._file)
            try:
                self._blobs = dict(conn.execute("SELECT path, data FROM link_rows WHERE kind = ?", (self._kind,)))
            finally:
                conn.close()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._pid != os.getpid():
            self._pid = os.getpid()
            conn = self._local.conn = sqlite3.connect(f"{self._file.as_uri()}?mode=ro", uri=True, timeout=60)
        return conn

    def __getitem__(self, key: str) -> Any:
        found = self._values.get(key)
        if found is not None:
            return found
        if key not in self._key_set:
            raise KeyError(key)
        if self._blobs is not None:
            blob = self._blobs[key]
        else:
            blob = self._conn().execute("SELECT data FROM link_rows WHERE kind = ? AND path = ?",
                                        (self._kind, key)).fetchone()[0]
        found = self._values[key] = marshal.loads(blob)
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._key_set

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
