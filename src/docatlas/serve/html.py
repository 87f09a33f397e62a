"""Output pages and sources as HTML: Markdown through markdown-it-py, sources through Pygments, one layout.

Every link is relative, so the same HTML works served and as static files. Markdown links are rewritten:
`x_docs.md` -> `x_docs.html`; a link out of the output folder (the page's link to a source, valid when the output
sits at the repository root) -> the highlighted source page `_docatlas/src/P.html`, fragment (`#L48`) kept.
Raw HTML in a page is escaped, except the exact `<a id="...">` symbol anchors docatlas writes itself, so a
docstring holding `<img onerror=...>` shows as text.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jinja2
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

from docatlas import __version__
from docatlas.paths import rel as rel_link

PREFIX = "_docatlas/"  # the server's own paths; never a page path (pages end in .md/.html and mirror the repo)
SOURCE_PREFIX = PREFIX + "src/"
HIGHLIGHT_MAX_BYTES = 400_000  # larger sources are shown as plain text (still with line anchors)
_OWN_ANCHOR = re.compile(r'<a id="[A-Za-z0-9_.\-]+">|</a>')
_SAFE_URL = "/-._~!$&'*+,;=:@%"

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("docatlas.serve", "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def html_page(rel: str) -> str:
    """`sample/core.py_docs.md` -> `sample/core.py_docs.html`."""
    return rel[:-3] + ".html" if rel.endswith(".md") else rel


def source_page(path: str) -> str:
    return f"{SOURCE_PREFIX}{path}.html"


def root_of(page: str) -> str:
    """The relative prefix from an output-relative page back to the site root ("" at the top)."""
    return "../" * page.count("/")


def rewrite_link(page: str, href: str) -> str:
    """A link of the Markdown page `page` (output-relative) as a link of the HTML site."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path:
        return href
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path)))
    frag = "#" + parts.fragment if parts.fragment else ""
    if target.startswith("../"):
        repo_path = target[3:]
        if repo_path.startswith("../") or repo_path in ("", ".."):
            return "#"
        site_target = source_page(repo_path)
    elif target.endswith(".md"):
        site_target = html_page(target)
    else:
        site_target = target
    return quote(rel_link(page, site_target), safe=_SAFE_URL) + frag


class _Renderer(RendererHTML):
    """markdown-it's HTML renderer with links rewritten, raw HTML escaped and Mermaid blocks kept as text."""

    def link_open(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        tok = tokens[idx]
        href = tok.attrGet("href")
        if isinstance(href, str):
            tok.attrSet("href", rewrite_link(env["page"], href))
        return self.renderToken(tokens, idx, options, env)

    def html_inline(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        content = tokens[idx].content
        return content if _OWN_ANCHOR.fullmatch(content) else html.escape(content)

    def html_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return html.escape(tokens[idx].content)

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        tok = tokens[idx]
        if tok.info.strip() == "mermaid":
            env["mermaid"] = True
            return f'<pre class="mermaid">{html.escape(tok.content)}</pre>\n'
        return super().fence(tokens, idx, options, env)


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}, renderer_cls=_Renderer).enable("table")
    md.validateLink = _valid_link  # type: ignore[method-assign]  # markdown-it's documented hook
    return md


def _valid_link(url: str) -> bool:
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in ("", "http", "https", "mailto")


_MD = _markdown()


def markdown_html(page: str, text: str) -> tuple[str, bool]:
    """The HTML body of an output page and whether it holds a Mermaid diagram."""
    env: dict[str, Any] = {"page": page, "mermaid": False}
    body = _MD.render(text, env)
    return body, bool(env["mermaid"])


@dataclass(frozen=True)
class Layout:
    """What every HTML page shares: the project, how search runs (server API or static shards)."""

    project: str
    mode: str  # "api" or "static"

    def render(self, page: str, title: str, body: str, mermaid: bool, crumbs: list[tuple[str, str]],
               tree: str) -> str:
        """`body` is HTML made by this module (everything from the repository already escaped in it)."""
        return _ENV.get_template("layout.html.j2").render(
            project=self.project, title=title, body=Markup(body), root=root_of(page), mermaid=mermaid,
            crumbs=crumbs, mode=self.mode, version=__version__, current=html_page(page), tree=tree)


def breadcrumbs(page: str, last: str) -> list[tuple[str, str]]:
    """(label, relative href) from the front page down to `page`; the last has no link."""
    parts = page.split("/")[:-1]
    crumbs = [("/", rel_link(page, "index.html"))]
    for i in range(len(parts)):
        crumbs.append((parts[i] + "/", rel_link(page, "/".join(parts[: i + 1]) + "/index.html")))
    crumbs.append((last, ""))
    return crumbs


def title_of(text: str, fallback: str) -> str:
    first = text.split("\n", 1)[0]
    return first.lstrip("#").strip().replace("`", "") if first.startswith("#") else fallback


def source_html(path: str, text: str, language: str) -> str:
    """A source file as lines `<span id="L48">` with Pygments highlighting (plain text past the size cap)."""
    from pygments import highlight  # here: pages need no Pygments, and the server starts faster without it
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import TextLexer, get_lexer_by_name, get_lexer_for_filename
    from pygments.util import ClassNotFound

    lexer: Any
    if len(text) > HIGHLIGHT_MAX_BYTES:
        lexer = TextLexer()
    else:
        try:
            lexer = get_lexer_for_filename(posixpath.basename(path), stripnl=False, ensurenl=False)
        except ClassNotFound:
            try:
                lexer = get_lexer_by_name(language, stripnl=False, ensurenl=False)
            except ClassNotFound:
                lexer = TextLexer()
    formatted = highlight(text, lexer, HtmlFormatter(nowrap=True))
    lines = formatted.split("\n")
    if lines and lines[-1] == "" and text.endswith("\n"):
        lines.pop()
    out = ['<pre class="source highlight"><code>']
    for n, line in enumerate(lines, 1):
        out.append(f'<span class="line" id="L{n}"><a class="ln" href="#L{n}">{n}</a>{line}</span>')
    out.append("</code></pre>")
    return "".join(out)


def pygments_css() -> str:
    from pygments.formatters import HtmlFormatter

    return str(HtmlFormatter(style="default").get_style_defs(".highlight"))  # type: ignore[no-untyped-call]
