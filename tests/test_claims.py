"""Every statement true: one regression test per class of false statement found by `bench/claims_audit.py` on
CPython, Django and PyTorch (issue 14), each on a small hand-made repository."""

from __future__ import annotations

import re
from pathlib import Path

from docatlas import coverage
from docatlas.config import make_config
from docatlas.extract import REGISTRY, extract_bytes
from docatlas.extract.base import first_paragraph
from docatlas.extract.docmd import to_markdown
from docatlas.extract.generated import generated_marker
from docatlas.extract.pyrules import SECURITY_RULES
from docatlas.extract.python import extract
from docatlas.languages import language_for_name
from docatlas.link.stage import RepoModel, link
from docatlas.link.views import folder_test_commands, public_api
from docatlas.pipeline import build

SRC = Path(__file__).parent.parent / "src" / "docatlas"


def model_of(files: dict[str, str]) -> RepoModel:
    facts = {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in files.items()}
    return link("repo", facts)


_TEST = "import unittest\nclass T(unittest.TestCase):\n    def test_x(self):\n        pass\n"


# 1. tests <-> code when the import root also holds the tests (CPython's Lib/ and Lib/test/)
def test_library_under_the_test_suites_own_import_root_is_code_under_test() -> None:
    m = model_of({
        "Lib/json/__init__.py": "def loads(s): pass\n",
        "Lib/test/__init__.py": "",
        "Lib/test/support/__init__.py": "def run(): pass\n",
        "Lib/test/test_json/__init__.py": "import json\nfrom test import support\n" + _TEST,
    })
    assert [tl.test for tl in m.tested_by["Lib/json/__init__.py"]] == ["Lib/test/test_json/__init__.py"]
    assert "Lib/test/support/__init__.py" not in m.tested_by  # the suite's own helper


def test_test_folders_inside_a_package_and_helpers_imported_by_tests(make_repo, tmp_path: Path) -> None:
    m = model_of({
        "Lib/idlelib/__init__.py": "", "Lib/idlelib/search.py": "def find(): pass\n",
        "Lib/idlelib/idle_test/__init__.py": "", "Lib/idlelib/idle_test/mock_tk.py": "class Var: pass\n",
        "Lib/idlelib/idle_test/test_search.py": "from idlelib import search\nfrom idlelib.idle_test import mock_tk\n"
                                               + _TEST,
    })
    assert [tl.test for tl in m.tested_by["Lib/idlelib/search.py"]] == ["Lib/idlelib/idle_test/test_search.py"]
    assert "Lib/idlelib/idle_test/mock_tk.py" not in m.tested_by
    repo = make_repo({"tests/__init__.py": "", "tests/helpers.py": "def h(): pass\n",
                      "tests/test_a.py": "from tests import helpers\n" + _TEST})
    build(make_config(repo, tmp_path / "out", jobs=1))
    page = (tmp_path / "out" / "tests" / "helpers.py_docs.md").read_text()
    assert "No test in this repository imports this file" not in page
    assert "Imported by 1 test file of its own test suite, which uses it as a helper" in page


def test_a_type_stub_beside_its_module_points_at_the_modules_tests(make_repo, tmp_path: Path) -> None:
    """Imports of `pkg.mod` load `mod.py`, not `mod.pyi`: the stub's page must not say no test imports it."""
    repo = make_repo({"pkg/__init__.py": "", "pkg/mod.py": "def f(): pass\n", "pkg/mod.pyi": "def f() -> None: ...\n",
                      "pkg/lone.pyi": "def g() -> None: ...\n",
                      "tests/test_mod.py": "from pkg.mod import f\n" + _TEST})
    build(make_config(repo, tmp_path / "out", jobs=1))
    stub = (tmp_path / "out" / "pkg" / "mod.pyi_docs.md").read_text()
    testing = stub.split("### Testing", 1)[1].split("###", 1)[0]
    assert "No test in this repository imports this file" not in testing
    assert "This is the type stub of [`pkg/mod.py`](./mod.py_docs.md)" in testing
    assert "so the module's tests are listed on its page (1 test file)." in testing
    lone = (tmp_path / "out" / "pkg" / "lone.pyi_docs.md").read_text()
    assert "No test in this repository imports this file" in lone and "type stub of" not in lone


