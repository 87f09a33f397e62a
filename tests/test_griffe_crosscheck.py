"""Real code nobody here wrote: an installed package, documented by docatlas, checked against griffe.

Every class, function and method that griffe finds must appear in docatlas's keyword pages with the same
qualified name, linked to its Code Structure entry on the file page, which gives the same line.
"""

from __future__ import annotations

import importlib
import re
import shutil
from pathlib import Path

import griffe
import pytest

from docatlas.cli import main

_ENTRY = re.compile(r"^- \*\*`+ ?(?P<name>.+?) ?`+\*\*: \[definition\]\((?P<page>[^)#]*)#(?P<anchor>[^)]*)\)")
_ROW = re.compile(r'<a id="(?P<anchor>[^"]+)"></a>.*? · \[line (?P<line>\d+)')


def griffe_symbols(package: str) -> set[tuple[str, str, int]]:
    """(module file relative to the package's parent, qualname, line) for every class/function/method."""
    root = griffe.load(package, resolve_aliases=False)
    base = Path(str(root.filepath)).parent.parent
    found: set[tuple[str, str, int]] = set()

    def walk(obj: griffe.Object, module_file: str, prefix: str) -> None:
        for name, member in obj.members.items():
            if member.is_alias:
                continue
            kind = member.kind.value
            if kind == "module":
                walk(member, Path(str(member.filepath)).relative_to(base).as_posix(), "")  # type: ignore[arg-type]
            elif kind in ("class", "function"):
                qualname = f"{prefix}{name}"
                found.add((module_file, qualname, int(member.lineno or 0)))
                if kind == "class":
                    walk(member, module_file, qualname + ".")  # type: ignore[arg-type]

    walk(root, Path(str(root.filepath)).relative_to(base).as_posix(), "")
    return found


def docatlas_symbols(out: Path) -> set[tuple[str, str, int]]:
    found = set()
    rows: dict[Path, dict[str, int]] = {}
    for page in out.rglob("*.py_kw.md"):
        source = page.relative_to(out).as_posix()[: -len("_kw.md")]
        for line in page.read_text(encoding="utf-8").splitlines():
            m = _ENTRY.match(line)
            if m:
                doc = (page.parent / m.group("page")).resolve()
                if doc not in rows:
                    rows[doc] = {r.group("anchor"): int(r.group("line"))
                                 for r in _ROW.finditer(doc.read_text(encoding="utf-8"))}
                found.add((source, m.group("name"), rows[doc].get(m.group("anchor"), 0)))
    return found


@pytest.mark.parametrize("package", ["click", "jinja2"])
def test_every_griffe_symbol_is_documented_at_its_line(package: str, tmp_path: Path) -> None:
    module = importlib.import_module(package)
    src = Path(str(module.__file__)).parent
    repo = tmp_path / "repo"
    shutil.copytree(src, repo / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "2", "-q"]) == 0
    expected = griffe_symbols(package)
    assert len(expected) > 100  # a real package, not an empty walk
    missing = expected - docatlas_symbols(out)
    assert not missing, sorted(missing)[:20]
