"""Incremental builds: only changed files are re-extracted, and the result equals a fresh full build."""

from __future__ import annotations

import logging
import os
import pickle
import sqlite3
from pathlib import Path

import pytest

import docatlas.pipeline as pipeline
from docatlas import incremental
from docatlas.config import make_config
from docatlas.keyed import Keyed
from docatlas.pipeline import BuildReport, build
from docatlas.store import queries, schema
from docatlas.store.cache import FactsCache
from docatlas.store.lazyfacts import LazyFacts
from store_helpers import dump, page_tree

OLD = 1_500_000_000  # 2017: far from "racy", so an unchanged stat is trusted without reading the file

REPO = {
    "pkg/__init__.py": '"""Demo."""\nfrom .a import alpha\n',
    "pkg/a.py": '"""Module a."""\n\n\ndef alpha():\n    return 1\n',
    "pkg/b.py": "from pkg.a import alpha\n\n\ndef beta():\n    return alpha()\n",
    "pkg/sub/c.py": "def gamma():\n    pass\n",
    "pkg/sub/d.py": "def delta():\n    pass\n",
    "tests/test_a.py": "from pkg.a import alpha\n\n\ndef test_alpha():\n    assert alpha() == 1\n",
    "docs/guide.md": "# Guide\n\n## Usage\n",
    "data.bin": b"\x00\x01\x02binary",
}


def _age(root: Path) -> None:
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, ns=(OLD * 10**9, OLD * 10**9))