def test_builtin_module_wins_over_a_local_file() -> None:
    m = model_of({"Lib/test/dtracedata/gc.py": "", "Lib/test/dtracedata/instance.py": "import gc\nimport json\n"})
    (gc, _) = m.imports["Lib/test/dtracedata/instance.py"]
    assert (gc.category, gc.target) == ("stdlib", "")


# 2. run commands and frameworks from evidence
def test_regrtest_runtests_pytest_and_unittest_commands_with_their_evidence() -> None:
    m = model_of({
        "Lib/test/__init__.py": "", "Lib/test/libregrtest/__init__.py": "",
        "Lib/test/test_re.py": _TEST + "if __name__ == '__main__':\n    unittest.main()\n",
        "Lib/unittest/__init__.py": "", "Lib/unittest/test/__init__.py": "",
        "Lib/unittest/test/test_case.py": _TEST,
    })
    assert m.run_commands["Lib/test/test_re.py"] == ["./python -m test test_re"]
    assert "Lib/test/libregrtest/" in m.run_evidence["Lib/test/test_re.py"]
    assert m.run_commands["Lib/unittest/test/test_case.py"] == [
        "(cd Lib && ./python -m unittest unittest.test.test_case)"]
    assert not any("pytest" in c for cs in m.run_commands.values() for c in cs)
    # tests defined only when the file runs as a script: regrtest imports it and would find none
    m = model_of({
        "Lib/test/__init__.py": "", "Lib/test/libregrtest/__init__.py": "", "Lib/test/support/__init__.py": "",
        "Lib/test/support/testresult.py": "import unittest\nif __name__ == '__main__':\n"
                                          "    class TestTests(unittest.TestCase):\n        def test_pass(self):\n"
                                          "            pass\n    unittest.main()\n",
    })
    assert m.run_commands["Lib/test/support/testresult.py"] == ["./python Lib/test/support/testresult.py"]
    assert "its `__main__` block (line 2)" in m.run_evidence["Lib/test/support/testresult.py"]

    m = model_of({"pytest.ini": "[pytest]\n", "pkg/__init__.py": "", "tests/test_a.py": "def test_a():\n    pass\n"})
    assert m.run_commands["tests/test_a.py"] == ["python -m pytest tests/test_a.py"]
    assert m.run_evidence["tests/test_a.py"] == "pytest is configured in `pytest.ini`"

    m = model_of({"pkg/__init__.py": "", "tests/test_b.py": "from pkg import x\n" + _TEST})
    assert m.run_commands["tests/test_b.py"] == ["python -m unittest tests.test_b"]


def test_unittest_mixins_are_not_pytest() -> None:
    text = ("from test.test_json import PyTest\n\nclass TestDecode:\n    def test_float(self):\n        pass\n\n"
            "class TestPyDecode(TestDecode, PyTest):\n    pass\n")
    out = extract("Lib/test/test_json/test_decode.py", text)
    assert {t.framework for t in out.tests} == {"unittest"}
    assert [t.name for t in out.tests if t.kind == "test"] == ["TestDecode.test_float"]


_GTEST = "#include <gtest/gtest.h>\nTEST(ParseTest, Empty) {}\nTEST_F(ParseFixture, Long) {}\n"


