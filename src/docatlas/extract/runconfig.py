"""INI files' outline (their sections), and the tox and nox configurations that say how a repository runs its
tests: tox environments (`tox.ini`; the TOML forms are read in `extract.config`) and nox sessions, kept as
`extra` facts (JSON values) for `link.runners`.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import PurePosixPath

from docatlas.extract import tsadapter as ts
from docatlas.extract.base import Extraction
from docatlas.model import Symbol


def _squash(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


# -- noxfile.py ----------------------------------------------------------------------------------
def nox_sessions(tree: ast.Module) -> list[tuple[str, str]]:
    """`@nox.session` functions of a noxfile as `("nox-session", JSON)`: the session's name (`name=` or the
    function's), its line, and whether its body passes `session.posargs` on (what makes `nox -s S -- ARGS`
    reach the test runner) and runs pytest."""
    out = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for dec in node.decorator_list:
            func = dec.func if isinstance(dec, ast.Call) else dec
            if ast.unparse(func) not in ("nox.session", "session"):
                continue
            name = node.name
            if isinstance(dec, ast.Call):
                for k in dec.keywords:
                    if k.arg == "name" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
                        name = k.value.value
            param = node.args.args[0].arg if node.args.args else ""
            posargs = any(isinstance(n, ast.Attribute) and n.attr == "posargs" and isinstance(n.value, ast.Name)
                          and n.value.id == param for n in ast.walk(node))
            pytest = any(isinstance(n, ast.Constant) and isinstance(n.value, str) and
                         n.value.split()[:1] in (["pytest"], ["py.test"]) for n in ast.walk(node))
            out.append(("nox-session", json.dumps({"name": name, "line": node.lineno, "posargs": posargs,
                                                   "pytest": pytest}, separators=(",", ":"))))
    return out


# -- INI (tox.ini, setup.cfg ...) -----------------------------------------------------------------
_INI_SECTION = re.compile(r"^\[([^\]]+)\]\s*(?:[#;].*)?$")


def _ini_sections(text: str, first_line: int = 1) -> list[tuple[str, int, int, dict[str, tuple[int, str]]]]:
    """(name, line, end line, {key: (line, value with continuation lines)}) of each `[section]`; a value's
    lines keep the file's line breaks (a comment or blank line between continuation lines stays an empty
    line), so its k-th line is the key's line plus k."""
    sections: list[tuple[str, int, int, dict[str, tuple[int, str]]]] = []
    key = ""
    lines = text.splitlines()
    for i, raw in enumerate(lines):
        lineno = first_line + i
        m = _INI_SECTION.match(raw)
        if m:
            sections.append((m.group(1).strip(), lineno, lineno, {}))
            key = ""
            continue
        if not sections or not raw.strip() or raw.lstrip().startswith(("#", ";")):
            continue
        name, line, _end, keys = sections[-1]
        sections[-1] = (name, line, lineno, keys)
        if raw[0] in " \t" and key:  # a continuation line: line k of the value is line kline + k of the file
            kline, value = keys[key]
            keys[key] = (kline, value + "\n" * (lineno - kline - value.count("\n")) + raw.strip())
        elif "=" in raw or ":" in raw:
            sep = min(i for i in (raw.find("="), raw.find(":")) if i >= 0)
            key = raw[:sep].strip()
            keys[key] = (lineno, raw[sep + 1:].strip())
    return sections


def tox_config(text: str, first_line: int = 1) -> str:
    """A tox configuration's environment list and its `[testenv]`/`[testenv:NAME]` sections' `changedir` and
    `commands` (with their lines), as JSON; "" when it has no `[tox]` or `[testenv]` section."""
    sections = _ini_sections(text, first_line)
    names = {s[0] for s in sections}
    if not names & {"tox", "tox:tox", "testenv"} and not any(n.startswith("testenv:") for n in names):
        return ""
    envlist: list[str] = []
    envs = []
    for name, line, _end, keys in sections:
        listed = keys.get("envlist") or keys.get("env_list")
        if name in ("tox", "tox:tox") and listed:
            envlist = [e.strip() for e in re.split(r"[,\n]", listed[1]) if e.strip()]
        if name == "testenv" or name.startswith("testenv:"):
            env = {"section": name, "line": line}
            for k in ("changedir", "change_dir", "commands"):
                if k in keys:
                    env[k.replace("_", "")] = list(keys[k])
            envs.append(env)
    return json.dumps({"envlist": envlist, "envs": envs}, separators=(",", ":"))


def _extract_ini(path: str, text: str) -> Extraction:
    out = Extraction()
    for name, line, end, keys in _ini_sections(text):
        out.symbols.append(Symbol(kind="key", name=name, qualname=name, line=line, end_line=end,
                                  signature=_squash(f"[{name}] " + ", ".join(keys))))
    if PurePosixPath(path).name == "tox.ini":
        tox = tox_config(text)
        if tox:
            out.extra.append(("tox", tox))
    return out


extract_ini = ts.safe("ini")(_extract_ini)