@pytest.fixture
def extracted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths the extract stage analyses (jobs=1 runs it in this process)."""
    seen: list[str] = []
    real = pipeline.extract_file

    def spy(root: str, scanned: object, max_bytes: int = 0) -> object:
        seen.append(scanned.path)  # type: ignore[attr-defined]
        return real(root, scanned, max_bytes)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "extract_file", spy)
    return seen


def _build(repo: Path, out: Path, **options: object) -> BuildReport:
    return build(make_config(repo, out, **{"jobs": 1, **options}))


def test_incremental_equals_full_build(make_repo, extracted: list[str]) -> None:
    repo = make_repo(REPO)
    _age(repo)
    out_a, out_b = repo / "out_a", repo / "out_b"
    first = _build(repo, out_a)
    assert len(extracted) == len(REPO)
    extracted.clear()

    (repo / "pkg" / "a.py").write_text('"""Module a, edited."""\n\n\ndef alpha():\n    return 2\n\n\n'
                                       'def alpha_two():\n    pass\n')
    (repo / "pkg" / "new.py").write_text("from pkg import b\n\n\ndef fresh():\n    return b.beta()\n")
    (repo / "pkg" / "sub" / "d.py").unlink()
    (repo / "docs" / "guide.md").rename(repo / "docs" / "manual.md")
    os.utime(repo / "pkg" / "b.py")  # touched, same bytes: facts reused after hashing
    second = _build(repo, out_a)
    assert sorted(extracted) == ["docs/manual.md", "pkg/a.py", "pkg/new.py"]
    assert second.removed == 4  # the two pages of each of d.py and guide.md
    assert not (out_a / "pkg" / "sub" / "d.py_docs.md").exists()
    assert not (out_a / "docs" / "guide.md_docs.md").exists()

    extracted.clear()
    full = _build(repo, out_b, full=True)
    assert len(extracted) == full.files == second.files == first.files + 1 - 1
    assert page_tree(out_a) == page_tree(out_b)
    a = sqlite3.connect(out_a / schema.INDEX_NAME)
    b = sqlite3.connect(out_b / schema.INDEX_NAME)
    assert dump(a) == dump(b)
    assert queries.search(schema.open_index(out_a), "alpha_two")[0].path == "pkg/a.py"
    assert queries.search(schema.open_index(out_a), "delta") == []


def test_noop_rebuild_reads_no_file(make_repo, extracted: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(REPO)
    _age(repo)
    out = repo / "out"
    first = _build(repo, out)
    before = page_tree(out)
    extracted.clear()
    reads: list[str] = []
    real_read = Path.read_bytes

    def spy(self: Path) -> bytes:
        reads.append(str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", spy)
    again = _build(repo, out)
    assert extracted == [] and reads == []
    assert (again.files, again.pages, again.written, again.removed) == (first.files, first.pages, 0, 0)
    assert "extract" not in again.timings and "cache" in again.timings
    assert page_tree(out) == before


def test_touched_file_is_hashed_once_then_trusted(make_repo, extracted: list[str]) -> None:
    repo = make_repo(REPO)
    _age(repo)
    out = repo / "out"
    _build(repo, out)
    os.utime(repo / "pkg" / "a.py", ns=((OLD + 5) * 10**9, (OLD + 5) * 10**9))
    extracted.clear()
    report = _build(repo, out)
    assert extracted == [] and report.written == 0
    cache = FactsCache.load(make_config(repo, out))
    assert cache.entries["pkg/a.py"][1] == (OLD + 5) * 10**9


def test_options_and_full_invalidate_the_cache(make_repo, extracted: list[str]) -> None:
    repo = make_repo(REPO)
    _age(repo)
    out = repo / "out"
    _build(repo, out)
    extracted.clear()
    _build(repo, out, max_file_bytes=1_000_000)  # a facts option (a page option does not: see below)
    assert len(extracted) == len(REPO)
    extracted.clear()
    _build(repo, out, max_file_bytes=1_000_000, full=True)
    assert len(extracted) == len(REPO)
    extracted.clear()
    _build(repo, out, max_file_bytes=1_000_000)
    assert extracted == []


def test_interrupted_render_is_not_mistaken_for_a_complete_build(make_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(REPO)
    _age(repo)
    out_a, out_b = repo / "out_a", repo / "out_b"
    _build(repo, out_a)
    original = (repo / "pkg" / "a.py").read_bytes()
    (repo / "pkg" / "a.py").write_text("def changed():\n    pass\n")

    def boom(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.OutputFolder, "finish", boom)
    with pytest.raises(KeyboardInterrupt):
        _build(repo, out_a)  # pages of the edited file were written, the manifest and index were not
    monkeypatch.undo()
    (repo / "pkg" / "a.py").write_bytes(original)
    _age(repo)
    report = _build(repo, out_a)
    assert "render+write" in report.timings  # the index was marked incomplete: pages are checked again
    _build(repo, out_b)
    assert page_tree(out_a) == page_tree(out_b)


LINKED = {
    **REPO,
    "pkg/__init__.py": '"""Demo."""\nfrom .a import alpha\nfrom .b import *\n\n__all__ = ["alpha", "beta"]\n',
    "pkg/run.py": 'import sys\n\n\ndef main():\n    return 0\n\n\nif __name__ == "__main__":\n    sys.exit(main())\n',
    "csrc/util.h": "#pragma once\n// Helpers.\nint helper(int x);\n",
    "csrc/util.cpp": '#include "util.h"\n\nint helper(int x) {\n  return x + 1;\n}\n',
    "csrc/util_test.cpp": '#include "util.h"\n#include <gtest/gtest.h>\n\nTEST(Util, Helper) {\n'
                          '  EXPECT_EQ(helper(1), 2);\n}\n',
    # a folder named like a page: its pages go under `pkg/b.py_docs.md~/`, on every kind of build
    "pkg/b.py_docs.md/notes.txt": "taken\n",
    # names not defined yet (an edit adds them): used through a module alias, re-exported under another name
    "pkg/sub/e.py": "import pkg.a as A\n\n\ndef epsilon():\n    return A.later()\n",
    "pkg/sub/f.py": "from pkg.a import later as soon\n",
    "pkg/sub/g.py": "from pkg.sub.f import soon\n\n\ndef zeta():\n    return soon()\n",
    "csrc/other.cpp": "int use() { return twice(2); }\n",
}
# Edits that keep every file's link inputs: bodies, docstrings, comments, blank lines that move later symbols.
LOCAL_EDITS = {
    "pkg/a.py": '"""Module a, now documented at length."""\n\n\n\ndef alpha():\n    """Alpha."""\n\n    x = 1\n'
                "    return x\n# trailing comment\n",
    "csrc/util.cpp": '#include "util.h"\n\n// Adds one.\n\n\nint helper(int x) {\n  int y = x;\n  return y + 1;\n}\n',
    "pkg/run.py": 'import sys\n\n\ndef main():\n    return 1\n\n\nif __name__ == "__main__":\n    sys.exit(main())\n',
}


def _diagnostics(report: BuildReport) -> list[str]:
    return sorted(str(d) for d in report.diagnostics)


def test_edit_that_keeps_link_inputs_reuses_the_link_and_equals_a_full_build(make_repo, extracted: list[str]) -> None:
    repo = make_repo(LINKED)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    first = _build(repo, out_a)
    assert not first.link_reused and not any(d.code == "DA305" for d in first.diagnostics)
    assert (out_a / "pkg" / "b.py_docs.md").is_file() and (out_a / "pkg" / "b.py_docs.md~" / "index.md").is_file()
    kw_before = (out_a / "pkg" / "a.py_kw.md").read_text()
    doc_before = (out_a / "pkg" / "a.py_docs.md").read_text()
    for path, text in LOCAL_EDITS.items():
        (repo / path).write_text(text)
    extracted.clear()
    second = _build(repo, out_a)
    assert second.link_reused and sorted(extracted) == sorted(LOCAL_EDITS)
    assert (out_a / "pkg" / "a.py_docs.md").read_text() != doc_before  # alpha moved: its line links follow
    assert (out_a / "pkg" / "a.py_kw.md").read_text() == kw_before  # which gives no lines, only the anchors

    full = _build(repo, out_b, full=True)
    assert not full.link_reused
    assert page_tree(out_a) == page_tree(out_b)  # pages and manifest (every page's input signature) alike
    assert dump(sqlite3.connect(out_a / schema.INDEX_NAME)) == dump(sqlite3.connect(out_b / schema.INDEX_NAME))
    assert _diagnostics(second) == _diagnostics(full) == _diagnostics(first)
    assert _diagnostics(_build(repo, out_a)) == _diagnostics(full)  # the no-op rebuild reports them too


@pytest.mark.parametrize("path, text, reused", [
    # imports and test cases are link inputs, but one that adds no edge to the graph (a standard or outside
    # module, a test case) changes only its own file's entries (`link.reach`): the link stage is reused
    ("pkg/a.py", '"""Module a."""\nimport os\n\n\ndef alpha():\n    return 1\n', True),  # a new import
    ("pkg/b.py", "from pkg.a import alpha\nimport pkg.sub.c\n\n\ndef beta():\n    return alpha()\n", False),  # an edge
    ("pkg/b.py", "import json\nfrom pkg.a import alpha\n\n\ndef beta():\n    return alpha()\n", True),  # star-imported
    ("pkg/sub/e.py", "import pkg.a as A\nimport pkg.nowhere\n\n\ndef epsilon():\n    return A.later()\n", True),
    ("pkg/sub/e.py", "import pkg.a as B\n\n\ndef epsilon():\n    return B.later()\n",
     False),  # a repository import changed
    ("tests/test_a.py", "import pytest\nfrom pkg.a import alpha\n\n\ndef test_alpha():\n    assert alpha() == 1\n",
     True),  # its run command changes
    ("tests/test_a.py", "from pkg.a import alpha\n\n\ndef test_alpha():\n    assert alpha() == 1\n\n\n"
                        "def test_alpha_again():\n    assert alpha()\n", True),  # a test case named after alpha
    ("tests/test_a.py", "def test_alpha():\n    assert 1\n", False),  # its import of pkg/a.py removed
    ("pkg/sub/c.py", "def test_gamma():\n    pass\n", True),  # a test-like function: still a library module
    ("pkg/sub/c.py", "import unittest\n\n\nclass TestGamma(unittest.TestCase):\n    def test_it(self):\n        pass\n",
     False),  # it becomes a test file
    ("csrc/util_test.cpp", '#include "util.h"\n#include <gtest/gtest.h>\n#include <map>\n\nTEST(Util, Helper) {\n'
                           "  EXPECT_EQ(helper(1), 2);\n}\n\nTEST(Util, Again) {\n  EXPECT_EQ(helper(0), 1);\n}\n",
     True),  # a test case and a standard header
    ("csrc/other.cpp", '#include "util.h"\nint use() { return twice(2); }\n', False),  # an include edge
    ("pkg/a.py", '"""Module a."""\n\n\ndef alpha():\n    return 1\n\n\ndef omega():\n    pass\n', True),  # new function
    ("pkg/a.py", '"""Module a."""\n\n\nclass Alpha:\n    def go(self):\n        pass\n', True),  # alpha renamed
    ("pkg/b.py", "from pkg.a import alpha\n\n\ndef beta():\n    return alpha()\n\n\ndef _hidden():\n    pass\n",
     True),  # a private function in a star-imported module
    ("pkg/b.py", "from pkg.a import alpha\n\n\ndef beta():\n    return alpha()\n\n\ndef gamma():\n    pass\n",
     False),  # a public one: `from .b import *` in pkg/__init__.py now takes it too
    ("csrc/util.cpp", '#include "util.h"\n\nint helper(int x) {\n  return x + 1;\n}\n\nint main() { return 0; }\n',
     False),  # `main`: the file becomes a program
    ("pkg/a.py", '\n"""Module a."""\n\n\ndef alpha():\n    return 1\n', True),  # everything one line down
    ("pkg/b.py", "\nfrom pkg.a import alpha\n\n\ndef beta():\n    return alpha()\n", True),  # its import moves
    ("pkg/run.py", 'import sys\n\n\ndef main():\n    return 0\n\n\n\nif __name__ == "__main__":\n'
                   "    sys.exit(main())\n", True),  # the `__main__` block moves (its purpose cites the line)
    ("tests/test_a.py", "# moved\nfrom pkg.a import alpha\n\n\ndef test_alpha():\n    assert alpha() == 1\n",
     True),  # the test and the import move
    ("tests/test_a.py", "from pkg.a import alpha\n\n\ndef test_alpha():\n    assert alpha()\n\n\n"
                        "def test_again():\n    pass\n", True),  # a new test case
    ("csrc/util.cpp", '#include "util.h"\n#include <vector>\n\nint helper(int x) {\n  return x + 1;\n}\n', True),
    ("csrc/util.cpp", '#include "util.h"\n#include "vendorlib/api.h"\n\nint helper(int x) {\n  return x + 1;\n}\n',
     False),  # a quoted header the repository lacks: other files' includes are read with it (`missing`)
    ("csrc/util.h", "#pragma once\n// Helpers, documented.\nint helper(int x);\n", True),
    # references: a test that uses its target more (its Testing entry and the target's Used By change), a body
    # that calls one more definition, a C test calling the helper again, a call moved down a line
    ("tests/test_a.py", "from pkg.a import alpha\n\n\ndef test_alpha():\n    assert alpha() == 1\n"
                        "    assert alpha() + alpha() == 2\n", True),
    ("pkg/b.py", "from pkg.a import alpha\n\n\ndef beta():\n    return alpha() + alpha()\n", True),
    # a line added after a call site that stays where it was: `pkg/a.py`'s Usage Examples shows the new line
    ("pkg/b.py", "from pkg.a import alpha\n\n\ndef beta():\n    return alpha()\n# a line more\n", True),
    ("csrc/util_test.cpp", '#include "util.h"\n#include <gtest/gtest.h>\n\nTEST(Util, Helper) {\n'
                           "  EXPECT_EQ(helper(1), 2);\n  EXPECT_EQ(helper(2), 3);\n}\n", True),
    ("tests/test_a.py", "from pkg.a import alpha\n\n\ndef test_alpha():\n\n    assert alpha() == 1\n", True),
    # a new definition that files neither importing nor pointing into the file were waiting for
    ("pkg/a.py", '"""Module a."""\n\n\ndef alpha():\n    return 1\n\n\ndef later():\n    return 2\n', True),
    # C functions with external linkage pair declarations with definitions across files (`cdecls`): one that
    # pairs with nothing keeps the link stage (`reach.local_c_names`), one that pairs or unpairs links again
    ("csrc/util.cpp", '#include "util.h"\n\nint helper(int x) {\n  return x + 1;\n}\n\nint twice(int x) {\n'
                      "  return helper(x) * 2;\n}\n", True),  # defined, declared nowhere
    ("csrc/util.h", "#pragma once\n// Helpers.\nint helper(int x);\nint thrice(int x);\n", True),  # defined nowhere
    ("csrc/util.h", "#pragma once\n// Helpers.\n", False),  # helper's declaration removed
    ("csrc/util.cpp", '#include "util.h"\n\nint helper2(int x) {\n  return x + 1;\n}\n', False),  # a definition renamed
    ("csrc/other.cpp", "int helper(int x);\nint use() { return twice(2); }\n", False),  # another declaration
    # qualified C++ uses in an edited file: `util::helper` names a namespace of the repository that holds no
    # `helper` (`cresolve._Scopes`, worked out only when such a use asks), `std::helper` the standard library's
    ("csrc/util_test.cpp", '#include "util.h"\n#include <gtest/gtest.h>\n\nnamespace util { int other(); }\n\n'
                           "TEST(Util, Helper) {\n  EXPECT_EQ(helper(1), 2);\n  EXPECT_EQ(util::helper(1), 2);\n"
                           "  EXPECT_EQ(std::helper(1), 2);\n}\n", True),
])
@pytest.mark.parametrize("jobs", [1, 2])  # 2: pages render in worker processes, the index in a thread beside them
def test_rebuild_after_any_edit_equals_a_full_build(make_repo, path: str, text: str, reused: bool, jobs: int) -> None:
    repo = make_repo(LINKED)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a, jobs=jobs)
    (repo / path).write_text(text)
    again = _build(repo, out_a, jobs=jobs)
    full = _build(repo, out_b, full=True, jobs=jobs)
    assert again.link_reused is reused
    # references updated, or kept after an edit of comments alone (`relink.same_references`), never all redone
    update = again.model.refs_update  # type: ignore[union-attr]
    assert "touched" in update or "seconds" not in update
    assert page_tree(out_a) == page_tree(out_b)
    assert dump(sqlite3.connect(out_a / schema.INDEX_NAME)) == dump(sqlite3.connect(out_b / schema.INDEX_NAME))
    assert _diagnostics(again) == _diagnostics(full)


def test_interrupted_pooled_render_leaves_the_index_as_it_was(make_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """With workers, the index rows are written before the pages render and committed after them: a build
    stopped meanwhile must not commit them, and must not leave the index locked."""
    repo = make_repo(REPO)
    _age(repo)
    out = repo.parent / "out"
    _build(repo, out, jobs=2)
    before = dump(sqlite3.connect(out / schema.INDEX_NAME))
    (repo / "pkg" / "a.py").write_text("def changed():\n    pass\n")

    def boom(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline.OutputFolder, "finish", boom)
    with pytest.raises(KeyboardInterrupt):
        _build(repo, out, jobs=2)
    monkeypatch.undo()
    conn = sqlite3.connect(out / schema.INDEX_NAME, timeout=0)  # no lock left behind
    assert dump(conn) == before
    assert dict(conn.execute("SELECT key, value FROM meta"))["complete"] == "0"
    conn.close()
    report = _build(repo, out, jobs=2)
    assert not report.link_reused  # the pages were not trusted: everything was checked again
    assert queries.search(schema.open_index(out), "changed")[0].path == "pkg/a.py"


def test_local_rebuild_unpickles_only_the_facts_its_pages_show(make_repo, monkeypatch) -> None:
    """Folder and keyword pages aggregate over every file through `FileSummary`; a rebuild that reuses the link
    stage should unpickle the cached facts only of files whose own details its few pages show. (The repository
    guide reads a bounded set of central files, whatever the repository's size: it is left out here and
    checked by `test_book_reads_a_bounded_set_of_facts`.)"""
    monkeypatch.setattr("docatlas.render.book.book_pages", lambda memo, model, cfg: [])
    files = {f"pkg{i}/__init__.py": "" for i in range(5)}
    files.update({f"pkg{i}/mod{j}.py": f'"""Module {j}."""\n\n\ndef f{i}_{j}():\n    return {j}\n'
                  for i in range(5) for j in range(10)})
    repo = make_repo(files)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a)
    (repo / "pkg3" / "mod7.py").write_text('"""Module 7, edited."""\n\n\ndef f3_7():\n    return 70\n')
    again = _build(repo, out_a)
    assert again.link_reused
    facts = again.model.files  # type: ignore[union-attr]
    assert isinstance(facts, LazyFacts) and len(facts) == 55
    # the root's key files (10), pkg3's own files (11) and the package docstrings that give each subfolder of
    # the root its purpose (5) at most; the other files are never read
    assert 0 < facts.unpickled <= 26
    _build(repo, out_b, full=True)
    assert page_tree(out_a) == page_tree(out_b)


def test_a_page_deleted_by_hand_comes_back_on_a_local_rebuild(make_repo) -> None:
    repo = make_repo(LINKED)
    _age(repo)
    out = repo.parent / "out"
    _build(repo, out)
    page = out / "pkg" / "sub" / "c.py_docs.md"  # of a file the edit below does not touch
    text = page.read_text()
    page.unlink()
    (repo / "pkg" / "a.py").write_text(LOCAL_EDITS["pkg/a.py"])
    report = _build(repo, out)
    assert not report.link_reused  # only a look at every page finds the missing one
    assert page.read_text() == text
    again = _build(repo, out)
    assert again.written == 0 and "render+write" not in again.timings  # and then nothing is left to do


def test_with_workers_a_child_looks_at_the_pages_while_the_build_scans(make_repo, monkeypatch, tmp_path) -> None:
    """A rebuild with workers asks a forked child whether every page is as the last build left it (`pool.Aside`):
    a no-op rebuild stays one, and a page edited by hand is still found and written again."""
    repo = make_repo(REPO)
    _age(repo)
    monkeypatch.setattr(pipeline, "cap_jobs", lambda requested: (requested, ""))  # two workers, whatever the CPUs
    asked: list[object] = []
    real = pipeline.Aside
    monkeypatch.setattr(pipeline, "Aside", lambda fn: asked.append(fn) or real(fn))
    out = tmp_path / "out"
    _build(repo, out, jobs=2)
    assert asked == []  # no pages yet
    again = _build(repo, out, jobs=2)
    assert len(asked) == 1 and again.written == 0 and "render+write" not in again.timings
    page = out / "pkg" / "b.py_docs.md"
    text = page.read_text()
    page.write_text("edited by hand\n")
    third = _build(repo, out, jobs=2)
    assert len(asked) == 2 and page.read_text() == text and third.written == 1


def test_book_reads_a_bounded_set_of_facts(make_repo, monkeypatch) -> None:
    """The repository guide picks what it shows from summaries and ranks, and reads the facts of the central
    files only: on a rebuild that reuses the link stage, most files of a repository are never unpickled."""
    from docatlas.render import book

    files = {f"pkg{i}/__init__.py": "" for i in range(4)}
    files.update({f"pkg{i}/mod{j:03}.py": f"from . import mod000\n\n\ndef f{i}_{j}():\n    return {j}\n"
                  for i in range(4) for j in range(200)})
    repo = make_repo(files)
    _age(repo)
    out = repo.parent / "out"
    _build(repo, out)
    (repo / "pkg1" / "mod007.py").write_text("from . import mod000\n\n\ndef f1_7():\n    return 70\n")
    # the guide only
    monkeypatch.setattr(incremental, "local_tasks", lambda model, edited, keywords=True, book=True: [("book", "")])
    again = _build(repo, out)
    assert again.link_reused and again.model is not None
    facts = again.model.files
    assert isinstance(facts, LazyFacts) and len(facts) == 804
    # the edited file, the glossary's candidates, llms.txt's key files, and each of the 4 chapters' central
    # files, package docstring and README
    bound = 1 + book.GLOSSARY_FILES + book.LLMS_LINKS + 4 * (book.CANDIDATES + 8 + 2)
    assert 0 < facts.unpickled <= bound < len(facts) / 2


def _guide_rebuild(make_repo, monkeypatch, views: bool) -> tuple[int, Path, Path]:
    """A repository whose guide quotes docstrings and lists definitions, built, then one file edited (a line
    more) and rebuilt rendering the guide only, with or without the views the first build kept: how many
    cached facts the rebuild unpickled, the repository and the output folder."""
    files = {f"pkg{i}/__init__.py": f'"""Package {i}."""\n' for i in range(3)}
    files.update({f"pkg{i}/mod{j:02}.py": f'"""Module {i}.{j}."""\nfrom . import mod00\n\n\nclass T{i}_{j}:\n'
                  f'    """A type."""\n\n\ndef f{i}_{j}():\n    """A function."""\n    return T{i}_{j}()\n'
                  for i in range(3) for j in range(30)})
    repo = make_repo(files, name=f"{views}/repo")
    _age(repo)
    out = repo.parent / "out"
    _build(repo, out)
    (repo / "pkg1" / "mod07.py").write_text(files["pkg1/mod07.py"] + "# a line more: the guide counts lines\n")
    monkeypatch.setattr(incremental, "local_tasks", lambda model, edited, keywords=True, book=True: [("book", "")])
    if not views:
        monkeypatch.setattr(pipeline, "read_guide_views", lambda output, entries: {})
    again = _build(repo, out)
    monkeypatch.undo()
    assert again.link_reused and isinstance(again.model.files, LazyFacts)  # type: ignore[union-attr]
    return again.model.files.unpickled, repo, out  # type: ignore[union-attr]


def test_the_guide_reads_the_views_the_last_build_kept(make_repo, monkeypatch, tmp_path: Path) -> None:
    """What the guide read of each file (`render.bookfacts`) is kept in the facts cache: a rebuild's guide
    unpickles the facts of none of the files whose views are kept (only those `link` reads for it: entry points,
    package docstrings), and its pages equal a full build's and those of a rebuild without the views."""
    with_views, repo, out_a = _guide_rebuild(make_repo, monkeypatch, views=True)
    without, _, out_b = _guide_rebuild(make_repo, monkeypatch, views=False)
    assert with_views < without // 2
    assert (out_a / "comprehensive_book.md").read_text() == (out_b / "comprehensive_book.md").read_text()
    assert (out_a / "llms.txt").read_text() == (out_b / "llms.txt").read_text()
    _build(repo, tmp_path / "full", full=True)
    assert (out_a / "comprehensive_book.md").read_text() == (tmp_path / "full" / "comprehensive_book.md").read_text()


