"""Facts read from the facts cache on use (`store.lazyfacts`): after a small edit with workers, a rebuild reads
few files' facts, and reads them beside its own uncommitted write of the cache."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

import docatlas.pipeline as pipeline
from docatlas.config import make_config
from docatlas.pipeline import BuildReport, build
from docatlas.store import writer
from docatlas.store.cache import FactsCache
from docatlas.store.lazyfacts import CacheChanged, CachedBlobs, LazyFacts
from store_helpers import page_tree

OLD = 1_500_000_000  # far from "racy": an unchanged stat is trusted without reading the file
FILES = {f"pkg{i}/mod{j:02}.py": f'"""Module {i}.{j}."""\n\n\nclass K{i}_{j}:\n    """A type."""\n\n\n'
         f"def f{i}_{j}():\n    return K{i}_{j}()\n" for i in range(4) for j in range(15)}


def _repo(make_repo) -> Path:  # type: ignore[no-untyped-def]
    repo: Path = make_repo({**FILES, **{f"pkg{i}/__init__.py": f'"""Package {i}."""\n' for i in range(4)}})
    for p in repo.rglob("*"):
        os.utime(p, ns=(OLD * 10**9, OLD * 10**9))
    return repo


def _build(repo: Path, out: Path, **options: object) -> BuildReport:
    return build(make_config(repo, out, **{"jobs": 2, **options}))


def test_cached_facts_read_on_use_are_those_read_at_once(make_repo, tmp_path: Path) -> None:
    repo = _repo(make_repo)
    _build(repo, tmp_path / "out", jobs=1)
    cache = FactsCache.load(make_config(repo, tmp_path / "out"))
    blobs, _ = cache.facts(cache.entries)
    lazy = LazyFacts({}, {}, cache.blobs(), cache.entries)
    assert list(lazy) == sorted(cache.entries) and "pkg1/mod03.py" in lazy and "nothing.py" not in lazy
    assert lazy["pkg1/mod03.py"] == LazyFacts(dict(blobs), {})["pkg1/mod03.py"]
    assert lazy.unpickled == 1 and lazy.reads_cache
    lazy.fill()  # the rest in one pass
    assert not lazy.reads_cache and lazy.unpickled == 1
    assert all(lazy[p] == LazyFacts(dict(blobs), {})[p] for p in cache.entries)
    with pytest.raises(KeyError):
        lazy["nothing.py"]
    stale = CachedBlobs(cache.file, {**{p: d for p, (_, _, d) in cache.entries.items()}, "pkg0/mod00.py": "0" * 40})
    with pytest.raises(CacheChanged, match=r"pkg0/mod00\.py"):
        stale("pkg0/mod00.py")
    with pytest.raises(CacheChanged, match=r"pkg0/mod00\.py"):
        stale.many(cache.entries)


class _SmallCache(sqlite3.Connection):
    """The index writer's connection with a page cache of two pages, in the attached cache file too."""

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        cursor = super().execute(sql, *args)  # type: ignore[arg-type]
        if sql.startswith("ATTACH"):
            super().execute("PRAGMA cache.cache_size=2")
        return cursor


def _small_cache(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None, factory=_SmallCache)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA cache_size=2")
    return conn


def test_workers_read_facts_beside_the_uncommitted_write(make_repo, monkeypatch, tmp_path: Path) -> None:
    """After a one-file edit with workers, the facts of the other files are read when pages ask, some in the
    render workers while the build's write of the cache is open. With a page cache of two pages the write would
    spill to the file and lock the readers out (`IndexWrite(readers=True)` keeps it in memory): the pages are
    still those of a full build."""
    repo = _repo(make_repo)
    monkeypatch.setattr(pipeline, "cap_jobs", lambda requested: (requested, ""))  # two workers, whatever the CPUs
    out, full = tmp_path / "out", tmp_path / "full"
    _build(repo, out)
    monkeypatch.setattr(writer, "connect", _small_cache)
    monkeypatch.setattr(CachedBlobs, "timeout", 0.5)  # a reader locked out fails fast
    added = "".join(f"\n\nclass Added{k}:\n    \"\"\"Made to fill pages.\"\"\"\n" for k in range(300))
    (repo / "pkg2" / "mod04.py").write_text(FILES["pkg2/mod04.py"] + added)  # facts over many pages
    again = _build(repo, out)
    assert again.link_reused and not [d for d in again.diagnostics if d.code == "DA306"]
    facts = again.model.files  # type: ignore[union-attr]
    assert isinstance(facts, LazyFacts) and facts.reads_cache
    assert 0 < facts.unpickled < len(facts) / 2
    _build(repo, full, full=True)
    assert page_tree(out) == page_tree(full)


def test_a_small_edit_that_links_again_reads_everything_before_the_write(make_repo, monkeypatch,
                                                                         tmp_path: Path) -> None:
    """A one-file edit that adds an import of the repository's own code links everything again: the facts and
    the references into each file, read on use until then, are read at once before the index write, which may
    then spill to the cache file while the render workers run (a two-page cache here): no worker reads it."""
    from docatlas.store.cache import Rows

    repo = _repo(make_repo)
    monkeypatch.setattr(pipeline, "cap_jobs", lambda requested: (requested, ""))
    out, full = tmp_path / "out", tmp_path / "full"
    _build(repo, out)
    monkeypatch.setattr(writer, "connect", _small_cache)
    monkeypatch.setattr(CachedBlobs, "timeout", 0.5)
    log = tmp_path / "rows.log"  # rows read from the cache file one at a time, by any process
    real = Rows.__getitem__

    def logged(self: Rows, key: str) -> object:
        if self._blobs is None and key not in self._values:
            with log.open("a") as fh:
                fh.write(f"{os.getpid()} {self._kind}\n")
        return real(self, key)

    monkeypatch.setattr(Rows, "__getitem__", logged)
    (repo / "pkg2" / "mod04.py").write_text("from pkg0 import mod01\n" + FILES["pkg2/mod04.py"])
    again = _build(repo, out)
    assert not again.link_reused and not [d for d in again.diagnostics if d.code == "DA306"]
    here = str(os.getpid())
    read = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    assert not [kind for pid, kind in read if pid != here or kind == "incoming"], read
    _build(repo, full, full=True)
    assert page_tree(out) == page_tree(full)
