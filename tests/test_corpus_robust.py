"""Slow: every corpus builds with no internal error (issue 11). CPython 3.11 once ended with exit 3 on a
string constant holding a lone surrogate (`Lib/test/test_os.py`); no file may cost more than its own analysis."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from test_corpus import corpus

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["cpython-3.11", "django-5.2", "torch-wheel-2.13", "pytorch-1.13.1"])
def test_corpus_builds_without_internal_error(name: str, tmp_path: Path) -> None:
    root = corpus(name)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "docatlas", "build", str(root), "-o", str(out), "-j", "2", "-q"],
                          capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    internal = [line for line in proc.stderr.splitlines() if " DA306 " in line or " DA307 " in line]
    assert internal == []
    assert (out / "index.md").is_file() and (out / ".docatlas-manifest.json").is_file()
    query = subprocess.run([sys.executable, "-m", "docatlas", "stats", "-o", str(out)], capture_output=True,
                           text=True, timeout=600)
    assert query.returncode == 0


def test_five_megabyte_one_line_javascript(tmp_path: Path) -> None:
    """A minified bundle: one line of 5 MB. Slow (tree-sitter takes seconds), never a crash or a hang."""
    repo = tmp_path / "repo"
    repo.mkdir()
    body = ",".join(str(i) for i in range(800_000))
    (repo / "bundle.min.js").write_text(f"var a=[{body}];" + "function f(){return 1}" * 100 + "\n")
    assert (repo / "bundle.min.js").stat().st_size > 5_000_000
    proc = subprocess.run([sys.executable, "-m", "docatlas", "build", str(repo), "-o", str(tmp_path / "out"), "-q"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "bundle.min.js_docs.md").is_file()