def test_the_guide_analysis_counts_only_the_edited_files_again(make_repo, monkeypatch) -> None:
    """What the guide's analysis counted (`link.subsystems.Counts`) is kept for the next build: after a local edit
    only the edited files are counted again, and the dependencies between chapters are taken as they were
    unless a file edge changed (a reference more from one file to another); the pages equal a full build's."""
    from docatlas.link import subsystems

    calls: list[int] = []
    real = subsystems._dependencies
    monkeypatch.setattr(subsystems, "_dependencies", lambda *a: calls.append(1) or real(*a))
    counted: list[object] = []  # what each analysis counted again: None for every file
    real_count = subsystems._count
    monkeypatch.setattr(subsystems, "_count", lambda model, previous: counted.append(
        previous and previous.changed) or real_count(model, previous))
    repo = make_repo(LINKED)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a)
    assert calls == [1] and counted == [None]
    for path, text, deps in (
            ("pkg/sub/c.py", "def gamma():\n    pass\n# a line more: the guide counts lines\n", []),
            ("pkg/b.py", "from pkg.a import alpha\n\n\ndef beta():\n    return alpha() + alpha()\n", [1])):
        calls.clear()
        counted.clear()
        (repo / path).write_text(text)
        again = _build(repo, out_a)
        assert again.link_reused and calls == deps
        assert counted == [(path,)]
        _build(repo, out_b, full=True)
        assert page_tree(out_a) == page_tree(out_b)


