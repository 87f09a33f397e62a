"""The site in a real browser: Playwright driving Debian's chromium (`apt-get install chromium`; Playwright's own
browser download is not available here). Skipped, with the reason, only when no `chromium` is on PATH.

Screenshots are kept as test artefacts in the session's temporary folder (printed with `-s`)."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright import sync_api  # the test extra installs it: its absence fails, only chromium's skips

from docatlas.serve.app import App
from docatlas.serve.export import export_site
from docatlas.serve.http import DocServer
from docatlas.serve.site import Site

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no `chromium` on PATH (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screenshots")
    print(f"screenshots in {folder}")
    return folder


class Page:
    """A browser page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def __enter__(self) -> Any:
        return self.page

    def __exit__(self, *exc: object) -> None:
        self.page.close()


def _serve(srv: ThreadingHTTPServer) -> ThreadingHTTPServer:
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def test_served_site(browser: Any, built_site: tuple[Path, Path], shots: Path) -> None:
    repo, out = built_site
    srv = _serve(DocServer(App(Site(out, repo)), port=0, quiet=True))
    rec = Page(browser)
    try:
        with rec as page:
            page.goto(srv.url)
            page.screenshot(path=str(shots / "home.png"))
            # the sidebar tree loads lazily and opens a folder on click
            page.locator("#tree li.folder", has_text="pkg/").locator("button").click()
            page.locator("#tree a", has_text="shapes.py").wait_for()
            # search as you type, then follow the first result to the symbol's anchor
            page.fill("#q", "Shape")
            first = page.locator("#results a").first
            first.wait_for()
            assert "Shape" in first.inner_text()
            page.screenshot(path=str(shots / "search.png"))
            first.click()
            page.wait_for_url("**/pkg/shapes.py_docs.html#sym-Shape")
            assert page.locator("main h1").inner_text() == "Documentation: pkg/shapes.py"
            # a "line N" link lands on that line of the highlighted source
            page.locator("a[href$='shapes.py.html#L9']").first.click()
            page.wait_for_url("**/_docatlas/src/pkg/shapes.py.html#L9")
            line = page.locator("#L9")
            assert "class Shape" in line.inner_text() and line.is_visible()
            page.screenshot(path=str(shots / "source.png"))
            # a folder overview draws its Mermaid diagram as SVG, from the vendored script
            page.goto(srv.url + "app/doc.html")
            svg = page.locator("pre.mermaid svg")
            svg.wait_for(timeout=15000)
            assert "pkg/" in (svg.text_content() or "")
            page.locator("pre.mermaid").scroll_into_view_if_needed()
            page.screenshot(path=str(shots / "diagram.png"))
            # a hostile docstring stays text: no element was made from it
            page.goto(srv.url + "pkg/shapes.py_docs.html")
            assert page.locator("article img").count() == 0
            assert "<img src=x onerror=alert(2)>" in page.locator("article").inner_text()
        assert rec.errors == []
    finally:
        srv.shutdown()
        srv.server_close()


def test_static_site(browser: Any, built_site: tuple[Path, Path], shots: Path, tmp_path: Path) -> None:
    """The exported site from a plain static file server: search from the shards, tree from JSON files."""
    repo, out = built_site
    dest = tmp_path / "site"
    export_site(Site(out, repo), dest)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(dest))
    srv = _serve(ThreadingHTTPServer(("127.0.0.1", 0), handler))
    url = f"http://127.0.0.1:{srv.server_address[1]}/"
    rec = Page(browser)
    try:
        with rec as page:
            requested: list[str] = []
            page.on("request", lambda r: requested.append(r.url))
            page.goto(url + "index.html")
            page.fill("#q", "helper")
            first = page.locator("#results a").first
            first.wait_for()
            assert "helper" in first.inner_text()
            shards = [u for u in requested if "/_docatlas/search/" in u]
            assert [u.rsplit("/", 1)[1] for u in shards] == ["keys.json", "he.json"]  # only the shard it needs
            page.screenshot(path=str(shots / "static-search.png"))
            page.fill("#q", "shape area")  # two terms: one shard each, entries matching both
            page.locator("#results a", has_text="pkg.shapes.Shape.area").wait_for()
            assert "pkg.shapes.Shape.area" in page.locator("#results a").first.inner_text()
            page.fill("#q", "helper")
            result = page.locator("#results a", has_text="pkg.util.helper")  # not the last query's, still shown
            result.wait_for()
            result.first.click()
            page.wait_for_url("**/pkg/util.py_docs.html#sym-helper")
            page.locator("#tree a.current", has_text="util.py").wait_for()
        assert rec.errors == []
    finally:
        srv.shutdown()
        srv.server_close()
