"""How far an edit that changed a file's imports or test cases reaches, for `link.relink`.

Such an edit changes `link.link_inputs`, but often reaches little: an import of a standard or outside module
(`import os`, `#include <vector>`) adds no edge to the dependency graph, so ranks, importers, folder
dependencies and C pairs stay; a new test case changes its file's purpose, run command and the test links
that name it, nothing else. `local_imports` re-resolves the edited files' imports exactly as `link.link`
would and says whether their resolved repository imports (the graph's edges, what test links read) stayed;
`local_tests` makes the edited test files' own entries again. When an edge or anything read across files
changed, the caller links everything again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from docatlas.link.resolve import (
    C_LANGS,
    PY_LANGS,
    IncludeIndex,
    PythonIndex,
    ResolvedImport,
    resolve_include,
    resolve_python,
)
from docatlas.model import FileFacts, Import

if TYPE_CHECKING:
    from docatlas.link.stage import RepoModel


def include_key(index: IncludeIndex | None) -> str:
    """What of an include index depends on other files' includes (the voted roots and the headers missing
    from include folders, `IncludeIndex`): equal keys resolve every other include alike."""
    if index is None:
        return ""
    data = (index.roots, sorted(index.angle_rank.items()), sorted((k, sorted(v)) for k, v in index.missing.items()),
            sorted(index.top_dirs), sorted(index.build_dirs.items()))
    return hashlib.sha1(repr(data).encode("utf-8", "surrogatepass")).hexdigest()


def _plain(imp: Import) -> Import:
    from docatlas.link.stage import _unlined

    return _unlined(imp)


def imports_changed(before: FileFacts, after: FileFacts) -> bool:
    return tuple(map(_plain, before.imports)) != tuple(map(_plain, after.imports))


def tests_changed(before: FileFacts, after: FileFacts) -> bool:
    return [(t.name, t.framework, t.kind) for t in before.tests] != [(t.name, t.framework, t.kind) for t in after.tests]


def _edges(resolved: list[ResolvedImport]) -> list[tuple[Any, ...]]:
    """The repository imports of a file, as everything but its own page reads them."""
    return [(_plain(r.imp), r.target, r.reason) for r in resolved if r.category == "repo"]


def local_imports(model: RepoModel, facts: Mapping[str, FileFacts], paths: list[str], changed: list[str],
                  index: PythonIndex) -> dict[str, list[ResolvedImport]] | None:
    """The edited files' (`changed`, whose imports changed) resolved imports as `link.link` would resolve them,
    or None when the edit reaches further: a repository import added, removed or resolved elsewhere, a file of
    another language (a build file's imports choose test targets), or a C include that moves the include roots
    every other file resolves against. Needs the link state's `c_modules` and `include_dirs` (else None)."""
    if any(facts[p].language not in PY_LANGS and facts[p].language not in C_LANGS for p in changed):
        return None
    out: dict[str, list[ResolvedImport]] = {}
    inc_index: IncludeIndex | None = None
    if any(facts[p].language in C_LANGS for p in changed):
        if not model.include_key:
            return None
        includes = {p: tuple(r.imp for r in resolved) for p, resolved in model.imports.items()
                    if model.summary(p).language in C_LANGS}
        includes.update({p: tuple(i for i in facts[p].imports if i.module) for p in changed
                         if facts[p].language in C_LANGS})
        inc_index = IncludeIndex(paths, includes, model.include_dirs)
        if include_key(inc_index) != model.include_key:
            return None
    for p in changed:
        f = facts[p]
        if f.language in PY_LANGS:
            entries: list[ResolvedImport] = []
            for imp in f.imports:
                entries.extend(resolve_python(p, imp, index, c_modules=model.c_modules))
        else:
            assert inc_index is not None
            entries = [resolve_include(p, imp, inc_index) for imp in f.imports if imp.module]
        if _edges(entries) != _edges(model.imports.get(p, [])):
            return None
        out[p] = entries
    return out


def local_tests(model: RepoModel, facts: Mapping[str, FileFacts], paths: list[str], changed: list[str],
                index: PythonIndex) -> dict[str, list[Any]] | None:
    """For the edited test files among `changed` (imports or test cases changed, edges kept): their test links
    from imports (`link.link`'s, before references add theirs) and run commands made again in `model`; returns
    the new `import_tests_of` entries (an empty list: none), or None without the stored test runners."""
    from docatlas.link.runners import run_commands
    from docatlas.link.stage import TestLink, _tests_links

    tests = [p for p in changed if model.purposes[p].label == "test"]
    if not tests:
        return {}
    if model.runners is None:
        return None
    out: dict[str, list[Any]] = {}
    path_set = set(paths)
    for p in tests:
        f = facts[p]
        if f.language in PY_LANGS:
            out[p] = _tests_links([p], facts, model.imports, model.purposes, index).get(p, [])
        elif f.language in C_LANGS:
            out[p] = [TestLink(p, r.target) for r in model.imports.get(p, ()) if r.category == "repo"
                      and model.purposes[r.target].label not in ("test", "test-support")]
        commands, evidence = run_commands(p, f, index, path_set, model.runners)
        model.run_commands[p] = commands
        if evidence:
            model.run_evidence[p] = evidence
        else:
            model.run_evidence.pop(p, None)
    return out


def c_names(facts: Mapping[str, FileFacts]) -> tuple[dict[str, tuple[int, int]], frozenset[str]]:
    """What `local_c_names` checks an edit against: per qualified name, how many files declare and define it
    (`cdecls.pair_names`), and the functions some binding may be implemented by (`cdecls.bridge_names`: each
    binding's target and `target_impl`)."""
    from docatlas.link import cdecls

    counts: dict[str, list[int]] = {}
    bound: set[str] = set()
    for f in facts.values():
        if f.language not in C_LANGS:
            continue
        for qualname, declaration in cdecls.pair_names(f):
            counts.setdefault(qualname, [0, 0])[0 if declaration else 1] += 1
        for tag, *rest in cdecls.bridge_names(f):
            if tag == "b":
                bound.update((rest[1], f"{rest[1]}_impl"))
    return {q: (n[0], n[1]) for q, n in counts.items()}, frozenset(bound)


def c_names_changed(before: FileFacts, after: FileFacts) -> bool:
    from docatlas.link import cdecls

    return cdecls.pair_names(before) != cdecls.pair_names(after) or \
        cdecls.bridge_names(before) != cdecls.bridge_names(after)


def local_c_names(model: RepoModel, before: FileFacts, after: FileFacts) -> bool:
    """Whether an edit that declared, defined, removed or renamed C-family functions with external linkage leaves
    every declaration/definition pair and binding implementation as it was (`cdecls`): each name it added or
    removed has no counterpart in any file (nothing declares what it now defines, nothing defines what it
    declares, no binding names it), and its bindings are the same. Updates `model.c_names` when it does."""
    from docatlas.link import cdecls

    if not model.c_names and (cdecls.pair_names(before) or cdecls.pair_names(after)):
        return False  # a state without the counts
    old, new = set(cdecls.pair_names(before)), set(cdecls.pair_names(after))
    for qualname, declaration in old ^ new:
        counts = model.c_names.get(qualname, (0, 0))
        if counts[1 if declaration else 0] or (qualname, not declaration) in new:
            return False
    old_b, new_b = set(cdecls.bridge_names(before)), set(cdecls.bridge_names(after))
    if {e for e in old_b if e[0] == "b"} != {e for e in new_b if e[0] == "b"}:
        return False
    if any(e[1] in model.c_bound for e in old_b ^ new_b):
        return False
    names = dict(model.c_names)
    for qualname, declaration in old - new:
        n = list(names[qualname])
        n[0 if declaration else 1] -= 1
        if n == [0, 0]:
            del names[qualname]
        else:
            names[qualname] = (n[0], n[1])
    for qualname, declaration in new - old:
        n = list(names.get(qualname, (0, 0)))
        n[0 if declaration else 1] += 1
        names[qualname] = (n[0], n[1])
    model.c_names = names
    return True
