"""Published size (issue 15): what the pages leave out so as not to store the same text twice, and that each
cut says what it left out and where it is."""

from __future__ import annotations

from pathlib import Path

from docatlas.config import make_config
from docatlas.model import FileFacts
from docatlas.model import TestCase as Case
from docatlas.pipeline import build
from docatlas.render.file import _related_not_above


def _section(page: str, title: str) -> str:
    return page.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_related_files_linked_above_for_every_reason_are_counted_not_repeated(make_repo, tmp_path: Path) -> None:
    repo = make_repo({
        "pkg/__init__.py": "",
        "pkg/core.py": "from pkg import util\n\ndef f():\n    return util.g()\n",
        "pkg/util.py": "def g():\n    return 1\n",
        "pkg/core.c": "int f(void) { return 0; }\n",
        "tests/__init__.py": "",
        "tests/test_core.py": "import unittest\nfrom pkg.core import f\n\n"
                              "class T(unittest.TestCase):\n    def test_f(self):\n        f()\n",
    })
    build(make_config(repo, tmp_path / "out", jobs=1))
    page = (tmp_path / "out" / "pkg" / "core.py_docs.md").read_text()
    related = _section(page, "Related Files")
    # the test file: tested by and importer, both shown above with the same facts
    assert "tests/test_core.py" in _section(page, "Testing & Usage")
    assert "[`tests/test_core.py`]" not in related
    # util.py is imported (shown above) but also used at a site, a reason no section above states: kept
    assert "[`pkg/util.py`](./util.py_docs.md): uses 1 of its definitions at 1 site; imported at line 1" in related
    # same-name files are never shown above
    assert "[`pkg/core.c`]" in related
    assert "1 more related file is linked above, under Dependencies and Testing & Usage, for every reason it is " \
           "related." in related
    test_page = (tmp_path / "out" / "tests" / "test_core.py_docs.md").read_text()
    assert "1 related file is linked above, under Dependencies and Testing & Usage, for every reason it is " \
           "related." in _section(test_page, "Related Files")


def test_default_embeds_a_large_files_head_and_says_where_the_whole_file_is(make_repo, tmp_path: Path) -> None:
    """The embedded source is the repository's own text again: a file over 3,000 bytes (the default
    `max_embed_bytes`) embeds its first 30 lines (`head_lines`), says how many of how many, and links the file;
    a smaller one is embedded whole."""
    big = "".join(f"def fn_{i:04d}(): pass\n" for i in range(151))  # 20 bytes a line: 3,020 bytes
    small = "".join(f"def fn_{i:04d}(): pass\n" for i in range(150))  # 3,000 bytes
    repo = make_repo({"big.py": big, "small.py": small, "wide.js": "x" * 20_000, "pkg/deep.py": big})
    build(make_config(repo, tmp_path / "out", jobs=1))
    page = (tmp_path / "out" / "big.py_docs.md").read_text()
    source = _section(page, "Original Source")
    assert ("> Truncated to the first 30 of 151 lines (600 of 3,020 bytes): a file over "
            "`--max-embed-bytes` (3,000 bytes) embeds at most its first `head_lines` (30) lines within that. "
            "The whole file: [big.py](../big.py).") in source
    assert "<summary>Source (30 lines of 151)</summary>" in source
    assert "def fn_0029(): pass\n```" in source and "fn_0030" not in source
    assert "**`fn_0150`**: `()` · [line 151](../big.py#L151)" in page  # Code Structure lists every definition
    small_page = (tmp_path / "out" / "small.py_docs.md").read_text()
    assert "Truncated" not in small_page and "def fn_0149(): pass\n```" in small_page
    deep = _section((tmp_path / "out" / "pkg" / "deep.py_docs.md").read_text(), "Original Source")
    assert "lines within that. The whole file: [deep.py](../../pkg/deep.py).\n" in deep  # the title gives the path
    wide = _section((tmp_path / "out" / "wide.js_docs.md").read_text(), "Original Source")
    assert "Truncated to the first 3,000 of 20,000 bytes, which end inside line 1: a file over" in wide


