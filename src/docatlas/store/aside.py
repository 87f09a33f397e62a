"""Tables kept beside the facts in the facts cache, each read and written on its own: the scan's folder
listing and the compiled templates here, the guide's views and counts in `store.guide`. Each is written after
the build and read with a default, so a cache without the table, or gone bad, only costs the work it saves."""

from __future__ import annotations

import logging
import pickle
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from docatlas.store.schema import cache_path, connect, transaction

log = logging.getLogger(__name__)


# -- the scan's folder listing ------------------------------------------------------------------------------
# What the last walk found in each folder (`scan.Listing`), kept beside the facts so the next scan need not list
# and match unchanged folders again. Its own table: written after the build, read before anything else.
LISTING = "CREATE TABLE IF NOT EXISTS scan_listing(id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL)"


def read_aside(output: Path, read: Callable[[sqlite3.Connection], Any], default: Any, what: str,
                errors: tuple[type[BaseException], ...] = (sqlite3.DatabaseError,)) -> Any:
    """`read` on the facts cache opened read-only; `default` when there is no cache or the read fails (no table
    yet, a cache gone bad: what it held is made again)."""
    file = cache_path(output)
    if not file.is_file():
        return default
    try:
        conn = sqlite3.connect(f"{file.as_uri()}?mode=ro", uri=True)
        try:
            return read(conn)
        finally:
            conn.close()
    except errors as exc:
        log.debug("%s: no %s (%s)", file, what, exc)
        return default


def write_aside(output: Path, write: Callable[[sqlite3.Connection], None], what: str) -> None:
    """`write` in one transaction on the facts cache, when it exists (a build without one skips)."""
    file = cache_path(output)
    if not file.is_file():
        return
    try:
        conn = connect(file)
        try:
            with transaction(conn):
                write(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # pragma: no cover - the cache went bad meanwhile: made again next time
        log.warning("%s: cannot store the %s (%s)", file, what, exc)


def read_listing(output: Path) -> Any | None:
    """The stored listing (unpickled), or None when there is none or it cannot be read."""
    def read(conn: sqlite3.Connection) -> Any | None:
        row = conn.execute("SELECT data FROM scan_listing WHERE id = 1").fetchone()
        return pickle.loads(row[0]) if row is not None else None

    return read_aside(output, read, None, "scan listing",
                       (sqlite3.DatabaseError, pickle.UnpicklingError, EOFError, AttributeError, TypeError))


def write_listing(output: Path, listing: Any) -> None:
    """Store the listing for the next scan, in the facts cache when it exists (a build without one skips)."""
    def write(conn: sqlite3.Connection) -> None:
        conn.execute(LISTING)
        conn.execute("INSERT OR REPLACE INTO scan_listing VALUES (1, ?)", (pickle.dumps(listing, protocol=5),))

    write_aside(output, write, "scan listing")


# -- compiled templates --------------------------------------------------------------------------------------
# The renderer's Jinja templates compiled to Python code (`tasks.use_compiled_templates`), kept beside the facts so
# that the next build's render workers need not compile them again (0.2 s per worker on PyTorch). A table of its
# own, written after the build; read only when the facts cache is usable, i.e. made by the same code.
TEMPLATES = "CREATE TABLE IF NOT EXISTS compiled_templates(key TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID"


def read_templates(output: Path) -> dict[str, bytes]:
    """The stored compiled templates by key; none when there are none or they cannot be read."""
    found: dict[str, bytes] = read_aside(
        output, lambda conn: dict(conn.execute("SELECT key, data FROM compiled_templates")), {}, "compiled templates")
    return found


def write_templates(output: Path, compiled: Mapping[str, bytes]) -> None:
    """Store the compiled templates for the next build, in the facts cache when it exists."""
    def write(conn: sqlite3.Connection) -> None:
        conn.execute(TEMPLATES)
        conn.execute("DELETE FROM compiled_templates")
        conn.executemany("INSERT INTO compiled_templates VALUES (?, ?)", sorted(compiled.items()))

    write_aside(output, write, "compiled templates")
