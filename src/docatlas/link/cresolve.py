"""C, C++ and CUDA references resolved by name: the names `extract.crefs` recorded per file matched against the
definitions of every C-family file, preferring those the file's include closure reaches, then those of its own
folder; a use that several definitions could mean is kept with its candidates, never assigned to one.

Kept apart from `link.references` (which drives both languages and stores `RefIndex`) so that the C-family
rules change without touching how the index is stored or updated.
"""

from __future__ import annotations

import functools
import operator
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from docatlas.keyed import copied, key_sorted
from docatlas.link import refdeps
from docatlas.link.graph import components
from docatlas.link.pyresolve import Ref
from docatlas.model import FileFacts

if TYPE_CHECKING:
    from docatlas.link.references import RefIndex

# path, qualname, line, is a declaration, 1 a function, 2 a method, 3 a static function of a source file, else 0
CDef = tuple[str, str, int, bool, int]
Candidates = tuple[int, int, str, str, str, tuple[tuple[str, str, int], ...]]  # line, col, kind, enclosing, name
MAX_CANDIDATES = 8
# what a name means in one file: None unresolved, (True, the definition) resolved, (False, its candidates, or
# None when more than `MAX_CANDIDATES`) ambiguous
_Outcome = tuple[bool, Any] | None
_UNSEEN = (False, False)  # (not an outcome: a key not worked out yet in this file)

_C_DEF_KINDS = frozenset({"function", "method", "class", "struct", "union", "enum", "typedef", "alias", "macro",
                          "type"})


_FUNCTION_KINDS = {"function": 1, "method": 2}
_MEMBER_SCOPES = frozenset({"method", "class", "struct", "union"})  # where a method is called by its name alone


