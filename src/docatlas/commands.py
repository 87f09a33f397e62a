"""`search`, `show`, `export` and `stats`: the CLI over the index that `build` writes (see docatlas.store.queries).

They find the index where `build` put it: `-o/--output`, else the repository's configured or default output
folder (`--repo`, default the current folder). Only this module and cli.py print.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from docatlas.config import DEFAULT_OUTPUT, make_config
from docatlas.errors import DocatlasError
from docatlas.safetext import terminal
from docatlas.store import refs as store_refs
from docatlas.store import schema  # (`store.queries` is imported by the commands that run: `build` starts faster)

F = TypeVar("F", bound=Callable[..., Any])


def _location(fn: F) -> F:
    fn = click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
                      help=f"The folder `build` wrote [default: REPO/{DEFAULT_OUTPUT}, or `output` in "
                           f"[tool.docatlas]].")(fn)
    return click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                        show_default=True, help="Repository whose output folder holds the index.")(fn)


@contextmanager
def _index(repo: Path, output: Path | None) -> Iterator[tuple[sqlite3.Connection, Path]]:
    out = output.resolve() if output is not None else make_config(repo).output
    conn = schema.open_index(out)
    try:
        yield conn, out
    except sqlite3.DatabaseError as exc:
        raise DocatlasError(f"{schema.index_path(out)}: {exc}; run `docatlas build` to rebuild it") from exc
    finally:
        conn.close()


def _in_repository(conn: sqlite3.Connection, target: str) -> str:
    """An absolute path inside the documented repository as the index names it (relative, `/`-separated);
    any other target unchanged."""
    if not os.path.isabs(target):
        return target
    root = schema.read_meta(conn).get("root", "")
    if not root:
        return target
    for candidate in (Path(os.path.normpath(target)), Path(target).resolve()):
        for base in (Path(root), Path(root).resolve()):
            try:
                rel = candidate.relative_to(base).as_posix()
            except ValueError:
                continue
            return "" if rel == "." else rel
    return target


def _echo(line: str, err: bool = False) -> None:
    """Every line for the terminal passes `safetext.terminal`: no name from the repository can move the
    cursor, clear the screen or fake another line."""
    click.echo(terminal(line), err=err)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@click.command("search", short_help="Find symbols, files and folders by name or by word.")
@click.argument("query")
@_location
@click.option("--kind", default=None, help="Only this kind: class, function, method, struct, macro, file, folder …")
@click.option("--lang", default=None, help="Only files of this language id: python, cpp, cuda, markdown …")
@click.option("--path", "path_glob", default=None, metavar="GLOB",
              help="Only paths matching GLOB (`*` crosses folders); without wildcards: a file or a folder.")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True,
              help="Show at most this many results, best first.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array of results, for programs.")
def search_cmd(query: str, repo: Path, output: Path | None, kind: str | None, lang: str | None,
               path_glob: str | None, limit: int, as_json: bool) -> None:
    """Find symbols, files and folders: exact names first, then prefixes, then words anywhere."""
    from docatlas.store import queries
    with _index(repo, output) as (conn, _):  # a query that cannot be run is one line, exit 2 (QueryError)
        hits = queries.search(conn, query, kind=kind, lang=lang, path=path_glob, limit=limit)
    if as_json:
        _emit_json([h.as_dict() for h in hits])
        return
    if not hits:
        _echo(f"no results for {query!r}", err=True)
        raise SystemExit(1)
    for h in hits:
        where = f"{h.path}:{h.line}" if h.line else h.path
        name = h.qualname or h.name
        summary = f" — {h.summary}" if h.summary else ""
        _echo(f"{where}  {h.kind}  {name}{summary}")


def _file_lines(rec: dict[str, Any], brief: bool = False) -> list[str]:
    reason = f": {rec['purpose_reason']}" if rec["purpose_reason"] else ""
    lines = [f"{rec['path']}  ({rec['language']}, {rec['purpose']}{reason})"]
    lines.append(f"  {rec['size']:,} bytes, {rec['lines']:,} lines" + (f", module {rec['module']}"
                                                                         if rec["module"] else ""))
    if rec["docstring"]:
        lines.append(f"  {rec['docstring']}")
    if rec["page"]:
        lines.append(f"  page: {rec['page']}")
    if brief:
        return lines
    top = [s for s in rec["symbols"] if not s["parent"]]
    if top:
        lines.append(f"symbols ({len(rec['symbols'])}, {len(top)} top-level):")
        lines += [f"  {s['line']:>5}  {s['kind']:<9} {s['signature'] or s['qualname']}" for s in top[:60]]
        if len(top) > 60:
            lines.append(f"  … {len(top) - 60} more")
    if rec["imports"]:
        lines.append(f"imports ({len(rec['imports'])}):")
        for i in rec["imports"]:
            target = f" -> {i['target']}" if i["target"] else (f" ({i['category']})" if i["category"] else "")
            lines.append(f"  {i['line']:>5}  {i['module']}{target}")
    if rec["imported_by"]:
        lines.append(f"imported by ({len(rec['imported_by'])}):")
        lines += [f"  {p}" for p in rec["imported_by"]]
    _test_lines(rec, lines)
    if rec["findings"]:
        lines.append("findings:")
        lines += [f"  {f['line']:>5}  {f['rule']} {f['category']}: {f['message']}" for f in rec["findings"]]
    if rec["diagnostics"]:
        lines.append("diagnostics:")
        lines += [f"  {rec['path']}:{d['line']}:{d['col']}: {d['code']} {d['message']}" for d in rec["diagnostics"]]
    return lines


def _test_lines(rec: dict[str, Any], lines: list[str]) -> None:
    tests = [t for t in rec["tests"] if t["kind"] == "test"]
    if tests:
        lines.append(f"test cases ({len(tests)}):")
        lines += [f"  {t['line']:>5}  {t['name']} ({t['framework']})" for t in tests[:40]]
        if len(tests) > 40:
            lines.append(f"  … {len(tests) - 40} more")
    if rec["tested_by"]:
        lines.append(f"tested by ({len(rec['tested_by'])}):")
        for t in rec["tested_by"]:
            via = f" via {t['via']}" if t["via"] else ""
            names = f" [{', '.join(t['names'])}]" if t["names"] else ""
            lines.append(f"  {t['test']}{names}{via}")
    if rec["tests_of"]:
        lines.append(f"tests ({len(rec['tests_of'])}):")
        lines += [f"  {t['target']}" for t in rec["tests_of"]]


@click.command("show", short_help="Summarise a file, folder, Python module or symbol.")
@click.argument("target")
@_location
@click.option("--json", "as_json", is_flag=True, help="The same as JSON, for programs.")
def show_cmd(target: str, repo: Path, output: Path | None, as_json: bool) -> None:
    """Summarise TARGET: a file path (relative to the repository, or absolute inside it), a folder, a Python
    module or a qualified symbol (`pkg.mod.Class.method`, `at::native::add`)."""
    from docatlas.store import queries
    with _index(repo, output) as (conn, _):
        found = queries.show(conn, _in_repository(conn, target))
        if found is not None and found["type"] == "symbol" and store_refs.available(conn):
            for sym in found["symbols"]:
                if sym["kind"] in store_refs.UNREFERENCED_KINDS:
                    continue
                used = store_refs.sites(conn, sym["path"], sym["qualname"])
                files = store_refs.by_file(used)
                sym.update(uses=len(used), used_by_files=len(files), top_users=files[:5])
    if found is None:
        _echo(f"docatlas: nothing called {target!r} in the index (try `docatlas search {target}`)", err=True)
        raise SystemExit(1)
    if as_json:
        _emit_json(found)
        return
    lines: list[str] = []
    if found["type"] == "file":
        lines = _file_lines(found["file"])
    elif found["type"] == "folder":
        d = found["folder"]
        lines.append(f"{d['path'] or '.'}/  ({d['subtree_files']:,} files below, {d['symbols']:,} symbols, "
                     f"{d['tests']:,} test cases)")
        langs = ", ".join(f"{k} {v}" for k, v in d["languages"].items())
        if langs:
            lines.append(f"  languages: {langs}")
        if d["subfolder_list"]:
            lines.append(f"subfolders ({len(d['subfolder_list'])}):")
            lines += [f"  {p}/" for p in d["subfolder_list"]]
        if d["file_list"]:
            lines.append(f"files ({len(d['file_list'])}):")
            for f in d["file_list"]:
                doc = f" — {f['docstring']}" if f["docstring"] else ""
                lines.append(f"  {f['path']}  ({f['language']}, {f['purpose']}){doc}")
    else:
        for s in found["symbols"]:
            lines.append(f"{s['fqname']}  ({s['kind']}{', ' + ', '.join(s['flags']) if s['flags'] else ''})")
            lines.append(f"  {s['path']}:{s['line']}-{s['end_line']}")
            if s["signature"]:
                lines.append(f"  {s['signature']}")
            if s["summary"]:
                lines.append(f"  {s['summary']}")
            for key, label in (("macro", "macro"), ("condition", "only when"), ("bridge", _BRIDGE_LABEL.get(
                    s["kind"], "bound as"))):
                if s.get(key):
                    lines.append(f"  {label}: {s[key]}")
            if s.get("module_name"):
                lines.append(f"  module name: {s['module_name']}")
            for impl in s.get("implementations", ()):
                lines.append(f"  implemented by: {impl['qualname']}  ({impl['kind']}, {impl['path']}:{impl['line']})")
            if s["children"]:
                lines.append(f"  members: {', '.join(c.rsplit('.', 1)[-1] for c in s['children'][:30])}"
                             + (" …" if len(s["children"]) > 30 else ""))
            if "uses" in s:
                files = s["used_by_files"]
                lines.append(f"  used {s['uses']} time{'s' if s['uses'] != 1 else ''} in {files} other "
                             f"file{'s' if files != 1 else ''}"
                             + (", most by: " + ", ".join(f"{p} ({n})" for p, n in s["top_users"])
                                if s["top_users"] else ""))
        for rec in found["files"].values():
            lines.append("in file:")
            lines += ["  " + ln for ln in _file_lines(rec, brief=True)]
            short: list[str] = []
            _test_lines({**rec, "tests": []}, short)
            lines += ["  " + ln for ln in short]
            if rec["imported_by"]:
                n = len(rec["imported_by"])
                lines.append(f"  imported by {n} file{'s' if n != 1 else ''}")
    for line in lines:
        _echo(line)


@click.command("export", short_help="Write one JSON record per file, for retrieval corpora.")
@_location
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True,
              help="The output format: JSON Lines, one record per line.")
@click.option("--to", "dest", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def export_cmd(repo: Path, output: Path | None, fmt: str, dest: Path | None) -> None:
    """One JSON record per file (schema `docatlas-export/1`, see docs/index-schema.md) for retrieval corpora."""
    from docatlas.store import queries
    with _index(repo, output) as (conn, out):
        stream = dest.open("w", encoding="utf-8") if dest else sys.stdout
        try:
            for rec in queries.export_records(conn, out):
                _add_references(conn, rec)
                stream.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
        finally:
            if dest:
                stream.close()


def _add_references(conn: sqlite3.Connection, rec: dict[str, Any]) -> None:
    """The export's references: per file its outgoing ones, per symbol how many other files use it."""
    rec["references"] = store_refs.outgoing(conn, rec["path"])
    counts = store_refs.use_counts(conn, rec["path"])
    for sym in rec.get("symbols", ()):
        files, uses = counts.get(sym["qualname"], (0, 0))
        sym["used_by_files"], sym["uses"] = files, uses