def test_cmake_test_targets_name_the_target_and_the_build_file_line() -> None:
    m = model_of({
        "CMakeLists.txt": "project(p)\nadd_subdirectory(test)\nadd_subdirectory(lib)\nforeach(t ${LIB_TESTS})\n"
                          "  get_filename_component(n ${t} NAME_WE)\n  add_executable(${n} ${t})\n"
                          "  target_link_libraries(${n} gtest)\nendforeach()\n",
        "lib/CMakeLists.txt": "if(BUILD_TEST)\n"
                              "  set(LIB_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/rope_test.cpp PARENT_SCOPE)\nendif()\n",
        "lib/rope_test.cpp": _GTEST, "src/parse.cpp": "int parse() { return 0; }\n",
        "test/CMakeLists.txt": (
            "add_executable(parse_test parse_test.cpp)\n"                       # 1
            "target_link_libraries(parse_test PRIVATE GTest::gtest_main)\n"     # 2
            "add_test(NAME parse COMMAND parse_test)\n"                          # 3
            "add_executable(tool tool.cpp)\n"                                   # 4: not a test target
            "file(GLOB UNIT_SRCS ${CMAKE_CURRENT_SOURCE_DIR}/unit/*.cpp)\n"      # 5
            "foreach(src ${UNIT_SRCS})\n"                                       # 6
            "  get_filename_component(name ${src} NAME_WE)\n"                   # 7
            "  add_executable(unit_${name} ${src})\n"                           # 8
            "  target_link_libraries(unit_${name} gtest gtest_main)\n"          # 9
            "  gtest_discover_tests(unit_${name})\n"                            # 10
            "endforeach()\n"
            "function(add_gtest source)\n"                                      # 12
            "  get_filename_component(n ${source} NAME_WE)\n"
            "  add_executable(${n} ${source})\n"                                # 14
            "  target_link_libraries(${n} ${ARGN})\n"
            "endfunction()\n"
            "add_gtest(store_test.cpp gmock)\n"),                               # 17
        "test/parse_test.cpp": _GTEST, "test/tool.cpp": _GTEST, "test/unit/lex_test.cpp": _GTEST,
        "test/store_test.cpp": _GTEST, "test/orphan_test.cpp": _GTEST,
    })
    assert m.run_commands["test/parse_test.cpp"] == [
        "cmake --build build --target parse_test && ctest --test-dir build -R '^parse$'"]
    why = m.run_evidence["test/parse_test.cpp"]
    assert "(`test/CMakeLists.txt:1`)" in why and "gtest (`test/CMakeLists.txt:2`)" in why
    assert "`add_test`, `test/CMakeLists.txt:3`" in why
    assert m.run_commands["test/unit/lex_test.cpp"] == [
        "cmake --build build --target unit_lex_test && "
        "ctest --test-dir build -R '^(.*/)?(ParseFixture|ParseTest)(/[0-9]+)?\\.'"]
    assert "`test/CMakeLists.txt:8`) is built from this file, named at `test/CMakeLists.txt:5`" in \
        m.run_evidence["test/unit/lex_test.cpp"]
    assert m.run_commands["test/store_test.cpp"] == [
        "cmake --build build --target store_test  # then run the `store_test` binary it makes"]
    assert "declared by `add_gtest()` called at `test/CMakeLists.txt:17`" in m.run_evidence["test/store_test.cpp"]
    # a list a subdirectory hands up (`PARENT_SCOPE`) to the file that makes the targets
    assert m.run_commands["lib/rope_test.cpp"] == [
        "cmake --build build --target rope_test  # then run the `rope_test` binary it makes"]
    assert "(`CMakeLists.txt:6`) is built from this file, named at `lib/CMakeLists.txt:2`" in \
        m.run_evidence["lib/rope_test.cpp"]
    # an executable linked to nothing test-like, and a test no build file builds: no command, no guess
    assert m.run_commands["test/tool.cpp"] == [] and m.run_commands["test/orphan_test.cpp"] == []


