"""The link stage: everything that needs more than one file (folders, import graph, purposes, keywords)."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from docatlas import languages
from docatlas.model import FileFacts, Import

STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


@dataclass(frozen=True, slots=True)
class ResolvedImport:
    imp: Import
    category: str  # repo, stdlib, third-party, unresolved (relative import that leads nowhere)
    target: str = ""  # repository path when category == "repo"


@dataclass(frozen=True, slots=True)
class Purpose:
    label: str  # test, library, script, package-init, build, config, ci, docs, example, generated, vendored ...
    reason: str


@dataclass
class Folder:
    path: str  # "" for the repository root
    subfolders: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@dataclass
class RepoModel:
    name: str
    files: dict[str, FileFacts]
    folders: dict[str, Folder]
    modules: dict[str, str]  # python module name -> path
    module_of: dict[str, str]  # path -> python module name
    imports: dict[str, list[ResolvedImport]]
    imported_by: dict[str, list[str]]
    purposes: dict[str, Purpose]
    python_roots: list[str]

    def folder_of(self, path: str) -> str:
        return path.rsplit("/", 1)[0] if "/" in path else ""

    def subtree_files(self, folder: str) -> list[str]:
        if not folder:
            return sorted(self.files)
        prefix = folder + "/"
        return [p for p in sorted(self.files) if p.startswith(prefix)]


def build_folders(paths: list[str]) -> dict[str, Folder]:
    folders: dict[str, Folder] = {"": Folder("")}
    for path in sorted(paths):
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        cur = ""
        for part in parent.split("/") if parent else []:
            child = f"{cur}/{part}" if cur else part
            if child not in folders:
                folders[child] = Folder(child)
                folders[cur].subfolders.append(child)
            cur = child
        folders[parent].files.append(path)
    for f in folders.values():
        f.subfolders.sort()
        f.files.sort()
    return folders


def python_roots(paths: set[str]) -> list[str]:
    """Folders that act as `sys.path` entries: the repository root, `src/`, and any folder whose child is a
    top-level package (a package whose own folder holds no `__init__.py`), like Django's `tests/`."""
    inits = {p.rsplit("/", 1)[0] if "/" in p else "" for p in paths if p.endswith("/__init__.py")}
    roots = {""}
    for pkg in inits:
        parent = pkg.rsplit("/", 1)[0] if "/" in pkg else ""
        if parent not in inits:
            roots.add(parent)
    return sorted(roots, key=lambda r: (r.count("/") if r else -1, r))


