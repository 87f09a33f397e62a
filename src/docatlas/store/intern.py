"""Texts and tuples stored once in the index and named by id: a qualified name, a module, a signature or a
symbol's kind, flags and macro repeat on thousands of rows, and an id is 1 to 3 bytes where the text is 30.

One instance of each serves a whole write (`store.writer`): it loads the rows already stored (an incremental
build adds to them), hands out ids, and stores the rows first seen in this write when flushed. A row no
longer named is left: no view row reaches it.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from docatlas.store.schema import text_hash


class Strings(dict[str, int]):
    """Ids of the rows of an `(id, text)` table (`strings`: indexed by the text's hash; `texts`: signatures, never
    looked up by text). `sid[text]` is a plain dict lookup for a text met before in this write (millions of them on
    PyTorch); `__missing__` finds a stored one or adds a new one.

    Stored texts are looked up one at a time (an edit's rows name a few hundred), and all of them are read at
    once only when a write asks for many (`BULK`): reading PyTorch's 225,218 strings and 82,793 signatures took
    an edit 0.8 s on the loaded 2-core machine. A `texts` row is not looked up (no index): a signature stored
    before is stored again by the edit that rewrites its file, and the next full build drops the copy."""

    def __init__(self, conn: sqlite3.Connection, table: str = "strings") -> None:
        super().__init__()
        self.conn, self.table = conn, table
        self.next: int = conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0]
        self.lookups = BULK if table == "strings" and self.next > 1 else 0  # left before reading them all
        self.new: list[tuple[int, str]] = []

    def __missing__(self, text: str) -> int:
        if self.lookups:
            self.lookups -= 1
            if not self.lookups:  # a big write: every stored text, once
                stored = dict(self.conn.execute("SELECT text, id FROM strings").fetchall())
                stored.update(self)
                self.update(stored)
                if text in self:
                    return self[text]
            else:
                row = self.conn.execute("SELECT id FROM strings WHERE hash = ? AND text = ?",
                                        (text_hash(text), text)).fetchone()
                if row is not None:
                    self[text] = row[0]
                    return int(row[0])
        found = self[text] = self.next
        self.next += 1
        self.new.append((found, text))
        return found

    def flush(self, conn: sqlite3.Connection) -> None:
        if self.table == "strings":  # looked up by text: each row with its `text_hash`
            conn.executemany("INSERT INTO strings VALUES (?, ?, ?)", ((i, t, text_hash(t)) for i, t in self.new))
        else:
            conn.executemany(f"INSERT INTO {self.table} VALUES (?, ?)", self.new)
        self.new.clear()


BULK = 4096  # texts looked up one at a time before a write reads all stored ones


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
