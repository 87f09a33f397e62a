"""Related files: a file's nearest neighbours by references, tests, imports, importers and name, each with its
reason (what `link.stage` stores per file and the page's "Related Files" shows)."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from docatlas.paths import folder_of

# the reason of the last resort: a file related by nothing else lists the most central files of its folder
SIBLING = "same folder (no import, test or naming relation found; ranked by centrality)"

if TYPE_CHECKING:
    from docatlas.link.stage import RepoModel


_GENERIC_STEMS = {"__init__", "index", "main", "utils", "util", "common", "base", "types", "test", "README",
                  "CMakeLists", "BUILD", "conftest", "setup", "mod", "lib"}


def related_files(path: str, model: RepoModel, stems: dict[tuple[str, str], list[str]]) -> list[tuple[str, str]]:
    reasons: dict[str, list[str]] = defaultdict(list)
    order: dict[str, int] = {}

    def add(p: str, reason: str, prio: int) -> None:
        if p == path:
            return
        reasons[p].append(reason)
        order[p] = min(order.get(p, prio), prio)

    for tl in model.tested_by.get(path, ()):
        what = f"imports {', '.join(f'`{n}`' for n in tl.names[:3])}" if tl.names else (
            "imports it" if not tl.uses else f"{tl.uses} use{'s' if tl.uses != 1 else ''} of its definitions")
        via = f" through `{tl.via}`" if tl.via else ""
        add(tl.test, f"tests this file ({what}{via})", 0)
    for tl in model.tests_of.get(path, ()):
        add(tl.target, "code under test here" + (f" (through `{tl.via}`)" if tl.via else ""), 0)
    tests = set(reasons)
    weight: dict[str, int] = defaultdict(int)  # references between the two files, both ways
    for p, (defs, sites) in _ref_pairs(model.refs.outgoing.get(path, ()), 5, 6).items():
        weight[p] += sites
        if p not in tests:
            add(p, f"uses {defs} of its definitions at {_n(sites, 'site', 'sites')}", 1)
    for r in model.imports.get(path, ()):
        if r.category == "repo" and r.target:
            add(r.target, f"imported at line {r.imp.line}", 1)
    for p, (defs, sites) in _ref_pairs(model.refs.incoming.get(path, ()), 0, 6).items():
        weight[p] += sites
        if p not in tests:
            add(p, f"uses {defs} of this file's definitions at {_n(sites, 'site', 'sites')}", 2)
    for p in model.imported_by.get(path, ()):
        add(p, "imports this file", 2)
    folder, name = _split(path)
    stem, ext = _stem_ext(name)
    if stem not in _GENERIC_STEMS:
        parent = _split(folder)[0] if folder else None
        cands: list[str] = [*stems.get((stem, folder), ()), *stems.get((stem, "^" + folder), ())]
        if parent is not None:
            cands += [*stems.get((stem, parent), ()), *stems.get((stem, "^" + parent), ())]
        for other in sorted(set(cands)):
            o_ext = _stem_ext(_split(other)[1])[1]
            if other != path and o_ext != ext and not model.summary(other).binary:
                add(other, f"same name `{stem}` in another language ({o_ext or 'no extension'})", 3)
    if not reasons:
        # (summaries, not facts: a rebuild has them all without unpickling a sibling's facts; PyTorch's
        # `test/` holds hundreds)
        siblings = [p for p in model.folders[folder_of(path)].files
                    if p != path and not model.summary(p).binary]
        for p in model.by_rank(siblings)[:5]:
            add(p, SIBLING, 4)
    ranked = sorted(reasons, key=lambda p: (order[p], -weight.get(p, 0), -model.rank.get(p, 0.0), p))
    return [(p, "; ".join(dict.fromkeys(reasons[p]))) for p in ranked]


def _ref_pairs(refs: Any, other: int, target: int) -> dict[str, tuple[int, int]]:
    """Per other file: (distinct definitions, sites) of the references `refs` (field `other` is the file,
    `target` the definition's qualname) between it and this file."""
    defs: dict[str, set[str]] = defaultdict(set)
    sites: dict[str, int] = defaultdict(int)
    for r in refs:
        if r[0] != r[5]:
            defs[r[other]].add(r[target])
            sites[r[other]] += 1
    return {p: (len(d), sites[p]) for p, d in defs.items()}


def _n(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


# -- the stage ----------------------------------------------------------------------------------


def stems(paths: list[str]) -> dict[tuple[str, str], list[str]]:
    """(stem, folder) and (stem, "^" + grandparent) -> paths: where `related_files` looks for same-named files."""
    stems: dict[tuple[str, str], list[str]] = defaultdict(list)
    for p in paths:
        folder, fname = _split(p)
        stem = _stem_ext(fname)[0]
        stems[(stem, folder)].append(p)
        if folder:
            stems[(stem, "^" + _split(folder)[0])].append(p)
    return stems


def _split(path: str) -> tuple[str, str]:
    folder, _, name = path.rpartition("/")
    return folder, name


def _stem_ext(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    return (stem, "." + ext) if dot and stem else (name, "")


# -- reuse --------------------------------------------------------------------------------------
