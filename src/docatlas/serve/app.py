"""The site's documents: HTML for a page, a source and the tree JSON, shared by the server and the export.

Diagrams are the pages' own ```` ```mermaid ```` blocks (`render.diagrams`, written by `build`), drawn in the
browser by the vendored Mermaid.
"""

from __future__ import annotations

import json
import posixpath
from importlib import resources
from typing import Any
from urllib.parse import quote

from docatlas.paths import folder_page
from docatlas.serve.html import (
    PREFIX,
    Layout,
    breadcrumbs,
    markdown_html,
    pygments_css,
    source_html,
    source_page,
    title_of,
)
from docatlas.serve.site import NotFound, Site

STATIC_FILES = ("app.js", "diagrams.js", "style.css", "mermaid.tiny.js", "mermaid.LICENSE")
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".LICENSE": "text/plain; charset=utf-8"}


def static_asset(name: str) -> tuple[bytes, str]:
    """A packaged asset (the vendored Mermaid among them) and its content type; NotFound for other names."""
    if name not in STATIC_FILES:
        raise NotFound(name)
    data = resources.files("docatlas.serve").joinpath("static").joinpath(name).read_bytes()
    if name == "style.css":
        data += b"\n" + pygments_css().encode()
    return data, _TYPES[posixpath.splitext(name)[1] or "." + name.rsplit(".", 1)[-1]]


class App:
    """Renders the documents of one `Site`; `mode` is "api" (served) or "static" (exported)."""

    def __init__(self, site: Site, mode: str = "api") -> None:
        self.site = site
        self.mode = mode
        self.layout = Layout(site.project, mode)

    def tree_url(self, folder: str) -> str:
        """Where the sidebar loads a folder's entries from, relative to the site root."""
        if self.mode == "api":
            return f"{PREFIX}api/tree?dir={quote(folder, safe='/')}"
        return f"{PREFIX}tree/{self.tree_ids()[folder]}.json"

    def tree_ids(self) -> dict[str, int]:
        """Folder -> the number of its static tree file (folders in path order, the root first)."""
        ids: dict[str, int] | None = getattr(self, "_tree_ids", None)
        if ids is None:
            ids = {f: i for i, f in enumerate(self.site.folders())}
            self._tree_ids = ids
        return ids

    def tree_json(self, folder: str) -> bytes:
        entries: list[dict[str, Any]] = []
        for e in self.site.tree(folder):
            d: dict[str, Any] = e.as_dict()
            if e.kind == "folder":
                d["children"] = self.tree_url(e.path)
            entries.append(d)
        return json.dumps(entries, ensure_ascii=False, separators=(",", ":")).encode()

    def page_html(self, rel: str) -> bytes:
        """The output page `rel` (`x.py_docs.md`) as HTML."""
        path = self.site.page_file(rel)
        text = path.read_text(encoding="utf-8", errors="replace")
        body, mermaid = markdown_html(rel, text)
        title = title_of(text, posixpath.basename(rel))
        html = self.layout.render(rel, title, body, mermaid, breadcrumbs(rel, posixpath.basename(rel)),
                                  tree=self.tree_url(""))
        return html.encode()

    def source_html(self, path: str) -> bytes:
        """A documented source file, highlighted, with line anchors, linked back to its page."""
        file, row = self.site.source_file(path)
        text = file.read_bytes().decode("utf-8", errors="replace")
        page = source_page(path)
        body = [f"<h1>Source: <code>{_esc(path)}</code></h1>"]
        if row["page"]:
            doc = posixpath.relpath(row["page"][:-3] + ".html", posixpath.dirname(page) or ".")
            body.append(f'<p><a href="{_esc(quote(doc, safe="/"))}">Documentation</a> · '
                        f"{row['lines']:,} lines, {row['size']:,} bytes</p>")
        body.append(source_html(path, text, row["language"]))
        folder = posixpath.dirname(path)
        crumbs = breadcrumbs(page, posixpath.basename(path))
        crumbs[1:-1] = [(f"{p}/", posixpath.relpath(folder_page("/".join(folder.split("/")[: i + 1]), "index.html"),
                                                     posixpath.dirname(page)))
                        for i, p in enumerate(folder.split("/") if folder else [])]
        return self.layout.render(page, path, "\n".join(body), False, crumbs, tree=self.tree_url("")).encode()


def _esc(text: str) -> str:
    from html import escape

    return escape(text, quote=True)