def test_a_folder_page_lists_a_few_cpp_target_commands_and_says_where_the_rest_are() -> None:
    files = {f"t/{n}_test.cpp": _GTEST for n in "abcdefg"}
    files["CMakeLists.txt"] = ("file(GLOB T t/*.cpp)\nforeach(s ${T})\n  get_filename_component(n ${s} NAME_WE)\n"
                               "  add_executable(${n} ${s})\n  target_link_libraries(${n} gtest)\nendforeach()\n")
    m = model_of(files)
    commands, unrun = folder_test_commands(m, "t", sorted(p for p in files if p.startswith("t/")))
    assert commands[0] == "cmake --build build --target a_test  # then run the `a_test` binary it makes"
    assert commands[5:] == ["# … and 2 more (alphabetical order), one per test target: each test file's page gives "
                            "its own"] and unrun == []


def test_bazel_cc_test_with_a_glob_and_an_exclude() -> None:
    bazel = ('cc_test(\n    name = "util_tests",\n    srcs = glob(["util/*.cpp"], exclude = ["util/slow.cpp"]),\n'
             '    deps = ["@com_google_googletest//:gtest_main"],\n)\n')
    m = model_of({"lib/BUILD.bazel": bazel, "lib/util/a_test.cpp": _GTEST, "lib/util/slow.cpp": _GTEST})
    assert m.run_commands["lib/util/a_test.cpp"] == ["bazel test //lib:util_tests"]
    assert "`lib/BUILD.bazel:1`" in m.run_evidence["lib/util/a_test.cpp"]
    assert m.run_commands["lib/util/slow.cpp"] == []
    macro = 'def define(rules):\n    rules.cc_test(name = "t", srcs = ["t_test.cpp"])\n'
    for build_file, expected in (("load(':defs.bzl', 'define')\ndefine(native)\n", ["bazel test //m:t"]),
                            ("cc_library(name = 'x')\n", [])):  # a macro its package never loads
        m = model_of({"m/BUILD": build_file, "m/defs.bzl": macro, "m/t_test.cpp": _GTEST})
        assert m.run_commands["m/t_test.cpp"] == expected


def test_tox_and_nox_commands_when_they_pass_arguments_on() -> None:
    tox = ("[tox]\nenvlist =\n    py3\n    lint\n\n[testenv]\nchangedir = tests\ncommands =\n"
           "    {envpython} runtests.py {posargs}\n\n[testenv:lint]\ncommands = flake8 .\n")
    m = model_of({"tox.ini": tox, "tests/runtests.py": "import sys\n", "tests/queries/__init__.py": "",
                  "tests/queries/tests.py": _TEST})
    assert m.run_commands["tests/queries/tests.py"] == ["python tests/runtests.py queries.tests",
                                                        "tox -e py3 -- queries.tests"]
    assert "tox environment `py3` (`tox.ini:9`: `{envpython} runtests.py {posargs}`, in `tests`)" in \
        m.run_evidence["tests/queries/tests.py"]

    pytest_tox = "[tox]\nenvlist = py{310,311}\n[testenv]\ncommands = pytest {posargs:tests}\n"
    nox = ("import nox\n\n@nox.session(name='unit-tests')\ndef unit(session):\n"
           "    session.run('pytest', *session.posargs)\n\n@nox.session\ndef tests_all(session):\n"
           "    session.run('pytest')\n")
    m = model_of({"tox.ini": pytest_tox, "noxfile.py": nox, "conftest.py": "",
                  "tests/test_a.py": "def test_a():\n    pass\n"})
    assert m.run_commands["tests/test_a.py"] == ["python -m pytest tests/test_a.py", "tox -e py -- tests/test_a.py",
                                                 "nox -s unit-tests -- tests/test_a.py"]
    assert "`noxfile.py:4`" in m.run_evidence["tests/test_a.py"]  # `tests_all` ignores its arguments

    toml = ('env_list = ["3.13"]\n[env_run_base]\ndeps = ["pytest"]\n'
            'commands = [["pytest", { replace = "posargs", extend = true }]]\n[env.lint]\ncommands = [["ruff"]]\n')
    legacy = '[tool.tox]\nlegacy_tox_ini = """\n[testenv]\nchangedir = tests\ncommands = pytest {posargs}\n"""\n'
    for files, command, where in (({"tox.toml": toml}, "tox -e 3.13 -- tests/test_a.py", "`tox.toml:4`"),
                                  ({"pyproject.toml": legacy}, "tox -e py -- test_a.py", "`pyproject.toml:5`"),
                                  ({"pyproject.toml": legacy, "tox.ini": "[testenv]\ncommands = pytest {posargs}\n"},
                                   "tox -e py -- tests/test_a.py", "`tox.ini:2`"),  # tox.ini comes first
                                  ({"pyproject.toml": legacy, "tox.toml": toml}, "tox -e py -- test_a.py",
                                   "`pyproject.toml:5`")):  # then pyproject.toml, then tox.toml
        m = model_of({**files, "conftest.py": "", "tests/test_a.py": "def test_a():\n    pass\n"})
        assert m.run_commands["tests/test_a.py"] == ["python -m pytest tests/test_a.py", command]
        assert where in m.run_evidence["tests/test_a.py"]

    gap = "[testenv]\ncommands =\n    python -m pip list\n    # then the tests\n\n    pytest {posargs}\n"
    m = model_of({"tox.ini": gap, "conftest.py": "", "tests/test_a.py": "def test_a():\n    pass\n"})
    assert "(`tox.ini:6`: `pytest {posargs}`)" in m.run_evidence["tests/test_a.py"]  # past the comment

    m = model_of({"tox.ini": "[testenv]\ncommands = pytest\n", "conftest.py": "",
                  "tests/test_a.py": "def test_a():\n    pass\n"})
    assert m.run_commands["tests/test_a.py"] == ["python -m pytest tests/test_a.py"]  # no {posargs}: not offered


