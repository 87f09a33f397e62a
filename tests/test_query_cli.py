"""`docatlas search/show/export/stats` through `main([...])`, as a user or a program calls them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from docatlas.cli import main
from docatlas.store.schema import EXPORT_SCHEMA
from test_index import REPO, _cpp_facts, index_from_facts


@pytest.fixture
def out(make_repo, tmp_path: Path) -> Path:
    repo = make_repo(REPO)
    target = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(target), "-j", "1", "-q"]) == 0
    return target


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_search_human_output(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(capsys, "search", "compile_graph", "-o", str(out))
    assert code == 0
    first = stdout.splitlines()[0]
    assert first == ("pkg/compiler.py:11  function  pkg.compiler.compile_graph — "
                     "Applies a linear transformation to every node of the graph.")


def test_search_json_and_filters(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(capsys, "search", "recompile", "-o", str(out), "--json", "--limit", "2")
    assert code == 0
    hits = json.loads(stdout)
    assert [h["name"] for h in hits] == ["RecompileTests", "test_no_recursive_compile_after_cache_limit_hit"]
    assert set(hits[0]) >= {"path", "line", "kind", "name", "qualname", "summary", "match"}
    _, stdout, _ = run(capsys, "search", "compile", "-o", str(out), "--json", "--kind", "method",
                       "--path", "pkg/*", "--lang", "python")
    assert [h["name"] for h in json.loads(stdout)] == ["test_no_recursive_compile_after_cache_limit_hit"]


def test_search_bad_query_is_a_usage_error_not_sql(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for query in ('"(', "::", "AND OR NOT", 'a" OR "b', "*"):
        code, _stdout, err = run(capsys, "search", query, "-o", str(out))
        # several words fall back to partial matches (`b`), so those may find something
        assert code in ((0, 1) if " " in query else (1, 2)), query
        assert "sqlite" not in err.lower() and "fts5" not in err.lower() and "syntax" not in err.lower(), err
    code, _, err = run(capsys, "search", "::", "-o", str(out))
    assert code == 2 and "nothing to search for" in err


def test_search_no_results_and_missing_index(out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "search", "zzzqqq", "-o", str(out))
    assert code == 1 and "no results" in err
    code, _, err = run(capsys, "search", "x", "-o", str(tmp_path / "nowhere"))
    assert code == 2 and "docatlas build" in err


def test_default_output_found_through_repo(make_repo, capsys: pytest.CaptureFixture[str]) -> None:
    repo = make_repo(REPO, name="defaulted")
    assert main(["build", str(repo), "-j", "1", "-q"]) == 0
    code, stdout, _ = run(capsys, "search", "alpha_missing_word", "--repo", str(repo), "--json")
    assert code == 0 and json.loads(stdout) == []
    cwd = os.getcwd()
    try:
        os.chdir(repo)
        code, stdout, _ = run(capsys, "search", "RecompileTests")
    finally:
        os.chdir(cwd)
    assert code == 0 and stdout.startswith("pkg/compiler.py:4  class  pkg.compiler.RecompileTests")


def test_show_file_folder_and_symbol(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(capsys, "show", "pkg/compiler.py", "-o", str(out))
    assert code == 0
    assert "pkg/compiler.py  (python, library" in stdout
    assert "imported by (2):" in stdout and "tests/test_compiler.py" in stdout and "tested by (1):" in stdout
    code, stdout, _ = run(capsys, "show", "pkg", "-o", str(out))
    assert code == 0 and stdout.startswith("pkg/  (2 files below") and "pkg/compiler.py" in stdout
    code, stdout, _ = run(capsys, "show", "pkg.compile_graph", "-o", str(out))
    assert code == 0
    assert stdout.splitlines()[:4] == ["pkg.compiler.compile_graph  (function)", "  pkg/compiler.py:11-13",
                                       "  def compile_graph(graph)",
                                       "  Applies a linear transformation to every node of the graph."]
    code, stdout, _ = run(capsys, "show", "pkg.compiler.RecompileTests", "-o", str(out), "--json")
    assert code == 0 and json.loads(stdout)["symbols"][0]["children"] == [
        "RecompileTests.test_no_recursive_compile_after_cache_limit_hit"]
    code, _, err = run(capsys, "show", "pkg.nothing", "-o", str(out))
    assert code == 1 and "nothing called" in err


def test_show_absolute_path_inside_the_repository(out: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    repo = tmp_path / "repo"  # where the `out` fixture's repository lives
    _, relative, _ = run(capsys, "show", "pkg/compiler.py", "-o", str(out))
    code, absolute, _ = run(capsys, "show", str(repo / "pkg" / "compiler.py"), "-o", str(out))
    assert code == 0 and absolute == relative and "pkg/compiler.py  (python" in absolute
    code, stdout, _ = run(capsys, "show", str(repo / "pkg") + "/", "-o", str(out))
    assert code == 0 and stdout.startswith("pkg/  (2 files below")
    code, _, err = run(capsys, "show", str(tmp_path / "elsewhere.py"), "-o", str(out))
    assert code == 1 and "nothing called" in err


def test_show_cpp_qualified_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = index_from_facts(tmp_path, _cpp_facts())
    code, stdout, _ = run(capsys, "show", "at::native::add", "-o", str(out))
    assert code == 0
    assert stdout.splitlines()[:4] == ["at::native::add  (function)", "  aten/native/BinaryOps.cpp:3-5",
                                       "  Tensor add(const Tensor& a, const Tensor& b)",
                                       "  Adds two tensors elementwise."]
    assert "at::native::add  (function, declaration)" in stdout


def test_export_jsonl(out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(capsys, "export", "--format", "jsonl", "-o", str(out))
    assert code == 0
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [r["path"] for r in records] == sorted(REPO)
    rec = next(r for r in records if r["path"] == "pkg/compiler.py")
    assert rec["schema"] == EXPORT_SCHEMA and rec["purpose"] == "library" and rec["module"] == "pkg.compiler"
    assert [s["qualname"] for s in rec["symbols"]][:2] == ["RecompileTests",
                                                          "RecompileTests.test_no_recursive_compile_after_cache_limit_hit"]
    assert rec["imported_by"] == ["pkg/__init__.py", "tests/test_compiler.py"]
    assert rec["tested_by"][0]["test"] == "tests/test_compiler.py"
    assert rec["page_text"] == (out / "pkg" / "compiler.py_docs.md").read_text()
    test_rec = next(r for r in records if r["path"] == "tests/test_compiler.py")
    assert [t["name"] for t in test_rec["tests"] if t["kind"] == "test"] == ["CompileGraphTest.test_identity"]
    assert [t["target"] for t in test_rec["tests_of"]] == ["pkg/compiler.py"]
    dest = tmp_path / "corpus.jsonl"
    assert main(["export", "-o", str(out), "--to", str(dest)]) == 0
    assert dest.read_text() == stdout


def test_stats(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(capsys, "stats", "-o", str(out))
    assert code == 0 and stdout.startswith("repo: 4 files in 3 folders")
    code, stdout, _ = run(capsys, "stats", "-o", str(out), "--json")
    data = json.loads(stdout)
    assert data["languages"] == {"python": 3, "markdown": 1}
    assert data["symbol_kinds"]["function"] == 2 and data["purposes"]["test"] == 1
    assert data["diagnostics"] == {}
