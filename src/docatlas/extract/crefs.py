"""The names a C, C++ or CUDA file uses, from the tree `extract.cfamily` already parsed (no second parse).

Calls (`f(x)`, `ns::f(x)`, `obj.f()`, `f<T>(x)`, kernel launches `k<<<g, b>>>(x)`), type uses and base
classes, and names used as values (`g(f)`, `&ns::f`, `p = f`, `{f}`, `return f`: kind read, which the link
stage matches against functions only), each with line, 1-based column (where the last name starts), kind
(call, subclass, annotation for a type use, read; a value whose name the file declares as a variable,
parameter, field or enumerator anywhere is left out, so a function and a variable of one name in one file lose
the function's value uses) and the enclosing function or type. The name keeps what narrows its meaning: the
qualifier as written (`c10::irange`, template arguments left out), or `.` for a member called through an
object (`.data` for `t.data()` and `p->data()`), which only a method can be. Macro invocations written like
calls are calls of the macro. `link.cresolve` resolves them by name. Records: (name, line, col, kind,
enclosing). The patterns (`queries/crefs-*.scm`) ride on the extractor's own query (`query_patterns`), so one
walk of the tree serves definitions and uses: the walk was a third of what collecting uses cost.
"""

from __future__ import annotations

import bisect
import functools
import re
import sys
from collections.abc import Callable
from typing import Any

from docatlas.extract import tsadapter as ts
from docatlas.model import References, Symbol

_QUERY = {"c": "crefs-c", "cpp": "crefs-cpp", "cuda": "crefs-cpp"}
PREFIX = "ref."  # the capture names of `query_patterns`
_intern = sys.intern


@functools.cache
def query_patterns(grammar: str) -> str:
    """This grammar's patterns with their captures named `PREFIX` + name, for `extract.cfamily` to append to
    its query; "" for a grammar without them. `collect` takes the captures back (prefix removed)."""
    name = _QUERY.get(grammar)
    return re.sub(r"@(\w+)", lambda m: f"@{PREFIX}{m[1]}", ts.query_source(name)) if name else ""


def _last_name(node: Any) -> Any:
    """The final name of `a::b::c` / `a::b<T>`."""
    while node is not None and node.type == "qualified_identifier":
        node = node.child_by_field_name("name")
    if node is not None and node.type in ("template_function", "template_type", "template_method"):
        node = node.child_by_field_name("name")
    return node if node is not None and node.type in ("identifier", "type_identifier") else None


def _scopes(node: Any, data: bytes) -> str:
    """The qualifier of `a::b<T>::c` as written, template arguments left out (`a::b::`); empty when a scope is
    not a plain name (`decltype(x)::c`) or the name is global (`::c`), which resolve like an unqualified name."""
    parts = []
    while node is not None and node.type == "qualified_identifier":
        scope = node.child_by_field_name("scope")
        if scope is not None and scope.type == "template_type":
            scope = scope.child_by_field_name("name")
        if scope is None or scope.type not in ("namespace_identifier", "type_identifier", "identifier"):
            return ""
        parts.append(data[scope.start_byte:scope.end_byte].decode("utf-8", "replace"))
        node = node.child_by_field_name("name")
    return "".join(p + "::" for p in parts)


def collect(root: Any, data: bytes, grammar: str, symbols: list[Symbol],
            caps: dict[str, list[Any]] | None = None) -> References | None:
    """The uses in the tree `root` of `data`; `caps`: the captures of this grammar's patterns over `root`
    (`query_patterns`, prefix removed) when the caller's walk made them, else the patterns run here."""
    name = _QUERY.get(grammar)
    if name is None:
        return None
    if caps is None:  # (compiled when used: the caller's walk ran these patterns as part of its own query)
        caps = ts.captures(ts.query(grammar, name), root, unordered="")
    sites = _sites(caps, data)
    bodies = sorted((n.start_byte, n.end_byte, n.parent.start_byte, n.parent.start_point[0] + 1)
                    for n in caps.get("macro_body", ()) if n.parent is not None)
    in_macro: dict[int, str] = {}
    if bodies:  # the names macro bodies use, each the macro's (`_macro_text`)
        text, kept = _macro_text(data, bodies)
        tree = ts.parse_ranges(grammar, text, kept) if kept else None  # (only the bodies' lines: cheaper)
        found = _sites(ts.captures(ts.query(grammar, name), tree.root_node, unordered=""), text,
                       values=False) if tree is not None else {}
        names = {s.line: s.qualname for s in symbols if s.kind == "macro"}
        for start, site in sorted(found.items()):
            i = bisect.bisect_right(bodies, (start, len(data) + 1, 0, 0)) - 1
            if i >= 0 and bodies[i][0] <= start < bodies[i][1] and start not in sites:
                sites[start] = site
                in_macro[start] = names.get(bodies[i][3], "")
    spans = sorted((s.line, -s.end_line, s.qualname) for s in symbols
                   if s.kind not in ("macro",) and s.end_line >= s.line)
    starts = [s[0] for s in spans]
    uses: list[tuple[str, int, int, str, str]] = []
    append = uses.append
    texts: dict[bytes, str] = {}  # a name's bytes -> its text, decoded and interned once (names repeat)
    last, around = 0, ""  # the last line worked out and its enclosing symbol (`_enclosing`): lines come in order
    for start, (n, kind, prefix) in sorted(sites.items()):
        row, column = n.start_point  # (each read of a node's field is a call into the bindings)
        line = row + 1
        if in_macro and start in in_macro:
            enclosing = in_macro[start]
        else:
            if line != last:
                last, around = line, _enclosing(spans, starts, line)
            enclosing = around
        raw = data[start:n.end_byte]
        word = texts.get(raw)
        if word is None:
            word = texts[raw] = _intern(raw.decode("utf-8", "replace"))
        append((_intern(prefix + word) if prefix else word, line, column + 1, kind, enclosing))
    return References((), tuple(uses))


