"""The link stage on small hand-made repositories: resolution, graph, tests <-> code, related files, purposes."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from docatlas.config import make_config
from docatlas.extract import extract_bytes
from docatlas.incremental import local_tasks
from docatlas.languages import language_for_name
from docatlas.link import cdecls
from docatlas.link.relink import relink, star_targets
from docatlas.link.resolve import IncludeIndex, resolve_include
from docatlas.link.stage import RepoModel, link, link_inputs, link_state
from docatlas.model import Diagnostic, FileFacts, Finding, Import, Symbol
from docatlas.render.format import Memo
from docatlas.tasks import all_tasks, task_pages


def model_of(files: dict[str, str], extra: dict[str, FileFacts] | None = None) -> RepoModel:
    facts = {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in files.items()}
    facts.update(extra or {})
    return link("repo", facts)


def targets(model: RepoModel, path: str) -> list[tuple[str, str]]:
    return [(r.imp.module, r.target or r.category) for r in model.imports[path]]


def test_absolute_relative_and_submodule_imports() -> None:
    m = model_of({
        "src/pkg/__init__.py": "from .core import run\n",
        "src/pkg/core.py": "import os\nimport numpy\nfrom . import util\nfrom ..pkg.util import helper\n",
        "src/pkg/util.py": "def helper(): pass\n",
        "tools/script.py": "import pkg.core\nfrom pkg import util, missing\n",
    })
    assert "src" in m.python_roots
    assert targets(m, "src/pkg/core.py") == [("os", "stdlib"), ("numpy", "third-party"),
                                             (".", "src/pkg/util.py"), ("..pkg.util", "src/pkg/util.py")]
    assert targets(m, "tools/script.py") == [("pkg.core", "src/pkg/core.py"), ("pkg", "src/pkg/__init__.py"),
                                             ("pkg", "src/pkg/util.py")]
    assert m.imported_by["src/pkg/util.py"] == sorted(m.imported_by["src/pkg/util.py"],
                                                      key=lambda p: (-m.rank[p], p))


def test_ambiguous_name_prefers_the_importers_own_root() -> None:
    m = model_of({
        "utils/__init__.py": "X = 1\n",
        "tests/utils/__init__.py": "Y = 1\n",
        "tests/app/__init__.py": "",
        "tests/app/tests.py": "from utils import Y\n",
        "lib.py": "from utils import X\n",
    })
    assert targets(m, "tests/app/tests.py") == [("utils", "tests/utils/__init__.py")]
    assert targets(m, "lib.py") == [("utils", "utils/__init__.py")]


def test_compiled_module_is_classified_with_its_stub() -> None:
    m = model_of({"torch/__init__.py": "from torch._C import _nn\nimport torch._C._nvfuser\n",
                  "torch/_C/__init__.pyi": "def f() -> None: ...\n"})
    cats = {(r.imp.module, r.category) for r in m.imports["torch/__init__.py"]}
    assert cats == {("torch._C", "repo"), ("torch._C._nvfuser", "compiled")}
    stub = next(r for r in m.imports["torch/__init__.py"] if r.category == "compiled")
    assert "torch/_C/__init__.pyi" in stub.reason


def test_includes_relative_root_system_and_generated() -> None:
    paths = ["aten/src/ATen/core/Tensor.h", "aten/src/ATen/native/Add.cpp", "aten/src/ATen/native/Add.h",
             "aten/src/ATen/templates/Functions.h", "c10/util/irange.h", "aten/src/ATen/Config.h.in"]
    imps = {
        "aten/src/ATen/native/Add.cpp": (Import("Add.h", line=1), Import("ATen/core/Tensor.h", line=2),
                                         Import("c10/util/irange.h", line=3), Import("vector", line=4, system=True),
                                         Import("ATen/Functions.h", line=5), Import("ATen/Config.h", line=6),
                                         Import("pybind11/pybind11.h", line=7, system=True)),
        "aten/src/ATen/core/Tensor.h": (Import("c10/util/irange.h", line=1), Import("ATen/native/Add.h", line=2)),
    }
    index = IncludeIndex(paths, imps)
    got = [(r.category, r.target) for r in (resolve_include("aten/src/ATen/native/Add.cpp", i, index)
                                            for i in imps["aten/src/ATen/native/Add.cpp"])]
    assert got == [("repo", "aten/src/ATen/native/Add.h"), ("repo", "aten/src/ATen/core/Tensor.h"),
                   ("repo", "c10/util/irange.h"), ("system", ""), ("generated", ""), ("generated", ""),
                   ("third-party", "")]
    assert "aten/src" in index.roots


def test_tests_to_code_through_reexports_and_run_commands() -> None:
    m = model_of({
        "django/__init__.py": "",
        "django/db/__init__.py": "",
        "django/db/models/__init__.py": "from django.db.models.query import QuerySet\n__all__ = ['QuerySet']\n",
        "django/db/models/query.py": "class QuerySet:\n    pass\n",
        "tests/runtests.py": "if __name__ == '__main__':\n    pass\n",
        "tests/queries/__init__.py": "",
        "tests/queries/models.py": "X = 1\n",
        "tests/queries/tests.py": ("from unittest import TestCase\nfrom django.db.models import QuerySet\n"
                                   "from .models import X\n\nclass QuerySetTests(TestCase):\n"
                                   "    def test_querysets(self):\n        pass\n"),
    })
    testers = {(tl.test, tl.via) for tl in m.tested_by["django/db/models/query.py"]}
    assert testers == {("tests/queries/tests.py", "django/db/models/__init__.py")}
    (tl,) = m.tested_by["django/db/models/query.py"]
    assert tl.names == ("QuerySet",) and tl.cases == ("QuerySetTests.test_querysets",)
    assert "tests/queries/models.py" not in m.tested_by  # the suite's own models are helpers, not code under test
    assert m.run_commands["tests/queries/tests.py"] == ["python tests/runtests.py queries.tests"]


def test_pytorch_style_run_command_only_with_main_block() -> None:
    m = model_of({"torch/__init__.py": "",
                  "test/test_a.py": "import torch\nimport unittest\nclass T(unittest.TestCase):\n"
                                    "    def test_x(self): pass\nif __name__ == '__main__':\n    unittest.main()\n",
                  "test/test_b.py": "import torch\ndef test_y():\n    pass\n"})
    assert m.run_commands["test/test_a.py"][0] == "python test/test_a.py"
    assert m.run_commands["test/test_b.py"] == ["python -m pytest test/test_b.py"]
    assert {tl.target for tl in m.tests_of["test/test_b.py"]} == {"torch/__init__.py"}


def test_graph_rank_transitive_and_folder_dependencies() -> None:
    m = model_of({"core/__init__.py": "", "core/base.py": "",
                  "a/__init__.py": "", "a/x.py": "from core import base\n", "a/y.py": "from a import x\n",
                  "b/__init__.py": "", "b/z.py": "from core import base\n"})
    assert m.rank_pos["core/base.py"] == 1
    assert m.transitive_importers["core/base.py"] == 3  # a/x.py, b/z.py and, through a/x.py, a/y.py
    assert m.transitive_imports["a/y.py"] == 2
    assert dict(m.folder_uses["a"]) == {"core": 1}
    assert dict(m.folder_used_by["core"]) == {"a": 1, "b": 1}
    # equal scores share a position: the number of files that score at least as high
    tied = [p for p in m.files if m.rank[p] == m.rank["b/z.py"]]
    assert len(tied) > 1 and {m.rank_pos[p] for p in tied} == {max(m.rank_pos.values())}


def test_related_files_differ_by_file_and_use_same_stem_across_languages() -> None:
    m = model_of({"lib/__init__.py": "", "lib/ops.py": "from lib import util\n", "lib/util.py": "",
                  "lib/ops.cpp": "int f() { return 1; }\n", "lib/other.py": "", "lib/more.py": ""})
    ops = dict(m.related["lib/ops.py"])
    assert "lib/util.py" in ops and "lib/ops.cpp" in ops and "another language" in ops["lib/ops.cpp"]
    assert m.related["lib/ops.py"] != m.related["lib/util.py"]
    assert all("same folder" in reason for _, reason in m.related["lib/more.py"])  # last resort only


def test_purpose_needs_evidence_beyond_folder_names() -> None:
    m = model_of({"docker/build.sh": "echo hi\n", "tests/helpers.py": "def make(): pass\n",
                  "tests/test_a.py": "def test_a():\n    pass\n", "docs/conf.py": "project = 'x'\n",
                  "docs/index.rst": "Title\n=====\n", "setup.py": "from setuptools import setup\nsetup()\n"})
    labels = {p: m.purposes[p].label for p in m.files}
    assert labels["docker/build.sh"] == "script"
    assert labels["tests/helpers.py"] != "test"
    assert labels["tests/test_a.py"] == "test"
    assert labels["docs/conf.py"] == "docs"
    assert labels["setup.py"] == "build"


def test_folder_doc_and_file_page_show_the_model(make_repo, tmp_path: Path) -> None:
    from docatlas.cli import main

    repo = make_repo({
        "pkg/__init__.py": '"""Tools."""\nfrom pkg.core import run\n__all__ = ["run"]\n',
        "pkg/core.py": '"""The core."""\ndef run():\n    """Run it."""\n',
        "tests/test_core.py": "from pkg import run\n\ndef test_run():\n    run()\n",
    })
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    doc = (out / "pkg" / "doc.md").read_text()
    assert "public API (`__all__`, 1 name): `run`" in doc
    assert "Depended on by files in 1 other folder" in doc and "`tests` (1 import)" in doc
    assert "[`core.py`](./core.py_docs.md) (top " in doc
    page = (out / "pkg" / "core.py_docs.md").read_text()
    assert ("[`tests/test_core.py`](../tests/test_core.py_docs.md) (1 test, 2 uses of its definitions), imports `run` "
            "through") in page  # the import and the call
    assert "`python -m pytest tests/test_core.py`" in page


CORPORA = Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora"))


@pytest.mark.slow
def test_django_query_is_tested_from_tests_folder() -> None:
    root = CORPORA / "django-5.2"
    if not root.is_dir():
        pytest.skip("django-5.2 corpus absent")
    import sys

    sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
    from link_stats import facts_for

    m = link("django", facts_for(root, None))
    testers = {tl.test for tl in m.tested_by["django/db/models/query.py"]}
    assert any(t.startswith("tests/") for t in testers)


LINK_REPO = {
    "pkg/__init__.py": '"""Pkg."""\nfrom .core import Engine\nfrom .util import *\n__all__ = ["Engine"]\n',
    "pkg/core.py": '"""Core."""\nimport os\n\n\nclass Engine:\n    """Runs."""\n\n    def run(self):\n'
                   "        return os.getcwd()\n",
    "pkg/util.py": "def helper():\n    pass\n\n\ndef _private():\n    pass\n",
    "pkg/tool.py": "import sys\n\nif __name__ == '__main__':\n    sys.exit(0)\n",
    "tests/test_core.py": "from pkg import Engine\nfrom pkg.util import helper\n\n\ndef test_engine_runs():\n"
                          "    Engine().run()\n\n\ndef test_helper():\n    helper()\n",
    "csrc/engine.h": "#pragma once\nnamespace pkg { class Engine { public: int run(); }; }\n",
    "csrc/engine.cpp": '#include "engine.h"\n#include <vector>\nint pkg::Engine::run() { return 0; }\n'
                       "int main() { return 0; }\n",
    "csrc/engine_test.cpp": '#include "engine.h"\n#include <gtest/gtest.h>\nTEST(Engine, Runs) {}\n',
    "README.md": "# Pkg\n\n## Use\n",
}


def _perturbed(f: FileFacts, n: int, public: bool = False) -> FileFacts:
    """`f` with every field that `link_inputs` leaves out changed (n varies the values): lines, sizes, digests,
    docstrings, findings, diagnostics, the lines of its imports, tests and `__main__` block, and definitions
    (nested ones renamed, a private one added; with `public`, a public top-level one too, which only a star
    import of the file reads)."""
    parents = {s.parent for s in f.symbols}
    # C and C++ declarations pair with definitions in other files (`link.cdecls`): their names and linkage are
    # link inputs there, so only their lines and texts change
    paired = {id(s) for s in f.symbols if cdecls.pairable(s)} if f.language in cdecls.C_LANGS else set()
    symbols = [dataclasses.replace(s, line=s.line + n, end_line=s.end_line + 2 * n, signature=f"sig{n}",
                                   summary=f"summary {n}", decorators=(f"d{n}",), bases=(f"B{n}",),
                                   flags=s.flags if id(s) in paired else (f"flag{n}",)) for s in f.symbols]
    symbols = [dataclasses.replace(s, name=f"{s.name}_{n}", qualname=f"{s.qualname}_{n}")
               if s.parent and s.qualname not in parents and id(o) not in paired else s
               for s, o in zip(symbols, f.symbols, strict=True)]
    if f.language not in cdecls.C_LANGS:
        symbols.append(Symbol("function", f"_extra{n}", f"_extra{n}", 900 + n, 901 + n))
    if public and f.language not in cdecls.C_LANGS:
        symbols.append(Symbol("function", f"extra{n}", f"extra{n}", 950 + n, 951 + n))
    return dataclasses.replace(
        f, size=f.size + n, digest=f"{n:040x}", lines=f.lines + n, docstring=f"doc {n}", symbols=tuple(symbols),
        findings=(Finding("security", "B000", "m", n, "e"),), diagnostics=(Diagnostic(f.path, n, 0, "DA204", "x"),),
        parse_ok=bool(n % 2), extra=(("k", str(n)),), main_line=f.main_line and f.main_line + n,
        imports=tuple(dataclasses.replace(i, line=i.line + n) for i in f.imports),
        tests=tuple(dataclasses.replace(t, line=t.line + n) for t in f.tests))


@pytest.mark.parametrize("n", [1, 7])
def test_relink_of_what_keeps_link_inputs_equals_link(n: int) -> None:
    """`link_inputs` is what lets a rebuild reuse the link stage: whatever else changes in the edited files,
    `relink` of the stored output (remaking the edited files' own entries) gives what `link` gives."""
    facts = {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in LINK_REPO.items()}
    perturbed = {p: _perturbed(f, n) for p, f in facts.items()}
    assert all(link_inputs(facts[p]) == link_inputs(perturbed[p]) for p in facts)
    state = link_state(link("repo", facts))
    assert link_state(relink("repo", perturbed, state, perturbed)) == link_state(link("repo", perturbed))
    assert link_state(relink("repo", facts, state, facts)) == state
    for path in LINK_REPO:  # one edited file at a time, as rebuilds see them
        one = {**facts, path: perturbed[path]}
        assert link_state(relink("repo", one, state, [path])) == link_state(link("repo", one)), path
    # a new public definition matters only where a star import reads it (pkg/util.py here)
    star = star_targets(state)
    assert star == {"pkg/util.py"}
    public = {p: _perturbed(f, n, public=True) for p, f in facts.items()}
    assert link_inputs(facts["pkg/util.py"], True) != link_inputs(public["pkg/util.py"], True)
    assert all(link_inputs(facts[p], False) == link_inputs(public[p], False) for p in facts)
    public["pkg/util.py"] = perturbed["pkg/util.py"]
    assert link_state(relink("repo", public, state, public)) == link_state(link("repo", public))
    model = relink("repo", perturbed, link_state(link("repo", facts)))
    assert model.files == dict(sorted(perturbed.items())) and model.subtree_files("pkg") == sorted(
        p for p in LINK_REPO if p.startswith("pkg/"))


@pytest.mark.parametrize("list_limit", [2, 500])  # keyword pages split by letter, and whole
def test_an_edit_that_keeps_link_inputs_changes_only_the_local_pages(make_repo, list_limit: int) -> None:
    """What a rebuild that reuses the link stage relies on (`incremental.local_tasks`): changing one file's facts
    outside `link_inputs` changes no page but its own, its folders' and the keyword index."""
    repo = make_repo(LINK_REPO)
    cfg = make_config(repo, repo.parent / "out", list_limit=list_limit)
    facts = {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in LINK_REPO.items()}
    state = link_state(link("repo", facts))

    def pages(model: RepoModel, tasks: list[tuple[str, str]]) -> dict[str, str]:
        memo = Memo()
        return {page.path: page.text() for kind, target in tasks
                for page in task_pages(memo, model, cfg, kind, target)}

    base = pages(relink("repo", facts, state), all_tasks(relink("repo", facts, state)))
    for path in LINK_REPO:
        edited = {**facts, path: _perturbed(facts[path], 3, public=path not in star_targets(state))}
        model = relink("repo", edited, state, [path])
        now = pages(model, all_tasks(model))
        differ = {p for p in base if base[p] != now[p]}
        local = set(pages(model, local_tasks(model, {path: edited[path]})))
        assert f"{path}_docs.md" in differ and differ <= local, path
