"""Markdown and reStructuredText: the heading outline (the documents' own structure) and links.

Markdown goes through a CommonMark parser (markdown-it-py); reStructuredText defines headings line by line
(docutils' section adornments), so a line scanner that respects literal blocks is exact there.
"""

from __future__ import annotations

import functools
import re

from markdown_it import MarkdownIt

from docatlas.extract.base import Extraction, first_paragraph
from docatlas.model import HEADING, Symbol

_RST_ADORN = re.compile(r"^([=\-`:'\"~^_*+#<>.])\1+\s*$")


def _heading_symbols(headings: list[tuple[int, str, int]], total_lines: int) -> list[Symbol]:
    """(level, title, line) -> nested heading symbols, each spanning to the next heading of its level."""
    out: list[Symbol] = []
    stack: list[tuple[int, str]] = []  # (level, qualname)
    for i, (level, title, line) in enumerate(headings):
        end = total_lines
        for lvl2, _, line2 in headings[i + 1:]:
            if lvl2 <= level:
                end = line2 - 1
                break
        while stack and stack[-1][0] >= level:
            stack.pop()
        parent = stack[-1][1] if stack else ""
        qualname = f"{parent} > {title}" if parent else title
        out.append(Symbol(kind=HEADING, name=title, qualname=qualname, line=line, end_line=max(line, end),
                          signature="#" * level + " " + title, parent=parent, flags=(f"h{level}",)))
        stack.append((level, qualname))
    return out


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_RST_LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`__?")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")


def link_text(text: str) -> str:
    """Markdown/reST links reduced to their text: copied onto a page elsewhere, their relative targets and
    `#anchors` would point nowhere."""
    return _RST_LINK.sub(r"\1", _MD_LINK.sub(r"\1", text))


def _is_prose(first_line: str) -> bool:
    """A paragraph that can summarise the document: not HTML, a badge, a table or a list (a table of
    contents is not a summary)."""
    return not first_line.lstrip().startswith(("<", "[!", "!", "|")) and not _LIST_ITEM.match(first_line)


def extract_markdown(path: str, text: str) -> Extraction:
    """Headings and the first paragraph of prose from CommonMark's own parse (markdown-it-py): a line scanner
    misread code spans that hold triple backticks as fences and dropped every heading after them."""
    out = Extraction()
    tokens = _markdown().parse(text)
    headings: list[tuple[int, str, int]] = []
    first_para = ""
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and tok.map is not None:
            title = tokens[i + 1].content.strip() if i + 1 < len(tokens) else ""
            if title:
                headings.append((int(tok.tag[1]), title, tok.map[0] + 1))
        elif tok.type == "paragraph_open" and tok.level == 0 and not first_para and i + 1 < len(tokens):
            content = tokens[i + 1].content
            if content.strip() and _is_prose(content.splitlines()[0]):
                first_para = first_paragraph(link_text(content))
    out.docstring = first_para
    out.symbols = _heading_symbols([(level, link_text(title), line) for level, title, line in headings],
                                   len(text.splitlines()))
    return out


@functools.cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark")


def extract_rst(path: str, text: str) -> Extraction:
    out = Extraction()
    lines = text.splitlines()
    styles: list[tuple[str, bool]] = []  # adornment (char, has_overline) in order of first use
    headings: list[tuple[int, str, int]] = []
    literal_indent: int | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if literal_indent is not None:
            if line.strip() and len(line) - len(line.lstrip()) <= literal_indent:
                literal_indent = None
            else:
                i += 1
                continue
        if line.rstrip().endswith("::") and not line.strip().startswith(".."):
            literal_indent = len(line) - len(line.lstrip())
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        title = line.strip()
        over = _RST_ADORN.match(line)
        if over and i + 2 < len(lines) and _RST_ADORN.match(lines[i + 2]) and lines[i + 2][0] == line[0] \
                and lines[i + 1].strip() and not _RST_ADORN.match(lines[i + 1]):
            style = (line[0], True)
            title = lines[i + 1].strip()
            if style not in styles:
                styles.append(style)
            headings.append((styles.index(style) + 1, title, i + 2))
            i += 3
            continue
        if title and not over and not line.startswith((" ", "\t")) and _RST_ADORN.match(nxt) \
                and len(nxt.rstrip()) >= len(line.rstrip()):
            style = (nxt[0], False)
            if style not in styles:
                styles.append(style)
            headings.append((styles.index(style) + 1, title, i + 1))
            i += 2
            continue
        i += 1
    out.symbols = _heading_symbols(headings, len(lines))
    return out
