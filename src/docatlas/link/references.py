"""Symbol references across files: which definition each name a file uses denotes, and who uses each definition.

Python is resolved statically from the bindings and uses `extract.pyrefs` recorded, never by importing code:
module bindings (imports of every form, definitions, aliases `X = a.b`), star imports (honouring `__all__`, else
the public names, transitively and safe on cycles), package re-exports, submodules reached as attributes, class
members through the repository bases (a simple left-to-right MRO) for `self`, `cls` and `super()`. Other
instance attributes, locals and anything a static reading cannot settle are not guessed: they are counted as
unresolved. Names that resolve outside the repository (stdlib, third party, builtins) are external.
C, C++ and CUDA names are matched against definitions by name (`cfamily_refs`).

A resolved reference is a tuple (path, line, col, kind, enclosing, target_path, target_qualname, target_line,
name): col is 1-based; name is the text used (`nn.Linear`).
"""

from __future__ import annotations

import builtins
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from docatlas.link import refdeps
from docatlas.model import FileFacts, Symbol

Ref = tuple[str, int, int, str, str, str, str, int, str]
CDef = tuple[str, str, int, bool, bool]  # path, qualname, line, is a declaration, is a function
Candidates = tuple[int, int, str, str, str, tuple[tuple[str, str, int], ...]]  # line, col, kind, enclosing, name
MAX_CANDIDATES = 8
Value = tuple[Any, ...]  # ("m", path) | ("d", path, qualname) | ("v", path, name, line) | ("i"/"s", path, cls) | X
EXTERNAL: Value = ("x",)
_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__", "__package__",
                                        "__loader__", "__builtins__", "__annotations__", "__dict__", "__class__"}
_PY_SUFFIXES = (".py", ".pyi")


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
    # `MAX_CANDIDATES`, else only counted in `ambiguous`), per file: shown as possible, never as resolved
    candidates: dict[str, list[Candidates]] = field(default_factory=dict)
    masks: dict[str, bytes] = field(default_factory=dict)  # path -> names its references mention (`refdeps`)
    stars: dict[str, tuple[str, ...]] = field(default_factory=dict)  # Python file -> files it star-imports

    def users(self, path: str, qualname: str) -> list[Ref]:
        return [r for r in self.incoming.get(path, ()) if r[6] == qualname]


class _Module:
    """One Python file's tables, made on first use."""

    __slots__ = ("exports", "is_package", "members", "path", "scopes", "stars", "symbols")

    def __init__(self, facts: FileFacts) -> None:
        self.path = facts.path
        self.scopes: dict[str, dict[str, list[tuple[Any, ...]]]] = defaultdict(lambda: defaultdict(list))
        self.stars: list[tuple[Any, ...]] = []
        refs = facts.references
        for b in refs.bindings if refs else ():
            if b[2] == "star":
                if not b[0]:
                    self.stars.append(b)
                continue
            self.scopes[b[0]][b[1]].append(b)
        self.symbols: dict[str, Symbol] = {}
        self.members: dict[tuple[str, str], Symbol] = {}
        for s in facts.symbols:
            self.symbols.setdefault(s.qualname, s)
            if s.parent:
                self.members.setdefault((s.parent, s.name), s)
        self.is_package = facts.path.endswith(("/__init__.py", "/__init__.pyi")) or facts.path in (
            "__init__.py", "__init__.pyi")
        self.exports = facts.exports


