"""The repository guide, the front page's additions and llms.txt: made from facts, every link resolving,
deterministic, owned by the manifest like every other page."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from docatlas.config import make_config
from docatlas.extract import extract_file
from docatlas.link.packaging import _setup_py
from docatlas.link.stage import link
from docatlas.link.subsystems import (
    _layers,
    analyse,
    first_sentence,
    readme_paragraphs,
    readme_title,
)
from docatlas.model import ScannedFile
from docatlas.output import manifest_pages
from docatlas.pipeline import build
from docatlas.scan import MANIFEST_NAME
from link_check import broken_links

HERE = Path(__file__).parent
SAMPLE = HERE / "fixtures" / "golden" / "sample"

APP = {
    "README.md": "# App\n\n[![badge](x.svg)](y)\n\n---\n\nApp does things with widgets, quickly and well.\n\n"
                 "It provides:\n\n- widgets\n- gadgets\n\n## Install\n\nRun pip.\n",
    "pyproject.toml": '[project]\nname = "app"\ndescription = "Widgets for everyone"\n'
                      '[project.scripts]\napp = "app.cli:main"\n',
    "app/__init__.py": '"""The app package: widgets and gadgets."""\nfrom .core import Widget\n',
    "app/core.py": '"""Core widgets."""\n\n\nclass Widget:\n    """A widget."""\n\n\n'
                   'def make():\n    """Make a widget."""\n    return Widget()\n',
    "app/cli.py": '"""Command line."""\nfrom app.core import make\n\n\ndef main():\n    """Run the app."""\n'
                  '    make()\n',
    "app/__main__.py": "from app.cli import main\n\nif __name__ == \"__main__\":\n    main()\n",
    "lib/util.c": "/* Utilities. */\nint add(int a, int b) { return a + b; }\n",
    "lib/util.h": "int add(int a, int b);\n",
    "lib/CMakeLists.txt": "add_library(util util.c)\n",
    "tests/test_core.py": "from app.core import make\n\n\ndef test_make():\n    assert make()\n",
    "docs/guide.md": "# Guide\n\nHow to use the app.\n",
}


def _build(repo: Path, out: Path, **options: object):  # type: ignore[no-untyped-def]
    return build(make_config(repo, out, jobs=1, **options))


def test_book_front_page_and_llms_links_resolve(make_repo) -> None:
    repo = make_repo(APP)
    out = repo / "docatlas-docs"
    _build(repo, out)
    for page in ("comprehensive_book.md", "llms.txt", "index.md", "app/index.md", "doc.md"):
        checked, bad = broken_links(out, page, repo)
        assert checked > 3 and bad == [], (page, bad)
    book = (out / "comprehensive_book.md").read_text()
    assert book.startswith("# app: the repository guide\n")
    assert "App does things with widgets, quickly and well." in book  # the README's first prose paragraph
    assert "Widgets for everyone" in book and "`app` → `app.cli:main`" in book
    assert "`python -m app`" in book
    for chapter in ("app", "lib", "tests"):
        assert f'<a id="ch-{chapter}"></a>' in book
    assert "- [`docs/`](./docs/doc.md): no code files" in book  # skipped, and why
    assert "[`Widget`](./app/core.py_docs.md#sym-Widget)" in book
    assert "[`util`](./lib/CMakeLists.txt_docs.md)" in book
    front = (out / "index.md").read_text()
    assert front.index("comprehensive_book.md") < front.index("## Overview")
    assert "| [`app/`](./app/index.md) | The app package: widgets and gadgets." in front
    assert "## Entry Points" in front and "`app` → `app.cli:main` ([`app/cli.py`](./app/cli.py_docs.md))" in front
    assert "`python -m app` ([`app/__main__.py`](./app/__main__.py_docs.md), line 3)" in front
    sub = (out / "app" / "index.md").read_text()
    assert sub.count("## Subfolders") == 1 and "No subfolders." in sub
    llms = (out / "llms.txt").read_text().splitlines()
    assert llms[0] == "# app" and llms[2] == "> Widgets for everyone"
    assert all(line.startswith(("- [", "## ", "# ", "> ")) or not line or line.startswith("Documentation")
               for line in llms)
    assert len([x for x in llms if x.startswith("- [")]) <= 100


def test_book_is_deterministic_and_owned_by_the_manifest(make_repo, tmp_path: Path) -> None:
    repo = make_repo(APP)
    a, b = tmp_path / "a", tmp_path / "b"
    _build(repo, a)
    _build(repo, b, llms_full=True, llms_full_bytes=4000)
    assert (a / "comprehensive_book.md").read_bytes() == (b / "comprehensive_book.md").read_bytes()
    full = (b / "llms-full.txt").read_bytes()
    assert len(full) <= 4000 and full.startswith(b"# app: repository guide and key file pages")
    c = tmp_path / "c"
    _build(repo, c, llms_full=True, llms_full_bytes=1_000_000)  # the guide and key pages, links made root-relative
    checked, bad = broken_links(c, "llms-full.txt", repo)
    assert checked > 10 and bad == [], bad
    manifest = json.loads((b / MANIFEST_NAME).read_text())
    assert {"comprehensive_book.md", "llms.txt", "llms-full.txt"} <= set(manifest_pages(manifest))
    again = _build(repo, b)  # without --llms-full: its file goes, like any page no longer produced
    assert again.removed == 1 and not (b / "llms-full.txt").exists()


def test_book_follows_an_edit_and_a_local_rebuild_equals_a_full_one(make_repo, tmp_path: Path) -> None:
    repo = make_repo(APP)
    out, full = tmp_path / "out", tmp_path / "full"
    _build(repo, out)
    before = (out / "comprehensive_book.md").read_text()
    core = repo / "app" / "core.py"
    core.write_text(core.read_text().replace('"""A widget."""', '"""A widget, now documented better."""'))
    report = _build(repo, out)
    assert report.link_reused
    after = (out / "comprehensive_book.md").read_text()
    assert after != before and "A widget, now documented better." in after
    _build(repo, full)
    assert after == (full / "comprehensive_book.md").read_text()


def test_golden_sample_book_links(tmp_path: Path) -> None:
    repo = tmp_path / "sample"
    shutil.copytree(SAMPLE, repo)
    out = repo / "docatlas-docs"
    _build(repo, out)
    for page in ("comprehensive_book.md", "llms.txt", "index.md"):
        assert broken_links(out, page, repo)[1] == []


def test_readme_paragraphs_skip_badges_headings_and_code(make_repo) -> None:
    repo = make_repo({"README.rst": "The App Tool\n============\n\n.. image:: x.png\n\nCopyright (c) 2001 the app's "
                                    "authors, all rights reserved.\n\nSee the end of this file for the licence "
                                    "and more.\n\nBuild it like this, on every platform::\n\n    code here\n\n"
                                    "The app is a tool "
                                    "for making widgets of all kinds.\n\nSecond paragraph is here, and it is "
                                    "long enough.\n"})
    facts = extract_file(str(repo), ScannedFile("README.rst", 10, 0, "rst"), 10**6)
    model = link("r", {"README.rst": facts})
    name, paras = readme_paragraphs(repo, model)
    assert name == "README.rst" and readme_title(model, name) == "The App Tool"
    assert paras == ["The app is a tool for making widgets of all kinds.",
                     "Second paragraph is here, and it is long enough."]


def test_setup_py_read_as_data() -> None:
    got = _setup_py("from setuptools import setup, Extension\n"
                    "eps = {'console_scripts': ['tool = pkg.cli:main', 'other = pkg.o:run']}\n"
                    "setup(name='pkg', description='A ' 'package', entry_points=eps,\n"
                    "      ext_modules=[Extension('pkg._c', ['c.c'])])\n")
    assert got["name"] == "pkg" and got["description"] == "A package"
    assert [s for s, _ in got["scripts"]] == ["tool = pkg.cli:main", "other = pkg.o:run"]
    assert got["extensions"] == [("pkg._c", 4)]


def test_layers_follow_the_heavier_direction_and_condense_cycles() -> None:
    tops = ["a", "b", "c", "d"]
    lines = {"a": 4, "b": 3, "c": 2, "d": 1}.__getitem__
    # b uses a heavily, a uses b a little; c and d use each other equally (a cycle)
    layers, cycles = _layers(tops, {("b", "a"): 50, ("a", "b"): 2, ("c", "d"): 5, ("d", "c"): 5, ("c", "b"): 9},
                             lines)
    assert layers == [["a"], ["b"], ["c", "d"]]
    assert cycles == [["c", "d"]]


def test_a_repository_without_folders_gets_a_book_that_says_so(make_repo) -> None:
    repo = make_repo({"main.py": '"""A script."""\nprint(1)\n'})
    out = repo / "docatlas-docs"
    report = _build(repo, out)
    assert report.model is not None and analyse(report.model).top == []
    book = (out / "comprehensive_book.md").read_text()
    assert "No folder of this repository holds code of its own below the top level" in book
    assert broken_links(out, "comprehensive_book.md", repo)[1] == []
    assert not re.search(r"\[[^\]]*\]\(\)", book)  # no empty link


def test_a_lone_surrogate_in_a_docstring_is_escaped() -> None:
    """A Python string literal may hold a lone surrogate; pages are UTF-8, so it is written as its escape."""
    assert first_sentence("Handles \udfff surrogates. More.") == "Handles \\udfff surrogates."


def test_entry_points_of_a_subtree_are_the_repository_s_under_it(make_repo, tmp_path: Path) -> None:
    """`kept_entry_points` filters the whole repository's candidates (ranked once) for each subtree: the same as
    ranking the subtree's own files (`entry_points`), build targets counted under it alone."""
    from docatlas.link.packaging import entry_points, kept_entry_points

    repo = make_repo({**APP, "tools/__main__.py": "print(1)\n",
                      "tools/run.py": 'if __name__ == "__main__":\n    pass\n',
                      "native/CMakeLists.txt": "add_executable(tool main.cpp)\nadd_library(core core.cpp)\n",
                      "native/sub/CMakeLists.txt": "add_executable(other other.cpp)\n",
                      "native/main.cpp": "int main() { return 0; }\n"})
    model = build(make_config(repo, tmp_path / "out", jobs=1)).model
    assert model is not None
    kept: dict[str, object] = {}
    found = {folder: kept_entry_points(kept, model, folder, 2) for folder in sorted(model.folders, reverse=True)}
    assert found == {folder: entry_points(model, folder, 2) for folder in model.folders}
    assert found["native"]["build target"][0] > found["native/sub"]["build target"][0] > 0
    assert found[""]["program"][1] and found["app"]["python -m"][1]
