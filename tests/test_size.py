"""Published size (issue 15): what the pages leave out so as not to store the same text twice, and that each
cut says what it left out and where it is."""

from __future__ import annotations

from pathlib import Path

from docatlas.config import make_config
from docatlas.pipeline import build


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

