"""The repository guide's views of files, kept in the facts cache between builds.

What the guide read of each file (`render.bookfacts.view`: marshalled plain values) with the digest of the file it
was made from, so that the next build's guide need not unpickle those files' facts. A table of its own, written
after the build like the compiled templates; read only when the facts cache is usable (made by the same code), and
a view counts only while its digest is the one the cache keeps for the file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from docatlas.store.cache import _read_aside, _write_aside

GUIDE_VIEWS = ("CREATE TABLE IF NOT EXISTS guide_views(path TEXT PRIMARY KEY, digest TEXT NOT NULL, "
               "data BLOB NOT NULL) WITHOUT ROWID")


def read_guide_views(output: Path, entries: Mapping[str, tuple[int, int, str]]) -> dict[str, tuple[str, bytes]]:
    """The stored views (path -> (digest, data)) whose digest is the one `entries` (the cache's) give the file."""
    rows: list[tuple[str, str, bytes]] = _read_aside(
        output, lambda conn: conn.execute("SELECT path, digest, data FROM guide_views").fetchall(), [], "guide views")
    return {p: (d, data) for p, d, data in rows if d and entries.get(p, (0, 0, ""))[2] == d}


def write_guide_views(output: Path, views: Mapping[str, tuple[str, bytes]], gone: Iterable[str] = ()) -> None:
    """Store (or replace) these views, and drop those of the `gone` files, in the facts cache when it exists."""
    def write(conn: sqlite3.Connection) -> None:
        conn.execute(GUIDE_VIEWS)
        conn.executemany("DELETE FROM guide_views WHERE path = ?", ((p,) for p in sorted(gone)))
        conn.executemany("INSERT OR REPLACE INTO guide_views VALUES (?, ?, ?)",
                         ((p, d, data) for p, (d, data) in sorted(views.items())))

    _write_aside(output, write, "guide views")
