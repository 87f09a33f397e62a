"""What the server and the static export read: pages of the output folder, documented sources, the index.

`Site` owns the safety rules, so every way in (HTTP, export) goes through them: a page is a `.md` file inside
the output folder, a source is a path the index lists as a documented, non-binary file and that resolves inside
the repository; no `..`, backslash, NUL or absolute path is ever followed, nor a symlink out of its tree.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docatlas.paths import anchor
from docatlas.store import queries, schema

SEARCH_LIMIT_MAX = 100


class NotFound(Exception):
    """The path names nothing the site may serve (missing, outside the tree, or refused as unsafe)."""


def clean_path(raw: str) -> str:
    """A decoded URL path as a relative POSIX path, or NotFound when it could escape: `..`, `.`, empty
    segments, backslashes, NUL, a drive or an absolute path after the leading `/`."""
    rel = raw.lstrip("/")
    if "\\" in rel or "\0" in rel or rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        raise NotFound(raw)
    parts = rel.split("/") if rel else []
    if any(p in ("", ".", "..") for p in parts):
        raise NotFound(raw)
    return rel


def _inside(root: Path, rel: str) -> Path:
    """root/rel resolved (symlinks followed) and still inside root, else NotFound."""
    path = (root / rel).resolve()
    if path != root and root not in path.parents:
        raise NotFound(rel)
    return path


@dataclass(frozen=True)
class Entry:
    """One row of the sidebar tree: a folder (with its own children to load) or a file."""

    name: str
    path: str
    kind: str
    page: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "path": self.path, "kind": self.kind, "page": self.page}


class Site:
    """The output folder, the repository and a read-only index connection per thread."""

    def __init__(self, output: Path, repo: Path | None = None) -> None:
        self.output = output.resolve()
        schema.open_index(self.output).close()  # fail now, with the index's message, not on the first request
        self._local = threading.local()
        meta = dict(self.conn().execute("SELECT key, value FROM meta").fetchall())
        self.project = meta.get("project", "") or self.output.name
        root = repo if repo is not None else Path(meta.get("root") or self.output.parent)
        self.repo = root.resolve()

    def conn(self) -> sqlite3.Connection:
        """This thread's read-only connection (sqlite3 connections are not shared between threads)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = schema.open_index(self.output)
            self._local.conn = conn
        return conn

    # -- pages and sources ----------------------------------------------------------------------------------
    def page_file(self, rel: str) -> Path:
        """The Markdown page at output-relative `rel` (`sample/core.py_docs.md`)."""
        rel = clean_path(rel)
        if not rel.endswith(".md"):
            raise NotFound(rel)
        path = _inside(self.output, rel)
        if not path.is_file():
            raise NotFound(rel)
        return path

    def source_file(self, rel: str) -> tuple[Path, dict[str, Any]]:
        """A documented text file of the repository and its `files` row; NotFound for anything else."""
        rel = clean_path(rel)
        cur = self.conn().execute("SELECT path, language, binary, size, lines, page FROM files WHERE path = ?",
                                  (rel,))
        row = cur.fetchone()
        if row is None or row[2]:
            raise NotFound(rel)
        path = _inside(self.repo, rel)
        if not path.is_file():
            raise NotFound(rel)
        return path, dict(zip(("path", "language", "binary", "size", "lines", "page"), row, strict=True))

    def pages(self) -> list[str]:
        """Every Markdown page of the output folder, output-relative, sorted (what the export renders)."""
        out = []
        for p in self.output.rglob("*.md"):
            if p.is_file() and not p.is_symlink():
                out.append(p.relative_to(self.output).as_posix())
        return sorted(out)

    def sources(self) -> list[str]:
        return [r[0] for r in self.conn().execute("SELECT path FROM files WHERE binary = 0 ORDER BY path")]

    # -- queries --------------------------------------------------------------------------------------------
    def search(self, query: str, limit: int) -> list[dict[str, Any]]:
        """`docatlas search` ranking, as the JSON the search box reads; QueryError for an unsearchable query."""
        limit = max(1, min(limit, SEARCH_LIMIT_MAX))
        hits = queries.search(self.conn(), query, limit=limit)
        pages = self._pages_of({h.path for h in hits if h.kind != "folder"})
        out = []
        for h in hits:
            if h.kind == "folder":
                page = f"{h.path}/index.md" if h.path else "index.md"
            else:
                page, module = pages.get(h.path, ("", ""))
                if page and h.kind != "file":  # the page's anchor is the qualname, the hit's is the fqname
                    own = h.qualname[len(module) + 1:] if module and h.qualname.startswith(module + ".") else h.qualname
                    page += "#" + anchor(own)
            out.append({"kind": h.kind, "name": h.name, "qualname": h.qualname, "path": h.path, "line": h.line,
                        "page": page})
        return out

    def _pages_of(self, paths: set[str]) -> dict[str, tuple[str, str]]:
        if not paths:
            return {}
        marks = ",".join("?" * len(paths))
        rows = self.conn().execute(f"SELECT path, page, module FROM files WHERE path IN ({marks})", sorted(paths))
        return {p: (page, module) for p, page, module in rows}

    def tree(self, folder: str) -> list[Entry]:
        """A folder's direct subfolders then files, for the lazy sidebar; NotFound for an unknown folder."""
        if folder:
            folder = clean_path(folder)
        conn = self.conn()
        if conn.execute("SELECT 1 FROM folders WHERE path = ?", (folder,)).fetchone() is None:
            raise NotFound(folder)
        entries = [Entry(p.rsplit("/", 1)[-1], p, "folder", f"{p}/index.md")
                   for (p,) in conn.execute("SELECT path FROM folders WHERE parent = ? ORDER BY path", (folder,))]
        entries += [Entry(name, p, "file", page or "")
                    for p, name, page in conn.execute(
                        "SELECT path, name, page FROM files WHERE folder = ? ORDER BY path", (folder,))]
        return entries

    def folders(self) -> list[str]:
        return [r[0] for r in self.conn().execute("SELECT path FROM folders ORDER BY path")]
