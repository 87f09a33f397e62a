"""Symbol references across files: which definition each name a file uses denotes, and who uses each definition.

Python is resolved statically from the bindings and uses `extract.pyrefs` recorded, never by importing code:
module bindings (imports of every form, definitions, aliases `X = a.b`), star imports (honouring `__all__`, else
the public names, transitively and safe on cycles), package re-exports, submodules reached as attributes, class
members through the repository bases (a simple left-to-right MRO) for `self`, `cls` and `super()`. Other
instance attributes, locals and anything a static reading cannot settle are not guessed: they are counted as
unresolved. Names that resolve outside the repository (stdlib, third party, builtins) are external.
C, C++ and CUDA names are matched against definitions by name (`link.cresolve`).

A resolved reference is a tuple (path, line, col, kind, enclosing, target_path, target_qualname, target_line,
name): col is 1-based; name is the text used (`nn.Linear`).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from docatlas.link import refdeps
from docatlas.link.cresolve import Candidates, CDef, Possible, c_refs, possible_users
from docatlas.link.pyresolve import PyResolver, Ref
from docatlas.model import FileFacts


@dataclass
class RefIndex:
    """Resolved references of the whole repository, both ways, and per file what could not be resolved."""

    outgoing: dict[str, list[Ref]] = field(default_factory=dict)  # source path -> its references, by position
    incoming: dict[str, list[Ref]] = field(default_factory=dict)  # target path -> references to its symbols
    counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # path -> (resolved, external, unres.)
    ambiguous: dict[str, int] = field(default_factory=dict)  # C family: uses with several candidates, per file
    interfaces: dict[str, bytes] = field(default_factory=dict)  # path -> digest of `interface` (for `update`)
    import_tests_of: dict[str, list[Any]] = field(default_factory=dict)  # `tests_of` from imports alone
    package_api: dict[str, tuple[str, ...]] = field(default_factory=dict)  # `__init__` -> names (`package_api`)
    # C-family definitions by name: (path, qualname, line, declaration), so that `update` need not read every
    # C-family file's facts again
    c_defs: dict[str, list[CDef]] = field(default_factory=dict)
    # C family: the uses of a name that several definitions could mean, each with its candidates (at most
    # `cresolve.MAX_CANDIDATES`, else only counted in `ambiguous`), per file: shown as possible, never as resolved
    candidates: dict[str, list[Candidates]] = field(default_factory=dict)
    masks: dict[str, bytes] = field(default_factory=dict)  # path -> names its references mention (`refdeps`)
    stars: dict[str, tuple[str, ...]] = field(default_factory=dict)  # Python file -> files it star-imports
    # C family: per target file and qualified name, the files whose ambiguous uses list it (`possible_users`)
    possible: dict[str, dict[str, list[Possible]]] = field(default_factory=dict)

    def users(self, path: str, qualname: str) -> list[Ref]:
        return [r for r in self.incoming.get(path, ()) if r[6] == qualname]


def interface(facts: FileFacts) -> bytes:
    """What resolving other files' references can read of this file: its definitions (names, kinds, nesting,
    bases), `__all__` and bindings without their lines, one entry per name (`refdeps.face`). An edit that keeps
    it changes no other file's references except the lines they point at; one that changes it changes only
    the files that mention a changed name (`refdeps.dependents`)."""
    return refdeps.face(facts)


def python_refs(facts: Mapping[str, FileFacts], index: Any, paths: Iterable[str]) -> RefIndex:
    """Resolve the references of every Python file in `paths` (`index`: the link stage's `PythonIndex`)."""
    resolver = PyResolver(facts, index)
    result = RefIndex()
    for path in paths:
        f = facts[path]
        result.interfaces[path] = interface(f)
        if f.references is None:
            continue
        out, counts = resolver.resolve_file(path)
        result.counts[path] = counts
        _file_deps(result, resolver, path, f)
        if out:
            result.outgoing[path] = out
        if path.endswith(("/__init__.py", "/__init__.pyi")):
            result.package_api[path] = resolver.package_api(path)
    _fill_incoming(result)
    return result


def _file_deps(result: RefIndex, resolver: PyResolver | None, path: str, f: FileFacts) -> None:
    """What `update` needs to find the dependents of an edit: the names the file mentions, its star imports."""
    result.masks[path] = refdeps.mask(refdeps.mentioned(f))
    result.stars.pop(path, None)
    if resolver is None or f.references is None:
        return
    stars = []
    for b in f.references.bindings:
        if b[2] == "star" and not b[0]:
            target = resolver.find_module(path, b[3], b[5])
            if target is not None and target[0] == "m":
                stars.append(target[1])
    if stars:
        result.stars[path] = tuple(stars)


def _fill_incoming(result: RefIndex) -> None:
    incoming: dict[str, list[Ref]] = defaultdict(list)
    for path in sorted(result.outgoing):
        for r in result.outgoing[path]:
            if r[5] != path:
                incoming[r[5]].append(r)
    result.incoming = dict(incoming)


# -- the link stage's call ----------------------------------------------------------------------------
def attach(model: Any, index: Any) -> None:
    """Resolve every file's references into `model.refs`, and let them say which test code exercises which
    files: test code (a test file, a test helper, or a file of a test suite's own import root such as Django's
    `tests/`, e.g. its models) that uses a file's definitions (directly, or through re-exports and attribute
    chains) tests it, with the number of uses; `tested_by` puts test files named after their target first
    (`named_after`), then orders by uses, then direct import, then rank."""
    from docatlas.link.resolve import PY_LANGS

    t0 = time.perf_counter()
    files = model.files
    py = [p for p in files if files[p].language in PY_LANGS]
    refs = python_refs(files, index, py)
    c_refs(model, refs)
    refs.possible = possible_users(refs.candidates)
    _fill_incoming(refs)
    refs.import_tests_of = dict(model.tests_of)
    model.refs = refs
    _test_links(model, index)
    model.refs_update["seconds"] = time.perf_counter() - t0


def update(model: Any, edited: list[str]) -> set[str]:
    """After `link.relink` over the same files: resolve again the references of the edited files, of the
    files pointing into them (their target lines may have moved) and, when an edit changed what others
    resolve against (`interface`), of the files that mention a changed name (`refdeps.dependents`; every file
    of the language when a star import changed); then the test links. Returns the other files whose pages
    can change (their users, testers or tested files changed)."""
    from docatlas.link.resolve import C_LANGS, PY_LANGS, PythonIndex

    files = model.files
    old: RefIndex = model.refs
    py_edited = [p for p in edited if files[p].language in PY_LANGS]
    c_edited = [p for p in edited if files[p].language in C_LANGS]
    if not py_edited and not c_edited:
        return set()
    model.refs_update["touched"] = []
    index = PythonIndex(list(files), model.python_roots)
    faces = {p: interface(files[p]) for p in (*py_edited, *c_edited)}
    new = RefIndex(outgoing=dict(old.outgoing), counts=dict(old.counts), ambiguous=dict(old.ambiguous),
                   candidates=dict(old.candidates), interfaces={**old.interfaces, **faces},
                   package_api=dict(old.package_api), c_defs=old.c_defs, masks=dict(old.masks),
                   stars=dict(old.stars))
    rewritten: set[str] | None = set()
    for langs, changed in ((PY_LANGS, py_edited), (C_LANGS, c_edited)):
        if not changed:
            continue
        sources = {r[0] for p in changed for r in old.incoming.get(p, ())}
        redo_set = sources | set(changed)
        names: set[int] = set()
        everything = False
        for p in changed:
            diff = refdeps.changed_names(old.interfaces.get(p), faces[p])
            if diff is None or refdeps.STAR in diff:
                everything = True
            else:
                names |= diff
        if everything:
            redo = [p for p in files if model.summary(p).language in langs]
            rewritten = None
            if langs is C_LANGS:
                new.c_defs = {}
        else:
            if names:
                own = {p: m for p, m in old.masks.items() if p in files and model.summary(p).language in langs}
                redo_set |= refdeps.dependents(names, own, files.__getitem__, set(changed))
            redo = sorted(redo_set)
            if rewritten is not None:
                rewritten |= set(redo)
        for p in redo:
            new.outgoing.pop(p, None)
            new.counts.pop(p, None)
            new.ambiguous.pop(p, None)
            new.candidates.pop(p, None)
        if langs is PY_LANGS:
            resolver = PyResolver(files, index)
            apis = set(redo)
            if names or everything:  # packages whose star imports reach an edited file: their public names
                apis |= _star_importers(new.stars, set(changed))
            for p in redo:
                f = files[p]
                _file_deps(new, resolver, p, f)
                if f.references is None:
                    continue
                out, counts = resolver.resolve_file(p)
                new.counts[p] = counts
                if out:
                    new.outgoing[p] = out
            for p in sorted(apis):
                if p.endswith(("/__init__.py", "/__init__.pyi")) and files[p].references is not None:
                    new.package_api[p] = resolver.package_api(p)
        else:
            c_refs(model, new, redo)
    _fill_incoming(new)
    new.possible = possible_users(new.candidates) if c_edited else old.possible
    model.refs_update["rewritten"] = sorted(rewritten) if rewritten is not None else None
    new.import_tests_of = old.import_tests_of
    model.refs = new
    before_tested, before_tests = model.tested_by, model.tests_of
    model.tests_of = dict(old.import_tests_of)
    _test_links(model, index)
    touched = {t for t in set(old.incoming) | set(new.incoming) if old.incoming.get(t) != new.incoming.get(t)}
    touched |= {t for t in set(old.possible) | set(new.possible) if old.possible.get(t) != new.possible.get(t)}
    edited_set = set(edited)
    for t in {r[5] for p in edited for r in new.outgoing.get(p, ())}:  # usage examples show their source text
        if any(r[0] in edited_set for r in examples(new.incoming.get(t, []), model.purposes)):
            touched.add(t)
    touched |= {t for t in set(before_tested) | set(model.tested_by)
                if before_tested.get(t) != model.tested_by.get(t)}
    touched |= {t for t in set(before_tests) | set(model.tests_of) if before_tests.get(t) != model.tests_of.get(t)}
    # files whose own references changed: their Related Files weigh them
    touched |= {p for p in set(old.outgoing) | set(new.outgoing)
                if old.outgoing.get(p) is not new.outgoing.get(p) and old.outgoing.get(p) != new.outgoing.get(p)}
    return touched - set(edited)


def _star_importers(stars: Mapping[str, tuple[str, ...]], targets: set[str]) -> set[str]:
    """The files whose star imports reach one of `targets`, directly or through other star imports."""
    found: set[str] = set()
    grew = True
    while grew:
        grew = False
        for p, ts in stars.items():
            if p not in found and any(t in targets or t in found for t in ts):
                found.add(p)
                grew = True
    return found


def _test_links(model: Any, index: Any) -> None:
    from docatlas.link.stage import TestLink

    helper = ("test", "test-support")
    purposes = model.purposes
    direct: set[tuple[str, str]] = set()
    for t, links in model.tests_of.items():
        direct.update((t, tl.target) for tl in links if not tl.via)
    suites = {index.root_of.get(t, "") for t, p in purposes.items() if p.label == "test"}
    suites = {r for r in suites if r and r.rsplit("/", 1)[-1].startswith("test")}
    for t, out in model.refs.outgoing.items():
        own_root = index.root_of.get(t, "")
        if purposes[t].label not in helper and own_root not in suites:
            continue  # test code: test files, their helpers, and the files of a test suite's own import root
        uses: dict[str, int] = defaultdict(int)
        for r in out:
            target = r[5]
            if target == t or purposes[target].label in helper or (own_root and target.startswith(own_root + "/")):
                continue
            uses[target] += 1
        if not uses:
            continue
        merged = []
        seen = set()
        for tl in model.tests_of.get(t, []):
            merged.append(TestLink(tl.test, tl.target, tl.names, tl.via, tl.cases, uses.get(tl.target, 0)))
            seen.add(tl.target)
        merged += [TestLink(t, target, (), "", (), n) for target, n in sorted(uses.items()) if target not in seen]
        model.tests_of[t] = merged
    tested_by: dict[str, dict[str, Any]] = defaultdict(dict)
    for links in model.tests_of.values():
        for tl in links:
            prev = tested_by[tl.target].get(tl.test)
            if prev is None:
                tested_by[tl.target][tl.test] = tl
            else:  # one entry per (test, target): direct import wins over re-export
                tested_by[tl.target][tl.test] = TestLink(
                    tl.test, tl.target, tuple(dict.fromkeys(prev.names + tl.names)),
                    "" if "" in (prev.via, tl.via) else prev.via, tuple(dict.fromkeys(prev.cases + tl.cases)),
                    max(prev.uses, tl.uses))
    rank = model.rank
    model.tested_by = {
        target: sorted(by_test.values(), key=lambda tl: (not named_after(tl.test, target), -tl.uses,
                                                         (tl.test, target) not in direct, -rank.get(tl.test, 0.0),
                                                         tl.test))
        for target, by_test in sorted(tested_by.items())}


def named_after(test: str, target: str) -> bool:
    """Whether a test file is named after the file it tests (`irange_test.cpp`, `test_linear.py` for
    `irange.h`, `linear.py`): the most direct evidence that it tests that file."""
    stem = target.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    name = test.rsplit("/", 1)[-1].split(".", 1)[0].lower()
    return bool(stem) and name in (f"test_{stem}", f"{stem}_test", f"{stem}_tests", f"test{stem}", f"{stem}test")


# -- what pages show ----------------------------------------------------------------------------------
EXAMPLES = 3


def examples(incoming: list[Ref], purposes: Mapping[str, Any]) -> list[Ref]:
    """Up to three call sites of a file's definitions, one per referring file: test files first, then the
    files that call it most, then by path and line."""
    calls: dict[str, list[Ref]] = defaultdict(list)
    for r in incoming:
        if r[3] == "call":
            calls[r[0]].append(r)
    order = sorted(calls, key=lambda p: (getattr(purposes.get(p), "label", "") != "test", -len(calls[p]), p))
    return [calls[p][0] for p in order[:EXAMPLES]]
