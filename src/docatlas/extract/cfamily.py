"""C, C++, CUDA and Objective-C through tree-sitter: namespaces, types, functions, macros, includes, gtest.

The C++ grammar does not know project macros, so `class TORCH_API Foo` or `C10_HOST_DEVICE int f()` make it
emit error nodes and lose the surrounding definitions. `blank_macros` overwrites such attribute/export macro
tokens (a fixed token list plus the `*_API`/`*_EXPORT` naming convention) with spaces before parsing, so byte
offsets and line numbers stay those of the file; signatures and comments are always cut from the original
text. C++, CUDA and headers use the CUDA grammar, a superset of the C++ grammar that also parses
`__global__`, `__launch_bounds__` and `kernel<<<grid, block>>>(...)` launches.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import time
from collections.abc import Callable
from typing import Any

from docatlas.extract import cbridges, crefs, crules
from docatlas.extract import tsadapter as ts
from docatlas.extract.base import Extraction, first_paragraph
from docatlas.extract.cbranches import CONDITIONAL, is_header_guard
from docatlas.extract.ccomments import comment_text, doc_comment, squash
from docatlas.extract.cdecls import (
    KIND_OF,
    Scope,
    State,
    add_symbol,
    alias_symbols,
    function_def,
    macro_signature,
    namespace_symbol,
    objc_method,
    prototypes,
    resolve_out_of_line,
    statement_macro,
    type_symbol,
)
from docatlas.extract.cmacros import blank_macros, line_conditions, parse_c_family, parse_variants
from docatlas.extract.tsadapter import Node
from docatlas.model import Import, Symbol

__all__ = ["blank_macros", "comment_text", "doc_comment", "extract_c", "extract_c_family", "extract_cpp",
           "extract_cuda", "extract_header", "extract_objc", "extract_objcpp", "parse_c_family"]




def _grammar_for(language: str) -> tuple[str, str]:
    if language == "c":
        return "c", "c"
    if language == "objc":
        return "objc", "objc"
    return "cuda", "cpp"


def _make_extractor(language: str) -> Callable[[str, str], Extraction]:
    grammar, qname = _grammar_for(language)

    @ts.safe(language)
    def extract(path: str, text: str) -> Extraction:
        return extract_c_family(path, text, grammar, qname, sections=language == "c-header")

    extract.__name__ = f"extract_{language.replace('-', '_')}"
    return extract


@functools.cache
def _query(grammar: str, query_name: str) -> Any:
    """The symbol query with the findings rules' patterns (`crules.patterns`) and the uses' (`crefs`)
    appended: one walk for all."""
    return ts.compile_query(grammar, ts.query_source(query_name) + "\n" + cbridges.query_patterns() + "\n"
                            + crules.patterns(grammar) + "\n" + crefs.query_patterns(grammar))


def extract_c_family(path: str, text: str, grammar: str, query_name: str, sections: bool = False) -> Extraction:
    """Symbols, includes, gtest cases and a parse diagnostic for one C-family file."""
    out = Extraction()
    data = text.encode("utf-8", "surrogatepass")
    root, parsed, variants, flat, base = parse_variants(data, grammar)
    conditions, guards = line_conditions(data) if flat else (None, frozenset[int]())
    rule_caps, ref_caps = _walk(State(path, data, parsed, out, conditions=conditions, guards=guards, base=base), root,
                                grammar, query_name)
    other_refs = []
    if variants:  # definitions of the other `#if` branches, each chain's second, third ... branch kept
        # only what starts on a line the first parse did not see (a blanked branch): elsewhere the first
        # parse, which reads the file as it comes, knows the scopes best
        starts = _line_starts(data)

        def hidden(line: int) -> bool:
            a = starts[line - 1] if 0 < line <= len(starts) else len(data)
            b = starts[line] if line < len(starts) else len(data)
            return not parsed[a:b].strip() and bool(data[a:b].strip())

        seen = {(s.kind, s.qualname, s.line) for s in out.symbols}
        for other_root, other_parsed in variants:
            other = Extraction()
            _, other_caps = _walk(State(path, data, other_parsed, other, conditions=conditions, guards=guards,
                                        base=base), other_root, grammar, query_name)
            other_refs.append((other_root, other_parsed, other_caps))
            for sym in other.symbols:
                if (sym.kind, sym.qualname, sym.line) not in seen and hidden(sym.line):
                    seen.add((sym.kind, sym.qualname, sym.line))
                    out.symbols.append(sym)
            known = {(t.name, t.line) for t in out.tests}
            out.tests.extend(t for t in other.tests if hidden(t.line) and (t.name, t.line) not in known)
    if sections:
        _sections(data, root, out)
    # Identifier references (issue 12) belong here: from `root` (the first parse, macros blanked, offsets those
    # of `data`), after every definition is known, as one more step beside `crules.check` below.
    out.symbols.sort(key=lambda s: (s.line, s.end_line))
    out.tests.sort(key=lambda t: t.line)
    t0 = time.perf_counter()
    out.findings.extend(crules.check(root, data, grammar, rule_caps, parsed))
    out.seconds["rules"] = time.perf_counter() - t0
    out.docstring = _file_comment(data, root)
    out.references = crefs.collect(root, parsed, grammar, out.symbols, ref_caps)  # names used (`link.references`)
    if variants and out.references is not None:  # and those only another `#if` branch's parse sees
        out.references = crefs.merge(out.references, [crefs.collect(r, p, grammar, out.symbols, c)
                                                      for r, p, c in other_refs], hidden)
    diag = ts.error_diagnostic(path, root, len(data))
    if diag is not None:
        out.diagnostics.append(diag)
        out.parse_ok = bool(out.symbols) or bool(out.imports) or not _mostly_errors(root, len(data))
    return out


def _walk(st: State, root: Node, grammar: str, query_name: str
          ) -> tuple[dict[str, list[Node]], dict[str, list[Node]] | None]:
    """Every definition of one parse tree into `st.out`, each in its enclosing scope; returns the captures of
    the findings rules (`crules`) and of the uses (`crefs`, names without their prefix; None for a grammar
    without them), which share the query."""
    data = st.data
    caps = ts.captures(_query(grammar, query_name), root, unordered=crefs.PREFIX)  # (`crefs` sorts what it needs)
    rule_caps = {k: caps.pop(k) for k in list(caps) if k.startswith(crules.PREFIX)}
    cut = len(crefs.PREFIX)
    ref_caps = {k[cut:]: caps.pop(k) for k in list(caps) if k.startswith(crefs.PREFIX)} if crefs.query_patterns(
        grammar) else None
    for k in [k for k in caps if k.startswith("_")]:  # predicate helpers of the query, not definitions
        del caps[k]
    items: list[tuple[int, int, str, Node]] = []
    for kind, nodes in caps.items():
        for n in nodes:
            items.append((n.start_byte, -n.end_byte, kind, n))
    items.sort(key=_SPAN)
    stack: list[Scope] = []
    for start, _neg_end, kind, node in items:
        while stack and stack[-1].end <= start:
            stack.pop()
        if kind == "include":
            _include(st, node)
            continue
        if kind == "macro":
            name = node.child_by_field_name("name")
            if name is not None:
                guard = st.guard(node, ts.text(data, name))
                sym = add_symbol(st, node, "macro", ts.text(data, name), "", "", squash(macro_signature(data, node)),
                                 ("guard",) if guard else ())
                if sym.line != ts.line(name):  # error recovery can start the node on an earlier line
                    st.out.symbols[st.out.symbols.index(sym)] = dataclasses.replace(sym, line=ts.line(name))
                cbridges.clinic_methoddef(st, node, ts.text(data, name))
            continue
        scope = next((s for s in reversed(stack) if s.kind != "transparent"), None)
        prefix = scope.qualname if scope is not None else ""
        in_class = scope is not None and scope.kind == "class"
        if kind in _BRIDGES:
            _bridge(st, kind, node, stack)
            continue
        if scope is not None and scope.kind == "function" and kind not in KIND_OF:
            if kind not in ("function", "namespace"):
                continue  # local declarations (`Foo bar(baz);` is a variable) and local aliases are not API
            # A function inside a function body exists only in an error-recovered tree (a `}` lost to a
            # macro such as `CATCH_ALL_ERRORS(return)`): it belongs to the enclosing namespace or class. One
            # without a return type is a statement macro with a block (`TARGET(op) {`, `CUDA_KERNEL_LOOP(i, n)
            # {`): it stays part of the body it sits in.
            if kind == "function" and statement_macro(st, node):
                stack.append(Scope(node.end_byte, "function", scope.qualname))
                continue
            scope = next((s for s in reversed(stack) if s.kind in ("namespace", "class")), None)
            prefix = scope.qualname if scope is not None else ""
            in_class = scope is not None and scope.kind == "class"
        if kind == "function" and in_class and node.parent is not None and node.parent.type == "friend_declaration":
            # a friend defined in its class is no member: a function of the enclosing namespace, as ctags says
            scope = next((s for s in reversed(stack) if s.kind == "namespace"), None)
            prefix = scope.qualname if scope is not None else ""
            in_class = False
        if kind == "namespace":
            namespace_symbol(st, node, prefix, stack)
        elif kind in KIND_OF:
            type_symbol(st, node, kind, prefix, stack, local=scope is not None and scope.kind == "function")
        elif kind == "function":
            qualname = function_def(st, node, prefix, in_class, scope)
            stack.append(Scope(node.end_byte, "function", qualname))
        elif kind == "prototype":
            prototypes(st, node, prefix, in_class, scope)
        elif kind in ("typedef", "alias"):
            alias_symbols(st, node, kind, prefix)
        elif kind == "objc_method":
            objc_method(st, node, prefix)
    resolve_out_of_line(st)
    return rule_caps, ref_caps


_BRIDGES = frozenset(("registration", "binding", "table"))
_SPAN = operator.itemgetter(0, 1)  # (start, -end): outer before inner, ties kept in capture order


def _line_starts(data: bytes) -> list[int]:
    """The byte offset of every line's start (0, and each byte after a newline)."""
    starts = [0]
    i = data.find(b"\n")
    while i >= 0:
        starts.append(i + 1)
        i = data.find(b"\n", i + 1)
    return starts


