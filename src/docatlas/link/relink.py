"""`relink`: the link stage's output of the last build reused after an edit that kept what `link` reads.

A rebuild whose edited files kept their `link.stage.link_inputs` (or changed only their imports, test cases and
C-family names in ways that reach no further: `link.reach`) gets the stored `link_state` back with only the
edited files' own entries made again, instead of linking every file (`link.stage.link`).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from docatlas.keyed import copied
from docatlas.link import reach, references
from docatlas.link.related import related_files, stems
from docatlas.link.resolve import PythonIndex, ResolvedImport
from docatlas.link.stage import RELATED_LIMIT, RepoModel, _purpose, _unlined, link_inputs
from docatlas.model import FileFacts, Import
from docatlas.summary import FileSummary

__all__ = ["local_inputs", "relink", "star_targets"]


def star_targets(state: dict[str, Any]) -> frozenset[str]:
    """The files that some file star-imports, in a stored `link_state` (`RepoModel.star_imported`, else from
    every file's imports)."""
    if "star_imported" in state:
        return frozenset(state["star_imported"])
    return frozenset(r.target for resolved in state["imports"].values() for r in resolved
                     if r.category == "repo" and "*" in r.imp.names)



def relink(name: str, facts: Mapping[str, FileFacts], state: dict[str, Any],
           edited: Iterable[str] = (), summaries: Mapping[str, FileSummary] | None = None,
           before: Mapping[str, FileFacts] | None = None) -> RepoModel | None:
    """The model of `facts` (a mapping sorted by path, loaded lazily or not) from a stored `link_state` whose
    files all had the same `link_inputs`; the `edited` files' own entries (their imports with today's lines,
    their purpose, their related files) are made again. `summaries`: the cached ones, given before anything
    asks for a file's language (else each unpickles and summarizes the file's facts: 5 s on PyTorch).

    `before`: the edited files' previous facts, when some changed their imports or test cases but nothing
    else of their link inputs (`local_inputs`): their imports are resolved again, and their test links and
    run commands made again (`link.reach`); None is returned when that reaches further than their own
    entries (an edge of the dependency graph, their purpose): then everything must be linked again."""
    paths = list(facts)
    if paths != sorted(paths):
        paths = sorted(paths)
        facts = {p: facts[p] for p in paths}
    changed = sorted(edited)
    if changed:  # copies of what changes below: `state` is the caller's
        state = {**state, **{name: copied(state[name]) for name in (
            "imports", "purposes", "related", "related_total", "tests_of", "tested_by", "run_commands",
            "run_evidence")}}
    model = RepoModel(name=name, files=facts, **state)
    model.summaries.update(summaries or {})
    if changed:
        moved = [p for p in changed if before is not None and p in before
                 and (reach.imports_changed(before[p], facts[p]) or reach.tests_changed(before[p], facts[p]))]
        for p in changed:  # C-family functions with external linkage that pair with nothing: no pair changes
            if before is not None and p in before and reach.c_names_changed(before[p], facts[p]) \
                    and not reach.local_c_names(model, before[p], facts[p]):
                return None
        resolved: dict[str, list[ResolvedImport]] = {}
        index = PythonIndex(paths, model.python_roots) if moved else None
        if index is not None and before is not None:
            found = reach.local_imports(model, facts, paths,
                                        [p for p in moved if reach.imports_changed(before[p], facts[p])], index)
            if found is None:
                return None
            resolved = found
        for p in changed:
            f = facts[p]
            if p in resolved:
                model.imports[p] = resolved[p]
            elif p in model.imports:
                model.imports[p] = _relined(model.imports[p], f.imports)
            label = model.purposes[p].label
            model.purposes[p] = _purpose(f, model.module_of.get(p), model.folders)
            if p in moved and model.purposes[p].label != label:
                return None
        if index is not None:
            tests = reach.local_tests(model, facts, paths, moved, index)
            if tests is None:
                return None
            if tests:
                refs = copy.copy(model.refs)
                refs.import_tests_of = {**refs.import_tests_of, **{p: v for p, v in tests.items() if v}}
                for p in (p for p, v in tests.items() if not v):
                    refs.import_tests_of.pop(p, None)
                model.refs = refs
        kept = {p for p in changed if before is not None and p in before and same_references(before[p], facts[p])}
        touched = references.update(model, changed, index=index, kept=kept)
        if touched:
            model.refs_update["touched"] = sorted(touched)
        by_stem = stems(paths)
        for p in sorted({*changed, *touched}):
            if not facts[p].binary:
                rel = related_files(p, model, by_stem)
                model.related[p] = rel[:RELATED_LIMIT]
                model.related_total[p] = len(rel)
    model.subtree_files("")
    return model


def same_references(before: FileFacts, after: FileFacts) -> bool:
    """Whether an edit kept everything the references of a file and those into it are resolved from: its
    references (bindings, and uses with their places), its definitions but for their docstrings (their names,
    kinds, nesting, bases, flags and lines), `__all__`, imports and test cases. An edit of comments or docstrings
    that moves no line: neither the file's references nor any into it can resolve differently, and the link
    stage's references are kept as they are (`references.update(kept=...)`)."""
    return (before.references == after.references and before.exports == after.exports
            and before.imports == after.imports and before.tests == after.tests
            and len(before.symbols) == len(after.symbols)
            and all(a == b or dataclasses.replace(a, summary="", doc="") == dataclasses.replace(b, summary="", doc="")
                    for a, b in zip(before.symbols, after.symbols, strict=True)))


def local_inputs(before: FileFacts, after: FileFacts, star_imported: bool = True) -> bool:
    """Whether a file's `link_inputs` differ at most in its imports, test cases and C-family names with external
    linkage and bindings: `relink(before=...)` may then still reuse the link stage (`link.reach`)."""
    a, b = link_inputs(before, star_imported), link_inputs(after, star_imported)
    return a[:6] + a[8:12] + a[13:15] + a[16:] == b[:6] + b[8:12] + b[13:15] + b[16:]


def _relined(resolved: list[ResolvedImport], imports: tuple[Import, ...]) -> list[ResolvedImport]:
    """`resolved` (from the last link) with each entry's import replaced by its counterpart in `imports`: the
    same statements in the same order (`link_inputs`), whose lines may have moved. The entries of one
    statement share its `Import`; two equal statements are told apart by their order."""
    out = []
    k = -1
    prev: Import | None = None
    for r in resolved:
        if r.imp is not prev:
            k += 1
            while _unlined(imports[k]) != _unlined(r.imp):
                k += 1
            prev = r.imp
        out.append(ResolvedImport(imports[k], r.category, r.target, r.reason))
    return out
