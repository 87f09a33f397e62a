"""C, C++ and CUDA references resolved by name: the names `extract.crefs` recorded per file matched against the
definitions of every C-family file, preferring those the file's include closure reaches, then those of its own
folder; a use that several definitions could mean is kept with its candidates, never assigned to one.

Kept apart from `link.references` (which drives both languages and stores `RefIndex`) so that the C-family
rules change without touching how the index is stored or updated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from docatlas.link import refdeps
from docatlas.link.pyresolve import Ref
from docatlas.model import FileFacts

if TYPE_CHECKING:
    from docatlas.link.references import RefIndex

CDef = tuple[str, str, int, bool, bool]  # path, qualname, line, is a declaration, is a function
Candidates = tuple[int, int, str, str, str, tuple[tuple[str, str, int], ...]]  # line, col, kind, enclosing, name
MAX_CANDIDATES = 8

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
        result.interfaces[path] = refdeps.face(files[path])  # `references.interface`
        result.masks[path] = refdeps.mask(refdeps.mentioned(files[path]))  # `references._file_deps`
        result.stars.pop(path, None)
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