def _bridge(st: State, kind: str, node: Node, stack: list[Scope]) -> None:
    """Registration macros, `.def`/`.impl` calls and CPython tables (`cbridges`), in their namespace."""
    outer = next((s for s in reversed(stack) if s.kind in ("namespace", "class")), None)
    prefix = outer.qualname if outer is not None else ""
    body = next((s for s in reversed(stack) if s.kind == "function"), None)
    if kind == "registration":
        if body is None:
            cbridges.registration(st, node, prefix)
    elif kind == "binding":
        block = body.qualname.rpartition("::")[2] if body is not None else ""
        cbridges.binding(st, node, prefix, block if block.startswith(("TORCH_LIBRARY", "PYBIND11_")) else "")
    elif outer is None or outer.kind == "namespace":
        cbridges.table(st, node)


def _mostly_errors(root: Node, total: int) -> bool:
    return bool(root.type == "ERROR" or (root.named_child_count == 1 and root.named_children[0].type == "ERROR"))


# -- includes -----------------------------------------------------------------------------------
def _include(st: State, node: Node) -> None:
    data = st.data
    path_node = node.child_by_field_name("path")
    if path_node is None:
        return
    system = path_node.type == "system_lib_string"
    raw = ts.text(data, path_node).strip()
    module = raw[1:-1] if (system or path_node.type == "string_literal") and len(raw) >= 2 else raw
    cond = ""
    parent = node.parent
    if st.conditions is not None:  # a parse without directives: the text's conditions
        row = node.start_point[0]
        cond = "#if" if row < len(st.conditions) and st.conditions[row] else ""
        parent = None
    while parent is not None:
        if parent.type in CONDITIONAL and not is_header_guard(data, parent):
            cond = "#if"
            break
        parent = parent.parent
    st.out.imports.append(Import(module=module, line=ts.line(node), conditional=cond, system=system))


