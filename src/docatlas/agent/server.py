"""`docatlas mcp`: the index as Model Context Protocol tools over stdio (the official SDK, `mcp` 2.x).

Tools: search, show, tests_for, outline, read_source (see `tools.py` for the bounds: `limit`, a `next`
continuation token, at most 60,000 bytes of JSON per answer, said in `cut`). Bad input comes back as a tool
error (`isError`, with the message); the server itself never stops on one. Read-only: SQLite connections
opened read-only; files are read only when the index lists them and they resolve inside the repository.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from docatlas import __version__
from docatlas.agent import tools
from docatlas.store import schema

Limit = Annotated[int, Field(ge=1, le=tools.MAX_LIMIT, description=f"Most items to return (1-{tools.MAX_LIMIT}).")]
Cursor = Annotated[str | None, Field(description="The `next` token of the previous answer, to continue.")]


def make_server(output: Path, repo: Path | None = None) -> MCPServer:
    """An MCPServer over the index in `output`; `repo` is where sources are read (default: the index's root)."""
    output = output.resolve()
    with closing(schema.open_index(output)) as conn:  # fail at start, with the index's own message
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    root = (repo or Path(meta.get("root") or output.resolve().parent)).resolve()
    project = meta.get("project", "")
    server = MCPServer(
        name="docatlas", version=__version__, log_level="WARNING",
        instructions=f"Facts about the {project} repository from docatlas's index: search names, show a file, "
                     f"folder or symbol, list who uses a symbol, list its tests with run commands, "
                     f"outline a file, read source lines.")

    def call(fn: Any, *args: Any) -> dict[str, Any]:
        # a connection per call: the SDK runs tools in worker threads, and opening one costs about a millisecond
        try:
            with closing(schema.open_index(output)) as conn:
                result: dict[str, Any] = fn(conn, *args)
        except tools.ToolInputError as exc:
            raise ToolError(str(exc)) from exc
        except sqlite3.Error as exc:
            raise ToolError(f"the index could not answer ({exc}); rebuild it with `docatlas build`") from exc
        return result

    @server.tool()
    def search(query: Annotated[str, Field(description="Name, qualified name, path or words.")],
               kind: Annotated[str | None, Field(description="Only this kind: class, function, method, file, "
                                                             "folder, …")] = None,
               limit: Limit = 20) -> dict[str, Any]:
        """Find symbols, files and folders, ranked as `docatlas search`: exact names, prefixes, words, mentions."""
        return call(tools.search, query, kind, limit)

    @server.tool()
    def show(target: Annotated[str, Field(description="A file path, a folder, a module or a qualified symbol "
                                                      "(`pkg.mod.Class.method`, `ns::f`).")]) -> dict[str, Any]:
        """Everything the index knows about a file, a folder or a symbol (lists over 100 cut, and said so)."""
        return call(tools.show, target)

    @server.tool()
    def tests_for(target: Annotated[str, Field(description="A file path or a qualified symbol.")],
                  limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
        """The test files that exercise a file (or the file defining a symbol), their cases and run commands."""
        return call(tools.tests_for, target, limit, cursor)

    @server.tool()
    def refs(symbol: Annotated[str, Field(description="A fully qualified name (`pkg.mod.Class`), a qualified "
                                                      "name (`Class.method`) or a bare name.")],
             kind: Annotated[str | None, Field(description="Only references of this kind: call, subclass, "
                                                           "decorator, annotation, import or read.")] = None,
             tests_only: Annotated[bool, Field(description="Only references made by test files.")] = False,
             limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
        """Who uses a symbol: every resolved reference to the definitions it names (file, line, column, kind,
        enclosing symbol), with per-definition totals."""
        return call(tools.refs, symbol, kind, tests_only, limit, cursor)

    @server.tool()
    def outline(path: Annotated[str, Field(description="A repository-relative file path.")],
                limit: Limit = 200, cursor: Cursor = None) -> dict[str, Any]:
        """A file's symbols in line order: kind, qualified name, first and last line, signature, summary."""
        return call(tools.outline, path, limit, cursor)

    @server.tool()
    def read_source(path: Annotated[str, Field(description="A repository-relative file path.")],
                    start: Annotated[int, Field(ge=1, description="First line (from 1).")] = 1,
                    end: Annotated[int | None, Field(ge=1, description="Last line; at most "
                                                     f"{tools.SOURCE_MAX_LINES} lines are returned.")] = None
                    ) -> dict[str, Any]:
        """Lines of a documented file, numbered; `next_start` continues when the range was cut."""
        return call(tools.read_source, root, path, start, end)

    return server


def run_stdio(output: Path, repo: Path | None = None) -> None:
    make_server(output, repo).run("stdio")