def c_refs(model: Any, result: RefIndex, paths: Iterable[str] | None = None) -> None:
    """Resolve the names C-family files use by name against the definitions of every C-family file: first
    what the language allows (`_narrow`: the qualifier, a member, a value; outside a class an unqualified name
    is no method; a source file's types, macros and static functions only where it is included), then a name
    with candidates in the file's include closure takes those, else those its includers' closures reach
    (`_Reach.context`), else those in its folder, else all; one qualified name defined in at most one file resolves
    (to its declaration in the closure, else its definition); several names, or one defined in several files,
    are counted as ambiguous and keep their candidates (at most `MAX_CANDIDATES`); none as unresolved (mostly
    the standard library and third-party code)."""
    from docatlas.link.resolve import C_LANGS

    files = model.files
    cfiles = [p for p in files if model.summary(p).language in C_LANGS]
    if paths is None or not result.c_defs:
        defs: dict[str, list[CDef]] = defaultdict(list)
        for p in cfiles:
            _add_defs(defs, p, files[p])
        result.c_defs = dict(defs)
    else:  # the redone files' definitions made again (their lines may have moved); the other names' lists are
        # the last build's (PyTorch: 22 of 39,810 names hold a redone file's definition; all rebuilt, 0.08 s)
        redo = set(paths)
        mine: dict[str, list[CDef]] = {}
        for p in sorted(redo):
            _add_defs(mine, p, files[p])
        defs = dict(result.c_defs)
        touched = [name for name, before in defs.items() if any(c[0] in redo for c in before)]
        redone = set(touched)
        by_place = operator.itemgetter(0, 2)  # (path, line)
        for name in [*touched, *(n for n in mine if n not in redone)]:
            entries = [c for c in defs.get(name, ()) if c[0] not in redo] + mine.get(name, [])
            if entries:
                entries.sort(key=by_place)
                defs[name] = entries
            else:
                del defs[name]
        result.c_defs = defs
    includes = {p: [r.target for r in model.imports.get(p, ()) if r.category == "repo" and r.target]
                for p in cfiles}
    includers: dict[str, list[str]] = defaultdict(list)
    for p in cfiles:
        for t in includes[p]:
            includers[t].append(p)
    reach = _Reach(includes)  # include closures as bit sets, each worked out once
    shared: dict[tuple[tuple[str, str, int], ...], tuple[tuple[str, str, int], ...]] = {}  # one object each
    plain = _Plain()
    # (name, a value, outside a class) -> `_Narrowed`
    narrowed: dict[tuple[str, bool, bool], _Narrowed] = {}
    scopes = _Scopes(defs, plain)
    for path in cfiles if paths is None else paths:
        result.interfaces[path] = refdeps.face(files[path])  # `references.interface`
        result.stars.pop(path, None)
        refs = files[path].references
        uses = refs.uses if refs is not None else ()  # (unpickled on each read: once here)
        result.masks[path] = refdeps.mask(refdeps.mentioned(files[path], uses))  # `references._file_deps`
        if refs is None:
            continue
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        closure: int | None = None  # the file's include closure (`_Reach`), worked out on first need
        context: int | None = None  # what it sees through its includers (`_Reach.context`)
        out: list[Ref] = []
        maybe: list[Candidates] = []
        resolved = unresolved = ambiguous = 0
        members = {s.qualname for s in files[path].symbols if s.kind in _MEMBER_SCOPES}
        # what each key means in this file, worked out once for all its uses here (`_Outcome`)
        outcome: dict[tuple[str, bool, bool], _Outcome] = {}
        for name, line, col, kind, enclosing in uses:
            key = (name, kind == "read", enclosing not in members)
            got = outcome.get(key, _UNSEEN)
            if got is _UNSEEN:
                found = narrowed.get(key)
                if found is None:
                    cands = _narrow(name, kind, defs, scopes, plain)
                    if cands and key[2] and name[0] != "." and "::" not in name:
                        cands = [c for c in cands if c[4] != 2]  # outside a class: no method
                    found = narrowed[key] = _Narrowed(cands, reach)
                cands = found.cands
                # names, or files; one candidate is the answer whatever the closure and folder prefer (they
                # choose among candidates, `tier or cands`): no closure to work out
                several = len(cands) > 1 and (found.several or len(found.files) > 1 or path not in found.files)
                if found.local_files:  # a type, macro or static function of a source file is seen where it is
                    if closure is None:  # included
                        closure = reach.closure(path)
                    if context is None:
                        context = reach.context(path, includers)
                    seen = closure | context
                    visible = reach.members(seen & found.local_bits)
                    if visible:
                        cands = [c for c, local in zip(cands, found.local, strict=True) if not local or c[0] in visible]
                        several = len({c[1] for c in cands}) > 1 or any(c[0] != path for c in cands)
                    else:
                        cands = found.linked
                        several = found.linked_several or len(found.linked_files) > 1 or (
                            bool(found.linked_files) and path not in found.linked_files)
                if not cands:
                    got = None
                else:
                    if several:
                        if closure is None:
                            closure = reach.closure(path)
                        # a prototype in the file itself (a forward declaration) says nothing of where the
                        # function is; `found.bits` (all candidates' files) first: mostly the closure has none
                        tier = _within(reach, closure, found, cands, path)
                        if not tier and includers.get(path):  # a header sees what the files including it see
                            if context is None:
                                context = reach.context(path, includers)
                            tier = _within(reach, context, found, cands, None)
                        if not tier and folder in found.folders:
                            tier = [c for c in cands if c[0].rsplit("/", 1)[0] == folder
                                    and not (c[3] and c[0] == path)]
                        tier = tier or cands
                    else:
                        tier = cands
                    if len(tier) == 1:  # (the most common outcome: no set to make)
                        got = (True, tier[0])
                    elif len({c[1] for c in tier}) > 1 or len({c[0] for c in tier if not c[3]}) > 1:
                        # several names, or one name defined in several files; sorted only when kept (a
                        # member name has hundreds)
                        options = ({(c[0], c[1], c[2]) for c in tier if not c[3]}
                                   or {(c[0], c[1], c[2]) for c in tier})
                        got = (False, None)
                        if len(options) <= MAX_CANDIDATES:
                            opts = tuple(sorted(options))
                            got = (False, shared.setdefault(opts, opts))
                    else:
                        # a declaration the closure reaches, else a definition there, else one elsewhere
                        near = closure if closure is not None else reach.own(path)
                        got = (True, min(tier, key=functools.partial(_preference, reach, near, path)))
                outcome[key] = got
            if got is None:
                unresolved += 1
            elif got[0]:
                best = got[1]
                resolved += 1
                out.append((path, line, col, kind, enclosing, best[0], best[1], best[2], name))
            else:
                ambiguous += 1
                if got[1] is not None:
                    maybe.append((line, col, kind, enclosing, name, got[1]))
        result.counts[path] = (resolved, 0, unresolved)
        if ambiguous:
            result.ambiguous[path] = ambiguous
        if maybe:
            result.candidates[path] = maybe
        if out:
            result.outgoing[path] = out


