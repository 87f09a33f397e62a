"""Golden (snapshot) tests: every page docatlas writes for small fixture repositories, plus a text dump of
the analysed model, compared byte for byte with tests/golden/<name>/.

Refresh after an intended change with:  DOCATLAS_UPDATE_GOLDEN=1 pytest tests/test_golden.py
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from docatlas.config import make_config
from docatlas.link.stage import RepoModel
from docatlas.output import STATE_FILES
from docatlas.pipeline import build

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "golden"
GOLDEN = HERE / "golden"
UPDATE = os.environ.get("DOCATLAS_UPDATE_GOLDEN") == "1"
REFRESH = "refresh with: DOCATLAS_UPDATE_GOLDEN=1 pytest tests/test_golden.py"


def dump_model(model: RepoModel) -> str:
    """The analysis as text: what the pages are made from, easier to review than the pages."""
    lines: list[str] = []
    for path, f in model.files.items():
        purpose = model.purposes[path]
        lines.append(f"== {path} [{f.language}] {purpose.label}: {purpose.reason}")
        if f.binary:
            lines.append(f"   binary {f.binary_kind} {f.size} bytes")
            continue
        if f.docstring:
            lines.append(f"   doc: {f.docstring}")
        for s in f.symbols:
            flags = f" [{', '.join(s.flags)}]" if s.flags else ""
            lines.append(f"   {s.kind} {s.qualname} L{s.line}-{s.end_line}{flags}: {s.signature}")
        for r in model.imports.get(path, []):
            lines.append(f"   import {r.imp.module} {list(r.imp.names)} L{r.imp.line} -> {r.category} {r.target}")
        for imp in f.imports if path not in model.imports else ():
            lines.append(f"   import {imp.module} L{imp.line} system={imp.system} {imp.conditional}")
        for t in f.tests:
            lines.append(f"   test {t.kind} {t.name} L{t.line} ({t.framework})")
        for fi in f.findings:
            lines.append(f"   finding {fi.category} {fi.rule} L{fi.line}: {fi.message}")
        for d in f.diagnostics:
            lines.append(f"   diagnostic {d}")
    return "\n".join(lines) + "\n"


# these hold mtimes, pids and build times; the index is compared table by table in test_incremental.py
SKIP = {"docatlas.sqlite", "facts.sqlite", *STATE_FILES}


def snapshot(out: Path, model: RepoModel) -> dict[str, bytes]:
    # the private facts cache (its `.gitignore` ignores itself, so git would not keep it in the golden tree)
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
             if p.is_file() and p.name not in SKIP and not p.relative_to(out).as_posix().startswith(".docatlas-cache/")}
    files["MODEL.txt"] = dump_model(model).encode()
    return files


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir()))
def test_pages_match_golden(name: str, tmp_path: Path) -> None:
    repo = tmp_path / name
    shutil.copytree(FIXTURES / name, repo)
    report = build(make_config(repo, tmp_path / "out", jobs=1))
    assert report.model is not None
    got = snapshot(tmp_path / "out", report.model)
    golden_dir = GOLDEN / name
    if UPDATE:
        shutil.rmtree(golden_dir, ignore_errors=True)
        for rel, data in got.items():
            (golden_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden_dir / rel).write_bytes(data)
        return
    want = {p.relative_to(golden_dir).as_posix(): p.read_bytes() for p in sorted(golden_dir.rglob("*"))
            if p.is_file() and not p.relative_to(golden_dir).as_posix().startswith(".docatlas-cache/")}
    assert sorted(got) == sorted(want), REFRESH
    for rel in sorted(got):
        assert got[rel].decode() == want[rel].decode(), f"{rel} differs; {REFRESH}"
