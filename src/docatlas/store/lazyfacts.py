"""Every file's facts for one build, the cached ones unpickled, and after a small edit read from the facts cache,
only when something asks for them.

A rebuild after an edit of a few files renders a few pages: on PyTorch a body edit unpickled the facts of 430
of 10,770 files (the edited files' folders, the guide's entry points). Reading every file's pickled facts first
(86 MB, 0.10-0.14 s, and as many page faults again for the copies) cost more than reading those 430 one by one."""

from __future__ import annotations

import os
import pickle
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from docatlas.model import FileFacts


def unpickle_facts(blob: bytes) -> FileFacts:
    facts: FileFacts = pickle.loads(blob)
    return facts


_ONE_PASS = 256  # blobs read in one pass over the cache from this many on (one by one: 10-20 µs a file)


class CacheChanged(RuntimeError):
    """A file's cached facts are no longer in the cache as this build found them (another build replaced it)."""


class CachedBlobs:
    """Reads files' pickled facts from the facts cache on demand, each checked against the digest this build
    found it with. Works in forked processes (each opens its own connection).

    Safe beside the build's own write of the cache only while that write spills nothing to the file before it
    commits (`IndexWrite(readers=True)`): a spilled page takes the file's exclusive lock, and a reader would wait
    for a commit that waits for the render it is part of."""

    timeout = 60.0  # seconds a read waits for a lock (another build's commit)

    def __init__(self, file: Path, digests: Mapping[str, str]) -> None:
        self._file = file
        self._digests = digests
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():
            self._pid = os.getpid()
            self._conn = sqlite3.connect(f"{self._file.as_uri()}?mode=ro", uri=True, timeout=self.timeout)
        return self._conn

    def __call__(self, path: str) -> bytes:
        row = self._connection().execute("SELECT facts FROM facts_cache WHERE path = ? AND digest = ?",
                                         (path, self._digests[path])).fetchone()
        if row is None:
            raise CacheChanged(f"{self._file}: the cached facts of {path} changed during the build")
        blob: bytes = row[0]
        return blob

    def many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The blobs of `paths`: a few one by one, more in one pass over the cache (every file's, for a build
        that links everything)."""
        wanted = set(paths)
        if len(wanted) < _ONE_PASS:
            return {p: self(p) for p in sorted(wanted)}
        found = {p: blob for p, digest, blob in
                 self._connection().execute("SELECT path, digest, facts FROM facts_cache")
                 if p in wanted and self._digests[p] == digest}
        missing = wanted - set(found)
        if missing:
            raise CacheChanged(f"{self._file}: the cached facts of {min(missing)} changed during the build")
        return found


class LazyFacts(Mapping[str, FileFacts]):
    """Every file's facts by path, in path order: those extracted by this build, and cached ones unpickled on
    first use, from `blobs` or, for the `cached` paths not there, read with `fetch` first. Unpickling all of
    PyTorch's took half a second; a rebuild that renders a few pages needs few."""

    def __init__(self, blobs: dict[str, bytes], loaded: dict[str, FileFacts], fetch: CachedBlobs | None = None,
                 cached: Iterable[str] = ()) -> None:
        self._blobs = blobs  # each dropped once unpickled: a rebuild that links again reads them all
        self._fetch = fetch
        self._cached = frozenset(blobs).union(cached)
        self._loaded = dict(loaded)
        self._paths = sorted(self._cached | set(loaded))

    def __getitem__(self, path: str) -> FileFacts:
        found = self._loaded.get(path)
        if found is None:
            blob = self._blobs.pop(path, None)
            if blob is None:
                if self._fetch is None or path not in self._cached:
                    raise KeyError(path)  # not of this build
                blob = self._fetch(path)
            found = self._loaded[path] = unpickle_facts(blob)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __contains__(self, path: object) -> bool:
        return path in self._loaded or path in self._cached

    def fill(self) -> None:
        """Read every blob not read yet at once (before something reads all the facts)."""
        if self._fetch is not None:
            self._blobs.update(self._fetch.many(p for p in self._cached if p not in self._loaded
                                                and p not in self._blobs))
            self._fetch = None

    @property
    def reads_cache(self) -> bool:
        """Whether facts may still be read from the cache file (`CachedBlobs`): its writer must not spill."""
        return self._fetch is not None

    @property
    def unpickled(self) -> int:
        """How many cached facts were unpickled so far (for tests and profiling)."""
        return sum(1 for p in self._loaded if p in self._cached)