def test_a_cpp_test_page_shows_the_command_and_its_evidence(make_repo, tmp_path: Path) -> None:
    repo = make_repo({"CMakeLists.txt": "add_executable(t t.cpp)\ntarget_link_libraries(t gtest_main)\n"
                                        "add_test(NAME t COMMAND $<TARGET_FILE:t>)\n", "t.cpp": _GTEST})
    build(make_config(repo, tmp_path / "out", jobs=1))
    page = (tmp_path / "out" / "t.cpp_docs.md").read_text()
    assert "cmake --build build --target t && ctest --test-dir build -R '^t$'" in page
    assert "Chosen from: CMake target `t` (`CMakeLists.txt:1`) is built from this file" in page
    suite_base = ("from .base import SitemapTestsBase\n\nclass GenericTests(SitemapTestsBase):\n"
                  "    def test_a(self):\n        pass\n")
    assert [(t.name, t.framework) for t in extract("tests/s/test_generic.py", suite_base).tests if t.kind == "test"] \
        == [("GenericTests.test_a", "unittest")]


# 3. "generated" only from the file's own leading comment
def test_generated_markers_count_only_in_the_leading_comment() -> None:
    assert generated_marker("# @generated by tools/gen.py\nx = 1\n", "python") == "`@generated` at line 1"
    assert generated_marker('"""Automatically generated by gen.py."""\nx = 1\n', "python")
    cookiejar = 'import re\nHEADER = """\\\n# This is a generated file!  Do not edit.\n"""\n'
    assert generated_marker(cookiejar, "python") == ""
    generator = '"""Generate C code."""\nAUTOGEN = "// File automatically generated by {}."\n'
    assert generated_marker(generator, "python") == ""
    header = '#include <a.h>\n// This header file is automatically generated by cmake.\n#include "m.h"\n'
    assert generated_marker(header, "c-header") == ""
    clinic = "/*[clinic input]\npreserve\n[clinic start generated code]*/\nstatic int x;\n"
    assert "line 3" in generated_marker(clinic, "c-header")


