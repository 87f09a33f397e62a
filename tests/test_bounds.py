"""Page size bounds: keyword pages split by prefix (with a table of contents) and long keyword lines cut, so
that no page passes what a Git host renders; the bounds are planned from summaries and must hold on the text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docatlas.cli import main
from docatlas.model import Symbol
from docatlas.render import bounds as B


def _size(k: str) -> int:
    return 100


def test_plan_pages_splits_by_prefix_until_each_fits() -> None:
    keys = sorted([f"torch{i}" for i in range(30)] + [f"tensor{i}" for i in range(5)] + ["T", "t", "T::x"],
                  key=lambda k: (k.lower(), k))
    plan = B.plan_pages(keys, _size, budget=1000)
    names = [name for name, _ in plan]
    assert len(set(names)) == len(names)
    assert all(sum(map(_size, part)) <= 1000 for _, part in plan)
    assert sorted(k for _, part in plan for k in part) == sorted(keys)
    assert all(re.fullmatch(r"[a-z0-9_]+(-\d+)?", n) for n in names)  # safe, case-free file names
    # `T` and `t` cannot be told apart by any prefix: they share a page; 30 `torch<i>` go deeper than `to`
    assert any(part == ["T", "t"] for _, part in plan)
    assert {"torch1", "torch2"} <= {n for n in names}


def test_plan_pages_numbers_pages_of_keys_no_prefix_tells_apart() -> None:
    keys = [f"a{c}" for c in "+-*/<>=!%^&|~"]  # every one reads `a_`
    plan = B.plan_pages(keys, _size, budget=500)
    assert [n for n, _ in plan] == ["a_-1", "a_-2", "a_-3"]
    assert [k for _, part in plan for k in part] == sorted(keys, key=B.listing_order)  # numbered in listing order
    assert B.plan_pages(keys[:3], _size, budget=500) == [("", keys[:3])]


def test_keyword_pages_stay_within_their_budget(make_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"pkg/mod{i:02d}.py": "".join(f"def {w}_{j}():\n    pass\n\n\n" for w in ("take", "tally", "zip")
                                          for j in range(8)) + "def shared():\n    pass\n"
             for i in range(40)}
    repo = make_repo(files)
    monkeypatch.setattr(B, "LIST_BUDGET", 6000)
    monkeypatch.setattr(B, "KEYWORD_BUDGET", 2000)
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    letters = sorted(p.relative_to(out).as_posix() for p in (out / "_keywords").rglob("*.md"))
    assert "_keywords/T.md" in letters and any(p.startswith("_keywords/T/") for p in letters)
    for page in letters:
        text = (out / page).read_text(encoding="utf-8")
        listed = "".join(line + "\n" for line in text.splitlines() if line.startswith("- **"))
        assert len(listed.encode()) <= 6000, page  # the bound planned from summaries holds on the text
        for link in re.findall(r"\]\((\.[^)#]*)", text):
            assert (out / page).parent.joinpath(link).resolve().is_file(), (page, link)
    toc = (out / "_keywords/T.md").read_text(encoding="utf-8")
    assert "| Page | Keywords | From | To |" in toc
    # every `take_*`/`tally_*` keyword is listed exactly once over the leaf pages
    listed = [m for p in letters if p.startswith("_keywords/T/")
              for m in re.findall(r"^- \*\*`([^`]+)`\*\*", (out / p).read_text(), re.M)]
    assert sorted(listed) == sorted(f"{w}_{j}" for w in ("take", "tally") for j in range(8))
    # `shared` is defined in 40 files: its line is cut, says how many more and how to find them
    shared = (out / "_keywords/S.md").read_text(encoding="utf-8")
    line = next(ln for ln in shared.splitlines() if ln.startswith("- **`shared`**"))
    shown = line.count("[function in")
    assert 0 < shown < 40
    assert f"… and {40 - shown:,} more definitions, not listed" in line
    assert "docatlas search 'shared' --limit 60" in line
    # the folder's subtree index would pass the budget too: it lists the files' own keyword pages instead
    sub = (out / "pkg/sub.md").read_text(encoding="utf-8")
    assert "too many keywords themselves for one page that a Git host still renders" in sub
    assert "[`mod00.py_kw.md`](./mod00.py_kw.md)" in sub and "### `take_0`" not in sub


def _anchors_resolve(out: Path) -> int:
    """Every `page#sym-...` link of every page points at an anchor that page holds; returns how many."""
    anchors: dict[Path, set[str]] = {}
    checked = 0
    for page in out.rglob("*.md"):
        for link, frag in re.findall(r"\]\((\.[^)#\s]*)#(sym-[^)\s]*)\)", page.read_text(encoding="utf-8")):
            target = page.parent.joinpath(link).resolve()
            if target not in anchors:
                anchors[target] = set(re.findall(r'<a id="([^"]+)"></a>', target.read_text(encoding="utf-8")))
            assert frag in anchors[target], (page, link, frag)
            checked += 1
    return checked


def test_long_code_structure_continues_on_more_pages(make_repo, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from docatlas import summary
    from docatlas.render import structure

    body = "".join(f"def function_number_{i}(a, b, c):\n    \"\"\"Does step {i}.\"\"\"\n\n\n" for i in range(120))
    repo = make_repo({"big.py": body, "small.py": "def tiny():\n    pass\n"})
    monkeypatch.setattr(summary, "STRUCTURE_BUDGET", 4000)
    monkeypatch.setattr(structure, "PART_BUDGET", 6000)
    monkeypatch.setattr(B, "LIST_BUDGET", 6000)
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    parts = sorted(p.name for p in out.glob("big.py_docs-*.md"))
    assert parts and not list(out.glob("small.py_docs-*.md"))
    page = (out / "big.py_docs.md").read_text(encoding="utf-8")
    assert "definitions (line order) are listed here; the list is too long for one page" in page
    assert "[part 2](./big.py_docs-2.md): definitions " in page
    rows = [len(re.findall(r'^- <a id="sym-', (out / n).read_text(), re.M)) for n in ["big.py_docs.md", *parts]]
    assert sum(rows) == 120 and all(rows)
    for name in parts:
        listed = "".join(ln + "\n" for ln in (out / name).read_text().splitlines() if ln.startswith("- <a id="))
        assert len(listed.encode()) <= 6000
    assert _anchors_resolve(out) >= 2 * 120  # the file keyword page and the keyword index link every one
    # shrunk below the budget, the continuation pages go (a rebuild that reuses the link stage too)
    (repo / "big.py").write_text("".join(f"def f{i}():\n    pass\n" for i in range(3)))
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    assert not list(out.glob("big.py_docs-*.md"))
    _anchors_resolve(out)


def test_long_test_and_keyword_lists_are_cut_with_a_notice(make_repo, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from docatlas.render import file as file_pages

    body = "import unittest\n\n\nclass T(unittest.TestCase):\n" + "".join(
        f"    def test_{i}(self):\n        pass\n\n" for i in range(50))
    repo = make_repo({"test_many.py": body})
    monkeypatch.setattr(file_pages, "TESTS_BUDGET", 2000)
    monkeypatch.setattr(file_pages, "KW_BUDGET", 2000)
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    page = (out / "test_many.py_docs.md").read_text(encoding="utf-8")
    assert "Defines 50 tests in 1 test class" in page
    shown = len(re.findall(r"^\| `test_many\.py::T::test_\d+` \|", page, re.M))
    assert 0 < shown < 50
    assert f"The first {shown} tests (line order) are listed; {50 - shown} more are not" in page
    kw = (out / "test_many.py_kw.md").read_text(encoding="utf-8")
    listed = len(re.findall(r"^- \*\*`[^`]+`\*\*: \[definition\]", kw, re.M))  # class T and 50 methods
    assert 0 < listed < 51
    assert f"{51 - listed} more definitions are not listed here" in kw


def test_rebuilds_keep_or_replan_split_letters_as_a_full_build_would(make_repo, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    files = {f"pkg/mod{i:02d}.py": "".join(f"def {w}_{j}():\n    pass\n\n\n" for w in ("take", "tally")
                                          for j in range(6)) for i in range(20)}
    repo = make_repo(files)
    monkeypatch.setattr(B, "LIST_BUDGET", 4000)
    out, fresh = tmp_path / "out", tmp_path / "fresh"

    def pages(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.md"))}

    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    assert len([p for p in pages(out) if p.startswith("_keywords/T/")]) > 2
    for edit in ("# a comment\n", "def tango_0():\n    pass\n", "import os\n"):
        with (repo / "pkg/mod03.py").open("a") as fh:
            fh.write(edit)
        assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
        assert main(["build", str(repo), "-o", str(fresh), "-j", "1", "-q", "--force", "--full"]) == 0
        assert pages(out) == pages(fresh), edit
    assert "`tango_0`" in "".join(p.decode() for n, p in pages(out).items() if n.startswith("_keywords/T"))


def _bound_per_symbol(path: str, symbols: tuple[Symbol, ...]) -> int:
    """`summary.structure_bound` as its docstring states it, one symbol at a time."""
    def text(t: str) -> int:
        return len(t) if t.isascii() else 4 * len(t)

    link = 3 * text(path) + 4 * path.count("/") + 16
    return sum(2 * 8 + 160 + 4 * text(s.qualname) + len(s.kind) + sum(len(f) + 2 for f in s.flags)
               + 3 * text(s.name) + 3 * text(s.signature) + sum(3 * text(d) + 10 for d in s.decorators)
               + text(s.summary) + link + 40 for s in symbols)


_words = st.text(alphabet=st.sampled_from("abZ_:.( )é漢\U0001f600"), max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab/é"), min_size=1, max_size=8),
       st.lists(st.tuples(_words, _words, _words, _words, st.lists(_words, max_size=3),
                          st.lists(_words, max_size=3)), max_size=6))
def test_structure_bound_sums_each_symbols_bound(path: str, rows: list[tuple[Any, ...]]) -> None:
    from docatlas import summary

    symbols = tuple(Symbol("function", name, qual, 1, 2, signature=sig, summary=doc, decorators=tuple(decos),
                           flags=tuple(flags)) for name, qual, sig, doc, decos, flags in rows)
    assert summary.MAX_DEPTH == 8
    assert summary.structure_bound(path, symbols) == _bound_per_symbol(path, symbols)