def _effective(cands: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The bindings of one name still in effect after the module ran: the last unconditional one and every
    conditional one after it (each with its condition)."""
    out: list[tuple[Any, ...]] = []
    for b in cands:
        if not b[6]:
            out = [b]
        else:
            out.append(b)
    return out


class PyResolver:
    def __init__(self, facts: Mapping[str, FileFacts], index: Any) -> None:
        self.facts = facts
        self.index = index  # the link stage's `PythonIndex`
        self.paths = index.paths
        self.heads = index.heads
        self._mods: dict[str, _Module] = {}
        self._attr: dict[tuple[str, str], Value | None] = {}
        self._public: dict[str, frozenset[str]] = {}
        self._mro: dict[tuple[str, str], list[tuple[str, str]] | None] = {}
        self._partial: dict[tuple[str, str], list[tuple[str, str]]] = {}  # MROs with an unresolved base
        self._chain: dict[tuple[str, str, str, int], list[Value | None]] = {}
        self._busy: set[Any] = set()
        self._multi: dict[str, set[tuple[str, str]]] = {}
        # one object per distinct line number and per distinct text used, shared by every reference (PyTorch
        # has millions: each int above 256 and each joined string would otherwise be its own object)
        self._ints: dict[int, int] = {}

    # -- modules ---------------------------------------------------------------------------------
    def mod(self, path: str) -> _Module | None:
        m = self._mods.get(path)
        if m is None:
            f = self.facts.get(path)
            if f is None or f.references is None:
                return None
            m = self._mods[path] = _Module(f)
        return m

    def _file(self, base: str) -> str | None:
        for cand in (base + ".py", base + "/__init__.py", base + ".pyi", base + "/__init__.pyi"):
            if cand in self.paths:
                return cand
        return None

    def find_module(self, path: str, module: str, level: int) -> Value | None:
        """The module an import names, seen from `path`: ("m", file), EXTERNAL, or None (a repository package
        without that module)."""
        if level:
            folder = path.rsplit("/", 1)[0] if "/" in path else ""
            for _ in range(level - 1):
                if not folder:
                    return None
                folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
            rel = module.replace(".", "/")
            base = f"{folder}/{rel}" if folder and rel else (folder or rel)
            hit = self._file(base) if base else None
            return ("m", hit) if hit else None
        found = self.index.find(module, path)
        if found:
            return ("m", found[0])
        head = module.split(".")[0]
        return None if head in self.heads else EXTERNAL

    def module_attr(self, path: str, name: str) -> Value | None:
        key = (path, name)
        if key in self._attr:
            return self._attr[key]
        if key in self._busy:
            return None
        self._busy.add(key)
        try:
            value = self._module_attr(path, name)
        finally:
            self._busy.discard(key)
        self._attr[key] = value
        return value

    def _module_attr(self, path: str, name: str) -> Value | None:
        m = self.mod(path)
        if m is None:
            return None
        cands = m.scopes.get("", {}).get(name)
        if cands:
            return self._choose(path, _effective(cands), "")
        for star in reversed(m.stars):
            target = self.find_module(path, star[3], star[5])
            if target is None or target[0] != "m":
                continue
            if name in self.public_names(target[1]):
                return self.module_attr(target[1], name)
        if m.is_package:
            folder = path.rsplit("/", 1)[0]
            hit = self._file(f"{folder}/{name}")
            if hit:
                return ("m", hit)
        return None

    def package_api(self, path: str) -> tuple[str, ...]:
        """A package's public names when its `__init__` has no `__all__`: the definitions, names imported from
        modules and aliases it binds (not modules it imports), then what its star imports bring (their
        `__all__`, else their public names, transitively), in that order."""
        m = self.mod(path)
        if m is None:
            return ()
        names = [n for n, cands in m.scopes.get("", {}).items() if not n.startswith("_")
                 and any(b[2] in ("def", "from", "alias") for b in cands)]
        for star in m.stars:
            target = self.find_module(path, star[3], star[5])
            if target is not None and target[0] == "m":
                names += sorted(self.public_names(target[1]))
        return tuple(dict.fromkeys(names))

    def public_names(self, path: str) -> frozenset[str]:
        """What `from path import *` binds: `__all__` when the module has one, else its public names."""
        found = self._public.get(path)
        if found is not None:
            return found
        self._public[path] = frozenset()  # cycles: a module star-importing itself back adds nothing
        m = self.mod(path)
        names: set[str] = set()
        if m is not None:
            if m.exports:
                names = set(m.exports)
            else:
                names = {n for n in m.scopes.get("", {}) if not n.startswith("_")}
                for star in m.stars:
                    target = self.find_module(path, star[3], star[5])
                    if target is not None and target[0] == "m":
                        names |= self.public_names(target[1])
        result = frozenset(names)
        self._public[path] = result
        return result

    # -- bindings --------------------------------------------------------------------------------
    def _choose(self, path: str, cands: list[tuple[Any, ...]], scope: str) -> Value | None:
        values = [self.binding(path, b, scope) for b in cands]
        for v in values:
            if v is not None and v[0] in ("d", "m"):
                return v
        for v in reversed(values):
            if v is not None:
                return v
        return None

    def binding(self, path: str, b: tuple[Any, ...], scope: str) -> Value | None:
        kind = b[2]
        if kind == "def":
            return ("d", path, b[3], b[7])  # the line tells a redefinition from the first definition
        if kind == "import":
            target = self.find_module(path, b[3], 0)
            if target is None or target[0] != "m" or b[3] == b[1] or "." not in b[3]:
                return target
            return target
        if kind == "from":
            return self.from_import(path, b[3], b[4], b[5])
        if kind == "alias":
            key = (path, scope, b[1], "alias")
            if key in self._busy:
                return None
            self._busy.add(key)
            try:
                values = self.chain(path, scope if scope else "", b[3])
            finally:
                self._busy.discard(key)
            return values[-1] if values else None
        return ("v", path, b[1], b[7])

    def from_import(self, path: str, module: str, name: str, level: int) -> Value | None:
        target = self.find_module(path, module, level)
        if target is None:
            sub = self.find_module(path, f"{module}.{name}" if module else name, level)
            return sub if sub is not None and sub[0] == "m" else None
        if target[0] != "m":
            return target
        if target[1] == path:  # `from . import sub` inside the package's own `__init__`
            folder = path.rsplit("/", 1)[0] if "/" in path else ""
            hit = self._file(f"{folder}/{name}" if folder else name)
            return ("m", hit) if hit else None
        return self.module_attr(target[1], name)

    # -- classes ---------------------------------------------------------------------------------
    def mro(self, path: str, cls: str) -> list[tuple[str, str]] | None:
        """The class and its repository bases, depth first left to right without repeats; None when a base
        cannot be resolved (members not found then are unresolved rather than external)."""
        key = (path, cls)
        if key in self._mro:
            return self._mro[key]
        self._mro[key] = [key]  # cycles
        m = self.mod(path)
        sym = m.symbols.get(cls) if m else None
        out: list[tuple[str, str]] = [key]
        complete = True
        if sym is not None:
            scope = sym.parent.rsplit(".<locals>", 1)[0] if "<locals>" in sym.parent else ""
            for base in sym.bases:
                text = base.split("[", 1)[0].strip()
                if text in ("object", "Generic", "Protocol") or not text.replace(".", "").replace("_", "a").isalnum():
                    continue
                values = self.chain(path, scope, text)
                v = values[-1] if values and len(values) == len(text.split(".")) else None
                if v is None:
                    complete = False
                elif v[0] == "d":
                    for entry in self.mro(v[1], v[2]) or [(v[1], v[2])]:
                        if entry not in out:
                            out.append(entry)
                    if self._mro.get((v[1], v[2])) is None:
                        complete = False
        result = out if complete else None
        self._mro[key] = result
        if result is None:
            self._partial[key] = out
        return result

    def member(self, path: str, cls: str, name: str, skip_first: bool = False) -> Value | None:
        order = self.mro(path, cls)
        complete = order is not None
        if order is None:
            order = self._partial.get((path, cls)) or [(path, cls)]
        for cp, cq in order[1:] if skip_first else order:
            m = self.mod(cp)
            if m is None:
                continue
            sym = m.members.get((cq, name))
            if sym is not None:
                return ("d", cp, sym.qualname)
            cands = m.scopes.get(cq, {}).get(name)
            if cands:
                return self._choose(cp, _effective(cands), cq)
        if complete and any(self._external_bases(cp, cq) for cp, cq in order):
            return EXTERNAL
        return None

    def _external_bases(self, path: str, cls: str) -> bool:
        m = self.mod(path)
        sym = m.symbols.get(cls) if m else None
        return bool(sym and any(self._base_external(path, b) for b in sym.bases))

    def _base_external(self, path: str, base: str) -> bool:
        values = self.chain(path, "", base.split("[", 1)[0].strip())
        return bool(values) and values[-1] == EXTERNAL

    # -- uses ------------------------------------------------------------------------------------
    def head(self, path: str, scope: str, name: str, line: int = 0) -> Value | None:
        """The value of `name` used in `scope` at `line`: inside a function or class body the bindings made
        before that line count (the body runs in order); at module level every binding (functions run later)."""
        m = self.mod(path)
        if m is None:
            return None
        if scope:
            cands = m.scopes.get(scope, {}).get(name)
            if cands and line:
                cands = [b for b in cands if b[7] < line] or cands
            if cands:
                return self._choose(path, _effective(cands), scope)
            if scope in m.symbols and m.symbols[scope].kind == "class":
                member = m.members.get((scope, name))
                if member is not None:
                    return ("d", path, member.qualname)
        value = self.module_attr(path, name)
        if value is None and name in _BUILTINS:
            return EXTERNAL
        return value

    def _scoped(self, path: str) -> set[tuple[str, str]]:
        """(scope, name) of the names bound more than once in a function or class body: only their uses
        depend on the line."""
        m = self.mod(path)
        if m is None:
            return set()
        found = self._multi.get(path)
        if found is None:
            found = self._multi[path] = {(s, n) for s, names in m.scopes.items() if s
                                         for n, c in names.items() if len(c) > 1}
        return found

    def chain(self, path: str, scope: str, text: str, line: int = 0) -> list[Value | None]:
        """The value of each prefix of a dotted chain used in `scope` of `path` at `line` (None from the first
        part that cannot be resolved on)."""
        line = line if scope and (scope, text.split(".", 1)[0]) in self._scoped(path) else 0
        key = (path, scope, text, line)
        found = self._chain.get(key)
        if found is not None:
            return found
        parts = text.split(".")
        head = parts[0]
        value: Value | None
        if head == "<self>":
            value = ("i", path, scope)
        elif head == "<super>":
            value = ("s", path, scope)
        else:
            value = self.head(path, scope, head, line)
        values: list[Value | None] = [value]
        for part in parts[1:]:
            value = self.attr(value, part) if value is not None else None
            values.append(value)
        self._chain[key] = values
        return values

    def attr(self, value: Value, name: str) -> Value | None:
        kind = value[0]
        if kind == "x":
            return EXTERNAL
        if kind == "m":
            return self.module_attr(value[1], name)
        if kind in ("i", "s"):
            return self.member(value[1], value[2], name, skip_first=kind == "s")
        if kind == "d":
            m = self.mod(value[1])
            sym = m.symbols.get(value[2]) if m else None
            if sym is not None and sym.kind == "class":
                return self.member(value[1], value[2], name)
        return None

    def target_line(self, value: Value) -> int:
        if value[0] == "v":
            return int(value[3])
        m = self.mod(value[1])
        sym = m.symbols.get(value[2]) if m else None
        if sym is not None and len(value) > 3 and not sym.line <= value[3] <= sym.end_line:
            facts = self.facts[value[1]]
            sym = next((s for s in facts.symbols if s.qualname == value[2] and s.line <= value[3] <= s.end_line),
                       sym)
        return sym.line if sym else 0

    def resolve_file(self, path: str) -> tuple[list[Ref], tuple[int, int, int]]:
        facts = self.facts[path]
        refs = facts.references
        out: list[Ref] = []
        resolved = external = unresolved = 0
        if refs is None:
            return out, (0, 0, 0)
        ints = self._ints
        intern = sys.intern
        texts: dict[tuple[str, int], str] = {}
        for chain, pos, kind, enclosing, scope in refs.uses:
            if kind == "import":
                module, _, name = chain.partition(":")
                level = len(module) - len(module.lstrip("."))
                v = self.from_import(path, module[level:], name, level)
                values = [v]
                names = [name]
            else:
                values = self.chain(path, scope, chain, pos[0])
                names = chain.split(".")
            last = values[-1]
            if last is None:
                unresolved += 1
            elif last[0] == "x":
                external += 1
            else:
                resolved += 1
            n = len(values)
            for i, v in enumerate(values):
                if v is None or v[0] not in ("d", "v") or (v[0] == "v" and i < n - 1):
                    continue
                if v[1] == path and v[0] == "v":
                    continue  # a module's own variables: not a cross-reference worth listing
                text = texts.get((chain, i)) if kind != "import" else name
                if text is None:
                    text = ".".join(names[: i + 1])
                    if text.startswith("<self>"):
                        text = "self" + text[6:]
                    elif text.startswith("<super>"):
                        text = "super()" + text[7:]
                    text = texts[(chain, i)] = intern(text)
                line, col, tline = pos[2 * i], pos[2 * i + 1] + 1, self.target_line(v)
                out.append((path, ints.setdefault(line, line), ints.setdefault(col, col),
                            kind if i == n - 1 else "read", enclosing, v[1], v[2], ints.setdefault(tline, tline),
                            text))
        out.sort(key=lambda r: (r[1], r[2]))
        self._chain.clear()  # keyed by this file's path: no other file reads these entries
        return out, (resolved, external, unresolved)


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
    model.refs_update["rewritten"] = sorted(rewritten) if rewritten is not None else None
    new.import_tests_of = old.import_tests_of
    model.refs = new
    before_tested, before_tests = model.tested_by, model.tests_of
    model.tests_of = dict(old.import_tests_of)
    _test_links(model, index)
    touched = {t for t in set(old.incoming) | set(new.incoming) if old.incoming.get(t) != new.incoming.get(t)}
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


# -- C, C++, CUDA ---------------------------------------------------------------------------------------
_C_DEF_KINDS = frozenset({"function", "method", "class", "struct", "union", "enum", "typedef", "alias", "macro",
                          "type"})


def c_refs(model: Any, result: RefIndex, paths: Iterable[str] | None = None) -> None:
    """Resolve the names C-family files use by name against the definitions of every C-family file: a name
    with candidates in the file's include closure takes those, else those in its folder, else all; one
    qualified name defined in at most one file resolves (to its declaration in the closure, else its
    definition); several names, or one defined in several files, are counted as ambiguous; none as
    unresolved (mostly the standard library and third-party code)."""
    from docatlas.link.resolve import C_LANGS

    files = model.files
    cfiles = [p for p in files if model.summary(p).language in C_LANGS]
    if paths is None or not result.c_defs:
        defs: dict[str, list[CDef]] = defaultdict(list)
        for p in cfiles:
            _add_defs(defs, p, files[p])
        result.c_defs = dict(defs)
    else:  # the same names as before (`interface`); the redone files' lines may have moved
        redo = set(paths)
        defs = defaultdict(list)
        for name, before in result.c_defs.items():
            kept = [c for c in before if c[0] not in redo]
            if kept:
                defs[name] = kept
        for p in sorted(redo):
            _add_defs(defs, p, files[p])
        for entries in defs.values():
            entries.sort(key=lambda c: (c[0], c[2]))
        result.c_defs = dict(defs)
    includes = {p: [r.target for r in model.imports.get(p, ()) if r.category == "repo" and r.target]
                for p in cfiles}
    shared: dict[tuple[tuple[str, str, int], ...], tuple[tuple[str, str, int], ...]] = {}  # one object each
    for path in cfiles if paths is None else paths:
        result.interfaces[path] = interface(files[path])
        _file_deps(result, None, path, files[path])
        refs = files[path].references
        if refs is None:
            continue
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        closure: set[str] | None = None
        out: list[Ref] = []
        maybe: list[Candidates] = []
        resolved = unresolved = ambiguous = 0
        for name, line, col, kind, enclosing in refs.uses:
            cands = defs.get(name)
            if cands and kind == "read":  # a name used as a value: only a function's counts (`crefs`)
                cands = [c for c in cands if c[4]]
            if not cands:
                unresolved += 1
                continue
            if len({c[1] for c in cands}) > 1 or any(c[0] != path for c in cands):
                if closure is None:
                    closure = _closure(path, includes)
                tier = [c for c in cands if c[0] in closure] or [c for c in cands if c[0].rsplit("/", 1)[0] == folder
                                                                 ] or cands
            else:
                tier = cands
            if len({c[1] for c in tier}) > 1 or len({c[0] for c in tier if not c[3]}) > 1:
                ambiguous += 1  # several names, or one name defined in several files
                options = sorted({(c[0], c[1], c[2]) for c in tier if not c[3]} or {(c[0], c[1], c[2]) for c in tier})
                if len(options) <= MAX_CANDIDATES:
                    opts = tuple(options)
                    maybe.append((line, col, kind, enclosing, name, shared.setdefault(opts, opts)))
                continue
            near = closure or ()
            best = min(tier, key=lambda c: (c[0] != path and c[0] not in near,
                                            c[3] is (c[0] != path and c[0] not in near), c[0]))
            resolved += 1
            out.append((path, line, col, kind, enclosing, best[0], best[1], best[2], name))
        result.counts[path] = (resolved, 0, unresolved)
        if ambiguous:
            result.ambiguous[path] = ambiguous
        if maybe:
            result.candidates[path] = maybe
        if out:
            result.outgoing[path] = out


def _add_defs(defs: dict[str, list[CDef]], path: str, facts: FileFacts) -> None:
    for s in facts.symbols:
        if s.kind in _C_DEF_KINDS:
            defs.setdefault(s.name, []).append((path, s.qualname, s.line, "declaration" in s.flags,
                                                s.kind in ("function", "method")))


def _closure(path: str, includes: Mapping[str, list[str]]) -> set[str]:
    seen = {path}
    stack = [path]
    while stack:
        for t in includes.get(stack.pop(), ()):
            if t not in seen:
                seen.add(t)
                stack.append(t)
    return seen


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
