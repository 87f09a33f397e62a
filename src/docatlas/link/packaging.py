"""Where a reader enters a repository: what its packaging declares (name, description, console scripts,
compiled extensions, read as data from `pyproject.toml`, `setup.cfg`, `setup.py`; nothing is executed) and the
entry points its files show (`python -m` packages, programs, scripts, build targets). Read by the repository
guide and the front page.
"""

from __future__ import annotations

import ast
import configparser
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from docatlas.link.stage import RepoModel


@dataclass(frozen=True)
class EntryPoint:
    kind: str  # console script, python -m, program, script, extension, build target
    name: str
    path: str  # the file that holds the evidence ("" when it could not be resolved)
    line: int = 0
    note: str = ""


@dataclass
class Packaging:
    name: str = ""
    description: str = ""
    version: str = ""
    sources: list[str] = field(default_factory=list)  # the files it was read from
    scripts: list[EntryPoint] = field(default_factory=list)  # console and GUI scripts
    extensions: list[EntryPoint] = field(default_factory=list)  # compiled extension modules


def packaging(root: Path, model: RepoModel) -> Packaging:
    """Name, description, scripts and extensions declared by the root `pyproject.toml`, `setup.cfg`,
    `setup.py` or `package.json`, read as data (nothing is executed). A file that cannot be parsed is passed
    over: its own page carries the diagnostic."""
    pk = Packaging()
    for name, reader in (("pyproject.toml", _pyproject), ("setup.cfg", _setup_cfg), ("setup.py", _setup_py)):
        if name not in model.files or model.files[name].binary:
            continue
        try:
            text = (root / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        try:
            got = reader(text)
        except (ValueError, SyntaxError, configparser.Error, RecursionError):
            continue
        if any(got.values()):
            pk.sources.append(name)
        for key in ("name", "description", "version"):
            if not getattr(pk, key) and isinstance(got.get(key), str):
                setattr(pk, key, " ".join(str(got[key]).split()))
        for spec, line in got.get("scripts", []):
            ep = _script(spec, name, line, model)
            if ep is not None and ep.name not in {s.name for s in pk.scripts}:
                pk.scripts.append(ep)
        for ext, line in got.get("extensions", []):
            if ext not in {e.name for e in pk.extensions}:
                pk.extensions.append(EntryPoint("extension", ext, name, line))
    return pk


def _script(spec: str, source: str, line: int, model: RepoModel) -> EntryPoint | None:
    name, eq, target = spec.partition("=")
    if not eq:
        return None
    target = target.strip().split()[0] if target.strip() else ""
    module = target.partition(":")[0]
    path = model.modules.get(module, "")
    return EntryPoint("console script", name.strip(), path or source, 0 if path else line, target)


def _pyproject(text: str) -> dict[str, Any]:
    data = tomllib.loads(text)
    project = data.get("project", {})
    poetry = data.get("tool", {}).get("poetry", {})
    out: dict[str, Any] = {}
    for key in ("name", "description", "version"):
        out[key] = project.get(key) or poetry.get(key) or ""
    scripts = {**poetry.get("scripts", {}), **project.get("scripts", {}), **project.get("gui-scripts", {})}
    out["scripts"] = [(f"{k} = {v}", 0) for k, v in sorted(scripts.items()) if isinstance(v, str)]
    return out


def _setup_cfg(text: str) -> dict[str, Any]:
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(text)
    out: dict[str, Any] = {k: cp.get("metadata", k, fallback="") for k in ("name", "description", "version")}
    if out["version"].startswith("attr:"):
        out["version"] = ""
    scripts = cp.get("options.entry_points", "console_scripts", fallback="")
    out["scripts"] = [(s.strip(), 0) for s in scripts.splitlines() if "=" in s]
    return out


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        a, b = _literal(node.left), _literal(node.right)
        return a + b if a is not None and b is not None else None
    return None


def _setup_py(text: str) -> dict[str, Any]:
    """Literal arguments of `setup(...)`, every `'console_scripts': [...]` list and `Extension("name", ...)`."""
    tree = ast.parse(text)
    out: dict[str, Any] = {"scripts": [], "extensions": []}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(
                node.func, ast.Attribute) else ""
            if fn == "setup":
                for kw in node.keywords:
                    if kw.arg in ("name", "description", "version") and (v := _literal(kw.value)) is not None:
                        out[kw.arg] = v
            elif fn in ("Extension", "CppExtension", "CUDAExtension", "Pybind11Extension") and node.args \
                    and (ext := _literal(node.args[0])) is not None:
                out["extensions"].append((ext, node.lineno))
        elif isinstance(node, ast.Dict):
            for k, value in zip(node.keys, node.values, strict=True):
                if k is not None and _literal(k) in ("console_scripts", "gui_scripts") and isinstance(
                        value, ast.List | ast.Tuple):
                    for elt in value.elts:
                        if (s := _literal(elt)) is not None:
                            out["scripts"].append((s, elt.lineno))
    return out


EntryCandidates = tuple[dict[str, list[str]], int]  # (kind -> files, most central first; build targets)


def entry_points(model: RepoModel, folder: str = "", limit: int = 5,
                 candidates: EntryCandidates | None = None) -> dict[str, tuple[int, list[EntryPoint]]]:
    """Entry points found in a subtree, by kind, each as (how many, the `limit` most central): `__main__.py`
    modules (`python -m`), programs (compiled files defining `main`), Python scripts with a `__main__` block,
    build targets (CMake, Bazel). Chosen from purposes and summaries; only the entries shown read their
    file's facts (for a line), so a rebuild that renders this costs no unpickling of the rest. `candidates`:
    the subtree's `entry_candidates`, when a caller asking again with another `limit` kept them."""
    found, targets = candidates if candidates is not None else entry_candidates(model, folder)
    out: dict[str, tuple[int, list[EntryPoint]]] = {}
    for kind, paths in found.items():
        shown: list[EntryPoint] = []
        for p in paths:
            if len(shown) >= limit:
                break
            f = model.files[p]
            if kind == "python -m":
                module = model.module_of[p]
                pkg = module.rsplit(".", 1)[0]
                root = p[: len(p) - len(module.replace(".", "/") + ".py")].rstrip("/")  # its import root
                run = f"cd {root} && python -m {pkg}" if root else f"python -m {pkg}"
                shown.append(EntryPoint(kind, run, p, f.main_line))
            elif kind == "program":
                main = next((s for s in f.symbols if s.name == "main" and s.kind == "function"), None)
                shown.append(EntryPoint(kind, p.rsplit("/", 1)[-1], p, main.line if main else 0))
            elif kind == "script":
                shown.append(EntryPoint(kind, p.rsplit("/", 1)[-1], p, f.main_line))
            else:
                shown += [EntryPoint(kind, s.name, p, s.line, s.flags[0] if s.flags else "")
                          for s in f.symbols if s.kind == "target"][: limit - len(shown)]
        out[kind] = (targets if kind == "build target" else len(paths), shown)
    return out


def kept_entry_points(kept: dict[str, Any], model: RepoModel, folder: str, limit: int
                      ) -> dict[str, tuple[int, list[EntryPoint]]]:
    """`entry_points`, each subtree's `entry_candidates` found once and kept in `kept` (the guide's memo: a
    chapter asks twice, the guide and the front page each once for the root, with other limits)."""
    found = kept.setdefault("entry_candidates", {})
    if folder not in found:
        if "" not in found:
            found[""] = entry_candidates(model, "")
        found[folder] = _under(model, found[""], folder)
    return entry_points(model, folder, limit, found[folder])


def _under(model: RepoModel, whole: EntryCandidates, folder: str) -> EntryCandidates:
    """`entry_candidates(model, folder)` from the whole repository's: the files under `folder`, in the same order
    (a subtree ranked alone keeps the order the files have among all), and the build targets they declare."""
    if not folder:
        return whole
    prefix = folder + "/"
    found = {kind: [p for p in paths if p.startswith(prefix)] for kind, paths in whole[0].items()}
    return found, sum(dict(model.summary(p).groups).get("Targets", 0) for p in found["build target"])


def entry_candidates(model: RepoModel, folder: str = "") -> EntryCandidates:
    """The files of a subtree that `entry_points` chooses from, by kind, most central first, and the number of
    build targets its build files declare."""
    found: dict[str, list[str]] = {"python -m": [], "program": [], "script": [], "build target": []}
    targets = 0
    for p in model.by_rank(model.subtree_files(folder)):
        purpose = model.purposes[p]
        if purpose.label in ("binary", "vendored", "generated"):
            continue
        if (p.endswith("/__main__.py") or p == "__main__.py") and model.module_of.get(p, "").endswith(".__main__"):
            found["python -m"].append(p)
        elif purpose.label == "program":
            found["program"].append(p)
        elif purpose.label == "script" and "__main__" in purpose.reason:  # `classify` names the block it found
            found["script"].append(p)
        if purpose.label == "build":
            n = dict(model.summary(p).groups).get("Targets", 0)
            if n:
                found["build target"].append(p)
                targets += n
    return found, targets
