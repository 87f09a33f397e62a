"""Index helpers for the tests: write an index in one call, and dump one as comparable rows."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from docatlas.config import Config
from docatlas.link.stage import RepoModel
from docatlas.model import Diagnostic
from docatlas.store.cache import FactsCache
from docatlas.store.writer import IndexWrite


def write_index(cfg: Config, model: RepoModel, cache: FactsCache, extracted: Iterable[str],
                scan_diagnostics: list[Diagnostic], pages: dict[str, str], render_diagnostics: list[Diagnostic],
                link_state: dict[str, Any], link_reused: bool = False,
                blobs: dict[str, bytes] | None = None) -> str:
    """Store the build in the index in one go (`IndexWrite` in two steps). Returns "incremental" or "full"."""
    writer = IndexWrite(cfg, model, cache, extracted, scan_diagnostics, link_state, link_reused, blobs)
    writer.write()
    return writer.commit(pages, render_diagnostics)



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

