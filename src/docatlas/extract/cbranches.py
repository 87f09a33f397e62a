"""Which preprocessor branches a C-family definition is compiled in, read from the tree-sitter tree.

A definition inside `#ifdef MS_WINDOWS` or `#else` of `#if X` is real on some builds only; pages note the
condition beside it (as ctags lists every branch). Include guards and `extern "C"` wrappers are not conditions.
"""

from __future__ import annotations

from docatlas.extract import tsadapter as ts
from docatlas.extract.tsadapter import Node

CONDITIONAL = frozenset(("preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else", "preproc_elifdef"))


def branch_of(data: bytes, node: Node, memo: dict[int, tuple[tuple[str, ...], bool]] | None = None
              ) -> tuple[str, bool]:
    """The preprocessor branches `node` is compiled in, outermost first (`#ifdef MS_WINDOWS > #else of `#if X``;
    header guards left out), and whether it sits in an `extern "C"` block. `memo` (one per tree, keyed by node
    id) keeps what each node's ancestors contribute: a node's parent is found by a walk down from the root, so
    the symbols of one class or namespace share the walk up from their common ancestors."""
    parts, extern_c = _above(data, node, {} if memo is None else memo)
    return " > ".join(reversed(parts)), extern_c


def _above(data: bytes, node: Node, memo: dict[int, tuple[tuple[str, ...], bool]]) -> tuple[tuple[str, ...], bool]:
    """What `node`'s ancestors contribute to `branch_of`: the branches, innermost first, and `extern "C"`."""
    path: list[tuple[int, Node, Node]] = []
    child = node
    while True:
        known = memo.get(child.id)
        if known is not None:
            break
        parent = child.parent
        if parent is None:
            known = ((), False)
            break
        path.append((child.id, child, parent))
        child = parent
    parts, extern_c = known
    for key, child, parent in reversed(path):
        t = parent.type
        if t in CONDITIONAL and not is_header_guard(data, parent) and child.type != "linkage_specification":
            # (`#ifdef __cplusplus` / `extern "C" {` / `#endif` wraps a whole header in the tree: not a condition)
            alt = parent.child_by_field_name("alternative")
            if alt is None or alt.start_byte != child.start_byte or alt.type != child.type:
                parts = (_branch_text(data, parent), *parts)
        elif t == "linkage_specification":
            value = parent.child_by_field_name("value")
            extern_c = extern_c or (value is not None and ts.text(data, value) == '"C"')
        memo[key] = (parts, extern_c)
    return parts, extern_c


def _branch_text(data: bytes, node: Node) -> str:
    """`#ifdef X`, `#elif Y`, or `#else of `#if Z`` for the branch `node` opens."""
    if node.type == "preproc_else":
        head = node.parent
        while head is not None and head.type in ("preproc_elif", "preproc_elifdef"):
            head = head.parent
        opener = _directive_line(data, head) if head is not None else "#if"
        return f"#else of `{opener}`"
    return _directive_line(data, node)


def _directive_line(data: bytes, node: Node) -> str:
    end = data.find(b"\n", node.start_byte, node.end_byte)
    text = data[node.start_byte:end if end >= 0 else node.end_byte].decode("utf-8", "replace")
    while text.rstrip().endswith("\\"):  # a condition continued over lines: the first line, marked cut
        text = text.rstrip()[:-1].rstrip() + " …"
        break
    return " ".join(text.split())[:120]


def is_header_guard(data: bytes, node: Node) -> bool:
    """`#ifndef X_H` directly followed by `#define X_H`: the include guard, not a condition."""
    if node.type != "preproc_ifdef" or not ts.text(data, node).startswith("#ifndef"):
        return False
    name = node.child_by_field_name("name")
    if name is None:
        return False
    for c in node.named_children:
        if c.type in ("identifier", "comment") or c == name:
            continue
        if c.type == "preproc_def":
            inner = c.child_by_field_name("name")
            return inner is not None and ts.text(data, inner) == ts.text(data, name)
        return False
    return False