# 4. Markdown outlines from a CommonMark parser
def test_markdown_headings_after_a_code_span_holding_triple_backticks() -> None:
    text = "# One\nUse ``` ```python ``` ``` here.\n\n## Two\n\nTitle\n-----\n\n```\n# not a heading\n```\n### Four\n"
    out = extract_bytes("README.md", text.encode(), "markdown")
    assert [(s.name, s.line) for s in out.symbols] == [("One", 1), ("Two", 4), ("Title", 6), ("Four", 12)]


# 5. descriptions are the first prose, not rules, directives, licence headers or shebangs
def test_descriptions_skip_rules_directives_and_licences() -> None:
    readme = '<div align="center"><img src="logo.png"></div>\n\n' + "-" * 80 + "\n\nPyTorch is a package.\n"
    assert extract_bytes("README.md", readme.encode(), "markdown").docstring == "PyTorch is a package."
    docker = "# syntax = docker/dockerfile:experimental\n#\n# Builds the CPU image.\nFROM ubuntu\n"
    assert extract_bytes("Dockerfile", docker.encode(), "dockerfile").docstring == "Builds the CPU image."
    assert first_paragraph('-*- Mode: C; c-file-style: "python" -*-\n\nString to float.') == "String to float."
    assert first_paragraph("Copyright (c) 2001 PSF.\nAll rights reserved.\n\nThe module.") == "The module."


# 6. empty findings sections say exactly what was checked
def test_coverage_matches_the_rule_modules_the_registry_and_the_readme() -> None:
    assert set(coverage.PYTHON_RULES["security"]) == set(SECURITY_RULES)
    py_src = (SRC / "extract" / "pyrules.py").read_text()
    c_src = (SRC / "extract" / "crules.py").read_text()
    for category, prefix in (("performance", "PERF-"), ("pattern", "PAT-")):
        used = set(re.findall(rf'"{category}", "({prefix}[A-Z-]+)"', py_src))
        assert used == set(coverage.PYTHON_RULES[category])
    c_used = set(re.findall(r'"(C-[A-Z]+|PERF-[A-Z-]+)"', c_src))
    assert c_used == set(coverage.C_RULES["security"]) | set(coverage.C_RULES["performance"])
    assert set(REGISTRY) == coverage.EXTRACTED
    readme = (SRC.parent.parent / "README.md").read_text()
    for rules in (coverage.PYTHON_RULES, coverage.C_RULES):
        for ids in rules.values():
            assert all(f"`{i}`" in readme for i in ids), "the README lists every rule by id"


def test_pages_say_which_rules_were_checked_and_group_test_findings(make_repo, tmp_path: Path) -> None:
    repo = make_repo({"pkg/__init__.py": "", "pkg/mod.py": "def f():\n    return 1\n",
                      "native/x.h": "int add(int a, int b);\n", "notes.md": "# Notes\n",
                      "tests/test_mod.py": "import random\n" + _TEST + "random.random()\nrandom.random()\n"})
    build(make_config(repo, tmp_path / "out", jobs=1))
    page = (tmp_path / "out" / "pkg" / "mod.py_docs.md").read_text()
    n = len(coverage.PYTHON_RULES["security"])
    assert f"{n} security rules checked (B102, B103," in page and "none matched." in page
    header = (tmp_path / "out" / "native" / "x.h_docs.md").read_text()
    assert "security rules checked (C-EXEC" in header and "no extractor" not in header
    assert "docatlas has no security rules for Markdown" in (tmp_path / "out" / "notes.md_docs.md").read_text()
    test_page = (tmp_path / "out" / "tests" / "test_mod.py_docs.md").read_text()
    assert "A test file: its 2 security findings are on test code" in test_page
    assert "- **B311** × 2:" in test_page


