"""Test links from symbol references: which files each test file exercises and how much (`tests_of`,
`tested_by`), ordered by how directly they test a file (named after it, uses, a direct import, rank), and the
usage examples a file page shows (`examples`: test files first).

Kept apart from `link.references`, which resolves the references these read (`RefIndex`), and calls
`test_links` after a full resolution and `update_test_links` after an edit's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from docatlas.keyed import copied
from docatlas.link.pyresolve import Ref


def _suites(model: Any, index: Any) -> set[str]:
    """The import roots of test suites (Django's `tests/`): their files are test code too."""
    suites = {index.root_of.get(t, "") for t, p in model.purposes.items() if p.label == "test"}
    return {r for r in suites if r and r.rsplit("/", 1)[-1].startswith("test")}


_HELPER = ("test", "test-support")


def _with_uses(model: Any, index: Any, suites: set[str], t: str) -> list[Any] | None:
    """`tests_of[t]` with the number of uses of each target, when `t` is test code that uses other files'
    definitions; else None (its links from imports stand)."""
    from docatlas.link.stage import TestLink

    purposes = model.purposes
    own_root = index.root_of.get(t, "")
    if purposes[t].label not in _HELPER and own_root not in suites:
        return None  # test code: test files, their helpers, and the files of a test suite's own import root
    uses: dict[str, int] = defaultdict(int)
    for r in model.refs.outgoing.get(t, ()):
        target = r[5]
        if target == t or purposes[target].label in _HELPER or (own_root and target.startswith(own_root + "/")):
            continue
        uses[target] += 1
    if not uses:
        return None
    merged = []
    seen = set()
    for tl in model.refs.import_tests_of.get(t, []):
        merged.append(TestLink(tl.test, tl.target, tl.names, tl.via, tl.cases, uses.get(tl.target, 0)))
        seen.add(tl.target)
    merged += [TestLink(t, target, (), "", (), n) for target, n in sorted(uses.items()) if target not in seen]
    return merged


def _add_links(tested_by: dict[str, dict[str, Any]], links: Iterable[Any], target: str | None = None) -> None:
    """One entry per (test, target) in `tested_by[target][test]`: direct import wins over re-export."""
    from docatlas.link.stage import TestLink

    for tl in links:
        if target is not None and tl.target != target:
            continue
        by_test = tested_by.setdefault(tl.target, {})
        prev = by_test.get(tl.test)
        if prev is None:
            by_test[tl.test] = tl
        else:
            by_test[tl.test] = TestLink(
                tl.test, tl.target, tuple(dict.fromkeys(prev.names + tl.names)),
                "" if "" in (prev.via, tl.via) else prev.via, tuple(dict.fromkeys(prev.cases + tl.cases)),
                max(prev.uses, tl.uses))


def _ordered(model: Any, target: str, links: Iterable[Any]) -> list[Any]:
    """`tested_by[target]`: named after it first, then by uses, then direct import, then rank."""
    rank = model.rank
    imports = model.refs.import_tests_of

    def direct(test: str) -> bool:
        return any(tl.target == target and not tl.via for tl in imports.get(test, ()))

    return sorted(links, key=lambda tl: (not named_after(tl.test, target), -tl.uses, not direct(tl.test),
                                         -rank.get(tl.test, 0.0), tl.test))


def test_links(model: Any, index: Any) -> None:
    """Each test file's `tests_of` from its references (with the uses of each target), and every file's
    `tested_by` made from them."""
    suites = _suites(model, index)
    for t in list(model.refs.outgoing):
        merged = _with_uses(model, index, suites, t)
        if merged is not None:
            model.tests_of[t] = merged
    tested_by: dict[str, dict[str, Any]] = {}
    for links in model.tests_of.values():
        _add_links(tested_by, links)
    model.tested_by = {target: _ordered(model, target, by_test.values())
                       for target, by_test in sorted(tested_by.items())}


def update_test_links(model: Any, index: Any, redo: set[str]) -> set[str]:
    """`test_links` after the files of `redo` were resolved again: only their own `tests_of` entries, and the
    `tested_by` lists of the files those point at (before or after), can change. Returns those files."""
    suites = _suites(model, index)
    before = model.tests_of
    tests_of = copied(before)
    changed: set[str] = set()
    for t in sorted(redo):
        merged = _with_uses(model, index, suites, t)
        now = merged if merged is not None else model.refs.import_tests_of.get(t)
        if now != before.get(t):
            changed.add(t)
            if now is None:
                tests_of.pop(t, None)
            else:
                tests_of[t] = now
    model.tests_of = tests_of
    targets = {tl.target for t in changed for tl in (*before.get(t, ()), *tests_of.get(t, ()))}
    if not targets:
        return targets
    tested_by = dict(model.tested_by)
    for target in targets:
        entries: dict[str, dict[str, Any]] = {
            target: {tl.test: tl for tl in tested_by.get(target, ()) if tl.test not in changed}}
        for t in sorted(changed):
            _add_links(entries, tests_of.get(t, ()), target)
        if entries[target]:
            tested_by[target] = _ordered(model, target, entries[target].values())
        else:
            tested_by.pop(target, None)
    model.tested_by = dict(sorted(tested_by.items()))
    return targets


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
