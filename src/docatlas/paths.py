"""Where each page lives in the output folder and how pages link to each other and to the sources."""

from __future__ import annotations

import re


def file_page(path: str) -> str:
    return f"{path}_docs.md"


def kw_page(path: str) -> str:
    return f"{path}_kw.md"


def folder_page(folder: str, name: str) -> str:
    """`index.md`, `doc.md` or `sub.md` of a folder ("" is the repository root)."""
    return f"{folder}/{name}" if folder else name


def folder_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def rel(from_page: str, to_page: str) -> str:
    """Relative link between two output pages: `./x.md`, `../index.md`.

    Both are normalised output-relative paths, so plain segment arithmetic does what `posixpath.relpath`
    does without its `abspath`/`getcwd` calls (a quarter of all render time on PyTorch).
    """
    start = from_page.split("/")[:-1]
    target = to_page.split("/")
    common = 0
    limit = min(len(start), len(target) - 1)
    while common < limit and start[common] == target[common]:
        common += 1
    up = len(start) - common
    rest = "/".join(target[common:])
    return "../" * up + rest if up else "./" + rest


def source_link(from_page: str, path: str, line: int = 0) -> str:
    """Link from a page to a repository file, valid when the output folder sits at the repository root."""
    depth = from_page.count("/")
    link = "../" * (depth + 1) + path
    return f"{link}#L{line}" if line else link


_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def anchor(qualname: str) -> str:
    return "sym-" + _ANCHOR_UNSAFE.sub("-", qualname).strip("-")


def url_quote(link: str) -> str:
    """Markdown link targets may not contain spaces or parentheses unescaped."""
    return link.replace("%", "%25").replace(" ", "%20").replace("(", "%28").replace(")", "%29") \
        .replace("<", "%3C").replace(">", "%3E")
