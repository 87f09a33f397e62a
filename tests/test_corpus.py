"""Slow checks on real code nobody here wrote: PyTorch 1.13.1's own test modules.

For every `test/*.py` file docatlas's keyword index must list each class and function (methods and nested
ones included, with their nesting) that CPython's own compiler sees (`symtable`, independent of docatlas's
`ast` walk), and each import statement; and its `eval` findings must be bandit's, never `model.eval()`.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import symtable
from pathlib import Path

import pytest

from docatlas import paths as P
from docatlas.cli import main

pytestmark = pytest.mark.slow

# name, optional (import names); a definition links to its anchor (keyword pages give no line since 2f69c7f:
# the file page has it), an import to its line
_ENTRY = re.compile(r"^- \*\*`+ ?(?P<name>.+?) ?`+\*\*(?: \(.*?\))?: "
                    r"(?:\[definition\]\([^)]*\)(?: · line (?P<dline>\d+))?(?: · [a-z ]+)?$|\[line (?P<line>\d+)\])")
# what a file keyword page says of the nested local definitions it leaves to the Code Structure (since b4c1125)
_NESTED = re.compile(r"^([\d,]+) nested local definitions? (?:are|is) not listed here", re.M)


def corpus(name: str) -> Path:
    root = Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora")) / name
    if not root.is_dir():
        pytest.skip(f"corpus {name} not present (run ../shared/corpora/fetch {name})")
    return root


def compiler_definitions(source: str, filename: str) -> set[str]:
    """Qualified names of every class and function, as CPython's symbol table nests them."""
    found: set[str] = set()

    def walk(table: symtable.SymbolTable, prefix: str, parent_is_function: bool) -> None:
        for child in table.get_children():
            kind = child.get_type()
            name = child.get_name()
            if kind not in ("function", "class") or name in ("lambda", "genexpr", "listcomp", "setcomp",
                                                             "dictcomp"):
                continue
            scope = f"{prefix}.<locals>." if parent_is_function else f"{prefix}."
            qualname = f"{scope}{name}" if prefix else name
            found.add(qualname)
            walk(child, qualname, kind == "function")

    walk(symtable.symtable(source, filename, "exec"), "", False)
    return found


def nested_local_count(tree: ast.AST) -> int:
    """How many class and function definitions sit inside a function, each counted (`compiler_definitions`
    gives each qualified name once: two local `fn`s in one function are one name)."""
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)

    def count(node: ast.AST, in_function: bool) -> int:
        n = 0
        for child in ast.iter_child_nodes(node):
            if isinstance(child, kinds):
                n += in_function + count(child, in_function or not isinstance(child, ast.ClassDef))
            else:
                n += count(child, in_function)
        return n

    return count(tree, False)


def keyword_entries(page: Path) -> dict[str, set[tuple[str, int]]]:
    """section (### heading) -> {(name, line)} from a `_kw.md` page."""
    sections: dict[str, set[tuple[str, int]]] = {}
    current = ""
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            current = line[4:]
            sections[current] = set()
        m = _ENTRY.match(line)
        if m and current:
            sections[current].add((m.group("name"), int(m.group("dline") or m.group("line") or 0)))
    return sections


@pytest.fixture(scope="module")
def pytorch_tests(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    src = corpus("pytorch-1.13.1") / "test"
    repo = tmp_path_factory.mktemp("pt") / "repo"
    shutil.copytree(src, repo / "test", ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    out = repo.parent / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "2", "-q"]) in (0, 1)
    return repo, out


def test_keyword_index_lists_exactly_what_the_compiler_sees(pytorch_tests: tuple[Path, Path]) -> None:
    repo, out = pytorch_tests
    checked = 0
    for path in sorted((repo / "test").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        try:
            expected = compiler_definitions(source, path.name)
        except SyntaxError:
            continue
        rel = path.relative_to(repo).as_posix()
        sections = keyword_entries(out / f"{rel}_kw.md")
        page = (out / f"{rel}_kw.md").read_text(encoding="utf-8")
        top = {q for q in expected if "<locals>" not in q}  # (nested local ones are counted, not listed)
        said = _NESTED.search(page)
        assert (int(said[1].replace(",", "")) if said else 0) == nested_local_count(ast.parse(source)), rel
        listed = {name for key in ("Classes", "Methods", "Functions", "Nested Functions", "Nested Classes")
                  for name, _ in sections.get(key, set())}
        if "more definitions are not listed here" in page:
            # a page cut to stay under 512 KB: what it lists is right, and the rest is on the file's pages
            assert listed <= expected, (rel, sorted(listed - expected)[:5])
            anchors = {a for doc in out.glob(f"{rel}_docs*.md")
                       for a in re.findall(r'<a id="([^"]+)"></a>', doc.read_text(encoding="utf-8"))}
            assert {P.anchor(q) for q in expected} <= anchors, rel
            checked += 1
            continue
        assert listed == top, (rel, sorted(top - listed)[:5], sorted(listed - top)[:5])
        imports: set[tuple[str, int]] = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                imports |= {(alias.name, node.lineno) for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                imports.add(("." * node.level + (node.module or ""), node.lineno))
        assert sections.get("Imports", set()) == imports, rel
        checked += 1
    assert checked > 100


def test_eval_findings_agree_with_bandit(pytorch_tests: tuple[Path, Path]) -> None:
    bandit_manager = pytest.importorskip("bandit.core.manager")
    bandit_config = pytest.importorskip("bandit.core.config")
    repo, out = pytorch_tests
    files = [p for p in sorted((repo / "test").glob("*.py")) if "eval(" in p.read_text(encoding="utf-8")][:40]
    assert any(".eval()" in p.read_text(encoding="utf-8") for p in files)
    manager = bandit_manager.BanditManager(bandit_config.BanditConfig(), "file", profile={"include": {"B307"}})
    manager.discover_files([str(p) for p in files])
    manager.run_tests()
    by_bandit = {(Path(i.fname).relative_to(repo).as_posix(), i.lineno) for i in manager.get_issue_list()}
    ours = set()
    for p in files:
        rel = p.relative_to(repo).as_posix()
        page = (out / f"{rel}_docs.md").read_text(encoding="utf-8")
        ours |= {(rel, int(m)) for m in re.findall(r"^- \*\*B307\*\* \[line (\d+)\]", page, re.MULTILINE)}
        # a test file's findings are grouped by rule: `- **B307** × 3: message — lines [202](…), [204](…)`
        for group in re.findall(r"^- \*\*B307\*\* × (\d+).* — lines? (.*)$", page, re.MULTILINE):
            lines = {(rel, int(n)) for n in re.findall(r"\[(\d+)\]\(", group[1])}
            assert len(lines) == int(group[0]), f"{rel}: the group lists every line when it has at most 10"
            ours |= lines
    assert ours == by_bandit
