"""The Python extractor on hand-written modules: exact structure, imports, tests, and never a crash."""

from __future__ import annotations

import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from docatlas.extract import extract_bytes
from docatlas.model import FileFacts

SAMPLE = textwrap.dedent('''\
    """Sample module.

    Second paragraph is not the summary.
    """
    from __future__ import annotations

    import os.path
    import numpy as np
    from . import sibling
    from ..pkg.mod import thing as other, more
    from typing import TYPE_CHECKING

    try:
        import ujson as json
    except ImportError:
        import json

    if TYPE_CHECKING:
        from collections.abc import Iterator

    __all__ = ["Base", "helper"]
    MAX_SIZE: int = 10
    lower_case = 3


    class Base(object):
        """A base class."""

        class Inner:
            pass

        def __init__(self, x):
            self.x = x

        @property
        def size(self) -> int:
            """The size."""
            return 1

        @size.setter
        def size(self, value):
            pass

        @classmethod
        def make(cls, *args, **kwargs):
            def build():
                return cls()
            return build()

        @staticmethod
        async def fetch(url: str = "x") -> bytes:
            return b""


    def helper(a, /, b=2, *, c: int = 3):
        """Help.   Really
        a lot."""
        def inner():
            class Local:
                def method(self):
                    pass
            return Local
        model = None
        model.eval()
        return inner


    if '__main__' == __name__:
        helper(1)
    ''')


def facts_of(text: str, path: str = "pkg/sample.py") -> FileFacts:
    return extract_bytes(path, text.encode(), "python")


def test_structure_is_exact() -> None:
    facts = facts_of(SAMPLE)
    got = [(s.kind, s.qualname, s.line, s.parent, s.flags) for s in facts.symbols]
    assert got == [
        ("constant", "MAX_SIZE", 22, "", ()),
        ("class", "Base", 26, "", ()),
        ("class", "Base.Inner", 29, "Base", ("nested",)),
        ("method", "Base.__init__", 32, "Base", ()),
        ("method", "Base.size", 35, "Base", ("property",)),
        ("method", "Base.size", 40, "Base", ("setter",)),
        ("method", "Base.make", 44, "Base", ("classmethod",)),
        ("function", "Base.make.<locals>.build", 46, "Base.make", ("nested",)),
        ("method", "Base.fetch", 50, "Base", ("async", "staticmethod")),
        ("function", "helper", 55, "", ()),
        ("function", "helper.<locals>.inner", 58, "helper", ("nested",)),
        ("class", "helper.<locals>.inner.<locals>.Local", 59, "helper.<locals>.inner", ("nested",)),
        ("method", "helper.<locals>.inner.<locals>.Local.method", 60, "helper.<locals>.inner.<locals>.Local", ()),
    ]
    helper = next(s for s in facts.symbols if s.qualname == "helper")
    assert helper.signature == "def helper(a, /, b=2, *, c: int=3)"
    assert helper.summary == "Help. Really a lot."
    fetch = next(s for s in facts.symbols if s.qualname == "Base.fetch")
    assert fetch.signature == "async def fetch(url: str='x') -> bytes"
    assert facts.docstring == "Sample module."
    assert facts.exports == ("Base", "helper")
    assert facts.main_line == 68


def test_imports_with_levels_aliases_and_conditions() -> None:
    facts = facts_of(SAMPLE)
    got = [(i.module, i.names, i.alias, i.level, i.line, i.conditional) for i in facts.imports]
    assert got == [
        ("__future__", ("annotations",), "", 0, 5, ""),
        ("os.path", (), "", 0, 7, ""),
        ("numpy", (), "np", 0, 8, ""),
        (".", ("sibling",), "", 1, 9, ""),
        ("..pkg.mod", ("thing as other", "more"), "", 2, 10, ""),
        ("typing", ("TYPE_CHECKING",), "", 0, 11, ""),
        ("ujson", (), "json", 0, 14, "try"),
        ("json", (), "", 0, 16, "try"),
        ("collections.abc", ("Iterator",), "", 0, 19, "TYPE_CHECKING"),
    ]