def _sites(caps: dict[str, list[Any]], data: bytes, values: bool = True) -> dict[int, tuple[Any, str, str]]:
    """start byte -> (name node, kind, prefix: `ns::` or `.`) of every use the captures show. `values=False`
    leaves out plain names used as values (in a macro body they are mostly its parameters). The capture lists
    may come in any order (`tsadapter.captures(unordered=...)`): a site is its name node's start byte, which
    every capture of that name gives the same values."""
    defs = {n.start_byte for n in caps.get("def", ())}
    sites: dict[int, tuple[Any, str, str]] = {}
    if values:
        local = {data[n.start_byte:n.end_byte] for n in caps.get("local", ())}
        for n in caps.get("value", ()):
            start = n.start_byte  # (each read of a node's field is a call into the bindings: once)
            if data[start:n.end_byte] not in local:
                sites[start] = (n, "read", "")
    for q in caps.get("qvalue", ()):
        n = _last_name(q)
        if n is not None:
            sites[n.start_byte] = (n, "read", _scopes(q, data))
    for kind, key in (("annotation", "type"), ("call", "call"), ("subclass", "subclass")):
        for n in caps.get(key, ()):
            start = n.start_byte
            if start not in defs:
                sites[start] = (n, kind, "")
    for n in caps.get("member", ()):  # `obj.f(x)`, `p->f(x)`: a member's name, recorded as `.f`
        sites[n.start_byte] = (n, "call", ".")
    for kind, key in (("call", "qcall"), ("subclass", "qsubclass")):
        for q in caps.get(key, ()):
            n = _last_name(q)
            if n is not None:
                sites[n.start_byte] = (n, kind, _scopes(q, data))
    return sites


_BLANK = bytes(c if c in (10, 13) else 32 for c in range(256))


def _macro_text(data: bytes, bodies: list[tuple[int, int, int, int]]) -> tuple[bytes, list[tuple[int, int]]]:
    """The file with only its macro bodies kept, each as the body of a function (`void _(){` written over
    `#define X`, `}` before the next such opener and at the end), line continuations and everything else
    blanked: the same offsets, so a use found there has its place in the file. `bodies`: (start, end, start of
    the `#define`, its line), in order. With it the spans of whole lines that hold anything but blanks (and the
    final `}`), in order, for `tsadapter.parse_ranges`: parsing only them reads what parsing the text reads."""
    out = bytearray(data.translate(_BLANK))
    opener = b"void _(){"
    spans: list[tuple[int, int]] = []
    for start, end, define, _line in bodies:
        if b"\n" in data[define:define + len(opener)] or define + len(opener) > start:
            continue  # not `#define X` then the body: left blank
        out[start:end] = data[start:end].replace(b"\\\n", b" \n").replace(b"\\\r\n", b" \r\n")
        out[define:define + len(opener)] = opener
        opener = b"}void _(){"  # closes the one before
        first = data.rfind(b"\n", 0, define) + 1
        last = data.find(b"\n", end)
        last = len(data) if last < 0 else last + 1
        if spans and spans[-1][1] >= first:
            first = spans.pop()[0]
        spans.append((first, last))
    if spans and spans[-1][1] == len(data):
        spans[-1] = (spans[-1][0], len(data) + 2)
    elif spans:
        spans.append((len(data), len(data) + 2))
    return bytes(out) + (b"\n}" if opener[0] == ord("}") else b""), spans


def _enclosing(spans: list[tuple[int, int, str]], starts: list[int], line: int) -> str:
    i = bisect.bisect_right(starts, line) - 1
    for j in range(i, max(-1, i - 40), -1):
        if -spans[j][1] >= line:
            return spans[j][2]
    return ""


def merge(first: References, others: list[References | None], hidden: Callable[[int], bool]) -> References:
    """The uses of the first parse and, from the parses of the other `#if` branches, those on lines the first
    did not see (its branch blanked), each once, in source order."""
    uses = first.uses  # (unpickled on each read: once here)
    seen = {(u[1], u[2]) for u in uses}
    extra = []
    for refs in others:
        for u in refs.uses if refs is not None else ():
            if (u[1], u[2]) not in seen and hidden(u[1]):
                seen.add((u[1], u[2]))
                extra.append(u)
    if not extra:
        return first
    return References(first.bindings, tuple(sorted((*uses, *extra), key=lambda u: (u[1], u[2]))))
