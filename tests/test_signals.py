"""Signals, kills, dead workers and concurrent builds (issue 11). Each build runs as its own process group, as
a terminal runs it; `DOCATLAS_DEBUG` slows one stage (`pipeline._debug_hook`) so that the moment of a signal
is reproducible, and `DOCATLAS_PROGRESS_SECONDS=0` makes the build say which stage it is in."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docatlas.cli import main
from docatlas.output import MARKER_NAME, STATE_FILES
from docatlas.store import schema
from store_helpers import dump

FILES = {f"pkg/m{i}.py": f'"""Module {i}."""\n\n\ndef func_{i}(x):\n    return x + {i}\n' for i in range(10)}
FILES |= {"pkg/__init__.py": "", "tests/test_m.py": "from pkg.m1 import func_1\n\n\ndef test_f():\n    "
          "assert func_1(1) == 2\n", "README.md": "# Demo\n"}


def tree(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in (schema.INDEX_NAME, Path(schema.CACHE_NAME).name, *STATE_FILES)}


def same_as_clean(repo: Path, out: Path, tmp_path: Path) -> None:
    """`out` equals a clean full build of `repo`: every page, the manifest and the index."""
    clean = tmp_path / "clean"
    subprocess.run(["rm", "-rf", str(clean)], check=True)
    assert main(["build", str(repo), "-o", str(clean), "-q", "-j", "2"]) == 0
    assert tree(out) == tree(clean)
    assert dump(sqlite3.connect(out / schema.INDEX_NAME)) == dump(sqlite3.connect(clean / schema.INDEX_NAME))
    assert not (out / MARKER_NAME).exists()


def _as_from_a_terminal() -> None:
    """Ctrl-C's default action in the build, as a terminal starts it: a test run started in the background by a
    shell without job control (`cmd &` in a script) ignores SIGINT, and an ignored signal stays ignored across
    `exec` (the build then ignored the test's Ctrl-C, finished and exited 0)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(repo: Path, out: Path, debug: str = "", *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DOCATLAS_PROGRESS_SECONDS": "0", "DOCATLAS_DEBUG": debug}
    return subprocess.Popen([sys.executable, "-m", "docatlas", "build", str(repo), "-o", str(out), "-j", "2",
                             *extra], stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
                            preexec_fn=_as_from_a_terminal)


def wait_for(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> list[str]:
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"never saw {needle!r}: {seen}")


def group_gone(pgid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_mid_render_stops_within_a_second(make_repo, tmp_path: Path, signum: int, code: int) -> None:
    repo = make_repo(FILES)
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-q"]) == 0
    (repo / "pkg" / "m2.py").write_text("import os\n\n\ndef func_2(x):\n    return os.sep\n")  # a rebuild
    # The edited file's page takes 30 s more: a worker reports a chunk of items when all of them are done, and a
    # rebuild's few items are one chunk per worker, so the first progress line came once every page was made
    # and, on a loaded machine, the build had finished (exit 0) when the signal came. Now the other worker's
    # chunk is reported while this page is still rendering.
    proc = start(repo, out, "render:sleep0.5:,render:sleep30:m2.py")
    wait_for(proc, "docatlas: render")
    began = time.monotonic()
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)  # Ctrl-C: the terminal signals the whole group
    else:
        os.kill(proc.pid, signum)  # `kill PID`: the main process only
    assert proc.wait(timeout=30) == code
    took = time.monotonic() - began
    err = proc.stderr.read() if proc.stderr else ""
    assert took < 3.0, took  # "within a second", with room for a busy test machine
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    # progress lines the build printed before the signal reached it may still be in the pipe (two workers can
    # finish items together); after them, the one line that says what happened, and nothing else
    assert lines[-1:] == [
        f"docatlas: interrupted ({signal.Signals(signum).name}); the output folder keeps its last good pages "
        f"and the next build resumes"], lines
    assert all(re.fullmatch(r"docatlas: render \d+/\d+.*", line) for line in lines[:-1]), lines
    assert group_gone(proc.pid)  # no worker left behind
    assert (out / MARKER_NAME).exists()
    assert main(["build", str(repo), "-o", str(out), "-q"]) == 0
    same_as_clean(repo, out, tmp_path)


@pytest.mark.parametrize("stage", ["extract", "render"])
@pytest.mark.parametrize("first", [True, False])
def test_kill_9_then_rebuild_equals_a_clean_build(make_repo, tmp_path: Path, stage: str, first: bool) -> None:
    repo = make_repo(FILES)
    out = tmp_path / "out"
    if not first:
        assert main(["build", str(repo), "-o", str(out), "-q"]) == 0
        (repo / "pkg" / "m3.py").write_text("def other():\n    pass\n")
        (repo / "pkg" / "m4.py").unlink()
        (repo / "pkg" / "new.py").write_text("import pkg.m1\n")
    proc = start(repo, out, f"{stage}:sleep0.3:")
    wait_for(proc, f"docatlas: {stage} 2/")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert group_gone(proc.pid)
    assert main(["build", str(repo), "-o", str(out), "-q"]) == 0
    same_as_clean(repo, out, tmp_path)


def test_workers_die_with_the_main_process(make_repo, tmp_path: Path) -> None:
    repo = make_repo(FILES)
    out = tmp_path / "out"
    proc = start(repo, out, "render:sleep2:")
    wait_for(proc, "docatlas: render")
    os.kill(proc.pid, signal.SIGKILL)  # only the main process: its workers must not go on writing pages
    proc.wait(timeout=10)
    assert group_gone(proc.pid)
    assert main(["build", str(repo), "-o", str(out), "-q"]) == 0
    same_as_clean(repo, out, tmp_path)


def test_two_builds_at_once(make_repo, tmp_path: Path) -> None:
    repo = make_repo(FILES)
    out = tmp_path / "out"
    first = start(repo, out, "render:sleep0.3:")
    wait_for(first, "docatlas: render")
    (repo / "pkg" / "m5.py").write_text("def brand_new_function():\n    pass\n")
    refused = start(repo, out, "", "--no-wait")
    assert refused.wait(timeout=60) == 2
    assert "another docatlas build" in (refused.stderr.read() if refused.stderr else "")
    second = start(repo, out)
    wait_for(second, "waiting for another docatlas build")
    assert first.wait(timeout=120) == 0
    assert second.wait(timeout=120) == 0
    assert main(["search", "brand_new_function", "-o", str(out)]) == 0
    same_as_clean(repo, out, tmp_path)


def test_dead_and_hung_workers_cost_one_file(make_repo, tmp_path: Path, capsys,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(FILES)
    out = tmp_path / "out"
    monkeypatch.setenv("DOCATLAS_DEBUG", "extract:segv:m3.py,extract:hang:m4.py,render:raise:m5.py")
    monkeypatch.setenv("DOCATLAS_TASK_SECONDS", "2")
    code = main(["build", str(repo), "-o", str(out), "-q", "-j", "2"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 0
    by_file = {line.split(":")[0]: line for line in lines}
    assert sorted(by_file) == ["pkg/m3.py", "pkg/m4.py", "pkg/m5.py_docs.md", "pkg/m5.py_kw.md"], lines
    assert "DA307" in by_file["pkg/m3.py"] and "SIGSEGV" in by_file["pkg/m3.py"]
    assert "DA307" in by_file["pkg/m4.py"] and "longer than 2 s" in by_file["pkg/m4.py"]
    assert "DA306" in by_file["pkg/m5.py_docs.md"] and "RuntimeError" in by_file["pkg/m5.py_docs.md"]
    assert "could not be made" in (out / "pkg" / "m5.py_docs.md").read_text()
    assert "DA307" in (out / "pkg" / "m3.py_docs.md").read_text()
    for i in (0, 1, 2, 6, 7):
        assert f"func_{i}" in (out / "pkg" / f"m{i}.py_docs.md").read_text()
    monkeypatch.delenv("DOCATLAS_DEBUG")
    assert main(["build", str(repo), "-o", str(out), "-q", "-j", "2"]) == 0
    assert "could not be made" not in (out / "pkg" / "m5.py_docs.md").read_text()  # tried again


def test_internal_error_in_one_file_in_process(make_repo, tmp_path: Path, capsys,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo({"a.py": "A = 1\n", "b.py": "B = 1\n"})
    monkeypatch.setenv("DOCATLAS_DEBUG", "extract:raise:a.py")
    code = main(["build", str(repo), "-o", str(tmp_path / "out"), "-q", "-j", "1"])
    lines = capsys.readouterr().err.splitlines()
    assert code == 0 and len(lines) == 1 and "a.py:0:0: DA306 internal error while extracting" in lines[0]
    assert (tmp_path / "out" / "a.py_docs.md").is_file()