def test_a_guide_view_counts_only_for_its_digest(make_repo) -> None:
    """A view kept for other bytes of its file than those the facts cache holds (a build stopped after it
    extracted the file, before it kept its view) is never read."""
    from docatlas.store import guide

    repo = make_repo(LINKED)
    _age(repo)
    out = repo.parent / "out"
    _build(repo, out)
    cache = FactsCache.load(make_config(repo, out))
    views = guide.read_guide_views(out, cache.entries)
    assert "pkg/a.py" in views  # the guide read it (a key file)
    digest, data = views["pkg/a.py"]
    assert digest == cache.entries["pkg/a.py"][2]
    guide.write_guide_views(out, {"pkg/a.py": ("0" * 40, data)})
    assert "pkg/a.py" not in guide.read_guide_views(out, cache.entries)
    assert guide.read_guide_views(out, cache.entries).keys() == views.keys() - {"pkg/a.py"}
    # what the analysis counted belongs to the build that committed the index (`meta.start_ns`), no other
    assert guide.read_guide_counts(out, cache.meta["start_ns"]) is not None
    assert guide.read_guide_counts(out, str(int(cache.meta["start_ns"]) - 1)) is None


def _keyword_rebuild(make_repo, monkeypatch, kept: bool) -> tuple[int, Path, Path]:
    """A repository of many files defining names under one letter, built, then one of them given a function
    more (its keyword entries change) and rebuilt rendering the keyword index only, with or without the entries
    the first build kept: how many cached facts the rebuild unpickled, the repository and the output folder."""
    files = {f"pkg/mod{j:02}.py": f"class Alpha{j}:\n    def apply(self):\n        pass\n\n\n"
             f"def arrange{j}():\n    return Alpha{j}()\n" for j in range(40)}
    repo = make_repo(files, name=f"{kept}/repo")
    _age(repo)
    out = repo.parent / "out"
    _build(repo, out, list_limit=20)  # (past it, the keyword index is split into letter pages)
    (repo / "pkg" / "mod07.py").write_text(files["pkg/mod07.py"] + "\n\ndef another7():\n    return 7\n")
    monkeypatch.setattr(incremental, "local_tasks",
                        lambda model, edited, keywords=True, book=True: [("keywords", "")])
    if not kept:
        real = pipeline.read_guide_views
        monkeypatch.setattr(pipeline, "read_guide_views", lambda output, entries, table="guide_views": (
            {} if table == "keyword_views" else real(output, entries, table)))
    again = _build(repo, out, list_limit=20)
    monkeypatch.undo()
    assert again.link_reused and isinstance(again.model.files, LazyFacts)  # type: ignore[union-attr]
    return again.model.files.unpickled, repo, out  # type: ignore[union-attr]


def test_the_keyword_index_reads_the_entries_the_last_build_kept(make_repo, monkeypatch, tmp_path: Path) -> None:
    """Each file's keyword entries (`render.keywords.file_keywords`: anchors, Code Structure parts) are kept in
    the facts cache: a rebuild whose edit changed a letter page unpickles the facts of none of the other files
    that letter lists, and its pages equal those of a rebuild without the kept entries and of a full build."""
    with_kept, repo, out_a = _keyword_rebuild(make_repo, monkeypatch, kept=True)
    without, _, out_b = _keyword_rebuild(make_repo, monkeypatch, kept=False)
    assert with_kept == 0 and without >= 39  # (every file defines `Alpha...` and `arrange...`: letter A)
    _build(repo, tmp_path / "full", full=True, list_limit=20)

    def keyword_pages(out: Path) -> dict[str, bytes]:  # (only the keyword task ran: the other pages are old)
        return {k: v for k, v in page_tree(out).items() if k == "keywords.md" or k.startswith("_keywords/")}

    assert "_keywords/A.md" in keyword_pages(out_a) and b"another7" in keyword_pages(out_a)["_keywords/A.md"]
    assert keyword_pages(out_a) == keyword_pages(out_b) == keyword_pages(tmp_path / "full")


def test_render_workers_hand_the_keyword_index_each_files_entries(make_repo, monkeypatch, tmp_path: Path) -> None:
    """In a pooled full render each file's task sends back the file's keyword entries (`tasks.made_keywords`),
    so the keyword index, rendered in the build process after the pool, works out no file's entries again;
    the pages equal those of a build whose workers send none, and the facts cache keeps every file's entries."""
    from docatlas import tasks
    from docatlas.render import keywords
    from docatlas.store import guide

    files = {f"pkg/mod{j:02}.py": f"class Alpha{j}:\n    def apply(self):\n        pass\n\n\n"
             f"def arrange{j}():\n    return Alpha{j}()\n" for j in range(12)}
    repo = make_repo(files)
    monkeypatch.setattr(pipeline, "cap_jobs", lambda requested: (requested, ""))  # two workers, whatever the CPUs
    made_here: list[str] = []  # files whose entries this process (the build process) worked out
    real = keywords.symbol_parts
    monkeypatch.setattr(keywords, "symbol_parts", lambda memo, model, path: made_here.append(path) or real(
        memo, model, path))
    _build(repo, tmp_path / "sent", jobs=2, list_limit=5)
    assert made_here == []
    cache = FactsCache.load(make_config(repo, tmp_path / "sent"))
    assert guide.read_guide_views(tmp_path / "sent", cache.entries, "keyword_views").keys() == set(files)
    real_made = tasks.made_keywords
    monkeypatch.setattr(pipeline, "made_keywords", lambda memo, model, kind, target: (
        real_made(memo, model, kind, target), {})[1])
    _build(repo, tmp_path / "kept", jobs=2, list_limit=5)
    assert sorted(made_here) == sorted(files)
    assert page_tree(tmp_path / "sent") == page_tree(tmp_path / "kept")


