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