_FILE, _NAME = operator.itemgetter(0), operator.itemgetter(1)  # of a `CDef`


class _Narrowed:
    """What `_narrow` leaves a name (`cands`, in order), and what choosing among them in a file needs: whether
    they have several qualified names, their files (also as `_Reach` bits, and their folders), which are
    `_file_local` (`local`, per candidate) and in which files (and bits); `linked`: those that are not, with
    the same two facts (what a file that sees none of the local ones' files keeps). The bits let a file whose
    include closure reaches none of the files skip looking at each candidate (a member name such as `.size`
    has hundreds)."""

    __slots__ = ("bits", "cands", "files", "folders", "linked", "linked_files", "linked_several", "local",
                 "local_bits", "local_files", "several")

    def __init__(self, cands: list[CDef], reach: _Reach) -> None:
        self.cands = cands
        self.several = len(set(map(_NAME, cands))) > 1
        self.files = frozenset(map(_FILE, cands))
        self.bits = reach.mask(self.files)
        self.folders = frozenset(f.rsplit("/", 1)[0] for f in self.files)
        self.local = tuple(map(_file_local, cands))
        if any(self.local):
            self.local_files = frozenset(c[0] for c, local in zip(cands, self.local, strict=True) if local)
            self.local_bits = reach.mask(self.local_files)
            self.linked = [c for c, local in zip(cands, self.local, strict=True) if not local]
            self.linked_several = len(set(map(_NAME, self.linked))) > 1
            self.linked_files = frozenset(map(_FILE, self.linked))
        else:  # (mostly: none is local, all are linked; never modified, so shared)
            self.local_files, self.local_bits, self.linked = frozenset(), 0, cands
            self.linked_several, self.linked_files = self.several, self.files


def _within(reach: _Reach, seen: int, found: _Narrowed, cands: list[CDef], path: str | None) -> list[CDef]:
    """The candidates (`cands`: `found`'s, or some of them) whose files are in `seen` (bits of `reach`), in
    order, but for a declaration in `path` itself."""
    inside = reach.members(seen & found.bits)
    if not inside:
        return []
    return [c for c in cands if c[0] in inside and not (c[3] and c[0] == path)]


def _preference(reach: _Reach, near: int, path: str, c: CDef) -> tuple[bool, bool, str]:
    """Which of one qualified name's entries a use means: a declaration the include closure (`near`, bits of
    `reach`) reaches (a forward declaration in the file itself is none), else a definition there, else one
    elsewhere, else any."""
    far = not reach.has(near, c[0]) or (c[3] and c[0] == path)
    return far, c[3] is far, c[0]


class _Scopes:
    """The names that qualify some definition (`a` and `B` of `a::B::f`), worked out on first need: `_narrow`
    asks only for a qualified use whose name has definitions but none that match, which the few files a rebuild
    resolves again may never make (PyTorch: 90k definitions, 0.07 s)."""

    def __init__(self, defs: Mapping[str, list[CDef]], plain: _Plain) -> None:
        self._defs, self._plain = defs, plain
        self._names: set[str] | None = None

    def __contains__(self, name: str) -> bool:
        if self._names is None:
            plain = self._plain
            self._names = {part for entries in self._defs.values() for c in entries
                           for part in plain(c[1]).split("::")[:-1]}
        return name in self._names


