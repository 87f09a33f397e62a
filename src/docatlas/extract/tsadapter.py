"""The one place that talks to the tree-sitter bindings.

The `tree-sitter` Python bindings changed their query API three times (0.21: `Language.query` and
capture lists; 0.22-0.24: `Query.captures` returning dicts; 0.25+: `QueryCursor`). Extractors call
`parse`, `captures` and `matches` here and never see those differences. Parsers and compiled queries
are cached per process: compiling a query costs milliseconds, parsing a file microseconds.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from importlib import resources
from typing import Any

from docatlas import diagnostics as dx
from docatlas.extract.base import Extraction
from docatlas.model import Diagnostic

Node = Any  # tree_sitter.Node; the bindings ship no stubs that mypy can rely on across versions
Captures = dict[str, list[Node]]


@functools.cache
def _language(name: str) -> Any:
    from tree_sitter_language_pack import get_language

    return get_language(name)  # type: ignore[arg-type]


@functools.cache
def _parser(name: str) -> Any:
    from tree_sitter_language_pack import get_parser

    return get_parser(name)  # type: ignore[arg-type]


def language(name: str) -> Any:
    """The compiled grammar of the language pack (cached)."""
    return _language(name)


MAX_YAML_DEPTH = 100  # tree-sitter-yaml's scanner hangs or segfaults somewhere past 200 levels


class TooDeep(RecursionError):
    """Input nested deeper than a native parser survives: reported as DA203, like Python's own limit."""


def parse(grammar: str, data: bytes) -> Any:
    """Parse `data` with the named grammar of the language pack; returns the tree. Input that a grammar's
    native code cannot survive is refused first (TooDeep), never handed to it."""
    if grammar == "yaml" and yaml_depth(data) > MAX_YAML_DEPTH:
        raise TooDeep(f"YAML nested deeper than {MAX_YAML_DEPTH} levels")
    return _parser(grammar).parse(data)


@functools.cache
def _range_parser(name: str) -> Any:
    from tree_sitter_language_pack import get_parser

    return get_parser(name)  # type: ignore[arg-type]  # (its own: `parse`'s parser never has included ranges)


def parse_ranges(grammar: str, data: bytes, spans: list[tuple[int, int]]) -> Any:
    """Parse only the byte spans (sorted, not overlapping) of `data`, as if the rest were whitespace: nodes
    keep the offsets, lines and columns of `data`. Cheaper than parsing a text that is mostly blank, when
    the spans are a small part of it (tree-sitter's included ranges; `spans` must not be empty)."""
    import tree_sitter

    ranges = []
    row = 0
    last = 0  # offset where `row` is counted to
    for start, end in spans:
        row += data.count(b"\n", last, start)
        start_point = tree_sitter.Point(row, start - data.rfind(b"\n", 0, start) - 1)
        row += data.count(b"\n", start, end)
        last = end
        end_point = tree_sitter.Point(row, end - data.rfind(b"\n", 0, end) - 1)
        ranges.append(tree_sitter.Range(start_point, end_point, start, end))
    parser = _range_parser(grammar)
    parser.included_ranges = ranges
    return parser.parse(data)


def yaml_depth(data: bytes) -> int:
    """An upper bound of a YAML document's nesting: block indentation levels plus `- ` items that open on
    one line, plus flow brackets (`[`, `{`) open at once on a line; one pass over the lines."""
    deepest = 0
    stack: list[int] = []
    for raw in data.splitlines():
        body = raw.lstrip(b" ")
        if not body or body.startswith(b"#"):
            continue
        indent = len(raw) - len(body)
        while stack and stack[-1] >= indent:
            stack.pop()
        stack.append(indent)
        dashes = 0
        while body[:1] == b"-" and body[1:2] in (b" ", b""):
            dashes += 1
            body = body[2:].lstrip(b" ")
        flow = 0
        if b"[" in body or b"{" in body:  # flow collections opened on this line (quotes not parsed: a bound)
            flow = max(itertools.accumulate(1 if c in b"[{" else -1 if c in b"]}" else 0 for c in body))
        deepest = max(deepest, len(stack) + dashes + flow)
    return deepest


@functools.cache
def query_source(name: str) -> str:
    """The text of `docatlas/queries/<name>.scm` (package data, so it ships in the wheel)."""
    return resources.files("docatlas").joinpath("queries").joinpath(f"{name}.scm").read_text(encoding="utf-8")


@functools.cache
def query(grammar: str, name: str | None = None) -> Any:
    """The compiled query `<name>.scm` (default: the grammar's own name) for a grammar."""
    return compile_query(grammar, query_source(name or grammar))


