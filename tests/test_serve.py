"""`docatlas serve` and `docatlas site`: routes, safety (traversal, hostile names, escaping), bad queries,
concurrency, diagrams and the sharded static search index."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from conftest import HOSTILE_NAME
from docatlas.cli import main
from docatlas.render.diagrams import folder_diagram, label
from docatlas.serve.app import App
from docatlas.serve.export import _words, shard_entries, shard_json
from docatlas.serve.html import rewrite_link
from docatlas.serve.http import DocServer
from docatlas.serve.site import Site
from docatlas.store import queries, schema


@pytest.fixture(scope="module")
def server(built_site: tuple[Path, Path]) -> Iterator[DocServer]:
    repo, out = built_site
    srv = DocServer(App(Site(out, repo)), port=0, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def get(srv: DocServer, raw_path: str, method: str = "GET") -> tuple[int, str, bytes]:
    """A request with the path sent exactly as given (no client-side normalisation of `..`)."""
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        conn.putrequest(method, raw_path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def test_binds_loopback_by_default(server: DocServer) -> None:
    assert server.server_address[0] == "127.0.0.1" and server.url.startswith("http://127.0.0.1:")


def test_front_page_and_layout(server: DocServer) -> None:
    status, ctype, body = get(server, "/")
    text = body.decode()
    assert status == 200 and ctype.startswith("text/html")
    assert '<input type="search" id="q"' in text
    assert 'class="crumbs"' in text and 'id="tree"' in text
    assert "_docatlas/static/app.js" in text and "http" not in text.split("<body>")[0].replace("http-equiv", "")
    status, _, body = get(server, "/index.html")
    assert status == 200 and body == get(server, "/")[2]


def test_pages_mirror_output_and_links_are_rewritten(server: DocServer) -> None:
    status, _, body = get(server, "/pkg/shapes.py_docs.html")
    text = body.decode()
    assert status == 200
    assert 'href="../_docatlas/src/pkg/shapes.py.html#L9"' in text  # the page's "line 9" link lands on the source
    assert 'href="./util.py_docs.html"' in text and ".md\"" not in text
    assert '<a id="sym-Shape"></a>' in text  # docatlas's own symbol anchors survive escaping
    status, _, src = get(server, "/_docatlas/src/pkg/shapes.py.html")
    assert status == 200 and b'id="L9"' in src and b'href="#L9"' in src and b'class="k">class</span>' in src


def test_repository_text_is_escaped(server: DocServer) -> None:
    hostile_page = quote(f"/odd/{HOSTILE_NAME}_docs.html")
    pages = [get(server, p)[2].decode() for p in ("/pkg/shapes.py_docs.html", "/pkg/doc.html", "/odd/index.html",
                                                   hostile_page, quote(f"/_docatlas/src/odd/{HOSTILE_NAME}.html"),
                                                   "/_docatlas/src/pkg/shapes.py.html")]
    for text in pages:
        assert "<img" not in text and "alert(1)<" not in text and "<script>alert" not in text
        assert "</script><script>" not in text
    assert "&lt;img src=x onerror=alert(2)&gt;" in pages[0]
    assert "&lt;script&gt;alert(1)&lt;:script&gt;.py" in pages[3]
    status, _, body = get(server, "/api/search?q=" + quote("script"))
    assert status == 200 and any(h["path"] == f"odd/{HOSTILE_NAME}" for h in json.loads(body))
    tree = json.loads(get(server, "/_docatlas/api/tree?dir=odd")[2])
    assert [e["name"] for e in tree] == [HOSTILE_NAME]  # JSON carries it as data; app.js sets textContent


@pytest.mark.parametrize("raw", [
    "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/pkg/%2e%2e/%2e%2e/etc/passwd.html", "/..%2f..%2fetc/passwd",
    "/_docatlas/src/%2e%2e/%2e%2e/etc/passwd.html", "/_docatlas/src/..%5c..%5cetc%5cpasswd.html",
    "/pkg\\..\\..\\etc\\passwd.html", "/_docatlas/static/../../../cli.py", "/_docatlas/static/%2e%2e%2fhttp.py",
    "/docatlas.sqlite", "/.docatlas-manifest.json", "/_docatlas/src/.git/config.html", "//etc/passwd",
    "/_docatlas/api/tree?dir=..", "/_docatlas/api/tree?dir=/etc", "/%00.html", "/pkg/shapes.py_docs.md", "/%ff%fe.html",
])
def test_traversal_and_unlisted_paths_are_refused(server: DocServer, raw: str) -> None:
    status, ctype, body = get(server, raw)
    assert status == 404 and ctype.startswith("application/json") and json.loads(body) == {"error": "not found"}


def test_symlinks_leaving_the_tree_are_refused(built_site: tuple[Path, Path], tmp_path: Path) -> None:
    repo, out = built_site
    secret = tmp_path / "secret.txt"
    secret.write_text("secret\n")
    site = Site(out, repo)
    link = out / "leak_docs.md"
    link.symlink_to(secret)
    readme = repo / "README.md"
    saved = readme.read_bytes()
    readme.unlink()
    readme.symlink_to(secret)  # a documented file replaced by a link out of the repository since the build
    try:
        srv = DocServer(App(site), port=0, quiet=True)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            assert get(srv, "/leak_docs.html")[0] == 404
            assert get(srv, "/_docatlas/src/README.md.html")[0] == 404
            assert get(srv, "/_docatlas/src/pkg/util.py.html")[0] == 200
        finally:
            srv.shutdown()
            srv.server_close()
    finally:
        link.unlink()
        readme.unlink()
        readme.write_bytes(saved)


def test_search_api_matches_cli_ranking(server: DocServer, built_site: tuple[Path, Path]) -> None:
    _, out = built_site
    status, ctype, body = get(server, "/api/search?q=shape&limit=10")
    hits = json.loads(body)
    assert status == 200 and ctype.startswith("application/json")
    conn = schema.open_index(out)
    expected = [(h.kind, h.name, h.path, h.line) for h in queries.search(conn, "shape", limit=10)]
    conn.close()
    assert [(h["kind"], h["name"], h["path"], h["line"]) for h in hits] == expected
    assert all(set(h) == {"kind", "name", "qualname", "path", "line", "page"} for h in hits)
    cls = next(h for h in hits if h["kind"] == "class")
    assert cls["page"] == "pkg/shapes.py_docs.md#sym-Shape"
    assert get(server, "/" + cls["page"].split("#")[0].replace(".md", ".html"))[0] == 200
    assert len(json.loads(get(server, "/api/search?q=shape&limit=1")[2])) == 1


@pytest.mark.parametrize("query", ["", "?q=", "?q=%21%21%21", "?limit=3", "?q=a&limit=x", "?q=a&limit=0",
                                   "?q=a&limit=1000", "?q=a&q=b", "?q=%ff", "?q=" + "a" * 600, "?q=a&&&limit=="])
def test_bad_queries_answer_400_json(server: DocServer, query: str) -> None:
    status, ctype, body = get(server, "/api/search" + query)
    assert status == 400 and ctype.startswith("application/json")
    assert json.loads(body)["error"]


def test_read_only_and_concurrent(server: DocServer) -> None:
    assert get(server, "/", method="POST")[0] == 501
    assert get(server, "/index.html", method="HEAD")[0] == 200
    paths = ["/api/search?q=helper", "/pkg/shapes.py_docs.html", "/_docatlas/src/pkg/util.py.html",
             "/_docatlas/api/tree?dir=pkg", "/doc.html", "/api/search?q=%21"] * 8
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(lambda p: get(server, p)[0], paths))
    assert statuses == [400 if p.endswith("%21") else 200 for p in paths]


def test_diagrams_on_folder_pages_not_file_pages(server: DocServer) -> None:
    assert "mermaid" not in get(server, "/pkg/doc.html")[2].decode()  # no subfolder, imports nothing outside
    root = get(server, "/doc.html")[2].decode()
    assert "&quot;pkg/&quot;" in root and "Diagram: 4 subfolders" in root
    app = get(server, "/app/doc.html")[2].decode()
    assert '<pre class="mermaid">flowchart LR' in app and "mermaid.tiny.js" in app
    assert "&quot;2 imports&quot;" in app and "1 other folder its files import from" in app
    page = get(server, "/pkg/util.py_docs.html")[2].decode()  # its imports and importers are listed, not drawn
    assert "mermaid" not in page and "Imported By" in page and "app/main.py" in page
    assert get(server, "/_docatlas/static/mermaid.tiny.js")[1].startswith("text/javascript")


def test_folder_diagram_caps_and_says_so() -> None:
    subs = {f"a/s{i:02}": i for i in range(20)}
    deps = {f"d{i}": 1 for i in range(3)}
    d = folder_diagram("a", subs, deps, cap=5)
    assert d is not None
    assert d.mermaid.count("-->") == 5 and d.mermaid.count("-.->") == 3
    assert '"s19/"' in d.mermaid and '"s14/"' not in d.mermaid  # the five largest
    assert "20 subfolders" in d.caption and "(5 shown, those with the most files)" in d.caption
    assert "3 other folders" in d.caption and "shown" not in d.caption.split(";")[1]
    assert folder_diagram("a", {}, {}) is None
    assert label('a"]; click F0 call alert(1) %%<b>') == '"a___ click F0 call alert(1) %%_b_"'
    assert d.markdown().startswith("```mermaid\nflowchart LR\n")


def test_link_rewriting() -> None:
    assert rewrite_link("a/b.py_docs.md", "../../a/b.py#L3") == "../_docatlas/src/a/b.py.html#L3"
    assert rewrite_link("a/b.py_docs.md", "./c.py_docs.md#sym-X") == "./c.py_docs.html#sym-X"
    assert rewrite_link("index.md", "https://example.org/x.md") == "https://example.org/x.md"
    assert rewrite_link("index.md", "../../../etc/passwd") == "#"
    assert rewrite_link("a/b.md", "../../a%20b.py") == "../_docatlas/src/a%20b.py.html"


def test_static_site_export(built_site: tuple[Path, Path], tmp_path: Path) -> None:
    repo, out = built_site
    dest = tmp_path / "site"
    assert main(["site", "--repo", str(repo), "-i", str(out), "-o", str(dest)]) == 0
    assert (dest / "index.html").is_file() and (dest / "pkg/shapes.py_docs.html").is_file()
    assert (dest / "_docatlas/src/pkg/shapes.py.html").is_file()
    assert (dest / "_docatlas/static/mermaid.tiny.js").stat().st_size > 1_000_000
    assert 'content="static"' in (dest / "index.html").read_text()
    keys = json.loads((dest / "_docatlas/search/keys.json").read_text())
    assert "sh" in keys["keys"] and keys["partial"] == []
    shard = json.loads((dest / "_docatlas/search/sh.json").read_text())
    found = [(r[0], r[1], r[2], *shard["files"][r[3]], r[4], r[5]) for r in shard["rows"]]
    assert ("class", "Shape", "pkg.shapes.Shape", "pkg/shapes.py", "pkg/shapes.py_docs.md", 9, "sym-Shape") in found
    assert ("method", "area", "pkg.shapes.Shape.area") not in [f[:3] for f in found]  # keyed by its name only
    area = json.loads((dest / "_docatlas/search/ar.json").read_text())
    assert "pkg.shapes.Shape.area" in [r[2] for r in area["rows"]]
    tree = json.loads((dest / "_docatlas/tree/0.json").read_text())
    assert {e["name"] for e in tree} >= {"pkg", "README.md"}
    for e in tree:
        if e["kind"] == "folder":
            assert (dest / e["children"]).is_file()
    assert main(["site", "--repo", str(repo), "-i", str(out), "-o", str(dest)]) == 0  # its own folder: rewritten
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    assert main(["site", "--repo", str(repo), "-i", str(out), "-o", str(other)]) == 2
    assert (other / "keep.txt").read_text() == "mine"
    assert main(["site", "--repo", str(repo), "-i", str(out), "-o", str(out)]) == 2


def test_shards_split_when_large() -> None:
    def entry(kind: str, name: str, line: int) -> list[Any]:
        return [kind, name, name, "t.py", line, "", _words(name), _words(name)]

    entries = [entry("function", f"test_tea{i}", i) for i in range(50)] + [entry("class", "Tee", 99)]
    shards, partial = shard_entries(entries, most=20, top=5)
    assert partial == ["te", "tea", "tes", "test"]
    assert len(shards["te"]) == 5 and shards["tee"] == [entries[-1]]
    assert all(len(rows) <= 20 for key, rows in shards.items() if key not in partial)
    found = {r[1] for key, rows in shards.items() if key.startswith("tea") and key not in partial for r in rows}
    assert found == {f"test_tea{i}" for i in range(50)}  # every entry is reachable by its own word
    order = {id(e): i for i, e in enumerate(entries)}
    data = json.loads(shard_json(shards["tee"], order))
    assert data == {"files": [["t.py", ""]], "rows": [["class", "Tee", "Tee", 0, 99, "", ["tee"], 50]]}


def test_serve_command_refuses_cleanly(built_site: tuple[Path, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """No index, or a port already taken: one error line and exit 2, never a traceback."""
    assert main(["serve", "-o", str(tmp_path)]) == 2
    assert "no index" in capsys.readouterr().err
    repo, out = built_site
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--repo", str(repo), "-o", str(out), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err