def test_a_keyword_entry_counts_only_for_its_digest(make_repo) -> None:
    """Keyword entries kept for other bytes of their file than the facts cache holds are never read; a full build
    keeps those of every file with keywords."""
    from docatlas.store import guide

    repo = make_repo(LINKED)
    _age(repo)
    out = repo.parent / "out"
    _build(repo, out)
    cache = FactsCache.load(make_config(repo, out))
    kept = guide.read_guide_views(out, cache.entries, "keyword_views")
    assert "pkg/a.py" in kept and kept["pkg/a.py"][0] == cache.entries["pkg/a.py"][2]
    guide.write_guide(out, {}, keywords={"pkg/a.py": ("0" * 40, kept["pkg/a.py"][1])})
    assert guide.read_guide_views(out, cache.entries, "keyword_views").keys() == kept.keys() - {"pkg/a.py"}


@pytest.mark.parametrize("option", [{"list_limit": 2}, {"embed_source": "head", "head_lines": 1},
                                    {"project_name": "renamed"}])
def test_a_page_option_rerenders_without_extracting(make_repo, extracted: list[str], option: dict) -> None:
    """Page options are not part of the facts key: changing one keeps every file's cached facts, and the
    pages come out as a fresh build with that option makes them, also when an edit lets the link stage be
    reused (its local page list would miss pages that only the option changes)."""
    repo = make_repo(REPO)
    _age(repo)
    out, fresh = repo / "out", repo / "fresh"
    _build(repo, out)
    extracted.clear()
    changed = _build(repo, out, **option)
    assert extracted == [] and changed.written > 0
    _build(repo, fresh, **option)
    assert page_tree(out) == page_tree(fresh)

    extracted.clear()
    (repo / "pkg" / "sub" / "c.py").write_text("def gamma():\n    return 3\n")  # keeps its link inputs
    edited = _build(repo, out)  # and back to the default options
    assert extracted == ["pkg/sub/c.py"] and edited.link_reused
    _build(repo, fresh, full=True)
    assert page_tree(out) == page_tree(fresh)