_SECTION_BODIES = frozenset(("translation_unit", "declaration_list", "preproc_ifdef", "preproc_if",
                             "linkage_specification", "ERROR"))
_RULE_CHARS = "=-*#~_/ "


def _sections(data: bytes, root: Node, out: Extraction) -> None:
    """A header's section titles: a short comment standing alone between blank lines at file, namespace or
    `extern "C"` level (`/* === Object Protocol === */`), as `heading` symbols in source order, so that the
    header's API reads grouped as the header groups it."""
    stack = [root]
    found = []
    while stack:
        node = stack.pop()
        children = node.children
        for i, c in enumerate(children):
            if c.type in _SECTION_BODIES:
                stack.append(c)
            elif c.type == "namespace_definition":
                body = c.child_by_field_name("body")
                if body is not None:
                    stack.append(body)
            elif c.type == "comment" and i > 0:
                prev, nxt = children[i - 1], children[i + 1] if i + 1 < len(children) else None
                prev_end = prev.end_point[0] - (1 if prev.end_point[1] == 0 else 0)
                if prev_end >= c.start_point[0] - 1 and prev.type != "{":
                    continue  # attached to what precedes it
                if nxt is not None and nxt.start_point[0] <= c.end_point[0] + 1:
                    continue  # the doc comment of what follows
                raw = ts.text(data, c)
                title = comment_text(raw).strip(_RULE_CHARS)
                if title and "\n" not in title and len(title) <= 72 and not any(
                        w in title.lower() for w in ("copyright", "license", "nolint", "clang-format", "todo")):
                    found.append((ts.line(c) + raw.count("\n", 0, max(0, raw.find(title))), title))  # its text's line
    for line, title in sorted(found):
        out.symbols.append(Symbol(kind="heading", name=title, qualname=title, line=line, end_line=line,
                                  flags=("section",)))


def _file_comment(data: bytes, root: Node) -> str:
    """The file's leading comment block unless it is a license header."""
    first = root.named_children[0] if root.named_child_count else None
    if first is None or first.type != "comment":
        return ""
    parts = []
    node: Node | None = first
    while node is not None and node.type == "comment":
        parts.append(comment_text(ts.text(data, node)))
        node = node.next_sibling
    text = "\n".join(parts)
    lowered = text.lower()
    if "copyright" in lowered or "license" in lowered or "spdx" in lowered:
        return ""
    return first_paragraph(text)


extract_c = _make_extractor("c")
extract_cpp = _make_extractor("cpp")
extract_cuda = _make_extractor("cuda")
extract_header = _make_extractor("c-header")
extract_objc = _make_extractor("objc")
extract_objcpp = _make_extractor("objcpp")
