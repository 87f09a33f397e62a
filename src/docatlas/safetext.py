"""The one boundary for text that comes from the documented repository.

A string constant, a docstring or a file name can hold anything: a lone surrogate (`"/tmp\\udfff"` in a test
of CPython), a NUL, an escape sequence for the terminal, a newline in a file name. None of them may break a
page, the index, a JSON record or the terminal, and none may be dropped silently either: they are escaped
*visibly*, the way Python's `repr` shows them (`\\udfff`, `\\x1b`), so the reader sees what is there.

- `visible(s)`: lone surrogates, other code points that UTF-8 cannot hold, and control characters escaped;
  tab and newline kept unless `keep_newlines=False`. Used on every string of a file's facts (`clean_facts`,
  called once where facts are made) and on every line the CLI prints (`terminal`).
- `md_inline(s)` / `html(s)`: Markdown and HTML metacharacters escaped where they would change a page's
  structure (a heading, a list, raw HTML), for text that is not already inside a code span.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, TypeVar

# C0 controls except tab and newline, DEL, C1 controls, bidirectional overrides and isolates (they reorder what
# a reader sees: "Trojan Source"), lone surrogates, and the non-characters U+FFFE/U+FFFF
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_UNSAFE_NO_NL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    n = ord(ch)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def visible(s: str, keep_newlines: bool = True) -> str:
    """`s` with every character that could break output escaped visibly (`\\udfff`, `\\x00`); `s` itself
    (the same object, no copy) when there is none, which is almost always."""
    pattern = _UNSAFE if keep_newlines else _UNSAFE_NO_NL
    if pattern.search(s) is None:
        return s
    return pattern.sub(_escape, s)


def is_clean(s: str) -> bool:
    return _UNSAFE.search(s) is None


def terminal(s: str) -> str:
    """One line for the terminal: no control character (a newline in a file name included) reaches it."""
    return visible(s, keep_newlines=False)


R = TypeVar("R")


def _clean_value(v: Any) -> Any:
    if type(v) is str:
        return visible(v)
    if type(v) is tuple:
        items = tuple(_clean_value(x) for x in v)
        return v if all(a is b for a, b in zip(items, v, strict=True)) else items
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return clean_record(v)
    return v


_IDENTITY = frozenset({"path", "digest"})  # a file's identity: kept as the scan found it (printing escapes it)


def clean_record(rec: R) -> R:
    """A frozen record (`FileFacts`, `Symbol`, …) with every string in it made `visible`, except the file's
    path (its identity; `terminal` escapes it where it is printed); the same object when nothing changed."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(rec):  # type: ignore[arg-type]
        if f.name in _IDENTITY:
            continue
        old = getattr(rec, f.name)
        new = _clean_value(old)
        if new is not old:
            changes[f.name] = new
    return dataclasses.replace(rec, **changes) if changes else rec  # type: ignore[type-var]


def has_unsafe(v: Any) -> bool:
    """Whether a record, tuple or string holds any character `visible` would escape (a fast look: records
    are read through their field getter, not `dataclasses.fields`)."""
    if type(v) is str:
        return _UNSAFE.search(v) is not None
    if type(v) is tuple:
        return any(has_unsafe(x) for x in v)
    values = getattr(type(v), "_values", None)
    if values is not None:
        return any(has_unsafe(x) for x in values(v))
    return False


# languages whose extractors evaluate string escapes (Python's `ast`, the JSON, TOML and YAML parsers): an escape
# in their text may become any character in the facts; other extractors take slices of the text
EVALUATES_ESCAPES = frozenset({"python", "python-stub", "json", "toml", "yaml", "github-actions"})
# the escapes of those languages that can give a character `_UNSAFE` matches: control characters (`\r`, `\v`,
# `\f`, `\a`, `\b`, `\e`, octal), code points (`\x`, `\u`, `\U`, `\N{name}`, YAML's `\N`); `\n`
# and `\t` give safe characters and `\\` a backslash
_UNSAFE_ESCAPE = re.compile(r"\\[rvfabe0-7xuUN]")


def needs_cleaning(text: str, language: str = "python") -> bool:
    """Whether facts made from `text` may hold unsafe characters: the text holds some itself, or (in a
    language whose extractor evaluates escapes) an escape that may produce one (`"\\udfff"`, `"\\x00"`,
    `"\\r"`). Most files pass both tests, so their facts are not walked (`has_unsafe`)."""
    return (language in EVALUATES_ESCAPES and _UNSAFE_ESCAPE.search(text) is not None) \
        or _UNSAFE.search(text) is not None


_MD_LINE_START = re.compile(r"^(\s*)([#>+\-*=|]|\d+[.)])", re.MULTILINE)
_MD_INLINE = re.compile(r"([\\`\[\]<>|])")


def md_inline(s: str) -> str:
    """Text for running Markdown (not a code span): one line, with the characters that would start a
    heading, list, quote, link, emphasis, table cell or raw HTML backslash-escaped."""
    s = terminal(s).replace("&", "&amp;")
    s = _MD_INLINE.sub(r"\\\1", s)
    return _MD_LINE_START.sub(r"\1\\\2", s)


_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def prose(s: str) -> str:
    """Repository prose (a docstring, a summary) for running Markdown: Markdown itself is kept (a docstring's
    `code` stays code), but nothing that reads as a raw HTML tag (`<script>`) is left for a viewer to run."""
    return _TAG.sub("&lt;", s) if "<" in s else s


def outside_fences(s: str, fn: Callable[[str], str]) -> str:
    """`s` (Markdown) with `fn` applied to each line outside fenced code; fence lines and code stay as written."""
    out = []
    fence = ""
    for line in s.split("\n"):
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~"):
            fence = "" if fence and marker == fence else fence or marker
            out.append(line)
        else:
            out.append(line if fence else fn(line))
    return "\n".join(out)


def prose_block(s: str) -> str:
    """`prose` for a Markdown block (a whole docstring rendered as Markdown): lines inside fenced code are
    code, shown as written, so only the lines outside fences are escaped."""
    return outside_fences(s, prose) if "<" in s else s


_OWN_ANCHOR = re.compile(r'<a id="[A-Za-z0-9._~-]*"></a>')


def prose_page(s: str) -> str:
    """`prose_block` for a page assembled in Python from repository text and docatlas's own anchors
    (`<a id="glossary"></a>`, ids of safe characters only): every other tag start is escaped."""
    if "<" not in s:
        return s
    anchors = _OWN_ANCHOR.findall(s)
    parts = _OWN_ANCHOR.split(s)
    parts = [prose_block(part) for part in parts]
    out = [parts[0]]
    for anchor, part in zip(anchors, parts[1:], strict=True):
        out += [anchor, part]
    return "".join(out)


def html(s: str) -> str:
    """Text for an HTML context: `<`, `>`, `&` and quotes as entities."""
    return (terminal(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))