def test_fingerprint_ignores_reader_rooms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server and MCP rooms read a finished build: editing them must not invalidate cached facts and pages,
    while editing an extractor must."""
    import shutil

    import docatlas
    from docatlas import fingerprint

    pkg = tmp_path / "docatlas"
    shutil.copytree(Path(docatlas.__file__).parent, pkg, ignore=shutil.ignore_patterns("__pycache__", "static"))
    monkeypatch.setattr(fingerprint, "__file__", str(pkg / "fingerprint.py"))

    def digest() -> str:
        fingerprint.code_fingerprint.cache_clear()
        return fingerprint.code_fingerprint()

    before = digest()
    (pkg / "serve" / "app.py").write_text((pkg / "serve" / "app.py").read_text() + "\n# edited\n")
    (pkg / "agent" / "extra.py").write_text("X = 1\n")
    assert digest() == before
    (pkg / "extract" / "python.py").write_text((pkg / "extract" / "python.py").read_text() + "\n# edited\n")
    assert digest() != before
    fingerprint.code_fingerprint.cache_clear()


# Edits one after another, each rebuilt incrementally on the last one's output (so that a rebuild reads what an
# incremental one stored: the link state's reference rows, rewritten only for the files resolved again).
SEQUENCE = [
    ("pkg/a.py", '"""Module a."""\n\n\ndef alpha():\n    x = 2\n    return x\n'),  # a body edit
    ("tests/test_a.py", "from pkg.a import alpha\nimport pkg.b\n\n\ndef test_alpha():\n    assert alpha() == 1\n"
                        "    assert pkg.b.beta()\n"),  # an import that reaches another file
    ("tests/test_b.py", "import pkg.b as b\n\n\ndef test_beta():\n    assert b.beta() == 1\n"),  # a test added
    ("tests/test_a.py", "from pkg.a import alpha\nimport pkg.b\n\n\ndef test_alpha():\n    assert alpha() == 1\n"
                        "    assert alpha() + alpha() == 2\n"),  # uses one file more, the other no longer
    ("pkg/b.py", "from pkg.a import alpha\n\n\ndef beta():\n    return alpha()\n\n\ndef gamma():\n    pass\n"),
    ("pkg/sub/g.py", None),  # a file deleted
    ("pkg/a.py", '"""Module a."""\n\n\ndef alpha():\n    return 1\n\n\ndef later():\n    return 2\n'),
    ("csrc/util.cpp", '#include "util.h"\n\n\nint helper(int x) {\n  return x + 2;\n}\n'),
    ("pkg/__init__.py", '"""Demo."""\nfrom .a import alpha\n\n__all__ = ["alpha"]\n'),  # a star import removed
    ("tests/test_b.py", "import pkg.b as b\n\n\ndef test_beta():\n\n    assert b.beta() == 1\n"),
    # edits the link stage is reused after though they change link inputs (`link.reach`), one after the other:
    # each stores counts and test links that the next one reads
    ("csrc/util.cpp", '#include "util.h"\n#include <map>\n\nint helper(int x) {\n  return x + 2;\n}\n\n'
                      "int twice(int x) {\n  return helper(x) * 2;\n}\n"),
    ("csrc/util.h", "#pragma once\n// Helpers.\nint helper(int x);\nint thrice(int x);\n"),
    ("csrc/util.cpp", '#include "util.h"\n\nint helper(int x) {\n  return x + 2;\n}\n\nint thrice(int x) {\n'
                      "  return 3 * x;\n}\n"),  # now thrice pairs with its declaration, twice is gone
    ("tests/test_b.py", "import os\nimport pkg.b as b\n\n\ndef test_beta():\n    assert b.beta() == 1\n\n\n"
                        "def test_beta_again():\n    assert b.beta()\n"),
]


def _stored_state(repo: Path, out: Path) -> dict[str, object]:
    """The link state a build stored, without the references (their rows are compared in the index dump)."""
    state = FactsCache.load(make_config(repo, out)).link_state()
    assert state is not None
    return {k: v for k, v in state.items() if k != "refs"}


@pytest.mark.parametrize(("jobs", "bulk"), [(1, 4096), (2, 4096), (1, 2)])
def test_a_sequence_of_incremental_rebuilds_equals_full_builds(make_repo, jobs: int, bulk: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from docatlas.store import intern

    monkeypatch.setattr(intern, "BULK", bulk)  # 2: the second stored text a write asks for reads them all
    repo = make_repo(LINKED)
    _age(repo)
    out_a = repo.parent / "out_a"
    _build(repo, out_a, jobs=jobs)
    reused = []
    for i, (path, text) in enumerate(SEQUENCE):
        if text is None:
            (repo / path).unlink()
        else:
            (repo / path).write_text(text)
        again = _build(repo, out_a, jobs=jobs)
        reused.append(again.link_reused)
        out_b = repo.parent / f"out_b{i}"
        full = _build(repo, out_b, full=True, jobs=jobs)
        assert page_tree(out_a) == page_tree(out_b), (path, i)
        assert dump(sqlite3.connect(out_a / schema.INDEX_NAME)) == dump(sqlite3.connect(out_b / schema.INDEX_NAME))
        assert _diagnostics(again) == _diagnostics(full)
        assert _stored_state(repo, out_a) == _stored_state(repo, out_b), (path, i)
    assert reused == [True, False, False, True, False, False, True, True, False, True,
                      True, True, False, True]  # (link inputs; `link.reach`)


def test_a_body_edit_reads_the_reference_rows_it_reaches(make_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """The link state keeps each file's references as a row of the facts cache: an edit inside a body reads
    the rows of the edited file and of the files pointing into it, never every file's."""
    from docatlas.store import cache as store_cache

    files = {f"pkg{i}/__init__.py": "" for i in range(4)}
    files.update({f"pkg{i}/mod{j}.py": f"from pkg0 import mod0\n\n\ndef f{i}_{j}():\n    return mod0.f0_0()\n"
                  for i in range(4) for j in range(10)})
    files["tests/test_x.py"] = "from pkg1.mod3 import f1_3\n\n\ndef test_x():\n    assert f1_3()\n"
    repo = make_repo(files)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a)
    read: list[tuple[str, str]] = []
    real = store_cache.Rows.__getitem__

    def spy(self: store_cache.Rows, key: str) -> object:
        read.append((self._kind, key))
        return real(self, key)

    monkeypatch.setattr(store_cache.Rows, "__getitem__", spy)
    tasks: list[tuple[str, str]] = []
    real_render = pipeline._render

    def render(todo: list[tuple[str, str]], *args: object, **kwargs: object) -> object:
        tasks.extend(todo)
        return real_render(todo, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_render", render)
    (repo / "pkg1" / "mod3.py").write_text("from pkg0 import mod0\n\n\ndef f1_3():\n    x = mod0.f0_0()\n"
                                           "    return x\n")
    again = _build(repo, out_a)
    assert again.link_reused
    outgoing = {k for kind, k in read if kind == "outgoing"}
    # the edited file, the one using it (its target lines moved) and the one it uses (its Related Files)
    assert outgoing == {"pkg1/mod3.py", "tests/test_x.py", "pkg0/mod0.py"}
    assert ("keywords", "") not in tasks and ("book", "") in tasks  # no definition moved: its keyword lists stand
    monkeypatch.undo()
    _build(repo, out_b, full=True)
    assert page_tree(out_a) == page_tree(out_b)
    assert dump(sqlite3.connect(out_a / schema.INDEX_NAME)) == dump(sqlite3.connect(out_b / schema.INDEX_NAME))


def test_render_workers_replaced_after_every_page_write_the_same_pages(make_repo, monkeypatch) -> None:
    """A render worker past its memory bound is replaced by a fresh fork (`pool.Pool`'s `retire`), losing its
    memos: the pages must not depend on which worker, or how many, rendered them."""
    import docatlas.pool as pool

    repo = make_repo(REPO)
    _age(repo)
    _build(repo, repo.parent / "one", jobs=1)
    monkeypatch.setattr(pipeline, "_RETIRE", {"render": 1})  # every worker leaves after its first item
    forked: list[int] = []
    real = pool.Pool._slot
    monkeypatch.setattr(pool.Pool, "_slot", lambda self, *args: forked.append(1) or real(self, *args))
    _build(repo, repo.parent / "two", jobs=2)
    assert page_tree(repo.parent / "two") == page_tree(repo.parent / "one")
    assert len(forked) > 4  # the extract stage's two workers, and more than two for the render stage


def test_scan_reuses_unchanged_folders_and_finds_what_a_full_walk_finds(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk keeps each folder's listing (`scan.Listing`) while the folder's mtime and its ignore files are
    unchanged: after each kind of change it must find exactly what a walk without it finds, listing again only
    the folders whose entries or ignore files changed."""
    import docatlas.scan as scan_mod

    root = tmp_path / "repo"
    files = {".gitignore": "*.log\nbuild/\n", "a/x.py": "", "a/b/y.py": "", "a/b/c/z.c": "", "a/b/c/skip.log": "",
             "d/w.md": "", "build/out.py": ""}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    tick = [OLD]
    _age(root)

    def settle() -> None:  # what just changed gets a new mtime, older than the racy window; the rest keeps its own
        tick[0] += 10
        for p in [root, *root.rglob("*")]:
            if p.stat().st_mtime_ns > (OLD + 10**6) * 10**9:
                os.utime(p, ns=(tick[0] * 10**9, tick[0] * 10**9))

    listed: list[str] = []
    real = os.scandir

    def spy(path: object) -> object:
        listed.append(os.path.relpath(str(path), root))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(scan_mod.os, "scandir", spy)
    settle()
    out = tmp_path / "out"
    first = scan_mod.scan(root, out, (), scan_mod.Listing("k"))
    listing = first.listing
    assert listing is not None and "a/b/c/skip.log" not in [f.path for f in first.files]
    changes = [
        lambda: None,  # nothing: no folder listed again
        lambda: (root / "a/b/new.py").write_text(""),  # a file added
        lambda: (root / "a/x.py").unlink(),  # one removed
        lambda: (root / ".gitignore").write_text("*.md\n"),  # the root's ignore file edited: every folder again
        lambda: (root / "a/b/.gitignore").write_text("z.c\n"),  # a new ignore file below
        lambda: (root / "a/b/c/deeper").mkdir(),  # a folder added
    ]
    for i, change in enumerate(changes):
        change()
        settle()
        listed.clear()
        cached = scan_mod.scan(root, out, (), listing)
        again = len(listed)
        listed.clear()
        plain = scan_mod.scan(root, out)
        assert [(f.path, f.language, f.vendored) for f in cached.files] == \
            [(f.path, f.language, f.vendored) for f in plain.files], i
        # only the changed folders: the one with a new entry, those below a changed ignore file, a new one
        assert again == [0, 1, 1, len(listed), 2, 2][i], (i, again)
        listing = cached.listing
    assert "d/w.md" not in [f.path for f in plain.files] and "a/b/c/z.c" not in [f.path for f in plain.files]


def test_an_edit_of_comments_only_keeps_the_references_as_they_are(make_repo, monkeypatch) -> None:
    """An edit that moves no line and changes no reference (a comment, a docstring's words) resolves nothing
    again, neither the file's references nor those into it (`relink.same_references`); a page showing an edited
    line as a usage example is made again all the same. Pages, index and stored state equal a full build's."""
    from docatlas.link import cresolve, pyresolve, references

    repo = make_repo(LINKED)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a)
    resolved: list[str] = []
    real_py, real_c = pyresolve.PyResolver.resolve_file, cresolve.c_refs
    monkeypatch.setattr(pyresolve.PyResolver, "resolve_file",
                        lambda self, path, uses: resolved.append(path) or real_py(self, path, uses))
    monkeypatch.setattr(references, "c_refs", lambda model, result, paths=None: resolved.extend(paths or ["*"])
                        or real_c(model, result, paths))
    (repo / "pkg" / "b.py").write_text("from pkg.a import alpha\n\n\ndef beta():\n    return alpha()  # calls alpha\n")
    (repo / "csrc" / "util.cpp").write_text('#include "util.h"\n\nint helper(int x) {\n'
                                            '  return x + 1;  // one more\n}\n')
    (repo / "pkg" / "sub" / "c.py").write_text('def gamma():\n    pass  # nothing yet\n')
    again = _build(repo, out_a)
    assert again.link_reused and resolved == []
    monkeypatch.undo()
    full = _build(repo, out_b, full=True)
    assert "calls alpha" in (out_b / "pkg" / "a.py_docs.md").read_text()  # b.py's call, a usage example of alpha
    assert page_tree(out_a) == page_tree(out_b)
    assert dump(sqlite3.connect(out_a / schema.INDEX_NAME)) == dump(sqlite3.connect(out_b / schema.INDEX_NAME))
    assert _stored_state(repo, out_a) == _stored_state(repo, out_b)
    assert _diagnostics(again) == _diagnostics(full)
    # a line moved: resolved again
    (repo / "pkg" / "b.py").write_text("from pkg.a import alpha\n\n\n\ndef beta():\n    return alpha()\n")
    monkeypatch.setattr(pyresolve.PyResolver, "resolve_file",
                        lambda self, path, uses: resolved.append(path) or real_py(self, path, uses))
    _build(repo, out_a)
    assert "pkg/b.py" in resolved


def test_local_rebuild_works_in_the_build_process_while_the_workers_do(make_repo, monkeypatch) -> None:
    """A pooled rebuild after a one-file edit extracts the file in a worker while the build process reads the last
    build's facts and link state, and writes the index rows while the workers render every page it changes, the
    guide and the keyword index among them (`pool.Pool.run(meanwhile=...)`); what the guide made there for the
    next build (its views of the edited file, its counts) comes back and is kept; its pages, index and stored link
    state equal a full build's."""
    import hashlib

    import docatlas.pool as pool
    from docatlas.store import guide

    runs: list[tuple[str, int, str]] = []
    pooled: list[object] = []
    real = pool.Pool.run

    def spy(self: pool.Pool, items: list, started=None, meanwhile=None):  # type: ignore[no-untyped-def]
        what = getattr(meanwhile, "__qualname__", getattr(getattr(meanwhile, "func", None), "__qualname__", ""))
        runs.append(("render" if isinstance(items[0], tuple) else "extract", len(items), what))
        pooled.extend(items)
        return real(self, items, started, meanwhile)

    monkeypatch.setattr(pool.Pool, "run", spy)
    repo = make_repo(LINKED)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a, jobs=2)
    assert runs and not any(meanwhile for *_, meanwhile in runs)  # a full build: one stage after the other
    runs.clear()
    (repo / "pkg" / "a.py").write_text(LOCAL_EDITS["pkg/a.py"])
    again = _build(repo, out_a, jobs=2)
    assert again.link_reused and runs[0] == ("extract", 1, "read_previous")
    assert runs[1][0::2] == ("render", "IndexWrite.write") and len(runs) == 2
    assert ("book", "") in pooled  # (the docstring and the lines changed: the guide too)
    cache = FactsCache.load(make_config(repo, out_a))
    assert guide.read_guide_counts(out_a, cache.meta["start_ns"]) is not None
    new_digest = hashlib.sha1((repo / "pkg" / "a.py").read_bytes()).hexdigest()
    assert guide.read_guide_views(out_a, cache.entries)["pkg/a.py"][0] == new_digest
    pooled.clear()
    (repo / "pkg" / "a.py").write_text(LOCAL_EDITS["pkg/a.py"] + "\n\ndef omega():\n    pass\n")  # a new keyword
    again = _build(repo, out_a, jobs=2)
    assert again.link_reused and ("keywords", "") in pooled and ("book", "") in pooled
    monkeypatch.undo()
    full = _build(repo, out_b, full=True, jobs=2)
    assert page_tree(out_a) == page_tree(out_b)
    assert dump(sqlite3.connect(out_a / schema.INDEX_NAME)) == dump(sqlite3.connect(out_b / schema.INDEX_NAME))
    assert _stored_state(repo, out_a) == _stored_state(repo, out_b)
    assert _diagnostics(again) == _diagnostics(full)


def test_an_edit_renders_only_the_keyword_pages_listing_its_file(make_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """A split letter's pages each sign their own keys and the files defining them (`render.keywords`): after
    an edit that adds a keyword, only the letter's pages listing the edited file are rendered, and the pages and
    the manifest (every page's signature) equal a full build's."""
    from docatlas.render import bounds
    from docatlas.render.format import Page

    monkeypatch.setattr(bounds, "LIST_BUDGET", 4000)
    files = {f"pkg/mod{i:02d}.py": "".join(f"def {w}_{j}():\n    pass\n\n\n" for w in ("take", "tally", "tempo")
                                          for j in range(6)) for i in range(20)}
    files["pkg/tune.py"] = "def tune_1():\n    pass\n"
    repo = make_repo(files)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a)
    leaves = sorted(p.name for p in (out_a / "_keywords" / "T").glob("*.md"))
    assert len(leaves) > 2
    rendered: list[str] = []
    real = Page.text

    def spy(page: Page) -> str:
        rendered.append(page.path)
        return real(page)

    monkeypatch.setattr(Page, "text", spy)
    (repo / "pkg/tune.py").write_text("def tune_1():\n    pass\n\n\ndef tune_2():\n    pass\n")
    again = _build(repo, out_a)
    assert again.link_reused
    # (its table of contents, which signs the letter's digest, is made again from the plan: the same text)
    letter_pages = [p for p in rendered if p.startswith("_keywords/T/")]
    assert len(letter_pages) == 1 and "tune_2" in (out_a / letter_pages[0]).read_text()
    _build(repo, out_b, full=True)
    assert page_tree(out_a) == page_tree(out_b)
    assert sorted(p.name for p in (out_a / "_keywords" / "T").glob("*.md")) == leaves


def test_a_rebuild_loads_the_templates_the_last_build_compiled(make_repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Templates compiled by one build are kept with the facts cache (`tasks.use_compiled_templates`): the next
    build loads them instead of compiling them again, and renders the same pages."""
    import jinja2

    from docatlas.render import format as fmt

    repo = make_repo(REPO)
    _age(repo)
    out = repo.parent / "out"
    monkeypatch.setattr(fmt, "_env", None)  # a fresh environment, as in a new process
    _build(repo, out)
    stored = sqlite3.connect(out / schema.CACHE_DIR / schema.CACHE_NAME).execute(
        "SELECT count(*) FROM compiled_templates").fetchone()[0]
    assert stored >= 5  # the file, folder, keyword and guide templates this build rendered
    compiled: list[str] = []
    real = jinja2.Environment.compile

    def spy(self: jinja2.Environment, source: str, name: str | None = None, *args: object, **kwargs: object) -> object:
        compiled.append(str(name))
        return real(self, source, name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", spy)
    monkeypatch.setattr(fmt, "_env", None)
    (repo / "pkg" / "a.py").write_text('"""Module a, edited."""\n\n\ndef alpha():\n    return 2\n')
    again = _build(repo, out)
    assert again.written and compiled == []
    monkeypatch.setattr(fmt, "_env", None)
    _build(repo, repo.parent / "fresh", full=True)
    assert page_tree(out) == page_tree(repo.parent / "fresh")


@pytest.mark.parametrize("path, text, guide", [
    # bodies that move no line and rename nothing: the guide states nothing they change
    ("pkg/run.py", 'import sys\n\n\ndef main():\n    return 1\n\n\nif __name__ == "__main__":\n    sys.exit(main())\n',
     False),
    ("csrc/util.cpp", '#include "util.h"\n\nint helper(int x) {\n  return x + 2;\n}\n', False),
    # a line more: the guide counts the lines of code (the preface, the chapter, the front page)
    ("pkg/run.py", 'import sys\n\n\ndef main():\n    x = 1\n    return x\n\n\nif __name__ == "__main__":\n'
                   "    sys.exit(main())\n", True),
    # the same number of lines, but a docstring the guide may quote, or a symbol one line down
    ("pkg/a.py", '"""Module a, renamed."""\n\n\ndef alpha():\n    return 1\n', True),
    ("pkg/a.py", '"""Module a."""\n\ndef alpha():\n    return 1\n\n', True),
    # read as text: the root README
    ("README.md", "# Demo\n\nA demo package, described again.\n", True),
])
@pytest.mark.parametrize("jobs", [1, 2])
def test_the_guide_is_rendered_again_only_when_its_inputs_changed(make_repo, monkeypatch: pytest.MonkeyPatch,
                                                                  path: str, text: str, guide: bool,
                                                                  jobs: int) -> None:
    """The guide and `llms.txt` (the `book` task) read line counts, docstrings, symbols, ranks, test links and
    use counts of every file: after an edit that changes none of them (`incremental.same_guide`) the task is not
    run and the pages keep their manifest entries; after one that does it runs. Either way the output equals a
    full build's."""
    repo = make_repo({**LINKED, "README.md": "# Demo\n\nA demo package.\n"})
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a, jobs=jobs)
    book_before = (out_a / "comprehensive_book.md").read_text()
    (repo / path).write_text(text)
    plans: list[incremental.Plan] = []
    real_plan = incremental.local_plan
    monkeypatch.setattr(incremental, "local_plan", lambda *a, **k: plans.append(real_plan(*a, **k)) or plans[-1])
    again = _build(repo, out_a, jobs=jobs)
    assert again.link_reused and len(plans) == 1
    assert (("book", "") in plans[0].tasks) is guide
    if not guide:
        assert (out_a / "comprehensive_book.md").read_text() == book_before
        assert "comprehensive_book.md" in plans[0].pages and "llms.txt" in plans[0].inputs
    monkeypatch.undo()
    full = _build(repo, out_b, full=True, jobs=jobs)
    assert page_tree(out_a) == page_tree(out_b)
    assert dump(sqlite3.connect(out_a / schema.INDEX_NAME)) == dump(sqlite3.connect(out_b / schema.INDEX_NAME))
    assert _diagnostics(again) == _diagnostics(full)
    if guide and path == "pkg/run.py":  # one line of code more: the counts the guide states
        assert (out_a / "comprehensive_book.md").read_text() != book_before


def test_the_guide_is_rendered_again_when_a_use_count_changes(make_repo) -> None:
    """A body edit that moves no line but uses a definition once more changes the use counts the guide ranks key
    types and its glossary by (`references`): the guide's task runs."""
    repo = make_repo(LINKED)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a)
    (repo / "pkg" / "b.py").write_text("from pkg.a import alpha\n\n\ndef beta():\n    return alpha() + alpha()\n")
    plans: list[incremental.Plan] = []
    real_plan = incremental.local_plan

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        plans.append(real_plan(*args, **kwargs))
        return plans[-1]

    import unittest.mock

    with unittest.mock.patch.object(incremental, "local_plan", spy):
        again = _build(repo, out_a)
    assert again.link_reused and ("book", "") in plans[0].tasks
    _build(repo, out_b, full=True)
    assert page_tree(out_a) == page_tree(out_b)


