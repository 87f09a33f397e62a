"""`docatlas mcp`: the SDK's own stdio client lists the tools, calls each, and gets errors as tool errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from docatlas.agent import tools
from docatlas.store import schema

EXPECTED_TOOLS = {"search", "show", "tests_for", "outline", "read_source", "refs"}


def _session_calls(repo: Path, out: Path, calls: list[tuple[str, dict[str, Any]]]) -> tuple[list[Any], list[Any]]:
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "docatlas", "mcp", "--repo", str(repo), "-o", str(out)])

    async def go() -> tuple[list[Any], list[Any]]:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            listed = (await session.list_tools()).tools
            results = [await session.call_tool(name, args) for name, args in calls]
            return listed, results

    return anyio.run(go)


def _data(result: Any) -> Any:
    assert not result.is_error, result.content
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def test_tools_listed_called_and_errors(built_site: tuple[Path, Path]) -> None:
    repo, out = built_site
    calls: list[tuple[str, dict[str, Any]]] = [
        ("search", {"query": "Shape", "limit": 5}),
        ("show", {"target": "pkg/shapes.py"}),
        ("tests_for", {"target": "pkg.shapes.Shape"}),
        ("outline", {"path": "pkg/shapes.py"}),
        ("read_source", {"path": "pkg/util.py", "start": 4, "end": 5}),
        ("outline", {"path": "pkg/shapes.py", "limit": 1}),
        # errors: unknown target, path outside the repository, bad range, bad limit, bad cursor, unsearchable query
        ("show", {"target": "no.such.thing"}),
        ("read_source", {"path": "../../etc/passwd"}),
        ("read_source", {"path": "pkg/util.py", "start": 9, "end": 3}),
        ("search", {"query": "Shape", "limit": 0}),
        ("outline", {"path": "pkg/shapes.py", "cursor": "x1"}),
        ("search", {"query": "!!!"}),
    ]
    listed, results = _session_calls(repo, out, calls)
    assert {t.name for t in listed} == EXPECTED_TOOLS
    for t in listed:
        assert t.description, t.name
        assert t.input_schema["properties"], t.name
    search, show, tests_for, outline, source, outline1 = (_data(r) for r in results[:6])
    assert search["results"][0]["name"] == "Shape" and search["results"][0]["path"] == "pkg/shapes.py"
    assert show["type"] == "file" and show["file"]["imported_by"] == ["app/main.py", "pkg/__init__.py",
                                                                      "tests/test_shapes.py"]
    assert tests_for["target"] == "pkg/shapes.py"
    assert [t["test"] for t in tests_for["tests"]] == ["tests/test_shapes.py"]
    assert tests_for["tests"][0]["run"], "a run command for the unittest file"
    assert [(s["qualname"], s["line"]) for s in outline["symbols"]] == [("Shape", 9), ("Shape.area", 12)]
    assert source["text"].splitlines() == ["     4  def helper(x: float) -> float:", "     5      return x * 2"]
    assert source["next_start"] is None
    assert outline1["symbols"] == outline["symbols"][:1] and outline1["next"] == "1" and outline1["total"] == 2
    for r in results[6:]:
        assert r.is_error, r
        assert r.content and r.content[0].text
    assert "no.such.thing" in results[6].content[0].text
    assert "not a documented file" in results[7].content[0].text


def test_answers_are_capped(built_site: tuple[Path, Path]) -> None:
    """The byte cap holds and is said, and `next` continues where the cut answer stopped."""
    items = [{"text": "x" * 1000, "n": i} for i in range(200)]
    out = tools.capped({"items": items, "offset": 0, "next": None}, "items")
    assert len(json.dumps(out)) <= tools.MAX_BYTES
    kept = len(out["items"])
    assert 0 < kept < 200 and out["next"] == str(kept) and "more left out" in out["cut"]


def test_show_cuts_long_lists_and_says_so(built_site: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, out = built_site
    monkeypatch.setattr(tools, "SHOWN", 1)
    conn = schema.open_index(out)
    try:
        folder = tools.show(conn, "pkg")["folder"]
        assert [f["path"] for f in folder["file_list"]] == ["pkg/__init__.py"]
        assert folder["cut"] == {"file_list": "first 1 of 3 shown"}
        with pytest.raises(tools.ToolInputError, match="nothing called"):
            tools.show(conn, "no_such_name_anywhere")
    finally:
        conn.close()


def test_read_source_continues_and_says_so(tmp_path: Path, make_repo: Any) -> None:
    from docatlas.cli import main

    repo = make_repo({"big.py": "".join(f"x{i} = {i}\n" for i in range(1000))})
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    conn = schema.open_index(out)
    try:
        first = tools.read_source(conn, repo, "big.py", 1, None)
        assert (first["start"], first["end"], first["next_start"]) == (1, tools.SOURCE_MAX_LINES, 401)
        assert "at most 400 lines" in first["cut"]
        last = tools.read_source(conn, repo, "big.py", 801, None)
        assert (last["end"], last["next_start"], "cut" in last) == (1000, None, False)
        assert last["text"].splitlines()[-1] == "  1000  x999 = 999"
        with pytest.raises(tools.ToolInputError, match="past the end"):
            tools.read_source(conn, repo, "big.py", 1001, None)
    finally:
        conn.close()


def test_refs_tool(built_site: tuple[Path, Path]) -> None:
    """`refs` answers who uses a definition, by site, filtered by kind or test code, and refuses bad input."""
    repo, out = built_site
    calls: list[tuple[str, dict[str, Any]]] = [
        ("refs", {"symbol": "pkg.util.helper"}),
        ("refs", {"symbol": "pkg.util.helper", "kind": "call"}),
        ("refs", {"symbol": "Shape", "tests_only": True}),
        ("refs", {"symbol": "pkg.util.helper", "kind": "call", "limit": 1}),
        ("refs", {"symbol": "no_such_definition"}),
        ("refs", {"symbol": "helper", "kind": "teleport"}),
        ("refs", {"symbol": "Site repo"}),
    ]
    _, results = _session_calls(repo, out, calls)
    every, calls_only, from_tests, first = (_data(r) for r in results[:4])
    assert every["definitions"] == [{"path": "pkg/util.py", "qualname": "helper", "uses": every["total"],
                                     "files": 2, "ambiguous_uses": 0, "ambiguous_files": 0}]
    assert {s["path"] for s in every["sites"]} == {"app/main.py", "pkg/shapes.py"}
    assert {s["kind"] for s in every["sites"]} >= {"call", "import"}
    assert [(s["path"], s["line"]) for s in calls_only["sites"]] == [("app/main.py", 7), ("pkg/shapes.py", 13)]
    assert {s["path"] for s in from_tests["sites"]} == {"tests/test_shapes.py"} and all(
        s["test"] for s in from_tests["sites"])
    assert len(first["sites"]) == 1 and first["next"] == "1" and first["total"] == 2
    assert results[4].is_error and "no_such_definition" in results[4].content[0].text
    assert results[5].is_error and "kind must be one of" in results[5].content[0].text
    assert results[6].is_error and "names only a heading" in results[6].content[0].text