# 7. whole docstrings as Markdown, comment blocks when there is none
def test_docstrings_become_markdown_and_comments_document_undocumented_definitions() -> None:
    doc = ("Applies a linear transformation: :math:`y = xA^T + b`.\n\nArgs:\n    in_features: size of each input\n"
           "\nExamples::\n\n    >>> m = nn.Linear(20, 30)\n")
    md = to_markdown(doc)
    assert "`y = xA^T + b`" in md and ":math:" not in md
    assert "- `in_features`: size of each input" in md
    assert "```pycon\n>>> m = nn.Linear(20, 30)\n```" in md  # a doctest session, even after `Examples::`
    md = to_markdown("Sends.\n\nArguments:\n\n    sender\n        The sender.\n\n    named\n        Named.\n\n"
                     "Args:\n    domain (:class:`~c.Constraint`):\n        Valid inputs.\n    fn (callable) - First.\n")
    assert "- `sender`: The sender.\n- `named`: Named." in md  # a bare name with its text under it
    assert "- `domain` (`c.Constraint`): Valid inputs.\n- `fn` (callable): First." in md
    md = to_markdown("Warn.\nParameters\n----------\nd : Dispatcher\n    The one.\nSee Also:\n    Dispatcher.add\n"
                     "    warning_text\n\n.. testcode::\n\n    import torch\n")
    assert "- `d` (Dispatcher): The one.\n\n**See Also**\n\n- `Dispatcher.add`\n- `warning_text`" in md
    assert "```python\nimport torch\n```" in md
    md = to_markdown("Default 404 handler.\n\nContext:\n    request_path\n        The path.\n    exception\n"
                     "        The message.\n\nA CASE expression in SQL:\n\n    CASE\n        WHEN n > 0\n    END\n")
    assert "**Context**\n\n- `request_path`: The path.\n- `exception`: The message." in md
    assert "`CASE`" not in md  # a sentence over an indented block is no list title
    out = extract("q.py", "# Kept for backwards compatibility.\n# Do not use in new code.\nclass NonDynamic:\n"
                          "    pass\n")
    (cls,) = out.symbols
    assert cls.summary == "Kept for backwards compatibility. Do not use in new code."


# 8. bandit's own behaviour and the rules it has
def test_bandit_rules_for_names_imports_and_partial_paths() -> None:
    out = extract("a.py", "import pickle\nimport subprocess\ntoken_type = 'phrase'\nimport random\n"
                          "r = random.Random()\nsubprocess.run(['git', 'status'])\n")
    assert {(f.rule, f.line) for f in out.findings if f.category == "security"} == {
        ("B403", 1), ("B404", 2), ("B105", 3), ("B311", 5), ("B607", 6)}


# 9. purposes name what the file provides, never the type twice
def test_purposes_name_main_definitions() -> None:
    m = model_of({
        "torch/__init__.py": "", "torch/nn/__init__.py": "",
        "torch/nn/linear.py": ('class Linear:\n    """Applies a linear transformation. More."""\n'
                               'class Bilinear:\n    pass\n'),
        "c10/util/irange.h": "#ifndef IRANGE_H\n#define IRANGE_H\ntemplate <typename T> struct irange {};\n#endif\n",
        "c10/util/empty.h": "#include <a.h>\n",
    })
    linear = m.purposes["torch/nn/linear.py"].reason
    assert linear == "defines `Linear` (Applies a linear transformation) and `Bilinear`"
    assert m.purposes["c10/util/irange.h"].reason.startswith("defines `irange`")
    assert m.purposes["c10/util/empty.h"].reason == ""  # nothing defined: the page says nothing


# 10. smaller ones
def test_library_shipping_a_testcase_is_not_a_test_file() -> None:
    doctest_like = ("import unittest\n" + "".join(f"def f{i}(): pass\n" for i in range(5)) +
                    "class DocTestCase(unittest.TestCase):\n    def test_skip(self):\n        pass\n")
    m = model_of({"Lib/doctest.py": doctest_like})
    assert m.purposes["Lib/doctest.py"].label == "library"


def test_underscore_aliases_are_not_public_api() -> None:
    m = model_of({"pkg/__init__.py": "from .core import run as _run, stop\n", "pkg/core.py": "def run(): pass\n"
                                                                                       "def stop(): pass\n"})
    assert public_api(m, "pkg/__init__.py")[0] == ["stop"]


