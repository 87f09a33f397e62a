"""What pages about many files read of each file: a small record kept beside the facts in the cache.

Folder pages and keyword pages aggregate over thousands of files (counts by kind, keyword names, line counts
for ranking). `FileSummary` holds just that, so a rebuild that renders only a few pages (`link.link_inputs`)
reads these instead of unpickling every file's facts. It is a pure function of the facts (`summarize`), and
`RepoModel.summary` makes it on demand when it is not cached, so it can only ever be slower, never different.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter

from docatlas.model import Diagnostic, FileFacts, Record, Symbol, record

_PLURALS = {"class": "Classes", "alias": "Aliases", "property": "Properties", "dependency": "Dependencies",
            "heading": "Headings", "key": "Keys", "function": "Functions", "method": "Methods"}


@functools.cache
def plural(kind: str) -> str:
    if kind in _PLURALS:
        return _PLURALS[kind]
    word = kind.replace("_", " ").title()
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def keyword_group(s: Symbol) -> str:
    if "nested" in s.flags and s.kind in ("function", "class"):
        return "Nested " + plural(s.kind)
    return plural(s.kind)


def is_keyword(s: Symbol) -> bool:
    """The keyword pages that gather many files (`sub.md`, `keywords.md`) list definitions; methods, namespaces,
    nested local ones and headings stay on their file's own pages (a method is reached from its class, and its
    name is listed under the class's initial anyway: on PyTorch, methods were half of those pages' entries; a
    C++ namespace is opened by thousands of files, which listed it as if each defined it)."""
    return s.kind not in ("heading", "method", "namespace") and "<locals>" not in s.qualname


@record
class FileSummary(Record):
    language: str
    binary: bool
    lines: int
    tests: int  # test cases (kind "test")
    keywords: frozenset[str]  # qualified names of its keyword-worthy symbols
    symbols_key: str  # what keyword lists show of it: its symbols' kinds, names and lines (anchors follow)
    groups: tuple[tuple[str, int], ...]  # symbols per keyword group ("Classes", "Nested Functions" ...)
    diagnostics: tuple[Diagnostic, ...]
    # keywords defined more than once in the file (overloads, redefinitions), with their count: with `keywords`
    # and the group names this bounds the bytes of the file's entries on keyword pages (`render.keywords`)
    repeats: tuple[tuple[str, int], ...] = ()
    long_structure: bool = False  # `structure_bound` passes `STRUCTURE_BUDGET`: the list may need more pages


# Bytes of Code Structure a file page holds (`render.file`); past it the list continues on `P_docs-2.md` ...
STRUCTURE_BUDGET = 128 * 1024
MAX_DEPTH = 8  # the Code Structure indents no deeper (so that a line's bytes have a bound)


def _text(text: str) -> int:
    return len(text) if text.isascii() else 4 * len(text)


def structure_bound(path: str, symbols: tuple[Symbol, ...]) -> int:
    """An upper bound of the bytes of a file's Code Structure (`render.format.structure_lines`), from its
    symbols' own fields. While it stays within `STRUCTURE_BUDGET` the whole list is on the file page; past it
    the split is made from the rendered lines, and `symbols_key` covers every field a line shows, so that the
    keyword pages that link into the file follow it.

    Per symbol: 2 * MAX_DEPTH + 160 + 40 bytes, the source link, its kind, each flag and 2, each decorator and
    10, and its texts weighted as a line repeats them (4 x qualified name, 3 x name, signature and each
    decorator, 1 x summary), a non-ASCII text counted 4 bytes a character. Each weight's texts are summed at once
    (the full link summarises every file: per-symbol calls were 60% of it on PyTorch)."""
    if not symbols:
        return 0
    source_link = 3 * _text(path) + 4 * path.count("/") + 16
    decorators = [d for s in symbols for d in s.decorators]
    return (len(symbols) * (2 * MAX_DEPTH + 160 + source_link + 40) + sum(len(s.kind) for s in symbols)
            + sum(len(f) + 2 for s in symbols for f in s.flags) + 10 * len(decorators)
            + 4 * _texts([s.qualname for s in symbols]) + 3 * _texts([s.name for s in symbols])
            + 3 * _texts([s.signature for s in symbols]) + 3 * _texts(decorators)
            + _texts([s.summary for s in symbols]))


def _texts(texts: list[str]) -> int:
    """`sum(map(_text, texts))`, joined first: one ASCII check for all (the usual case)."""
    joined = "".join(texts)
    return len(joined) if joined.isascii() else sum(map(_text, texts))


def summarize(facts: FileFacts) -> FileSummary:
    symbols = facts.symbols
    text = "\n".join([f"{s.kind}\0{s.qualname}\0{s.line}" for s in symbols])
    long_structure = structure_bound(facts.path, symbols) > STRUCTURE_BUDGET
    if long_structure:  # its Code Structure may continue on other pages
        text += "\n\0" + "\n".join([f"{s.name}\0{s.end_line}\0{s.parent}\0{s.signature}\0{s.summary}\0"
                                     f"{s.decorators}\0{s.flags}" for s in symbols])
    return FileSummary(
        language=facts.language, binary=facts.binary, lines=facts.lines,
        tests=sum(1 for t in facts.tests if t.kind == "test"),
        keywords=frozenset(s.qualname for s in symbols if is_keyword(s)),
        symbols_key=hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest(),
        groups=tuple(sorted(Counter(keyword_group(s) for s in symbols).items())),
        diagnostics=facts.diagnostics,
        repeats=tuple(sorted((k, n) for k, n in Counter(s.qualname for s in symbols if is_keyword(s)).items()
                             if n > 1)),
        long_structure=long_structure,
    )
