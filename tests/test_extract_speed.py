"""The C-family and prose helpers made cheaper for issue 15 give what the plain versions gave: the fast forms are
checked against the straightforward ones they replaced, on generated C-like text and on real snippets."""

from __future__ import annotations

import re

import pytest

from docatlas.extract import base, cbranches, cmacros

pytest.importorskip("tree_sitter_language_pack")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# C-ish fragments: directives, macros alone on a line, default arguments, lambdas, brackets and blanks
_PIECES = ["#if A\n", "#ifdef B\n", "#elif C\n", "#else\n", "#endif\n", "#define X 1 \\\n  + 2\n", "  ENTER_PYTHON\n",
           "  DEF_FUNC(a, b)\n", "void f(int x = {}, T y = {0, 1});\n", "a == {b};\n", "x <= {1};\n", "=  {2}, ",
           "[p(std::move(p))](int) { return 1; }\n", "a[i] = [q{1}] { };\n", "[[nodiscard]] ", "int g() {\n",
           "}\n", ";\n", "\n", "\r\n", " \t", "return [x(1)]() {};\n", "  MACRO\r\n", "(", ")", "{", "}", "[", "]"]
_TEXT = st.lists(st.sampled_from(_PIECES), max_size=40).map(lambda xs: "".join(xs).encode())

# the patterns as they were before issue 15: lookbehinds first, `re` for the line-anchored ones
_OLD_BRACE = re.compile(rb"(?<![=!<>+\-*/%&|^])=[ \t]*\{")
_OLD_LAMBDA = re.compile(rb"(?<![A-Za-z0-9_\])\[])\[(?=[^\]\[;]{0,200}?[A-Za-z0-9_]\s*[({])")
_OLD_CALL = re.compile(rb"^[ \t]+([A-Z][A-Z0-9_]{2,})[ \t]*\(", re.MULTILINE)
_OLD_STATEMENT = re.compile(rb"^[ \t]+([A-Z][A-Z0-9_]{3,})[ \t]*\r?$", re.MULTILINE)


def _spans(pattern: object, data: bytes) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(data)]  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_macro_patterns_find_what_the_old_ones_found(data: bytes) -> None:
    brace = [m.span() for m in cmacros._BRACE_DEFAULT.finditer(data)
             if not (m.start() and data[m.start() - 1] in cmacros._NOT_BEFORE_DEFAULT)]
    assert brace == _spans(_OLD_BRACE, data)
    assert _spans(cmacros._LAMBDA_INTRO, data) == _spans(_OLD_LAMBDA, data)
    for new, old in ((cmacros._CALL_LINE, _OLD_CALL), (cmacros._STATEMENT_LINE, _OLD_STATEMENT)):
        assert [(m.span(), m.span(1)) for m in new.finditer(data)] == \
            [(m.span(), m.span(1)) for m in old.finditer(data)]
    for pos in range(len(data) + 1):
        before = data[:pos].rstrip()
        last = cmacros._last_code_byte(data, pos)
        assert (last < 0) == (not before) and data[last:last + 1] == (before[-1:] if before else b"")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_one_line_table_serves_every_variant(data: bytes) -> None:
    """`parse_variants` makes `_lines` once: blanking branches or conditionals keeps the table of the text."""
    lines = cmacros._lines(data)
    for keep in range(3):
        for inner in (None, 0):
            variant, most = cmacros.blank_branches(data, keep, inner)
            assert (variant, most) == cmacros.blank_branches(data, keep, inner, lines)
            assert cmacros._lines(variant) == lines
            assert cmacros.blank_conditionals(variant) == cmacros.blank_conditionals(variant, lines)


def test_branch_of_with_a_memo_says_what_it_says_without() -> None:
    from docatlas.extract import tsadapter as ts

    data = b"""#ifndef H_
#define H_
extern "C" {
#ifdef _WIN32
namespace a {
#if defined(X) && \\
    defined(Y)
struct S { int f(); int g(); };
#elif Z
int h() { return 0; }
#else
void k();
#endif
}
#endif
int last();
}
#endif
"""
    root = ts.parse("cuda", data).root_node
    memo: dict[int, tuple[tuple[str, ...], bool]] = {}
    stack, seen = [root], 0
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.is_named:
            assert cbranches.branch_of(data, node, memo) == cbranches.branch_of(data, node)
            seen += 1
    assert seen > 30 and memo
    (f,) = [n for n in _named(root) if n.type == "field_identifier" and n.text == b"f"]
    assert cbranches.branch_of(data, f, memo) == ("#ifdef _WIN32 > #if defined(X) && …", True)


def _named(root: object) -> list[object]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        stack.extend(node.children)  # type: ignore[attr-defined]
        out.append(node)
    return out


@pytest.mark.parametrize("doc", [
    "", "Copyright 2020 X. All rights reserved.\n\nThe first words.\n\nMore.", "-----\n\n\n",
    "vim: set ft=c:\nSummary line\ncontinued.\n\nSecond.", "Licensed under the Apache License\n", "One.",
])
def test_first_paragraph_is_the_first_of_prose_paragraphs(doc: str) -> None:
    paras = base.prose_paragraphs(doc)
    assert base.first_paragraph(doc, limit=10_000) == (paras[0] if paras else "")


def test_line_starts() -> None:
    from docatlas.extract.cfamily import _line_starts

    for data in (b"", b"a", b"a\n", b"\n\nb\r\nc", b"x\ny\n"):
        assert _line_starts(data) == [0, *(i + 1 for i, c in enumerate(data) if c == 10)]