def module_map(paths: list[str], roots: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    modules: dict[str, str] = {}
    module_of: dict[str, str] = {}
    for path in sorted(paths):
        if not path.endswith((".py", ".pyi")):
            continue
        for root in sorted(roots, key=lambda r: -len(r)):  # the innermost root names the module
            if root and not path.startswith(root + "/"):
                continue
            rel = path[len(root) + 1:] if root else path
            parts = rel.rsplit(".", 1)[0].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if not parts or not all(p.isidentifier() for p in parts):
                continue
            name = ".".join(parts)
            module_of.setdefault(path, name)
            if name not in modules or (path.endswith(".py") and modules[name].endswith(".pyi")):
                modules[name] = path
            break
    return modules, module_of


def resolve_python(path: str, imp: Import, modules: dict[str, str], module_of: dict[str, str],
                   heads: set[str]) -> list[ResolvedImport]:
    """The repository files an import statement loads (`from pkg import sub` loads `pkg/sub.py` too)."""
    if imp.level:
        own = module_of.get(path)
        if own is None:
            return [ResolvedImport(imp, "unresolved")]
        package = own if path.endswith("__init__.py") else own.rpartition(".")[0]
        base_parts = package.split(".") if package else []
        if imp.level - 1 > len(base_parts):
            return [ResolvedImport(imp, "unresolved")]
        base_parts = base_parts[: len(base_parts) - (imp.level - 1)]
        tail = imp.module.lstrip(".")
        target = ".".join([*base_parts, tail] if tail else base_parts)
    else:
        target = imp.module
    found: list[ResolvedImport] = []
    for name in imp.names:
        sub = name.split(" as ")[0]
        sub = f"{target}.{sub}" if target else sub
        if sub in modules:
            found.append(ResolvedImport(imp, "repo", modules[sub]))
    # `from pkg import a, b` also runs pkg/__init__.py, but when every name is a submodule the submodules
    # are the dependency worth showing; otherwise the names come from the package module itself.
    if (target in modules and len(found) < len(imp.names)) or (not imp.names and target in modules):
        found.insert(0, ResolvedImport(imp, "repo", modules[target]))
    if found:
        return found
    head = target.split(".")[0]
    if imp.level or head in heads:
        return [ResolvedImport(imp, "unresolved")]  # the repository's own package, but no such module
    if head in STDLIB:
        return [ResolvedImport(imp, "stdlib")]
    return [ResolvedImport(imp, "third-party")]


_CI_DIRS = (".github/workflows/", ".circleci/", ".gitlab-ci", ".azure-pipelines/", ".jenkins/", ".ci/")
_EXAMPLE_DIRS = {"examples", "example", "benchmarks", "benchmark", "bench", "demo", "demos", "tutorials"}


def classify(facts: FileFacts, module: str | None) -> Purpose:
    """What a file is for, from evidence about the file itself; the reason says which evidence."""
    path = facts.path
    lang = languages.get(facts.language)
    name = PurePosixPath(path).name
    parts = path.split("/")[:-1]
    if facts.binary:
        return Purpose("binary", f"binary content ({facts.binary_kind})")
    if facts.generated:
        return Purpose("generated", f"generated-file marker {facts.generated}")
    if facts.vendored:
        vendor_dir = next(p for p in parts if p in {"third_party", "third-party", "thirdparty", "3rdparty",
                                                    "vendor", "vendored", "external", "extern",
                                                    "node_modules", "_vendor"})
        return Purpose("vendored", f"inside the vendored folder `{vendor_dir}/`")
    tests = [t for t in facts.tests if t.kind == "test"]
    if tests:
        frameworks = sorted({t.framework for t in tests})
        return Purpose("test", f"defines {len(tests)} test case{'s' if len(tests) != 1 else ''} "
                               f"({', '.join(frameworks)})")
    if any(t.kind == "fixture" for t in facts.tests) or name == "conftest.py":
        return Purpose("test-support", "defines pytest fixtures" if facts.tests else "pytest `conftest.py`")
    if path.startswith(_CI_DIRS) or name in (".travis.yml", "azure-pipelines.yml", ".gitlab-ci.yml"):
        return Purpose("ci", "continuous-integration configuration folder/file")
    if lang.family == "build":
        return Purpose("build", f"{lang.type_name}")
    if lang.family == "config":
        return Purpose("config", f"{lang.type_name}")
    if lang.family == "markup" or name.upper().startswith(("README", "LICENSE", "CHANGELOG", "CONTRIBUTING",
                                                          "AUTHORS", "NOTICE", "COPYING")):
        return Purpose("docs", f"{lang.type_name}" if lang.family == "markup" else f"project document `{name}`")
    if facts.language in ("python", "python-stub"):
        if any(p in _EXAMPLE_DIRS for p in parts):
            folder = next(p for p in parts if p in _EXAMPLE_DIRS)
            return Purpose("example", f"Python file under `{folder}/`")
        if facts.main_line:
            return Purpose("script", f"runs as a program: `if __name__ == \"__main__\":` at line {facts.main_line}")
        if name == "__init__.py":
            return Purpose("package-init", f"initialises package `{module}`" if module else "package initialiser")
        if module:
            return Purpose("library", f"importable module `{module}`")
        return Purpose("script", "Python file outside any importable package")
    if facts.language == "bash" or (lang.family == "script" and facts.language not in ("javascript",
                                                                                        "typescript", "tsx")):
        return Purpose("script", f"{lang.type_name}")
    if lang.family in ("c", "other", "script"):
        return Purpose("source", f"{lang.type_name}")
    return Purpose("data", f"{lang.type_name}")


def link(name: str, facts: dict[str, FileFacts]) -> RepoModel:
    paths = sorted(facts)
    roots = python_roots(set(paths))
    modules, module_of = module_map(paths, roots)
    heads = {m.split(".")[0] for m in modules}
    resolved: dict[str, list[ResolvedImport]] = {}
    imported_by: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        f = facts[path]
        if f.language not in ("python", "python-stub"):
            continue
        entries: list[ResolvedImport] = []
        for imp in f.imports:
            entries.extend(resolve_python(path, imp, modules, module_of, heads))
        resolved[path] = entries
        for e in entries:
            if e.category == "repo" and e.target != path:
                imported_by[e.target].add(path)
    purposes = {p: classify(facts[p], module_of.get(p)) for p in paths}
    return RepoModel(
        name=name, files={p: facts[p] for p in paths}, folders=build_folders(paths), modules=modules,
        module_of=module_of, imports=resolved, imported_by={k: sorted(v) for k, v in imported_by.items()},
        purposes=purposes, python_roots=roots,
    )