class _Plain:
    """Qualified names without template arguments (`a::B<T>::f` -> `a::B::f`), each worked out once."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, qualname: str) -> str:
        out = self.seen.get(qualname)
        if out is None:
            out = qualname
            while "<" in out and not out.rsplit("::", 1)[-1].startswith("operator"):
                shorter = _TEMPLATE_ARGS.sub("", out)
                if shorter == out:
                    break
                out = shorter
            self.seen[qualname] = out
        return out


_TEMPLATE_ARGS = re.compile(r"<[^<>]*>")


def _narrow(used: str, kind: str, defs: Mapping[str, list[CDef]], scopes: _Scopes, plain: _Plain) -> list[CDef]:
    """The definitions a use can mean, before the include closure and the folder choose among them: by its last
    name, and only what C++ allows: a function for a value (`crefs`), a method for a member called through an
    object (`.f`), and for a qualified name (`ns::f`) the definitions whose qualified name ends so. A qualifier
    that names a namespace or class of the repository but matches none (`std::max`, `at::empty` of generated
    code) means a definition outside the repository: none. One the repository never names (a namespace alias,
    `namespace F = ...`) cannot be checked, so it does not narrow."""
    member = used.startswith(".")
    head, _, base = used.lstrip(".").rpartition("::")
    cands = defs.get(base)
    if not cands:
        return []
    if member:
        return [c for c in cands if c[4] == 2]
    if kind == "read":  # a name used as a value: only a function's counts (`crefs`)
        cands = [c for c in cands if c[4]]
    if head and cands:
        suffix = "::" + used
        match = [c for c in cands if ("::" + plain(c[1])).endswith(suffix)]
        first = head.split("::", 1)[0]
        if match or first == "std" or first in scopes:  # `std` is reserved: never an alias
            return match
    return cands


_SOURCE_SUFFIXES = (".c", ".cc", ".cpp", ".cxx", ".c++", ".cu", ".m", ".mm")  # not headers: never included


def _file_local(c: CDef) -> bool:
    """A definition only its own file (or one including it) can mean: a type, macro or typedef of a source
    file (they have no linkage) or a `static` function there."""
    return c[4] in (0, 3) and c[0].endswith(_SOURCE_SUFFIXES)


def _add_defs(defs: dict[str, list[CDef]], path: str, facts: FileFacts) -> None:
    source = path.endswith(_SOURCE_SUFFIXES)
    for s in facts.symbols:
        if s.kind in _C_DEF_KINDS:
            fn = _FUNCTION_KINDS.get(s.kind, 0)
            if fn == 1 and source and "static" in s.flags:
                fn = 3
            defs.setdefault(s.name, []).append((path, s.qualname, s.line, "declaration" in s.flags, fn))


MAX_INCLUDERS = 8  # a header included by more files has no one context: its own closure, folder, then all


class _Reach:
    """Include closures as bit sets (bit i: the i-th file a closure met), each file's worked out once: files
    that include each other (a strongly connected component) share one closure, theirs and those of the
    components they include, so a closure is a few `|` of ints rather than a walk of every file it reaches
    (PyTorch's headers reach thousands). Tarjan's walk resumes across calls: a file whose closure is known is
    not walked again. `has(closure(p), q)` is `q in link.graph.include_closure(p, includes)`."""

    def __init__(self, includes: Mapping[str, list[str]]) -> None:
        self.includes = includes
        self.pos: dict[str, int] = {}
        self.paths: list[str] = []  # by position
        self.bits: dict[str, int] = {}

    def has(self, bits: int, path: str) -> bool:
        i = self.pos.get(path)
        return i is not None and (bits >> i) & 1 == 1

    def mask(self, paths: Iterable[str]) -> int:
        """The set holding `paths`."""
        bits = 0
        for p in paths:
            bits |= self.own(p)
        return bits

    def own(self, path: str) -> int:
        """The set holding `path` alone."""
        i = self.pos.get(path)
        if i is None:
            i = self.pos[path] = len(self.pos)
            self.paths.append(path)
        return 1 << i

    def members(self, bits: int) -> set[str]:
        """The files of a set, lowest bit first: few, where a set is mostly many (a closure)."""
        found = set()
        while bits:
            low = bits & -bits
            found.add(self.paths[low.bit_length() - 1])
            bits ^= low
        return found

    def closure(self, path: str) -> int:
        found = self.bits.get(path)
        if found is None:
            self._walk(path)
            found = self.bits[path]
        return found

    def context(self, path: str, includers: Mapping[str, list[str]]) -> int:
        """What a file sees through the files that include it (a header, Argument Clinic's `clinic/x.c.h`, a
        `.c` file included by another): the include closures of its includers, when there are at most
        `MAX_INCLUDERS` of them; C compiles a header in its includer's context."""
        users = includers.get(path, [])
        found = 0
        if len(users) <= MAX_INCLUDERS:
            for user in users:
                found |= self.closure(user)
        return found

    def _walk(self, start: str) -> None:
        """The components `start` reaches and no earlier walk closed (`graph.components`), each given its
        members' bits and the closures of the components it includes, all closed before it."""
        includes, bits = self.includes, self.bits
        for comp in components((start,), includes, closed=bits):
            acc = 0
            for w in comp:
                acc |= self.own(w)
                for t in includes.get(w, ()):
                    found = bits.get(t)  # None: a member of this component
                    if found is not None:
                        acc |= found
            for w in comp:
                bits[w] = acc


Possible = tuple[str, int, int, int]  # a file, its uses that could mean the definition, fewest candidates, 1st line


def possible_users(candidates: Mapping[str, list[Candidates]]) -> dict[str, dict[str, list[Possible]]]:
    """Who possibly uses each definition, from the ambiguous uses (`RefIndex.candidates`): per target file, per
    qualified name, the files with a use that lists it among its candidates, each with how many such uses, the
    fewest candidates one of them has and the line of the first; files by path. What a page shows as "possibly
    used by"."""
    found: dict[str, dict[str, dict[str, list[int]]]] = defaultdict(lambda: defaultdict(dict))
    for source in sorted(candidates):
        per_options: dict[int, list[Any]] = {}
        for use in candidates[source]:  # in source order
            entry = per_options.get(id(use[5]))
            if entry is None:
                per_options[id(use[5])] = [use[5], 1, use[0]]
            else:
                entry[1] += 1
        for options, uses, first in per_options.values():
            for tpath, qual in dict.fromkeys((c[0], c[1]) for c in options):  # overloads: one entry
                if tpath == source:
                    continue
                slot = found[tpath][qual].get(source)
                if slot is None:
                    found[tpath][qual][source] = [uses, len(options), first]
                else:
                    slot[0] += uses
                    slot[1] = min(slot[1], len(options))
                    slot[2] = min(slot[2], first)
    return {t: {q: [(s, n, k, ln) for s, (n, k, ln) in sorted(users.items())] for q, users in sorted(quals.items())}
            for t, quals in sorted(found.items())}


def update_possible(possible: Mapping[str, dict[str, list[Possible]]], redo: list[str],
                    old: Mapping[str, list[Candidates]], new: Mapping[str, list[Candidates]]
                    ) -> tuple[MutableMapping[str, dict[str, list[Possible]]], set[str]]:
    """`possible_users` after the files of `redo` were resolved again (`old`/`new`: the candidates before and
    after; only their rows are read): the entries of the targets their old or new ambiguous uses name are made
    again, every other target's kept as it was. Returns it and the targets whose entries changed."""
    if not redo:
        return copied(possible), set()
    gone = set(redo)
    targets = {c[0] for p in redo for use in old.get(p) or () for c in use[5]}
    added = possible_users({p: new[p] for p in redo if new.get(p)})
    targets |= set(added)
    out = copied(possible)
    changed: set[str] = set()
    for t in sorted(targets):
        quals: dict[str, list[Possible]] = {}
        for q, users in possible.get(t, {}).items():
            kept = [u for u in users if u[0] not in gone]
            if kept:
                quals[q] = kept
        for q, users in added.get(t, {}).items():
            quals[q] = sorted(quals.get(q, []) + users)
        quals = dict(sorted(quals.items()))
        if quals != possible.get(t, {}):
            changed.add(t)
        if quals:
            out[t] = quals
        else:
            out.pop(t, None)
    return key_sorted(out), changed