def test_method_eval_is_not_the_builtin() -> None:
    facts = facts_of(SAMPLE)
    assert [f for f in facts.findings if f.category == "security"] == []
    bad = facts_of("x = eval(input())\n")
    assert [(f.rule, f.line) for f in bad.findings] == [("B307", 1)]


def test_unittest_and_pytest_tests() -> None:
    text = textwrap.dedent('''\
        import unittest
        import pytest

        class Base(unittest.TestCase):
            def test_a(self):
                pass
            def helper(self):
                pass

        class Derived(Base):
            def test_b(self):
                pass

        class TestPlain:
            def test_c(self):
                pass

        @pytest.fixture
        def db():
            return 1

        def test_d(db):
            pass
        ''')
    facts = facts_of(text, "tests/test_x.py")
    assert [(t.name, t.kind, t.framework) for t in facts.tests] == [
        ("Base", "class", "unittest"), ("Base.test_a", "test", "unittest"),
        ("Derived", "class", "unittest"), ("Derived.test_b", "test", "unittest"),
        ("TestPlain", "class", "pytest"), ("TestPlain.test_c", "test", "pytest"),
        ("db", "fixture", "pytest"), ("test_d", "test", "pytest"),
    ]


def test_test_functions_need_a_test_module() -> None:
    facts = facts_of("def test_helper():\n    pass\n", "lib/util.py")
    assert facts.tests == ()


def test_syntax_error_is_a_diagnostic_not_a_guess() -> None:
    facts = facts_of("def ok():\n    pass\nprint 'python 2'\n")
    assert not facts.parse_ok
    assert facts.symbols == ()
    (diag,) = facts.diagnostics
    assert diag.code == "DA201" and diag.line == 3 and "Python 2" in diag.message
    assert str(diag).startswith("pkg/sample.py:3:")


def test_null_bytes_and_undecodable_bytes() -> None:
    facts = extract_bytes("a.py", b"x = 1\n\x00\n", "python")
    assert facts.binary  # NUL in the head: treated as binary data, never parsed
    latin = extract_bytes("b.py", "s = 'caf\xe9'\n".encode("latin-1"), "python")
    assert [d.code for d in latin.diagnostics] == ["DA102"]
    coded = extract_bytes("c.py", "# -*- coding: latin-1 -*-\ns = 'caf\xe9'\n".encode("latin-1"), "python")
    assert coded.diagnostics == () and coded.parse_ok


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("def class():\n\t ,=*@'\"#xyz0_[]{}.\\async await lambda if else"))))
def test_never_crashes_on_arbitrary_text(text: str) -> None:
    facts = facts_of(text)
    assert facts.parse_ok or facts.diagnostics


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_never_crashes_on_arbitrary_bytes(data: bytes) -> None:
    facts = extract_bytes("fuzz.py", data, "python")
    assert facts.digest


def test_computed_all_keeps_the_literal_names_and_says_it_is_computed() -> None:
    lit = extract_bytes("m.py", b"__all__ = ['x'] + ['y']\n__all__.append('z')\n__all__.extend(('w',))\n", "python")
    assert lit.exports == ("x", "y", "z", "w") and ("all", "computed") not in lit.extra
    for tail in (b"__all__ += other.__all__\n", b"__all__.extend(other.__all__)\n", b"__all__.remove('x')\n"):
        f = extract_bytes("m.py", b"from . import other\n__all__ = ['x']\n" + tail, "python")
        assert f.exports == ("x",) and ("all", "computed") in f.extra, tail
    whole = extract_bytes("m.py", b"__all__ = [n for n in dir() if not n.startswith('_')]\n", "python")
    assert whole.exports == () and ("all", "computed") in whole.extra
