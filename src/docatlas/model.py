"""Records that cross stage (and process) boundaries.

They are slotted dataclasses of plain values (`record`) so that they pickle small and fast, and frozen to
the type checker so that no later stage mutates one behind an earlier one's back.
"""

from __future__ import annotations

import operator
import pickle
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if TYPE_CHECKING:  # (only the type checker reads it: Python 3.10's `typing` has no `dataclass_transform`)
    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda fn: fn

# Symbol kinds; extractors for other languages add their own (struct, enum, macro, namespace, key, target ...).
CLASS = "class"
METHOD = "method"
FUNCTION = "function"
CONSTANT = "constant"
VARIABLE = "variable"
HEADING = "heading"


class Record:
    """Pickles a record as (class, field values): dataclasses' default state protocol recomputes `fields()`
    per object, which made writing and reading the facts cache of PyTorch take seconds."""

    __slots__ = ()
    _values: ClassVar[Callable[[Any], tuple[Any, ...]]]

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return type(self), type(self)._values(self)


def picklable(cls: type) -> type:
    cls._values = operator.attrgetter(*(f.name for f in fields(cls)))  # type: ignore[attr-defined]
    return cls


_T = TypeVar("_T")


@dataclass_transform(frozen_default=True)
def record(cls: type[_T]) -> type[_T]:
    """A `Record` dataclass: frozen to the type checker (mypy rejects an assignment to a field), slotted,
    compared and hashed by value. At run time it is not frozen: a frozen dataclass sets each field through
    `object.__setattr__`, which made constructing one, as every unpickling does, 3-5x slower (an `Import`:
    0.8-1.4 against 0.15-0.26 µs); a rebuild after an edit unpickles some 100,000 of them from the link state
    alone."""
    return picklable(dataclass(slots=True, unsafe_hash=True)(cls))


@record
class ScannedFile(Record):
    """One file the scan found: what can be known from its name and `stat` alone."""

    path: str  # repository-relative, POSIX separators
    size: int
    mtime_ns: int
    language: str  # from the name; refined from content (shebang) during extraction
    vendored: bool = False


@record
class Symbol(Record):
    kind: str
    name: str
    qualname: str  # `Class.method`, `outer.<locals>.inner`, `ns::Class::method`
    line: int
    end_line: int
    signature: str = ""
    summary: str = ""  # first paragraph of the docstring / doc comment, whitespace normalised
    decorators: tuple[str, ...] = ()
    bases: tuple[str, ...] = ()
    parent: str = ""  # qualname of the enclosing symbol, "" at top level
    flags: tuple[str, ...] = ()  # async, property, classmethod, staticmethod, nested, declaration, kernel ...
    # C family: the export or registration macro that declares or names it (`PyAPI_FUNC`, `TORCH_API`,
    # `extern "C"`, `TORCH_IMPL_FUNC`, `PyMethodDef`)
    macro: str = ""
    condition: str = ""  # C family: the preprocessor branch it is compiled in (`#ifdef MS_WINDOWS`); "" always
    target: str = ""  # a binding's C/C++ function (a `PyMethodDef` row's `builtin_abs`, pybind11's `&fn`)
    doc: str = ""  # the whole docstring (or the comment block above a definition without one) as Markdown


@record
class Import(Record):
    module: str  # as written: `os.path`, `.utils` (level 1), `vector` for `#include <vector>`
    names: tuple[str, ...] = ()  # `from m import a, b as c` -> ("a", "b as c")
    alias: str = ""  # `import numpy as np` -> "np"
    level: int = 0  # leading dots of a relative import
    line: int = 0
    conditional: str = ""  # "", "try", "TYPE_CHECKING", "if", "function", "#if"
    system: bool = False  # `#include <...>`


@record
class TestCase(Record):
    name: str  # qualified: `RecompileTests.test_x` or `test_y`
    line: int
    framework: str  # unittest, pytest, gtest, go, rust, js
    kind: str = "test"  # test, class, fixture


@record
class Finding(Record):
    category: str  # security, performance, pattern
    rule: str  # B307, PERF-LRU-CACHE ...
    message: str
    line: int
    evidence: str  # the source line, stripped


@record
class Diagnostic(Record):
    path: str
    line: int
    col: int
    code: str  # DA1xx read/decode, DA2xx parse, DA3xx scan
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


class References:
    """The names a file binds and uses, for `link.references` to resolve across files.

    Python (`extract.pyrefs`): binding and use tuples as documented there. C family (`extract.crefs`):
    no bindings; uses are (name, line, col, kind, enclosing).

    The uses are kept pickled, one bytes object, and made again on each read of `uses` (never kept): the
    build process receives every file's facts and reads each file's uses once, where the link stage resolves
    them. Held as tuples (PyTorch: 1.5 million), they took 1.4 s to unpickle there, and once dropped after the
    link stage they left 400 MB of free slots across its heap at the fork of the render workers, whose own
    allocations then landed in those shared pages, one copy-on-write fault each. (Pickled, not marshalled:
    PyTorch's uses pickle to 40 MB and load in 0.24 s; marshal gave 58 MB and 0.38 s.) Read-only, like a record."""

    __slots__ = ("_packed", "bindings")
    bindings: tuple[tuple[Any, ...], ...]
    _packed: bytes

    def __init__(self, bindings: tuple[tuple[Any, ...], ...] = (),
                 uses: tuple[tuple[Any, ...], ...] | bytes = ()) -> None:
        object.__setattr__(self, "bindings", bindings)
        object.__setattr__(self, "_packed", uses if isinstance(uses, bytes) else pickle.dumps(tuple(uses), protocol=5))

    @property
    def uses(self) -> tuple[tuple[Any, ...], ...]:
        uses: tuple[tuple[Any, ...], ...] = pickle.loads(self._packed)
        return uses

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"References is read-only: cannot set {name}")

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        return References, (self.bindings, self._packed)

    def __eq__(self, other: object) -> bool:  # (the uses' values: equal tuples may pickle to other bytes)
        if not isinstance(other, References):
            return NotImplemented
        return self.bindings == other.bindings and (self._packed == other._packed or self.uses == other.uses)

    def __hash__(self) -> int:
        return hash((self.bindings, self.uses))

    def __repr__(self) -> str:
        return f"References(bindings={self.bindings!r}, uses={self.uses!r})"


# `FileFacts.extra` key of an include folder a build file names (`extract.cbuild`, read by `link.resolve`)
INCLUDE_DIR = "include_dir"


@record
class FileFacts(Record):
    """Everything docatlas knows about one file without looking at any other file."""

    path: str
    language: str
    size: int
    digest: str  # sha1 of the bytes; the cache key
    lines: int = 0
    binary: bool = False
    binary_kind: str = ""  # "PNG image", "ELF executable", "data" ...
    generated: str = ""  # the marker that says so, e.g. "@generated at line 1"
    vendored: bool = False
    docstring: str = ""  # module docstring / leading comment, first paragraph
    symbols: tuple[Symbol, ...] = ()
    imports: tuple[Import, ...] = ()
    tests: tuple[TestCase, ...] = ()
    findings: tuple[Finding, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    main_line: int = 0  # line of `if __name__ == "__main__":`, 0 when absent
    exports: tuple[str, ...] = ()  # `__all__`
    parse_ok: bool = True  # False when the structure could not be (fully) extracted
    extra: tuple[tuple[str, str], ...] = field(default=())  # language-specific key/value facts
    references: References | None = None  # names bound and used, None when not collected (or unparsable)
    doc: str = ""  # the whole module docstring as Markdown ("" when it is no more than `docstring`)
    main_end: int = 0  # last line of that `__main__` block