def test_related_files_are_left_out_only_for_lists_the_page_shows() -> None:
    """Testing & Usage lists the code under test only on a page of a file defining tests, and the files testing
    it only on a page of a file defining neither tests nor fixtures (`file.md.j2`): otherwise the entries stay."""
    related = [{"path": "a.py", "link": "a", "reason": "code under test here"},
               {"path": "t.py", "link": "t", "reason": "tests this file (imports `f`)"}]
    graph = {"tests_of": [{"path": "a.py"}], "tested_by": [{"path": "t.py"}]}

    def kept(*tests: Case) -> list[str]:
        facts = FileFacts("x.py", "python", 1, "d", tests=tests)
        return [r["path"] for r in _related_not_above(related, [], [], graph, facts)["related"]]

    assert kept() == ["a.py"]  # a helper of a test suite, defining no tests: the code it exercises is not above
    assert kept(Case("test_x", 1, "pytest")) == ["t.py"]
    assert kept(Case("fx", 1, "pytest", "fixture")) == ["a.py", "t.py"]


def test_code_structure_gives_the_first_sentence_of_a_summary_documentation_gives_whole(make_repo,
                                                                                        tmp_path: Path) -> None:
    """A definition whose whole docstring is under Documentation shows only its first sentence (and `…`) in
    Code Structure; one whose docstring is a single paragraph (the summary, shown nowhere else) shows it whole."""
    src = ('def long():\n    """Makes a thing. Then checks it twice.\n\n    Details that only Documentation '
           'gives.\n    """\n\n\ndef short():\n    """Reads a thing. Returns it as is."""\n')
    build(make_config(make_repo({"m.py": src}), tmp_path / "out", jobs=1))
    page = (tmp_path / "out" / "m.py_docs.md").read_text()
    structure = _section(page, "Detailed Analysis").split("### Documentation")[0]
    assert "**`long`**: `()` · [line 1–5](../m.py#L1) — Makes a thing. …\n" in structure
    assert "**`short`**: `()` · [line 8–9](../m.py#L8) — Reads a thing. Returns it as is.\n" in structure
    documentation = page.split("### Documentation")[1]
    assert "Makes a thing. Then checks it twice.\n\nDetails that only Documentation gives." in documentation
    assert "`short`" not in documentation


def test_a_file_related_by_nothing_lists_its_folders_most_central_files_once_saying_why(make_repo,
                                                                                        tmp_path: Path) -> None:
    """The last resort of Related Files, the folder's most central files, gives its reason once above them
    rather than on every entry, and says when the folder has more."""
    files = {f"notes/n{i}.txt": f"note {i}\n" for i in range(7)}
    files.update({"pair/a.txt": "a\n", "pair/b.txt": "b\n"})
    build(make_config(make_repo(files), tmp_path / "out", jobs=1))
    related = _section((tmp_path / "out" / "notes" / "n0.txt_docs.md").read_text(), "Related Files")
    assert related.startswith("\n### Related Files\n\nNo import, test or naming relation found; instead, the 5 most "
                              "central of the 6 other files of its folder:\n\n- [`notes/n")
    assert related.count("\n- [`notes/n") == 5 and "same folder" not in related and "n0.txt" not in related
    pair = _section((tmp_path / "out" / "pair" / "a.txt_docs.md").read_text(), "Related Files")
    assert "instead, the other file of its folder:\n\n- [`pair/b.txt`](./b.txt_docs.md)\n" in pair


def test_import_table_leaves_out_a_column_no_import_of_the_page_fills(make_repo, tmp_path: Path) -> None:
    """Names and Condition are columns only on pages where some import has them: an include has no names, and
    most files import nothing conditionally. An angle-bracket include is shown as written."""
    repo = make_repo({"m.py": "import os\ntry:\n    from json import loads\nexcept ImportError:\n    loads = None\n",
                      "c.c": "#include <stdio.h>\n#include \"m.h\"\n", "m.h": "int f(void);\n"})
    build(make_config(repo, tmp_path / "out", jobs=1))
    py = _section((tmp_path / "out" / "m.py_docs.md").read_text(), "Dependencies")
    assert "| Line | Import | Names | Resolves to | Condition |\n|---|---|---|---|---|\n" in py
    assert "| [1](../m.py#L1) | `os` |  | standard library |  |\n" in py
    assert "| [3](../m.py#L3) | `json` | loads | standard library | try |\n" in py
    c = _section((tmp_path / "out" / "c.c_docs.md").read_text(), "Dependencies")
    assert "| Line | Import | Resolves to |\n|---|---|---|\n" in c
    assert "| [2](../c.c#L2) | `m.h` | [`m.h`](./m.h_docs.md) |\n" in c
    assert "| [1](../c.c#L1) | `<stdio.h>` | system header: C standard library header |\n" in c  # as written
