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

import dataclasses
import functools
import marshal
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from docatlas.link import refdeps
from docatlas.link.cresolve import Candidates, CDef, Possible, c_refs, possible_users, update_possible
from docatlas.link.pyresolve import PyResolver, Ref
from docatlas.link.reftests import examples, test_links, update_test_links
from docatlas.model import FileFacts
from docatlas.pool import Aside

if TYPE_CHECKING:
    from docatlas.link.resolve import PythonIndex

V = TypeVar("V")


class Overlay(MutableMapping[str, V]):
    """A mapping that keeps its changes beside a base it never modifies: after an edit, the per-file parts of
    the last build's `RefIndex` (read from the facts cache row by row, `store.cache.Rows`) with the files
    resolved again. `changes` and `removed` say which rows the cache must rewrite; nothing else is read."""

    def __init__(self, base: Mapping[str, V]) -> None:
        self.base = base
        self.changes: dict[str, V] = {}
        self.removed: set[str] = set()

    def __getitem__(self, key: str) -> V:
        found = self.changes.get(key)
        if found is not None or key in self.changes:
            return found  # type: ignore[return-value]
        if key in self.removed:
            raise KeyError(key)
        return self.base[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return key in self.changes or (key not in self.removed and key in self.base)

    def __setitem__(self, key: str, value: V) -> None:
        self.changes[key] = value
        self.removed.discard(key)

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self.changes.pop(key, None)
        if key in self.base:
            self.removed.add(key)

    def __iter__(self) -> Iterator[str]:
        for k in self.base:
            if k not in self.removed and k not in self.changes:
                yield k
        yield from self.changes

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Packed(MutableMapping[str, V]):
    """A mapping whose values are kept marshalled, one bytes object per key, and made again on each read (never
    kept): what render workers read of the references. A forked worker reading a list of tuples writes the
    reference count of every tuple and of every string and number in it, which copies the pages under them from
    its parent; a bytes object's text is never written. On PyTorch the references into files were 510,521 tuples
    (about 100 MB), read by every worker, and by every replacement forked past the worker's memory bound."""

    def __init__(self, rows: Mapping[str, V]) -> None:
        self._blobs = {k: marshal.dumps(v) for k, v in rows.items()}  # type: ignore[arg-type]

    @property
    def blobs(self) -> Mapping[str, bytes]:
        """The marshalled values by key: what the facts cache stores for them (`store.cache.store_link_state`)."""
        return self._blobs

    def __getitem__(self, key: str) -> V:
        value: V = marshal.loads(self._blobs[key])
        return value

    def __setitem__(self, key: str, value: V) -> None:
        self._blobs[key] = marshal.dumps(value)  # type: ignore[arg-type]

    def __delitem__(self, key: str) -> None:
        del self._blobs[key]

    def __contains__(self, key: object) -> bool:
        return key in self._blobs

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)


ROW_FIELDS = ("outgoing", "incoming", "candidates")  # stored one row per file (`split`), not in the state

