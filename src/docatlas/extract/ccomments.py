"""Comments of C-family (and other C-syntax) code: the words of a comment, the doc comment above a node."""

from __future__ import annotations

from docatlas.extract import tsadapter as ts
from docatlas.extract.base import first_paragraph
from docatlas.extract.tsadapter import Node

_NOISE = ("clang-format", "NOLINT", "namespace ", "end namespace", "@lint", "IWYU", "TODO")


def comment_text(raw: str) -> str:
    """A comment's words without `//`, `///`, `/** */` and leading `*` markers."""
    lines = []
    if raw.startswith("/*"):
        body = raw[2:-2] if raw.endswith("*/") else raw[2:]
        body = body.lstrip("*!<")
        for ln in body.splitlines():
            s = ln.strip()
            if s.startswith("*"):
                s = s[1:]
            lines.append(s.strip())
    else:
        for ln in raw.splitlines():
            s = ln.strip().lstrip("/#").lstrip("!<")
            lines.append(s.strip())
    return "\n".join(lines).strip()


def doc_comment(data: bytes, node: Node, comment_types: tuple[str, ...] = ("comment",),
                skip: tuple[str, ...] = (), start_row: int | None = None) -> str:
    """The comment block directly above `node` (no blank line between), as one paragraph.

    Nodes of the `skip` types (Rust's `#[derive(...)]` attributes) may sit between comment and definition.
    """
    prev = node.prev_sibling
    expect = node.start_point[0] if start_row is None else min(start_row, node.start_point[0])
    parts: list[str] = []
    while prev is not None and (prev.type in comment_types or prev.type in skip):
        if prev.end_point[0] < expect - 1:
            break
        before = prev.prev_sibling
        if before is not None and before.end_point[0] == prev.start_point[0] and before.type not in comment_types \
                and before.type not in skip:
            break  # a trailing comment of the previous line's code
        if prev.type not in skip:
            parts.append(comment_text(ts.text(data, prev)))
        expect = prev.start_point[0]
        prev = before
    if not parts:
        return ""
    text = "\n".join(reversed(parts))
    kept = [ln for ln in text.splitlines() if not ln.strip().startswith(_NOISE)]
    return first_paragraph("\n".join(kept))


def squash(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + " …"

