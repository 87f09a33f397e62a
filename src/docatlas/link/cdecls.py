"""C and C++ declarations paired with their definitions: the header's prototype and the source's body.

A declaration in one file and a definition in another are one function (or `extern` variable) when they have
the same qualified name and the defining file includes the declaring one, directly or through other includes
(its include closure, from the resolved `#include`s). A declaration and a definition in the same file pair
too. A name with internal linkage (`static`) pairs the same way, as the including file is the same translation
unit (Argument Clinic's `clinic/x.c.h` declares `static ... fn_impl(...)`, `x.c` defines it). Pairs point at
the other file and the qualified name, never at a line, so a page that shows them stays right while the other
file's code moves about; `link_inputs` (stage) holds the names, so a new or removed one links again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from docatlas.link.graph import include_closure
from docatlas.model import FileFacts, Symbol

C_LANGS = ("c", "cpp", "c-header", "cuda", "objc", "objcpp")
_PAIRED_KINDS = ("function", "method", "variable")

# path -> qualified name -> [(other path, "definition" | "declaration")], sorted
Pairs = dict[str, dict[str, list[tuple[str, str]]]]
# path -> qualified name -> [(other path, other qualified name, "implementation" | "binding")], sorted
Bridges = dict[str, dict[str, list[tuple[str, str, str]]]]


def pairable(s: Symbol) -> bool:
    """Whether `s` can be half of a declaration/definition pair."""
    return s.kind in _PAIRED_KINDS and "dispatch-stub" not in s.flags \
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
        reach = include_closure(d, includes)
        for qualname, h in wanted[d]:
            if h == d or h in reach:
                out[d][qualname].append((h, "declaration"))
                out[h][qualname].append((d, "definition"))
    return {p: {q: sorted(set(v)) for q, v in sorted(names.items())} for p, names in sorted(out.items())}



def bridge_names(facts: FileFacts) -> tuple[tuple[str, ...], ...]:
    """What of a file's facts `bridge_implementations` reads: its bindings (qualified name, target) and the
    names of the functions it defines, sorted."""
    if facts.language not in C_LANGS:
        return ()
    bindings = {("b", s.qualname, s.target) for s in facts.symbols if s.kind == "binding" and s.target}
    defined = {("d", s.name) for s in facts.symbols if s.kind == "function" and "declaration" not in s.flags
               and "::" not in s.qualname}
    return tuple(sorted(bindings | defined))


def bridge_implementations(facts: Mapping[str, FileFacts], includes: Mapping[str, Iterable[str]],
                           pairs: Pairs | None = None) -> Bridges:
    """Each binding (`{"format", (PyCFunction)builtin_format, ...}`, `m.def("name", &fn)`) with the function that
    implements it in another file, and the way back. Two ways reach that file:
    - Argument Clinic writes the binding and a wrapper `builtin_format` in `clinic/bltinmodule.c.h`, and the
      module's `.c`, which includes that file, defines `builtin_format_impl`; a binding whose function is
      defined in a file that includes the binding's (`builtin_abs` for `abs`) links the same way
      (`target_impl` preferred to `target`);
    - a binding names a function its file only declares, through a header it includes (`m.def("_jit_pass_lint",
      &torch::jit::LintGraph)`): the definitions paired with that declaration (`pairs`, from
      `pair_declarations`) implement it; so does a C++ definition in an included file (a method defined in
      its class in a header). An unqualified target (`&LintGraph` inside `namespace torch::jit`) is
      looked up in the binding's namespace and the ones around it, innermost first; a name that stays
      ambiguous links nothing.
    A target defined in the binding's own file is shown on that page already ("bound as")."""
    where: dict[str, list[tuple[str, str]]] = defaultdict(list)  # function name -> [(path, qualname)]
    bindings: list[tuple[str, str, str]] = []
    for path in sorted(facts):
        for tag, *rest in bridge_names(facts[path]):
            if tag == "b":
                bindings.append((path, rest[0], rest[1]))
            else:
                where[rest[0]].append((path, rest[0]))
    # last name -> [(file, qualname, whether the file declares it (its definitions: `pairs`) or defines it)]
    declared: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for h, names in sorted((pairs or {}).items()):
        for q, others in names.items():
            if any(w == "definition" and p != h for p, w in others):
                declared[q.rpartition("::")[2]].append((h, q, True))
    for path in sorted(facts) if pairs is not None else ():  # C++ definitions an including file sees (headers)
        for q, is_declaration in pair_names(facts[path]):
            if not is_declaration and "::" in q:
                declared[q.rpartition("::")[2]].append((path, q, False))
    out: Bridges = defaultdict(lambda: defaultdict(list))
    closures: dict[str, set[str]] = {}

    def reach(p: str) -> set[str]:  # each file's closure once (`setdefault` would walk it each time)
        if p not in closures:
            closures[p] = include_closure(p, includes)
        return closures[p]

    def link(path: str, qualname: str, found: Iterable[tuple[str, str]]) -> None:
        for p, q in found:
            out[path][qualname].append((p, q, "implementation"))
            out[p][q].append((path, qualname, "binding"))

    for path, qualname, target in bindings:
        found = []
        for name in (f"{target}_impl", target):
            found = [(p, q) for p, q in where.get(name, ()) if p != path and path in reach(p)]
            if found:
                break
        if not found and pairs is not None:
            found = _through_declarations(path, qualname, target, declared, pairs, reach)
        link(path, qualname, found)
    return {p: {q: sorted(set(v)) for q, v in sorted(names.items())} for p, names in sorted(out.items())}


def _through_declarations(path: str, qualname: str, target: str,
                          declared: Mapping[str, list[tuple[str, str, bool]]], pairs: Pairs,
                          reach: Callable[[str], set[str]]) -> list[tuple[str, str]]:
    """The definitions in other files of the function `target` that `path` sees declared or defined in a file it
    includes (see `bridge_implementations`)."""
    visible = [(h, q, d) for h, q, d in declared.get(target.rpartition("::")[2], ())
               if h == path or h in reach(path)]
    if not visible:
        return []
    scope = qualname.rpartition("::")[0].split("::") if "::" in qualname else []
    wanted = target.lstrip(":")
    for i in range(len(scope), -1, -1):  # `ns::inner::f`, then `ns::f`, then `f`, for a binding in ns::inner
        full = "::".join([*scope[:i], wanted])
        if any(q == full for _h, q, _d in visible):
            found = {(p, q) for h, q, d in visible if q == full and d for p, w in pairs.get(h, {}).get(q, ())
                     if w == "definition" and p != path}
            # and a definition in an included file itself (a method defined in its class in a header)
            found |= {(h, q) for h, q, d in visible if q == full and not d and h != path}
            return sorted(found)
    return []
