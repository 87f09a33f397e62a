"""Static resolution of one Python module's names (`link.references` drives it over the repository).

Per module: the bindings `extract.pyrefs` recorded (imports of every form, definitions, aliases), star imports
(honouring `__all__`, else the public names, transitively and safe on cycles), package re-exports, submodules
reached as attributes, and class members through repository bases for `self`, `cls` and `super()`. What a static
reading cannot settle is not guessed.
"""

from __future__ import annotations

import builtins
import operator
import sys
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from docatlas.model import FileFacts, Symbol

Ref = tuple[str, int, int, str, str, str, str, int, str]
Value = tuple[Any, ...]  # ("m", path) | ("d", path, qualname) | ("v", path, name, line) | ("i"/"s", path, cls) | X
EXTERNAL: Value = ("x",)
_BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__", "__package__",
                                        "__loader__", "__builtins__", "__annotations__", "__dict__", "__class__"}
_PY_SUFFIXES = (".py", ".pyi")


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
        self._lines: dict[Value, int] = {}  # `target_line`

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
        """The line of the definition a value denotes, each worked out once (a name is used many times)."""
        found = self._lines.get(value)
        if found is None:
            found = self._lines[value] = self._target_line(value)
        return found

    def _target_line(self, value: Value) -> int:
        if value[0] == "v":
            return int(value[3])
        m = self.mod(value[1])
        sym = m.symbols.get(value[2]) if m else None
        if sym is not None and len(value) > 3 and not sym.line <= value[3] <= sym.end_line:
            facts = self.facts[value[1]]
            sym = next((s for s in facts.symbols if s.qualname == value[2] and s.line <= value[3] <= s.end_line),
                       sym)
        return sym.line if sym else 0

    def resolve_file(self, path: str, uses: tuple[tuple[Any, ...], ...] | None = None
                     ) -> tuple[list[Ref], tuple[int, int, int]]:
        """Resolve the file's uses (`uses`: its references' uses, when the caller has them)."""
        facts = self.facts[path]
        refs = facts.references
        out: list[Ref] = []
        resolved = external = unresolved = 0
        if refs is None:
            return out, (0, 0, 0)
        ints = self._ints
        intern = sys.intern
        texts: dict[tuple[str, int], str] = {}
        for chain, pos, kind, enclosing, scope in refs.uses if uses is None else uses:
            if kind == "import":
                module, _, name = chain.partition(":")
                level = len(module) - len(module.lstrip("."))
                v = self.from_import(path, module[level:], name, level)
                values = [v]
            else:
                values = self.chain(path, scope, chain, pos[0])
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
                if text is None:  # (the chain's parts are joined once per chain and part in a file)
                    text = ".".join(chain.split(".")[: i + 1])
                    if text.startswith("<self>"):
                        text = "self" + text[6:]
                    elif text.startswith("<super>"):
                        text = "super()" + text[7:]
                    text = texts[(chain, i)] = intern(text)
                line, col, tline = pos[2 * i], pos[2 * i + 1] + 1, self.target_line(v)
                out.append((path, ints.setdefault(line, line), ints.setdefault(col, col),
                            kind if i == n - 1 else "read", enclosing, v[1], v[2], ints.setdefault(tline, tline),
                            text))
        out.sort(key=_PLACE)
        self._chain.clear()  # keyed by this file's path: no other file reads these entries
        return out, (resolved, external, unresolved)


_PLACE = operator.itemgetter(1, 2)  # (line, col) of a `Ref`