def test_an_edit_rewrites_only_the_imports_of_the_files_it_changed(make_repo) -> None:
    """The link state's imports are stored one pickle per file (`keyed.Keyed`), in path order: an edit that adds an
    import stores the other files' bytes as they were read and the edited file's anew, and the state read back
    equals a full build's."""

    def imports(out: Path) -> dict[str, bytes]:
        with sqlite3.connect(schema.cache_path(out)) as conn:
            (data,) = conn.execute("SELECT data FROM link_parts WHERE name = 'imports'").fetchone()
        part = pickle.loads(data)
        assert isinstance(part, Keyed)
        return part.blobs()

    repo = make_repo(LINKED)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a)
    before = imports(out_a)
    assert list(before) == sorted(before) and "pkg/a.py" in before
    (repo / "pkg" / "a.py").write_text('"""Module a."""\nimport os\n\n\ndef alpha():\n    return 1\n')
    assert _build(repo, out_a).link_reused
    after = imports(out_a)
    assert list(after) == list(before) and {k for k in after if after[k] != before[k]} == {"pkg/a.py"}
    _build(repo, out_b, full=True)
    assert _stored_state(repo, out_a) == _stored_state(repo, out_b)
    assert list(_stored_state(repo, out_a)["imports"]) == list(_stored_state(repo, out_b)["imports"])  # (in order)


