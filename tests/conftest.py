"""Shared test helpers: temporary repositories built from a dict of `path -> text`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

RepoFactory = Callable[..., Path]


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def make_repo(tmp_path: Path) -> RepoFactory:
    """Build a repository under tmp_path; `git=True` makes it a git work tree with everything added."""

    def factory(files: dict[str, str | bytes], name: str = "repo", git: bool = False) -> Path:
        root = write_tree(tmp_path / name, files)
        if git:
            subprocess.run(["git", "init", "-q", str(root)], check=True)
            subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
        return root

    return factory


# -- a built repository for the serve, site, mcp and browser tests ----------------------------------------------
HOSTILE_NAME = "<script>alert(1)<:script>.py"
SITE_REPO = {
    "pkg/__init__.py": '"""The package."""\nfrom .shapes import Shape\n',
    "pkg/shapes.py": '"""Shapes.\n\n<img src=x onerror=alert(1)>\n"""\n\nfrom pkg.util import helper\n\n\n'
                     'class Shape:\n    """A shape <img src=x onerror=alert(2)>."""\n\n'
                     '    def area(self) -> float:\n        return helper(2.0)\n',
    "pkg/util.py": '"""Helpers."""\n\n\ndef helper(x: float) -> float:\n    return x * 2\n',
    "app/main.py": '"""The app."""\nfrom pkg.shapes import Shape\nfrom pkg.util import helper\n\n\n'
                   'def run() -> float:\n    return Shape().area() + helper(1.0)\n',
    "tests/test_shapes.py": 'import unittest\n\nfrom pkg.shapes import Shape\n\n\n'
                            'class ShapeTests(unittest.TestCase):\n'
                            '    def test_area(self):\n        self.assertEqual(Shape().area(), 4.0)\n',
    f"odd/{HOSTILE_NAME}": '"""<script>alert(3)</script>"""\nX = "</script><script>alert(4)</script>"\n',
    "README.md": "# Site repo\n\nA repository for the site tests.\n",
}


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(repository, output folder) of SITE_REPO, built once per session."""
    from docatlas.cli import main

    root = tmp_path_factory.mktemp("site")
    repo = write_tree(root / "repo", SITE_REPO)
    out = root / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    return repo, out
