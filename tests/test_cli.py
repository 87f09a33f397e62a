from pathlib import Path

from docatlas.cli import main


def test_build_small_repo(make_repo, tmp_path: Path) -> None:
    repo = make_repo({"pkg/__init__.py": '"""A package."""\n', "pkg/mod.py": "def f(x):\n    return x\n"})
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    page = (out / "pkg" / "mod.py_docs.md").read_text()
    assert page.startswith("# Documentation: `pkg/mod.py`\n")
    assert "def f(x)" in page
