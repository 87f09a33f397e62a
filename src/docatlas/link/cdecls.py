"""C and C++ declarations paired with their definitions: the header's prototype and the source's body.

A declaration in one file and a definition in another are one function (or `extern` variable) when they have
the same qualified name and the defining file includes the declaring one, directly or through other includes
(its include closure, from the resolved `#include`s). A declaration and a definition in the same file pair
too. Names with internal linkage (`static` functions and variables) never pair across files. Pairs point at
the other file and the qualified name, never at a line, so a page that shows them stays right while the other
file's code moves about; `link_inputs` (stage) holds the names, so a new or removed one links again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from docatlas.model import FileFacts, Symbol

C_LANGS = ("c", "cpp", "c-header", "cuda", "objc", "objcpp")
_PAIRED_KINDS = ("function", "method", "variable")

# path -> qualified name -> [(other path, "definition" | "declaration")], sorted
Pairs = dict[str, dict[str, list[tuple[str, str]]]]


def pairable(s: Symbol) -> bool:
    """Whether `s` can be half of a declaration/definition pair."""
    return s.kind in _PAIRED_KINDS and "static" not in s.flags and "dispatch-stub" not in s.flags \
        and not s.macro.startswith(("TORCH_IMPL", "TORCH_META", "TORCH_PRECOMPUTE"))


def pair_names(facts: FileFacts) -> tuple[tuple[str, bool], ...]:
    """What of a file's facts the pairing reads: (qualified name, is a declaration), sorted."""
    if facts.language not in C_LANGS:
        return ()
    return tuple(sorted({(s.qualname, "declaration" in s.flags) for s in facts.symbols if pairable(s)}))


def pair_declarations(facts: Mapping[str, FileFacts], includes: Mapping[str, Iterable[str]]) -> Pairs:
    """Every declaration with the definitions that the files including it give (see the module doc), and the
    way back. `includes` maps a file to the repository files its `#include`s resolve to."""
    declared: dict[str, set[str]] = defaultdict(set)
    defined: dict[str, set[str]] = defaultdict(set)
    for path in sorted(facts):
        for qualname, is_declaration in pair_names(facts[path]):
            (declared if is_declaration else defined)[qualname].add(path)
    wanted: dict[str, list[tuple[str, str]]] = defaultdict(list)  # defining file -> [(qualname, declaring file)]
    for qualname in sorted(declared.keys() & defined.keys()):
        for d in sorted(defined[qualname]):
            for h in sorted(declared[qualname]):
                wanted[d].append((qualname, h))
    out: Pairs = defaultdict(lambda: defaultdict(list))
    for d in sorted(wanted):
        reach = _closure(d, includes)
        for qualname, h in wanted[d]:
            if h == d or h in reach:
                out[d][qualname].append((h, "declaration"))
                out[h][qualname].append((d, "definition"))
    return {p: {q: sorted(set(v)) for q, v in sorted(names.items())} for p, names in sorted(out.items())}


def _closure(path: str, includes: Mapping[str, Iterable[str]]) -> set[str]:
    """The files `path` includes, directly or through others."""
    seen: set[str] = set()
    stack = [path]
    while stack:
        for target in includes.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen
