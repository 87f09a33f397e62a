"""What the repository guide and the keyword index read of each file, and what the guide counted, kept in the
facts cache between builds.

What the guide read of each file (`render.bookfacts.view`: marshalled plain values) with the digest of the file it
was made from, so that the next build's guide need not unpickle those files' facts. A table of its own, written
after the build like the compiled templates; read only when the facts cache is usable (made by the same code), and
a view counts only while its digest is the one the cache keeps for the file. So too each file's entries in the
keyword index (`render.keywords.file_keywords`, a pure function of its facts): a letter page an edit changes
lists hundreds of other files, whose anchors and Code Structure parts were half of the keyword task. Beside
them, what the guide's analysis counted (`link.subsystems.Counts`), with the build that counted it: a rebuild
reuses it only over the state that build committed."""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from docatlas.store.aside import read_aside, write_aside

# the tables of per-file views, one layout: path -> (digest of the file it was made from, marshalled data)
ViewTable = Literal["guide_views", "keyword_views"]


def _create(table: ViewTable) -> str:
    return (f"CREATE TABLE IF NOT EXISTS {table}(path TEXT PRIMARY KEY, digest TEXT NOT NULL, data BLOB NOT NULL) "
            "WITHOUT ROWID")


def read_guide_views(output: Path, entries: Mapping[str, tuple[int, int, str]],
                     table: ViewTable = "guide_views") -> dict[str, tuple[str, bytes]]:
    """The stored views (path -> (digest, data)) of `table` whose digest is the one `entries` (the cache's) give
    the file."""
    rows: list[tuple[str, str, bytes]] = read_aside(
        output, lambda conn: conn.execute(f"SELECT path, digest, data FROM {table}").fetchall(), [], table)
    return {p: (d, data) for p, d, data in rows if d and entries.get(p, (0, 0, ""))[2] == d}


def write_guide_views(output: Path, views: Mapping[str, tuple[str, bytes]], gone: Iterable[str] = ()) -> None:
    """Store (or replace) these views, and drop those of the `gone` files, in the facts cache when it exists."""
    write_aside(output, lambda conn: _views(conn, views, gone), "guide views")


def _views(conn: sqlite3.Connection, views: Mapping[str, tuple[str, bytes]], gone: Iterable[str],
           table: ViewTable = "guide_views") -> None:
    conn.execute(_create(table))
    conn.executemany(f"DELETE FROM {table} WHERE path = ?", ((p,) for p in sorted(gone)))
    conn.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)",
                     ((p, d, data) for p, (d, data) in sorted(views.items())))


GUIDE_COUNTS = "CREATE TABLE IF NOT EXISTS guide_counts(id INTEGER PRIMARY KEY CHECK (id = 1), token TEXT NOT NULL, " \
               "data BLOB NOT NULL)"


def read_guide_counts(output: Path, token: str) -> Any | None:
    """What the guide's analysis counted (`link.subsystems.Counts`, unpickled) when the build that committed the
    index (`token`: its `meta.start_ns`) stored it, else None."""
    def read(conn: sqlite3.Connection) -> Any | None:
        row = conn.execute("SELECT token, data FROM guide_counts WHERE id = 1").fetchone()
        return pickle.loads(row[1]) if row is not None and token and row[0] == token else None

    return read_aside(output, read, None, "guide counts",
                       (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError, AttributeError, TypeError))


def write_guide(output: Path, views: Mapping[str, tuple[str, bytes]], gone: Iterable[str] = (),
                counts: Any | None = None, token: str = "",
                keywords: Mapping[str, tuple[str, bytes]] | None = None) -> None:
    """Store the views this build made (`write_guide_views`), the keyword entries it made (`keywords`, the same
    way) and, with this build's `token`, what its analysis counted, in one transaction of the facts cache when
    it exists."""
    gone = sorted(gone)

    def write(conn: sqlite3.Connection) -> None:
        _views(conn, views, gone)
        _views(conn, keywords or {}, gone, "keyword_views")
        conn.execute(GUIDE_COUNTS)
        if counts is not None:
            conn.execute("INSERT OR REPLACE INTO guide_counts VALUES (1, ?, ?)",
                         (token, pickle.dumps(counts, protocol=5)))
        else:
            conn.execute("DELETE FROM guide_counts")

    write_aside(output, write, "guide views")