@click.command("stats", short_help="Count the files, symbols, findings and diagnostics of a build.")
@_location
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object, for programs.")
def stats_cmd(repo: Path, output: Path | None, as_json: bool) -> None:
    """Counts by language, purpose and symbol kind, and what went wrong (diagnostics by code)."""
    from docatlas.store import queries
    with _index(repo, output) as (conn, _):
        data = queries.stats(conn)
    if as_json:
        _emit_json(data)
        return
    _echo(f"{data['project']}: {data['files']:,} files in {data['folders']:,} folders, {data['symbols']:,} "
               f"symbols, {data['imports']:,} imports, {data['tests']:,} test cases, {data['findings']:,} findings")
    for title, key in (("languages", "languages"), ("purposes", "purposes"), ("symbol kinds", "symbol_kinds"),
                       ("findings", "findings_by_category"), ("diagnostics", "diagnostics")):
        if data[key]:
            _echo(f"{title}:")
            for k, v in data[key].items():
                _echo(f"  {v:>8,}  {k}")
    if data["diagnostics"]:
        _echo(f"  in {data['diagnostic_files']:,} files")


@click.command("refs")
@click.argument("symbol")
@_location
@click.option("--kind", type=click.Choice(store_refs.KINDS), default=None, help="Only references of this kind.")
@click.option("--tests-only", is_flag=True, help="Only references made by test files.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per definition, for programs.")
def refs_cmd(symbol: str, repo: Path, output: Path | None, kind: str | None, tests_only: bool,
             as_json: bool) -> None:
    """Where SYMBOL is used: every resolved reference to the definitions it names (a fully qualified name
    `torch.nn.modules.linear.Linear`, a qualified name `Linear.forward`, or a bare name), by file, most
    uses first."""
    from docatlas.store import queries
    with _index(repo, output) as (conn, _):
        if not store_refs.available(conn):
            raise DocatlasError("this index has no references; run `docatlas build` again")
        records = queries.symbol_records(conn, symbol)
        named = [(r["path"], r["qualname"]) for r in records if r["kind"] not in store_refs.UNREFERENCED_KINDS]
        if records and not named:
            kinds = ", ".join(sorted({r["kind"] for r in records}))
            raise DocatlasError(f"{symbol!r} names only a {kinds}, which no code reference resolves to")
        named = named or store_refs.targets(conn, symbol)
        found = [(p, q, store_refs.sites(conn, p, q, kind, tests_only)) for p, q in named]
        maybe = {(p, q): [c for c in store_refs.candidate_sites(conn, p, q)
                          if (not kind or c["kind"] == kind) and (c["test"] or not tests_only)] for p, q in named}
    if not found:
        click.echo(f"docatlas: no definition called {symbol!r} in the index", err=True)
        raise SystemExit(1)
    if as_json:
        _emit_json([{"path": p, "qualname": q, "uses": len(s), "files": len({x["path"] for x in s}), "sites": s,
                     "ambiguous_sites": maybe[(p, q)]} for p, q, s in found])
        return
    for p, q, s in found:
        files = store_refs.by_file(s)
        what = f"{len(s)} use{'s' if len(s) != 1 else ''} in {len(files)} file{'s' if len(files) != 1 else ''}"
        click.echo(f"{p}  {q}: {what}" + (f" ({kind})" if kind else "") + (" from tests" if tests_only else ""))
        by_path: dict[str, list[dict[str, Any]]] = {}
        for site in s:
            by_path.setdefault(site["path"], []).append(site)
        for f, n in files:
            click.echo(f"  {f}  ({n})")
            for site in by_path[f]:
                where = f" in {site['enclosing']}" if site["enclosing"] else ""
                click.echo(f"    {site['line']}:{site['col']}  {site['kind']}  {site['name']}{where}")
        amb = maybe[(p, q)]
        if amb:
            n_files = len({c["path"] for c in amb})
            click.echo(f"  and {len(amb)} ambiguous use{'s' if len(amb) != 1 else ''} in {n_files} "
                       f"file{'s' if n_files != 1 else ''}: the name has several definitions; each may mean "
                       "this one (not counted above)")
            for c in amb:
                where = f" in {c['enclosing']}" if c["enclosing"] else ""
                click.echo(f"    {c['path']}:{c['line']}:{c['col']}  {c['kind']}  {c['name']}{where}  "
                           f"(one of {c['candidates']} definitions)")


COMMANDS = (search_cmd, show_cmd, export_cmd, stats_cmd, refs_cmd)


# `show`: what a C symbol's bridge names (`symbols.bridge`)
_BRIDGE_LABEL = {"binding": "C function", "module": "defined by the table"}
