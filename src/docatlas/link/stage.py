"""The link stage: everything that needs more than one file.

`link` turns every file's facts into a `RepoModel`: folders, resolved imports and includes (`resolve`), the
dependency graph with its ranking (`graph`), tests <-> code, related files and each file's purpose. The model
is plain data (dicts, lists, frozen records) because render workers inherit it by fork.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import shlex
from collections import defaultdict
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field, fields
from pathlib import PurePosixPath
from typing import Any

from docatlas import languages
from docatlas.link import cdecls, graph, reach, references
from docatlas.link.purpose import provides
from docatlas.link.references import RefIndex
from docatlas.link.related import related_files, stems
from docatlas.link.resolve import (
    C_LANGS,
    PY_LANGS,
    STDLIB,
    IncludeIndex,
    PythonIndex,
    ResolvedImport,
    c_extension_modules,
    resolve_include,
    resolve_python,
)
from docatlas.link.resolve import python_roots as python_roots
from docatlas.link.runners import RepoRunners, repo_runners, run_commands
from docatlas.model import INCLUDE_DIR, FileFacts, Import, Record, picklable, record
from docatlas.paths import VENDOR_DIRS, folder_of
from docatlas.summary import FileSummary, summarize

__all__ = ["STDLIB", "Folder", "Purpose", "RepoModel", "ResolvedImport", "TestLink", "classify", "link",
           "link_inputs", "link_state", "run_commands"]

RELATED_LIMIT = 20  # longer lists are cut with the number left out said on the page


@record
class Purpose(Record):
    label: str  # test, library, script, package-init, build, config, ci, docs, example, generated, vendored ...
    reason: str


@record
class TestLink(Record):
    """A test file exercising a source file: directly, or through a package that re-exports from it."""

    test: str  # the test file
    target: str  # the source file
    names: tuple[str, ...] = ()  # symbols the test imports from it ("" = the module as a whole)
    via: str = ""  # the re-exporting file (`pkg/__init__.py`), "" when imported directly
    cases: tuple[str, ...] = ()  # test cases named after one of `names` or the module
    uses: int = 0  # references from the test to the target's definitions (`link.references`)


@picklable
@dataclass
class Folder(Record):
    """A folder of the repository. Pickled as its values (`model.Record`): the link state holds one per folder
    (PyTorch's 0.5 MB of them took 0.1 s to read back through dataclasses' state protocol, 0.02 s so)."""

    path: str  # "" for the repository root
    subfolders: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@dataclass
class RepoModel:
    name: str
    files: Mapping[str, FileFacts]  # sorted by path; a rebuild that reuses the link stage unpickles them lazily
    folders: dict[str, Folder]
    modules: dict[str, str]  # python module name -> path
    module_of: dict[str, str]  # path -> python module name
    imports: MutableMapping[str, list[ResolvedImport]]
    imported_by: dict[str, list[str]]  # most central importer first
    purposes: dict[str, Purpose]
    python_roots: list[str]
    include_roots: list[str] = field(default_factory=list)
    rank: dict[str, float] = field(default_factory=dict)  # PageRank x number of files (1.0 = average)
    rank_pos: dict[str, int] = field(default_factory=dict)  # 1 = most central file of the repository
    transitive_imports: dict[str, int] = field(default_factory=dict)
    transitive_importers: dict[str, int] = field(default_factory=dict)
    folder_uses: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # subtree -> outside folders
    folder_used_by: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    tests_of: MutableMapping[str, list[TestLink]] = field(default_factory=dict)  # test file -> code it exercises
    tested_by: dict[str, list[TestLink]] = field(default_factory=dict)  # source file -> tests exercising it
    run_commands: dict[str, list[str]] = field(default_factory=dict)  # test file -> shell commands
    related: MutableMapping[str, list[tuple[str, str]]] = field(default_factory=dict)  # path -> [(path, reason)], cut
    related_total: dict[str, int] = field(default_factory=dict)
    # Facts summaries (`summary.FileSummary`) that pages about many files read: filled from the facts cache
    # by `pipeline`, else made on first use, so that such pages need not load every file's facts.
    summaries: dict[str, FileSummary] = field(default_factory=dict, repr=False)
    _subtrees: dict[str, list[str]] = field(default_factory=dict, repr=False)
    # C/C++: declarations paired with definitions (`link.cdecls`): path -> qualname -> [(other path, what it has)]
    c_pairs: MutableMapping[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    refs: RefIndex = field(default_factory=RefIndex)  # symbol references, both ways (`link.references`)
    # what `relink` changed in `refs` (`references.update`): "touched" pages, "rewritten" rows; not state
    refs_update: dict[str, Any] = field(default_factory=dict, repr=False)
    run_evidence: dict[str, str] = field(default_factory=dict)  # test file -> what chose its run commands
    # C: bindings and the functions of other files that implement them (`link.cdecls.bridge_implementations`)
    c_bridges: dict[str, dict[str, list[tuple[str, str, str]]]] = field(default_factory=dict)
    # what `relink` needs to resolve an edited file's imports again as `link` would (`link.reach`)
    c_modules: dict[str, str] = field(default_factory=dict)  # extension module -> C file (`c_extension_modules`)
    include_dirs: dict[str, list[str]] = field(default_factory=dict)  # (`build_include_dirs`)
    include_key: str = ""  # (`reach.include_key`)
    runners: RepoRunners | None = None  # what the repository says about running tests (`link.runners`)
    c_names: dict[str, tuple[int, int]] = field(default_factory=dict)  # (`reach.c_names`)
    c_bound: frozenset[str] = frozenset()  # (`reach.c_names`)
    # the files some file star-imports (`relink.star_targets`): kept as they are by a `relink`, which keeps every
    # repository import edge, so that a rebuild need not read every file's imports to know them
    star_imported: frozenset[str] = frozenset()

    def summary(self, path: str) -> FileSummary:
        found = self.summaries.get(path)
        if found is None:
            found = self.summaries[path] = summarize(self.files[path])
        return found

    def subtree_files(self, folder: str) -> list[str]:
        """Every file under `folder`, sorted; computed for all folders at once on first use."""
        if not self._subtrees:
            subtrees: dict[str, list[str]] = {f: [] for f in self.folders}
            for p in sorted(self.files):
                subtrees[""].append(p)
                cut = p.find("/")
                while cut != -1:
                    subtrees[p[:cut]].append(p)
                    cut = p.find("/", cut + 1)
            self._subtrees = subtrees
        return self._subtrees.get(folder, [])

    def by_rank(self, paths: list[str]) -> list[str]:
        """Most central first; ties by path, so lists are deterministic. (Sorted by path, then by rank: a sort
        keeps the order of equal keys, reversed or not, and `rank.__getitem__` makes no tuple per path.)"""
        out = sorted(paths)
        try:
            out.sort(key=self.rank.__getitem__, reverse=True)
        except KeyError:  # a path without a rank: 0
            out = sorted(paths)
            out.sort(key=lambda p: self.rank.get(p, 0.0), reverse=True)
        return out


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


# -- purpose ------------------------------------------------------------------------------------
_CI_DIRS = (".github/workflows/", ".circleci/", ".gitlab-ci", ".azure-pipelines/", ".jenkins/", ".ci/",
            ".buildkite/", ".github/actions/")
_EXAMPLE_DIRS = {"examples", "example", "benchmarks", "benchmark", "bench", "demo", "demos", "tutorials"}
_PACKAGING = {"setup.py": "Python packaging script (`setup.py`)", "noxfile.py": "nox session definitions",
              "fabfile.py": "Fabric task definitions", "SConstruct": "SCons build script",
              "build.rs": "Cargo build script"}


def defines_main(facts: FileFacts) -> bool:
    return any(s.name == "main" and s.kind == "function" for s in facts.symbols)


def star_names(facts: FileFacts) -> tuple[str, ...]:
    """What `from m import *` takes from a module without `__all__`: its public top-level definitions."""
    return tuple(s.name for s in facts.symbols if not s.parent and not s.name.startswith("_")
                 and s.kind in ("class", "function", "constant"))


_TEST_NAME_DIRS = frozenset({"test", "tests", "testing", "unittests", "unit_tests"})


def _mainly_tests(facts: FileFacts, parts: list[str]) -> bool:
    """A file of tests: named or placed as one, or made mostly of test classes. A library module that ships
    a `TestCase` for its users (`Lib/doctest.py`'s `DocTestCase`) is not a test file."""
    name = PurePosixPath(facts.path).name
    if name.startswith("test") or name.endswith(("_test.py", "tests.py")) or _TEST_NAME_DIRS & set(parts) \
            or facts.language not in PY_LANGS:
        return True
    test_classes = {t.name for t in facts.tests if t.kind == "class"}
    top = [s for s in facts.symbols if not s.parent and s.kind in ("class", "function")]
    return 2 * sum(s.name in test_classes for s in top) >= len(top)


def classify(facts: FileFacts, module: str | None, siblings: frozenset[str] = frozenset()) -> Purpose:
    """What a file is for, from evidence about the file itself; the reason says which evidence. A folder name
    alone (`doc`, `test`) never decides: `docker/` is not documentation, `test_utils.py` defines no tests."""
    path = facts.path
    lang = languages.get(facts.language)
    name = PurePosixPath(path).name
    parts = path.split("/")[:-1]
    if facts.binary:
        return Purpose("binary", f"binary content ({facts.binary_kind})")
    if facts.generated:
        return Purpose("generated", f"generated-file marker {facts.generated}")
    if facts.vendored:
        vendor_dir = next((p for p in parts if p in VENDOR_DIRS), parts[0] if parts else "")
        return Purpose("vendored", f"inside the vendored folder `{vendor_dir}/`")
    tests = [t for t in facts.tests if t.kind == "test"]
    if tests and _mainly_tests(facts, parts):
        frameworks = sorted({t.framework for t in tests})
        return Purpose("test", f"defines {len(tests)} test case{'s' if len(tests) != 1 else ''} "
                               f"({', '.join(frameworks)})")
    if any(t.kind == "fixture" for t in facts.tests) or name == "conftest.py":
        return Purpose("test-support", "defines pytest fixtures" if facts.tests else "pytest `conftest.py`")
    if path.startswith(_CI_DIRS) or name in (".travis.yml", "azure-pipelines.yml", ".gitlab-ci.yml",
                                             "Jenkinsfile", ".cirrus.yml", "appveyor.yml"):
        return Purpose("ci", "continuous-integration configuration (its folder/name is read by a CI service)")
    if name in _PACKAGING:
        return Purpose("build", _PACKAGING[name])
    if lang.family == "build":
        return Purpose("build", provides(facts))
    if name == "conf.py" and ({"index.rst", "index.md", "index.txt"} & siblings):
        return Purpose("docs", "Sphinx configuration (`conf.py` beside the documentation's `index`)")
    if lang.family == "config":
        return Purpose("config", provides(facts))
    if lang.family == "markup" or name.upper().startswith(("README", "LICENSE", "CHANGELOG", "CONTRIBUTING",
                                                          "AUTHORS", "NOTICE", "COPYING")):
        return Purpose("docs", "" if lang.family == "markup" else f"project document `{name}`")
    if facts.language in PY_LANGS:
        if any(p in _EXAMPLE_DIRS for p in parts):
            folder = next(p for p in parts if p in _EXAMPLE_DIRS)
            how = f"; runs as a program (`__main__` block, line {facts.main_line})" if facts.main_line else ""
            return Purpose("example", f"Python file under `{folder}/`, outside the library packages{how}")
        if facts.main_line:
            return Purpose("script", f"runs as a program: `if __name__ == \"__main__\":` at line {facts.main_line}")
        if name == "__init__.py":  # the page says which package; the purpose says what it holds
            return Purpose("package-init", provides(facts))
        if module:
            return Purpose("library", provides(facts))
        return Purpose("script", "Python file outside any importable package")
    if facts.language == "bash" or (lang.family == "script" and facts.language not in ("javascript",
                                                                                        "typescript", "tsx")):
        return Purpose("script", provides(facts))
    if lang.family in ("c", "other", "script"):
        if facts.language in C_LANGS and any(p in _EXAMPLE_DIRS for p in parts):
            folder = next(p for p in parts if p in _EXAMPLE_DIRS)
            return Purpose("example", f"{lang.type_name} under `{folder}/`")
        if defines_main(facts):
            return Purpose("program", "defines `main`, where the program starts")
        return Purpose("source", provides(facts))
    return Purpose("data", provides(facts))


# -- tests <-> code -----------------------------------------------------------------------------
def _reexports(path: str, facts: Mapping[str, FileFacts], resolved: Mapping[str, list[ResolvedImport]],
               cache: dict[str, dict[str, str]]) -> dict[str, str]:
    """name -> the file it comes from, for names that `path` imports from other repository files."""
    if path in cache:
        return cache[path]
    out: dict[str, str] = {}
    cache[path] = out
    for r in resolved.get(path, ()):
        if r.category != "repo" or not r.imp.names:
            continue
        if "*" in r.imp.names:
            f = facts.get(r.target)
            if f is not None:
                names = f.exports or star_names(f)
                for n in names:
                    out.setdefault(n, r.target)
            continue
        stem = PurePosixPath(r.target).stem
        for n in r.imp.names:
            orig, _, alias = n.partition(" as ")
            local = alias or orig
            if r.reason.startswith("submodule") and orig != (stem if stem != "__init__" else
                                                             PurePosixPath(r.target).parent.name):
                continue
            out.setdefault(local, r.target)
    return out


def _origin(target: str, name: str, facts: Mapping[str, FileFacts], resolved: Mapping[str, list[ResolvedImport]],
            cache: dict[str, dict[str, str]]) -> str:
    """Follow re-exports (`pkg/__init__.py` importing from `pkg/mod.py`) to the file that defines `name`."""
    seen = {target}
    cur = target
    for _ in range(6):
        nxt = _reexports(cur, facts, resolved, cache).get(name)
        if nxt is None or nxt in seen:
            break
        seen.add(nxt)
        cur = nxt
    return cur


_TEST_DIRS = frozenset({"test", "tests", "testing", "unittests", "unit_tests"})
_TEST_DIR_NAME = re.compile(r"(?:^|[_.-])tests?$")  # `idle_test`, `unit-tests`


def test_suite_folder(test: str, root: str) -> str:
    """The folder of the test suite that `test` belongs to: what it imports from there is the suite's own
    helpers and models, not code under test. The import root when it is a tests folder (Django's `tests/`,
    PyTorch's `test/`); else the first tests folder below the root on the way to the file (CPython's `Lib/test/`,
    whose import root `Lib/` also holds the library under test; `Lib/unittest/test/`, `Lib/idlelib/idle_test/`);
    else the import root."""
    if root and PurePosixPath(root).name in _TEST_DIRS:
        return root
    parts = test.split("/")[:-1]
    start = len(root.split("/")) if root else 0
    for i in range(start, len(parts)):
        if parts[i] in _TEST_DIRS or _TEST_DIR_NAME.search(parts[i]):
            return "/".join(parts[: i + 1])
    return root


def _tests_links(test_files: list[str], facts: Mapping[str, FileFacts], resolved: Mapping[str, list[ResolvedImport]],
                 purposes: dict[str, Purpose], index: PythonIndex) -> dict[str, list[TestLink]]:
    cache: dict[str, dict[str, str]] = {}
    out: dict[str, list[TestLink]] = {}
    helper_labels = ("test", "test-support")
    for t in test_files:
        suite = test_suite_folder(t, index.root_of.get(t, ""))
        names_of: dict[tuple[str, str], list[str]] = defaultdict(list)  # (target, via) -> names
        for r in resolved.get(t, ()):
            if r.category != "repo" or r.target == t:
                continue
            if purposes[r.target].label in helper_labels or (suite and r.target.startswith(suite + "/")):
                continue  # the test suite's own helpers and models, not code under test
            imp_names = [n.split(" as ")[0] for n in r.imp.names if n != "*"]
            if not imp_names or r.reason.startswith("submodule"):
                names_of.setdefault((r.target, ""), [])
                continue
            for n in imp_names:
                origin = _origin(r.target, n, facts, resolved, cache)
                if origin != r.target and purposes[origin].label not in helper_labels:
                    names_of[(origin, r.target)].append(n)
                names_of[(r.target, "")].append(n)
        cases = [c.name for c in facts[t].tests if c.kind == "test"]
        links = []
        for (target, via), names in sorted(names_of.items()):
            keys = {n.lower() for n in names if len(n) >= 4}
            stem = PurePosixPath(target).stem
            if not names and stem not in ("__init__", "utils", "base", "common") and len(stem) >= 4:
                keys.add(stem.lower())
            named = tuple(c for c in cases if any(k in c.lower() for k in keys))
            links.append(TestLink(t, target, tuple(dict.fromkeys(names)), via, named))
        if links:
            out[t] = links
    return out


def pytest_command(target: str) -> str:
    """pytest on a file or folder: the command for a Python test that nothing else in the repository runs."""
    return f"python -m pytest {shlex.quote(target)}"


# -- related files ------------------------------------------------------------------------------
def link(name: str, facts: Mapping[str, FileFacts], previous: RefIndex | None = None,
         edited: Iterable[str] = (), summaries: Mapping[str, FileSummary] | None = None,
         beside: bool = False) -> RepoModel:
    """Link every file. `previous`: the last build's references over the same files, of which only the
    `edited` files and what they reach are resolved again (`references.update`); `summaries`: the cached ones;
    `beside`: another core is free for resolving references (`references.attach`)."""
    paths = sorted(facts)
    path_set = set(paths)
    roots = python_roots(path_set)
    index = PythonIndex(paths, roots)
    includes = {p: tuple(i for i in f.imports if i.module) for p, f in facts.items() if f.language in C_LANGS}
    include_dirs = build_include_dirs(facts)
    inc_index = IncludeIndex(paths, includes, include_dirs) if includes else None
    c_modules = c_extension_modules(facts) if includes else {}
    resolved: dict[str, list[ResolvedImport]] = {}
    edges: dict[str, set[str]] = defaultdict(set)
    for path in paths:
        f = facts[path]
        if f.language in PY_LANGS:
            entries: list[ResolvedImport] = []
            for imp in f.imports:
                entries.extend(resolve_python(path, imp, index, c_modules=c_modules))
        elif f.language in C_LANGS and inc_index is not None:
            entries = [resolve_include(path, imp, inc_index) for imp in includes[path]]
        else:
            continue
        resolved[path] = entries
        for e in entries:
            if e.category == "repo" and e.target != path:
                edges[path].add(e.target)
    rank = graph.pagerank(paths, edges)
    # Files with equal scores share a position, and so a centrality band: the number of files scoring at least
    # as high ("modified competition ranking"). Breaking ties by name had put half of PyTorch's 6,583 files with
    # the minimum score in "top 50%" and half in "lower half".
    pos: dict[str, int] = {}
    at_least = 0
    for _, group in itertools.groupby(sorted(paths, key=lambda p: -rank[p]), key=lambda p: rank[p]):
        members = list(group)
        at_least += len(members)
        pos.update(dict.fromkeys(members, at_least))
    reverse: dict[str, set[str]] = defaultdict(set)
    for src, targets in edges.items():
        for t in targets:
            reverse[t].add(src)
    graph_nodes = sorted(set(edges) | set(reverse))
    folders = build_folders(paths)
    uses, used_by = graph.folder_dependencies(edges, sorted(folders))
    purposes = {p: _purpose(facts[p], index.module_of.get(p), folders) for p in paths}
    test_files = [p for p in paths if purposes[p].label == "test"]
    tests_of = _tests_links([p for p in test_files if facts[p].language in PY_LANGS], facts, resolved, purposes,
                            index)
    tested_by: dict[str, list[TestLink]] = defaultdict(list)
    for links in tests_of.values():
        merged: dict[str, TestLink] = {}  # one entry per (test, target): direct import wins over re-export
        for tl in links:
            prev = merged.get(tl.target)
            if prev is None:
                merged[tl.target] = tl
            else:
                merged[tl.target] = TestLink(tl.test, tl.target, tuple(dict.fromkeys(prev.names + tl.names)),
                                             "" if "" in (prev.via, tl.via) else prev.via,
                                             tuple(dict.fromkeys(prev.cases + tl.cases)))
        for tl in merged.values():
            tested_by[tl.target].append(tl)
    for p in test_files:  # C/C++ tests: the headers/sources they include are under test
        if facts[p].language in C_LANGS:
            cpp_links = [TestLink(p, r.target) for r in resolved.get(p, ()) if r.category == "repo"
                         and purposes[r.target].label not in ("test", "test-support")]
            if cpp_links:
                tests_of[p] = cpp_links
                for tl in cpp_links:
                    tested_by[tl.target].append(tl)
    model = RepoModel(
        name=name, files={p: facts[p] for p in paths}, folders=folders, modules=index.modules(),
        module_of=index.module_of, imports=resolved,
        imported_by={k: sorted(v, key=lambda p: (-rank[p], p)) for k, v in reverse.items()},
        purposes=purposes, python_roots=roots, include_roots=inc_index.roots if inc_index else [],
        rank=rank, rank_pos=pos,
        transitive_imports=graph.transitive_counts(graph_nodes, edges),
        transitive_importers=graph.transitive_counts(graph_nodes, reverse),
        folder_uses=uses, folder_used_by=used_by, tests_of=tests_of,
        tested_by={k: sorted(v, key=lambda tl: (tl.via != "", -rank[tl.test], tl.test)) for k, v in tested_by.items()},
        c_pairs=(c_pairs := cdecls.pair_declarations(facts, edges) if includes else {}),
        c_bridges=cdecls.bridge_implementations(facts, edges, c_pairs) if includes else {},
        c_modules=c_modules, include_dirs=include_dirs, include_key=reach.include_key(inc_index),
        star_imported=frozenset(r.target for found in resolved.values() for r in found
                                if r.category == "repo" and "*" in r.imp.names),
    )
    model.c_names, model.c_bound = reach.c_names(facts) if includes else ({}, frozenset())
    model.summaries.update(summaries or {})
    if previous is not None:
        model.refs = previous
        references.update(model, sorted(edited), import_tests_of=dict(model.tests_of))
    else:
        references.attach(model, index, beside)
    runners = model.runners = repo_runners(facts)
    for p in test_files:
        commands, evidence = run_commands(p, facts[p], index, path_set, runners)
        model.run_commands[p] = commands
        if evidence:
            model.run_evidence[p] = evidence
    by_stem = stems(paths)
    for p in paths:
        if facts[p].binary:
            continue
        rel = related_files(p, model, by_stem)
        model.related[p] = rel[:RELATED_LIMIT]
        model.related_total[p] = len(rel)
    model.subtree_files("")  # fill the per-folder lists before render workers fork, so they share them
    return model


def _purpose(facts: FileFacts, module: str | None, folders: dict[str, Folder]) -> Purpose:
    path = facts.path
    siblings = frozenset(PurePosixPath(s).name for s in folders[folder_of(path)].files) \
        if PurePosixPath(path).name == "conf.py" else frozenset()
    return classify(facts, module, siblings)


_RUN_EVIDENCE = ("cmake-commands", "cc-test", "tox", "nox-session")  # `extra` keys `link.runners` reads


def link_inputs(facts: FileFacts, star_imported: bool = True) -> tuple[Any, ...]:
    """Every part of a file's facts that `link` reads, and that pages of other files show (its test cases).

    When a rebuild finds the same paths and every edited file keeps these, the link stage's output is the same
    as last time except for the edited files' own entries, which `relink` makes again (where their imports and
    `__main__` block now sit), and the only pages that can change are the edited files' own, their folders'
    and the keyword index. So the inputs hold imports and test cases without their lines, whether there is a
    `__main__` block, whether it defines `main`, and, when another file star-imports it (`star_imported`, from
    the last link), its public top-level names: adding or renaming a method or a function, or moving code
    about, keeps them. A C or C++ file adds the extension modules it defines (`PyModuleDef`) and the names it
    declares and defines with external linkage, which pair across files (`cdecls`): there, adding, removing or
    renaming such a function links again; an edit inside a body or moving code about still does not. Tests
    perturb everything else and check that `relink` gives what `link` gives and that
    no page outside the local ones changes.
    """
    return (facts.language, facts.binary, facts.binary_kind, facts.generated, facts.vendored, bool(facts.main_line),
            tuple(_unlined(i) for i in facts.imports), tuple((t.name, t.framework, t.kind) for t in facts.tests),
            facts.exports, star_names(facts) if star_imported else (), defines_main(facts),
            tuple(s.name for s in facts.symbols if s.kind == "module" and s.macro == "PyModuleDef"),
            cdecls.pair_names(facts), bool(facts.tests) and _mainly_tests(facts, facts.path.split("/")[:-1]),
            tuple(v for k, v in facts.extra if k == INCLUDE_DIR), cdecls.bridge_names(facts),
            tuple(e for e in facts.extra if e[0] in _RUN_EVIDENCE))  # build/tox/nox facts: run commands


def build_include_dirs(facts: Mapping[str, FileFacts]) -> dict[str, list[str]]:
    """Include folders named by build files (`extract.cbuild`) -> the build files naming each, nearest the
    root first (then by path): the top-level `Makefile.pre.in` before `Mac/Makefile.in`."""
    out: dict[str, list[str]] = {}
    for path in sorted(facts, key=lambda p: (p.count("/"), p)):
        for key, value in facts[path].extra:
            if key == INCLUDE_DIR and path not in out.get(value, ()):
                out.setdefault(value, []).append(path)
    return out


def _unlined(imp: Import) -> Import:
    return dataclasses.replace(imp, line=0) if imp.line else imp


_STATE_FIELDS = tuple(f.name for f in fields(RepoModel)
                      if f.name not in ("name", "files", "summaries", "_subtrees", "refs_update"))


def link_state(model: RepoModel) -> dict[str, Any]:
    """The link stage's output: the model without its name, facts and caches."""
    return {name: getattr(model, name) for name in _STATE_FIELDS}