def compile_query(grammar: str, source: str) -> Any:
    """A query compiled from source text for a grammar; raises what the bindings raise for a bad pattern."""
    import tree_sitter

    lang = _language(grammar)
    if hasattr(tree_sitter, "Query"):
        return tree_sitter.Query(lang, source)
    return lang.query(source)  # pragma: no cover - bindings < 0.22


def _cursor(q: Any) -> Any:
    import tree_sitter

    cursor_cls = getattr(tree_sitter, "QueryCursor", None)
    return cursor_cls(q) if cursor_cls is not None else None


def captures(q: Any, node: Node, unordered: str | None = None) -> Captures:
    """Capture name -> nodes (each list in document order), whatever the bindings' version. The lists of
    names starting with `unordered` ("": all) keep the bindings' order, for callers that do not depend on it:
    sorting is a Python call per node, and most nodes of the C-family walk are uses (`crefs`)."""
    cursor = _cursor(q)
    raw = cursor.captures(node) if cursor is not None else q.captures(node)
    if isinstance(raw, dict):
        out: Captures = {name: list(nodes) for name, nodes in raw.items()}
    else:  # pragma: no cover - bindings < 0.22 return [(node, name), ...]
        out = {}
        for n, name in raw:
            out.setdefault(name, []).append(n)
    # The bindings do not promise an order (with text predicates it changed from run to run): sort, so
    # that "the first occurrence" and everything built from captures is deterministic.
    for name, nodes in out.items():
        if unordered is None or not name.startswith(unordered):
            nodes.sort(key=lambda n: (n.start_byte, -n.end_byte))
    return out


def matches(q: Any, node: Node) -> list[Captures]:
    """One capture dict per match, in document order of the matches."""
    cursor = _cursor(q)
    raw = cursor.matches(node) if cursor is not None else q.matches(node)
    out: list[Captures] = []
    for _, caps in raw:
        out.append({k: (v if isinstance(v, list) else [v]) for k, v in caps.items()})
    # document order, whatever order the bindings report (see `captures`)
    out.sort(key=lambda m: (min(n.start_byte for ns in m.values() for n in ns),
                            -max(n.end_byte for ns in m.values() for n in ns), sorted(m)))
    return out


def text(data: bytes, node: Node) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8", "replace")


def line(node: Node) -> int:
    return int(node.start_point[0]) + 1


def end_line(node: Node) -> int:
    """Last line of the node (a node ending at column 0 ends on the line before)."""
    row, col = node.end_point
    return int(row) + (1 if col or row == node.start_point[0] else 0)


def error_diagnostic(path: str, root: Node, total: int) -> Diagnostic | None:
    """One DA204 diagnostic saying how much of the file tree-sitter could not parse, or None."""
    if not root.has_error:
        return None
    spans: list[tuple[int, int]] = []
    first: Node | None = None
    missing = 0
    stack = [root]
    while stack:  # iterative: deep trees must not hit the recursion limit
        node = stack.pop()
        if not node.has_error:
            continue
        if node.is_error:
            spans.append((node.start_byte, node.end_byte))
            if first is None or node.start_byte < first.start_byte:
                first = node
            continue
        if node.is_missing:
            missing += 1
            if first is None or node.start_byte < first.start_byte:
                first = node
            continue
        stack.extend(node.children)
    spans.sort()
    skipped = 0
    end = -1
    for a, b in spans:
        if b <= end:
            continue
        skipped += b - max(a, end)
        end = b
    share = 100.0 * skipped / total if total else 0.0
    parts = []
    if spans:
        parts.append(f"{skipped:,} of {total:,} bytes ({share:.1f}%) in {len(spans)} region"
                     f"{'s' if len(spans) != 1 else ''} could not be parsed")
    if missing:
        parts.append(f"{missing} missing token{'s' if missing != 1 else ''} assumed")
    if not parts:
        return None
    row, col = first.start_point if first is not None else (0, 0)
    return dx.PARTIAL_PARSE.at(path, int(row) + 1, int(col) + 1, detail="; ".join(parts))


def safe(language: str) -> Callable[[Callable[[str, str], Extraction]], Callable[[str, str], Extraction]]:
    """Turn any exception of an extractor into one diagnostic: a bad file is data, never a crash."""

    def wrap(fn: Callable[[str, str], Extraction]) -> Callable[[str, str], Extraction]:
        @functools.wraps(fn)
        def inner(path: str, text_: str) -> Extraction:
            try:
                return fn(path, text_)
            except RecursionError:
                out = Extraction(parse_ok=False)
                out.diagnostics.append(dx.TOO_DEEP.at(path))
                return out
            except Exception as exc:  # tree-sitter errors, or a bug of ours on odd input
                out = Extraction(parse_ok=False)
                out.diagnostics.append(dx.EXTRACTOR_FAILED.at(path, language=language,
                                                               error=f"{type(exc).__name__}: {exc}"))
                return out

        return inner

    return wrap