def test_an_edit_rewrites_only_the_shards_of_the_references_parts_it_changed(make_repo) -> None:
    """The references' faces (per file) and C-family definitions (per name) are sharded like the imports: a
    function added to a C++ file rewrites the shard of its face, that of its name's definitions and their list of
    names, no other of theirs; both read back equal to a full build's."""
    import zlib

    from docatlas.store import cache as store_cache

    def parts(out: Path) -> dict[str, bytes]:
        with sqlite3.connect(schema.cache_path(out)) as conn:
            return dict(conn.execute("SELECT name, data FROM link_parts WHERE name LIKE 'refs.c_defs#%' "
                                     "OR name LIKE 'refs.interfaces#%'"))

    def refs(out: Path) -> object:
        state = FactsCache.load(make_config(repo, out)).link_state()
        assert state is not None
        return state["refs"]

    repo = make_repo(LINKED)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a)
    before = parts(out_a)
    assert len(before) == 2 * (store_cache.SHARDS + 1)
    (repo / "csrc" / "util.cpp").write_text('#include "util.h"\n\nint helper(int x) {\n  return x + 1;\n}\n'
                                            "int twice(int x) { return 2 * x; }\n")
    assert _build(repo, out_a).link_reused
    after = parts(out_a)

    def shard(part: str, key: str) -> str:
        return f"refs.{part}#{zlib.crc32(key.encode()) % store_cache.SHARDS:02}"

    assert {k for k in after if after[k] != before.get(k)} == {
        shard("interfaces", "csrc/util.cpp"), shard("c_defs", "twice"), "refs.c_defs#keys"}
    _build(repo, out_b, full=True)
    a, b = refs(out_a), refs(out_b)
    assert a.interfaces == b.interfaces and a.c_defs == b.c_defs  # type: ignore[attr-defined]


AMBIGUOUS = {
    "one/a.cpp": "int twice(int x) { return 2 * x; }\n",
    "two/b.cpp": "int twice(int x) { return x + x; }\n",
    "three/c.cpp": "int use() { return twice(1); }\n",
    "three/d.cpp": "int other() { return 4; }\n",
}


def test_edits_beside_ambiguous_c_uses_equal_full_builds(make_repo, caplog: pytest.LogCaptureFixture) -> None:
    """The index's stored candidate sets (`store.refs._Sets`, read only when an edited file has ambiguous uses):
    an edit of a file without such uses, then one that adds a use with the stored set and one with a new set,
    each written in place (a write that fails is redone whole, with a warning in the log)."""
    caplog.set_level(logging.WARNING, logger="docatlas")
    repo = make_repo(AMBIGUOUS)
    _age(repo)
    out_a = repo.parent / "out_a"
    _build(repo, out_a)
    edits = [("three/d.cpp", "int other() { return 5; }\n"),
             ("three/d.cpp", "int other() { return twice(5); }\n"),
             ("three/c.cpp", "int use() { return twice(1) + twice(2); }\nint thrice(int x) { return 3 * x; }\n"),
             ("one/e.cpp", "int thrice(int x) { return x * 3; }\n"),
             ("three/d.cpp", "int other() { return twice(5) + thrice(5); }\n")]
    for i, (path, text) in enumerate(edits):
        (repo / path).write_text(text)
        again = _build(repo, out_a)
        out_b = repo.parent / f"out_b{i}"
        full = _build(repo, out_b, full=True)
        assert not again.warnings and _diagnostics(again) == _diagnostics(full), (path, i)
        assert not [r.getMessage() for r in caplog.records if "cannot update" in r.getMessage()], (path, i)
        assert page_tree(out_a) == page_tree(out_b), (path, i)
        assert dump(sqlite3.connect(out_a / schema.INDEX_NAME)) == dump(sqlite3.connect(out_b / schema.INDEX_NAME))
    conn = sqlite3.connect(out_a / schema.INDEX_NAME)
    # `twice` stays ambiguous (one row per candidate); `thrice` is defined beside the use: its folder's wins
    assert sorted(conn.execute("SELECT name, target_path FROM ref_candidates WHERE path = 'three/d.cpp'")) == [
        ("twice", "one/a.cpp"), ("twice", "two/b.cpp")]
    assert conn.execute("SELECT target_path FROM refs WHERE path = 'three/d.cpp' AND name = 'thrice'").fetchall() == [
        ("three/c.cpp",)]


def test_full_rebuild_over_the_same_output_rewrites_only_pages_that_differ(make_repo) -> None:
    """`--full` (and a resumed build) trusts no digest of the last build: each page is compared with what is on
    disk, byte for byte, and only a page that differs (here, one edited by hand) is written again."""
    repo = make_repo(LINKED)
    out = repo.parent / "out"
    first = _build(repo, out)
    tree = page_tree(out)
    page = out / "pkg" / "a.py_docs.md"
    page.write_text(page.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    again = _build(repo, out, full=True)
    assert again.written == 1 and first.written == again.pages
    assert page_tree(out) == tree


def test_an_edit_that_moves_test_links_updates_those_of_the_index(make_repo) -> None:
    """A test case added that uses a definition: the link stage is reused, and the index's test links (rewritten
    only for the files whose `tested_by` changed, `store.writer._relinked_repo`) equal a full build's."""
    repo = make_repo(LINKED)
    _age(repo)
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    _build(repo, out_a)
    before = sqlite3.connect(out_a / schema.INDEX_NAME).execute("SELECT * FROM test_links").fetchall()
    (repo / "tests" / "test_a.py").write_text("from pkg.a import alpha\n\n\ndef test_alpha():\n    assert alpha() == 1"
                                              "\n\n\ndef test_alpha_twice():\n    assert alpha() + alpha() == 2\n")
    assert _build(repo, out_a).link_reused
    after = sqlite3.connect(out_a / schema.INDEX_NAME).execute("SELECT * FROM test_links").fetchall()
    assert after != before  # (the case that uses `alpha` is listed)
    _build(repo, out_b, full=True)
    assert dump(sqlite3.connect(out_a / schema.INDEX_NAME)) == dump(sqlite3.connect(out_b / schema.INDEX_NAME))