def test_claims_audit_finds_no_false_statement_on_the_sample(tmp_path: Path, capsys) -> None:
    """`bench/claims_audit.py` over the golden sample repository: every page, every checkable statement."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("claims_audit", SRC.parent.parent / "bench" / "claims_audit.py")
    assert spec is not None and spec.loader is not None
    audit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(audit)
    repo = Path(__file__).parent / "fixtures" / "golden" / "sample"
    build(make_config(repo, tmp_path / "out", jobs=1))
    status = audit.main([str(repo), "100", "--out", str(tmp_path / "out")])
    report = capsys.readouterr().out
    assert status == 0, report
    assert re.search(r"\b[1-9]\d* statements checked, 0 false", report)


def test_claims_audit_checks_build_tox_and_nox_commands_against_the_files_they_cite(make_repo, tmp_path: Path,
                                                                                    capsys) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("claims_audit", SRC.parent.parent / "bench" / "claims_audit.py")
    assert spec is not None and spec.loader is not None
    audit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(audit)
    repo = make_repo({
        "CMakeLists.txt": "file(GLOB T test/*_test.cpp)\nforeach(s ${T})\n  get_filename_component(n ${s} NAME_WE)\n"
                          "  add_executable(${n} ${s})\n  target_link_libraries(${n} gtest_main)\n"
                          "  add_test(NAME ${n} COMMAND ${n})\nendforeach()\nadd_subdirectory(lib)\n"
                          "add_executable(r_test ${LIB_T})\ntarget_link_libraries(r_test gtest)\n",
        "lib/CMakeLists.txt": "set(LIB_T ${CMAKE_CURRENT_SOURCE_DIR}/r_test.cpp PARENT_SCOPE)\n",
        "lib/r_test.cpp": _GTEST,
        "test/a_test.cpp": _GTEST, "BUILD": 'cc_test(name = "a", srcs = ["test/a_test.cpp"])\n',
        "tox.ini": "[testenv]\ncommands = pytest {posargs}\n", "conftest.py": "",
        "noxfile.py": "import nox\n@nox.session\ndef tests(session):\n    session.run('pytest', *session.posargs)\n",
        "tests/test_b.py": "def test_b():\n    pass\n",
    })
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    assert audit.main([str(repo), "100", "--out", str(out)]) == 0
    report = capsys.readouterr().out
    for n, kind in ((2, "CMake target: exists"), (1, "Bazel cc_test: exists"), (1, "tox command:"),
                    (1, "nox command:")):
        assert re.search(rf"^ +{n} checked +0 false  {kind}", report, re.M), report
    page = out / "test" / "a_test.cpp_docs.md"
    page.write_text(page.read_text().replace("--target a_test", "--target b_test").replace(
        "target `a_test`", "target `b_test`").replace("//:a", "//:b"))
    audit._read.cache_clear()
    assert audit.main([str(repo), "100", "--out", str(out)]) == 1
    report = capsys.readouterr().out
    assert re.search(r"^ +2 checked +1 false  CMake target", report, re.M), report
    assert re.search(r"^ +1 checked +1 false  Bazel cc_test", report, re.M), report


def test_macro_after_a_line_with_a_trailing_comment_keeps_its_own_line() -> None:
    text = b"#if X\n#define SHIFT   9 /* max(e) */\n#define BASE    ((digit)1000) /* 10 ** SHIFT */\n#endif\n"
    out = extract_bytes("longintrepr.h", text, "c-header")
    assert [(s.name, s.line) for s in out.symbols] == [("SHIFT", 2), ("BASE", 3)]
    recovered = (b"#ifdef A\ntypedef __int64 T;\n#   define M LLONG_MAX\n#else\ntypedef _W64 int T;\n"
                 b"#   define M INT_MAX\n#endif\n")
    assert [s.line for s in extract_bytes("pyconfig.h", recovered, "c-header").symbols if s.name == "M"] == [3, 6]
