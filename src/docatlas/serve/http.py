"""`docatlas serve`: a read-only HTTP server (the standard library's ThreadingHTTPServer) over the site.

Routes (everything else is 404; only GET and HEAD are answered):
- `/` and `/X.html`: the output page `X.md` as HTML;
- `/_docatlas/src/P.html`: the documented source P, highlighted, lines `#L48`;
- `/_docatlas/static/NAME`: packaged assets (style, scripts, the vendored Mermaid);
- `/_docatlas/api/tree?dir=D`: a folder's entries for the sidebar (JSON);
- `/api/search?q=Q&limit=N`: `docatlas search` results as a JSON list of {kind, name, qualname, path, line, page};
  a malformed query is 400 with `{"error": ...}`.
A path with `..`, an encoded `%2e%2e`, a backslash, NUL or a symlink out of its tree is 404 (see `Site`).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from docatlas.serve.app import App, static_asset
from docatlas.serve.html import PREFIX, SOURCE_PREFIX
from docatlas.serve.site import SEARCH_LIMIT_MAX, NotFound
from docatlas.store.schema import QueryError

_HTML = "text/html; charset=utf-8"
_JSON = "application/json; charset=utf-8"


class BadRequest(Exception):
    """A request the server understands but refuses (bad query parameters): answered 400 with JSON."""


class Handler(BaseHTTPRequestHandler):
    """One request: route, answer, never a traceback to the client."""

    server: DocServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: Nagle + delayed ACK cost 40 ms each
    server_version = "docatlas"

    def do_GET(self) -> None:
        self._answer(head=False)

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        try:
            status, ctype, body = self._route()
        except NotFound:
            status, ctype, body = HTTPStatus.NOT_FOUND, _JSON, _error("not found")
        except (BadRequest, QueryError) as exc:
            status, ctype, body = HTTPStatus.BAD_REQUEST, _JSON, _error(str(exc))
        except (OSError, sqlite3.Error, UnicodeError, ValueError) as exc:
            self.log_error("%s: %s", self.path, exc)
            status, ctype, body = HTTPStatus.INTERNAL_SERVER_ERROR, _JSON, _error("internal error")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy",
                         "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _route(self) -> tuple[int, str, bytes]:
        parts = urlsplit(self.path)
        raw = parts.path
        if "%2f" in raw.lower() or "%5c" in raw.lower() or "\\" in raw:  # encoded separators never name a file
            raise NotFound(raw)
        try:
            path = unquote(raw, errors="strict").lstrip("/")
        except UnicodeDecodeError as exc:  # no page or file has a name that is not UTF-8
            raise NotFound(raw) from exc
        app = self.server.app
        if path == "api/search":
            return HTTPStatus.OK, _JSON, _search(app, parts.query)
        if path == "" or path == "index.html":
            return HTTPStatus.OK, _HTML, app.page_html("index.md")
        if path.startswith(SOURCE_PREFIX):
            if not path.endswith(".html"):
                raise NotFound(path)
            return HTTPStatus.OK, _HTML, app.source_html(path[len(SOURCE_PREFIX):-5])
        if path.startswith(PREFIX + "static/"):
            data, ctype = static_asset(path[len(PREFIX) + 7:])
            return HTTPStatus.OK, ctype, data
        if path == PREFIX + "api/tree":
            folder = _one(parse_qs(parts.query, keep_blank_values=True), "dir", "")
            return HTTPStatus.OK, _JSON, app.tree_json(folder.strip("/"))
        if path.endswith(".html") and not path.startswith(PREFIX):
            return HTTPStatus.OK, _HTML, app.page_html(path[:-5] + ".md")
        raise NotFound(path)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.server.quiet:
            sys.stderr.write(f"docatlas serve: {self.address_string()} {format % args}\n")


def _one(query: dict[str, list[str]], key: str, default: str | None = None) -> str:
    values = query.get(key)
    if not values:
        if default is None:
            raise BadRequest(f"missing parameter {key!r}")
        return default
    if len(values) > 1:
        raise BadRequest(f"parameter {key!r} given {len(values)} times")
    return values[0]


def _search(app: App, query_string: str) -> bytes:
    try:
        query = parse_qs(query_string, keep_blank_values=True, strict_parsing=bool(query_string), errors="strict")
    except (ValueError, UnicodeError) as exc:
        raise BadRequest(f"malformed query string: {exc}") from exc
    q = _one(query, "q")
    raw_limit = _one(query, "limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= SEARCH_LIMIT_MAX:
        raise BadRequest(f"limit must be a whole number from 1 to {SEARCH_LIMIT_MAX}, not {raw_limit!r}")
    if len(q) > 500:
        raise BadRequest("query longer than 500 characters")
    hits = app.site.search(q, int(raw_limit))
    return json.dumps(hits, ensure_ascii=False).encode()


def _error(message: str) -> bytes:
    return json.dumps({"error": message}, ensure_ascii=False).encode()


class DocServer(ThreadingHTTPServer):
    """The server and what its handlers read; `daemon_threads` so a stop does not wait on idle keep-alives."""

    daemon_threads = True

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 8000, quiet: bool = False) -> None:
        self.app = app
        self.quiet = quiet
        super().__init__((host, port), Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host!s}]" if ":" in str(host) else str(host)
        return f"http://{shown}:{port}/"