@dataclass
class RefIndex:
    """Resolved references of the whole repository, both ways, and per file what could not be resolved."""

    outgoing: MutableMapping[str, list[Ref]] = field(default_factory=dict)  # source path -> its refs, by position
    incoming: MutableMapping[str, list[Ref]] = field(default_factory=dict)  # target path -> refs to its symbols
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
    candidates: MutableMapping[str, list[Candidates]] = field(default_factory=dict)
    masks: dict[str, bytes] = field(default_factory=dict)  # path -> names its references mention (`refdeps`)
    stars: dict[str, tuple[str, ...]] = field(default_factory=dict)  # Python file -> files it star-imports
    # what pages about the whole repository read of `incoming` and `outgoing`, kept up to date by `update` so
    # that they need not read every file's references: target path -> qualname -> uses from other files, and
    # Python source path -> ((target path, references), ...) in order of first use (`subsystems`)
    use_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    py_edges: dict[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    # C family: per target file and qualified name, the files whose ambiguous uses list it (`possible_users`)
    possible: Mapping[str, dict[str, list[Possible]]] = field(default_factory=dict)

    def users(self, path: str, qualname: str) -> list[Ref]:
        return [r for r in self.incoming.get(path, ()) if r[6] == qualname]

    def pack(self, parts: tuple[str, ...] = ("incoming", "possible")) -> None:
        """The parts pages read per file (`incoming`, `possible`) marshalled (`Packed`), before the render
        workers fork; a part that is not a plain dict (read from the facts cache after an edit) is left.
        `incoming` is packed before the index writer stores it, which then stores those bytes (`blobs`);
        `possible` after (the facts cache pickles it whole, as a dict)."""
        for name in parts:
            value = getattr(self, name)
            if type(value) is dict:
                setattr(self, name, Packed(value))

    def split(self) -> tuple[RefIndex, dict[str, Mapping[str, Any]]]:
        """(this index without its per-file parts, those parts): the facts cache stores the parts one row per
        file, so that an edit reads and writes only the rows of the files it resolves again."""
        return dataclasses.replace(self, **{f: {} for f in ROW_FIELDS}), {f: getattr(self, f) for f in ROW_FIELDS}

    def join(self, parts: Mapping[str, Mapping[str, Any]]) -> None:
        """The per-file parts back (`split`), read lazily from the facts cache."""
        for f in ROW_FIELDS:
            setattr(self, f, parts[f])


def interface(facts: FileFacts) -> bytes:
    """What resolving other files' references can read of this file: its definitions (names, kinds, nesting,
    bases), `__all__` and bindings without their lines, one entry per name (`refdeps.face`). An edit that keeps
    it changes no other file's references except the lines they point at; one that changes it changes only
    the files that mention a changed name (`refdeps.dependents`)."""
    return refdeps.face(facts)


def python_refs(facts: Mapping[str, FileFacts], index: Any, paths: Iterable[str], fill: bool = True) -> RefIndex:
    """Resolve the references of every Python file in `paths` (`index`: the link stage's `PythonIndex`);
    `fill`: with the references into each file (`attach` fills them once the C family's are in too)."""
    resolver = PyResolver(facts, index)
    result = RefIndex()
    for path in paths:
        f = facts[path]
        result.interfaces[path] = interface(f)
        if f.references is None:
            continue
        uses = f.references.uses  # (unpickled on each read: once here)
        out, counts = resolver.resolve_file(path, uses)
        result.counts[path] = counts
        _file_deps(result, resolver, path, f, uses)
        if out:
            result.outgoing[path] = out
        if path.endswith(("/__init__.py", "/__init__.pyi")):
            result.package_api[path] = resolver.package_api(path)
    if fill:
        _fill_incoming(result)
    return result


def _file_deps(result: RefIndex, resolver: PyResolver | None, path: str, f: FileFacts,
               uses: tuple[tuple[Any, ...], ...] | None = None) -> None:
    """What `update` needs to find the dependents of an edit: the names the file mentions, its star imports
    (`uses`: its references' uses, when the caller has them)."""
    result.masks[path] = refdeps.mask(refdeps.mentioned(f, uses))
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
    result.use_counts = {t: _use_count(refs) for t, refs in result.incoming.items()}
    result.py_edges = {}
    for path in sorted(result.outgoing):
        _set_edges(result, path)


def _use_count(incoming: list[Ref]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for r in incoming:
        counts[r[6]] += 1
    return dict(counts)


def _set_edges(result: RefIndex, path: str) -> None:
    """`py_edges` of one source file: the files its references point into, with how many, first used first."""
    result.py_edges.pop(path, None)
    if not path.endswith((".py", ".pyi")):
        return
    edges: dict[str, int] = defaultdict(int)
    for r in result.outgoing.get(path, ()):
        if r[5] != path:
            edges[r[5]] += 1
    if edges:
        result.py_edges[path] = tuple(edges.items())


def _update_incoming(new: RefIndex, old_out: Mapping[str, list[Ref]], redo: set[str]) -> set[str]:
    """`incoming` (and `use_counts`, `py_edges`) after the files of `redo` were resolved again: only the files
    their old or new references point into change; their lists keep the order `_fill_incoming` gives (by
    source path, then by position). Returns those targets."""
    added: dict[str, list[Ref]] = defaultdict(list)
    targets: set[str] = set()
    for p in sorted(redo):
        targets.update(r[5] for r in old_out.get(p, ()) if r[5] != p)
        for r in new.outgoing.get(p, ()):
            if r[5] != p:
                added[r[5]].append(r)
    targets |= set(added)
    for t in sorted(targets):
        kept = [r for r in new.incoming.get(t, ()) if r[0] not in redo]
        if added.get(t):
            kept = sorted(kept + added[t], key=lambda r: r[0])  # stable: each source's refs keep their order
        if kept:
            new.incoming[t] = kept
            new.use_counts[t] = _use_count(kept)
        else:
            new.incoming.pop(t, None)
            new.use_counts.pop(t, None)
    grew = False
    for p in redo:
        had = p in new.py_edges
        _set_edges(new, p)
        grew |= not had and p in new.py_edges
    if grew:
        new.py_edges = dict(sorted(new.py_edges.items()))
    return targets


# -- the link stage's call ----------------------------------------------------------------------------
def attach(model: Any, index: Any, beside: bool = False) -> None:
    """Resolve every file's references into `model.refs`, and let them say which test code exercises which
    files: test code (a test file, a test helper, or a file of a test suite's own import root such as Django's
    `tests/`, e.g. its models) that uses a file's definitions (directly, or through re-exports and attribute
    chains) tests it, with the number of uses; `tested_by` puts test files named after their target first
    (`named_after`), then orders by uses, then direct import, then rank.

    `beside`: another core is free, so a forked child resolves the Python files while this process resolves
    the C family (neither reads the other's). On PyTorch the Python half is 4.6 CPU-s and comes back as a
    14 MB pickle (0.4 s to make and read) while the C half takes 7.8."""
    from docatlas.link.resolve import C_LANGS, PY_LANGS

    t0 = time.perf_counter()
    files = model.files
    py = [p for p in files if files[p].language in PY_LANGS]
    if beside and py and any(files[p].language in C_LANGS for p in files):
        child = Aside(functools.partial(python_refs, files, index, py, fill=False))
        c_part = RefIndex()
        c_refs(model, c_part)
        refs = _joined(child.result(), c_part)
    else:
        refs = python_refs(files, index, py, fill=False)
        c_refs(model, refs)
    refs.possible = possible_users(refs.candidates)
    _fill_incoming(refs)
    refs.import_tests_of = dict(model.tests_of)
    model.refs = refs
    test_links(model, index)
    model.refs_update["seconds"] = time.perf_counter() - t0


def _joined(py: RefIndex, c: RefIndex) -> RefIndex:
    """The Python files' references and the C family's, resolved apart (`attach`), as one index: each per-file
    part in the order resolving both in turn gives (the Python files first), so the output is the same."""
    for f in dataclasses.fields(RefIndex):
        theirs = getattr(c, f.name)
        if theirs:
            setattr(py, f.name, {**getattr(py, f.name), **theirs})
    return py


def update(model: Any, edited: list[str], import_tests_of: dict[str, list[Any]] | None = None,
           index: PythonIndex | None = None, kept: Collection[str] = ()) -> set[str]:
    """After `link.relink` over the same files: resolve again the references of the edited files, of the
    files pointing into them (their target lines may have moved) and, when an edit changed what others
    resolve against (`interface`), of the files that mention a changed name (`refdeps.dependents`; every file
    of the language when a star import changed); then the test links. Returns the other files whose pages
    can change (their users, testers or tested files changed). Only the rows of the files resolved again and
    of the files they point into are read (`Overlay`): an edit costs what it reaches, not the repository.

    From `link.link` after an edit that changed link inputs over the same files (`import_tests_of`: the test
    links its imports give now), with `model.refs` the last build's: the C-family files whose include closure
    holds an edited one are resolved again too, and the test links are made again whole (ranks moved).

    `kept`: edited files whose references and what they resolve from are as they were (`relink.same_references`):
    not resolved again, nor the files pointing into them; the pages showing their lines as usage examples can
    change all the same."""
    from docatlas.link.resolve import C_LANGS, PY_LANGS, PythonIndex

    files = model.files
    old: RefIndex = model.refs
    py_edited = [p for p in edited if files[p].language in PY_LANGS and p not in kept]
    c_edited = [p for p in edited if files[p].language in C_LANGS and p not in kept]
    if not py_edited and not c_edited and import_tests_of is None:
        return _showing(old, edited, model.purposes) - set(edited)
    t0 = time.perf_counter()
    model.refs_update["touched"] = []  # (the index rewrites the rows of `rewritten` alone)
    if index is None:  # (`relink` gives the one it made over the same files and roots)
        index = PythonIndex(list(files), model.python_roots)
    faces = {p: interface(files[p]) for p in (*py_edited, *c_edited)}
    new = RefIndex(outgoing=Overlay(old.outgoing), incoming=Overlay(old.incoming), counts=dict(old.counts),
                   ambiguous=dict(old.ambiguous), candidates=Overlay(old.candidates),
                   interfaces={**old.interfaces, **faces}, package_api=dict(old.package_api), c_defs=old.c_defs,
                   masks=dict(old.masks), stars=dict(old.stars), use_counts=dict(old.use_counts),
                   py_edges=dict(old.py_edges), possible=old.possible)
    rewritten: set[str] | None = set()
    all_redo: set[str] = set()
    for langs, changed in ((PY_LANGS, py_edited), (C_LANGS, c_edited)):
        if not changed:
            continue
        sources = {r[0] for p in changed for r in old.incoming.get(p, ())}
        redo_set = sources | set(changed)
        if import_tests_of is not None and langs is C_LANGS:  # includes may have changed: closures did
            redo_set |= _includers(model, set(changed))
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
        all_redo.update(redo)
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
                uses = f.references.uses if f.references is not None else None
                _file_deps(new, resolver, p, f, uses)
                if uses is None:
                    continue
                out, counts = resolver.resolve_file(p, uses)
                new.counts[p] = counts
                if out:
                    new.outgoing[p] = out
            for p in sorted(apis):
                if p.endswith(("/__init__.py", "/__init__.pyi")) and files[p].references is not None:
                    new.package_api[p] = resolver.package_api(p)
        else:
            c_refs(model, new, redo)
    targets = _update_incoming(new, old.outgoing, all_redo)
    redo_c = sorted(p for p in all_redo if model.summary(p).language in C_LANGS)
    new.possible, possible_changed = update_possible(old.possible, redo_c, old.candidates, new.candidates)
    model.refs_update["rewritten"] = sorted(rewritten) if rewritten is not None else None
    new.import_tests_of = old.import_tests_of if import_tests_of is None else import_tests_of
    model.refs = new
    model.refs_update["seconds"] = time.perf_counter() - t0
    if import_tests_of is not None:
        model.tests_of = dict(import_tests_of)
        test_links(model, index)
        return set()
    before_tested, before_tests = model.tested_by, model.tests_of
    tests_changed = update_test_links(model, index, all_redo)
    touched = {t for t in targets if old.incoming.get(t) != new.incoming.get(t)} | possible_changed
    touched |= _showing(new, edited, model.purposes)
    touched |= {t for t in tests_changed if before_tested.get(t) != model.tested_by.get(t)}
    touched |= {t for t in all_redo if before_tests.get(t) != model.tests_of.get(t)}
    # files whose own references changed: their Related Files weigh them
    touched |= {p for p in all_redo if old.outgoing.get(p) != new.outgoing.get(p)}
    return touched - set(edited)


def _showing(refs: RefIndex, edited: Collection[str], purposes: Mapping[str, Any]) -> set[str]:
    """The files whose usage examples show a line of an `edited` file (`examples`): their pages show its text."""
    edited_set = set(edited)
    return {t for t in {r[5] for p in edited for r in refs.outgoing.get(p, ())}
            if any(r[0] in edited_set for r in examples(refs.incoming.get(t, []), purposes))}


def _includers(model: Any, targets: set[str]) -> set[str]:
    """The files that include one of `targets`, directly or through other includes (today's)."""
    from docatlas.link.resolve import C_LANGS

    by_target: dict[str, list[str]] = defaultdict(list)
    for p, resolved in model.imports.items():
        if model.summary(p).language in C_LANGS:
            for r in resolved:
                if r.category == "repo" and r.target:
                    by_target[r.target].append(p)
    found: set[str] = set()
    todo = list(targets)
    while todo:
        for p in by_target.get(todo.pop(), ()):
            if p not in found:
                found.add(p)
                todo.append(p)
    return found


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
