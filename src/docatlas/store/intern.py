"""Texts and tuples stored once in the index and named by id: a qualified name, a module, a signature or a
symbol's kind, flags and macro repeat on thousands of rows, and an id is 1 to 3 bytes where the text is 30.

One instance of each serves a whole write (`store.writer`): it loads the rows already stored (an incremental
build adds to them), hands out ids, and stores the rows first seen in this write when flushed. A row no
longer named is left: no view row reaches it.
"""

from __future__ import annotations

import sqlite3
from typing import Any


class Strings(dict[str, int]):
    """Ids of the rows of a `(id, text)` table (`strings`: indexed by text; `texts`: signatures, never looked
    up by text). `sid[text]` is a plain dict lookup for a known text (millions of them on PyTorch),
    `__missing__` adds a new one."""

    def __init__(self, conn: sqlite3.Connection, table: str = "strings") -> None:
        super().__init__(conn.execute(f"SELECT text, id FROM {table}").fetchall())
        self.table = table
        self.new: list[tuple[int, str]] = []

    def __missing__(self, text: str) -> int:
        found = self[text] = len(self) + 1
        self.new.append((found, text))
        return found

    def flush(self, conn: sqlite3.Connection) -> None:
        conn.executemany(f"INSERT INTO {self.table} VALUES (?, ?)", self.new)
        self.new.clear()


class Rows(dict[tuple[Any, ...], int]):
    """Ids of the rows of an `(id, columns...)` table, keyed by the columns: `symbol_shapes` (a symbol's kind,
    decorators, bases, flags, definition, macro, condition and bridge: a few thousand combinations under
    PyTorch's 188k symbols), `cand_uses` (a candidate use's kind, name, candidate set and its size)."""

    def __init__(self, conn: sqlite3.Connection, table: str) -> None:
        super().__init__((tuple(r[1:]), r[0]) for r in conn.execute(f"SELECT * FROM {table}"))
        self.table = table
        self.new: list[tuple[Any, ...]] = []

    def __missing__(self, key: tuple[Any, ...]) -> int:
        found = self[key] = len(self) + 1
        self.new.append((found, *key))
        return found

    def flush(self, conn: sqlite3.Connection) -> None:
        if self.new:
            conn.executemany(f"INSERT INTO {self.table} VALUES ({','.join('?' * len(self.new[0]))})", self.new)
        self.new.clear()


class Interned:
    """The interned tables of one write: `strings` (names, qualified names, the texts of references and
    imports), `texts` (signatures) and `symbol_shapes`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.strings = Strings(conn)
        self.texts = Strings(conn, "texts")
        self.shapes = Rows(conn, "symbol_shapes")

    def flush(self, conn: sqlite3.Connection) -> None:
        for part in (self.strings, self.texts, self.shapes):
            part.flush(conn)
