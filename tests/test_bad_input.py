"""Bad input is data, never a crash: one diagnostic line naming the file, the run goes on; exit code 0 (every
page was built), 1 with --strict."""

from __future__ import annotations

import os
from pathlib import Path

from docatlas.cli import main


def run(repo: Path, out: Path, capsys, *extra: str) -> tuple[int, list[str]]:
    code = main(["build", str(repo), "-o", str(out), "-j", "2", "-q", *extra])
    return code, capsys.readouterr().err.splitlines()


def test_each_bad_file_gets_one_line_and_the_rest_is_documented(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({
        "good.py": "def ok():\n    return 1\n",
        "py2.py": "print 'hello'\n",
        "latin.txt": "caf\xe9\n".encode("latin-1"),
        "image.bin": bytes(range(256)) * 4,
        "big.py": "X = 1\n" * 1000,
    })
    os.symlink("loop_b", repo / "loop_a")
    os.symlink("loop_a", repo / "loop_b")
    os.symlink(str(tmp_path), repo / "outside")
    (tmp_path / "secret.txt").write_text("outside the repo")
    os.symlink(str(tmp_path / "secret.txt"), repo / "outside_file")
    out = tmp_path / "out"
    code, lines = run(repo, out, capsys, "--max-file-bytes", "5000", "--strict")
    assert code == 1
    by_file = {line.split(":", 1)[0]: line for line in lines}
    assert sorted(by_file) == ["big.py", "latin.txt", "loop_a", "loop_b", "outside_file", "py2.py"]
    assert "DA201 syntax error" in by_file["py2.py"] and by_file["py2.py"].startswith("py2.py:1:")
    assert "DA102" in by_file["latin.txt"]
    assert "DA103" in by_file["big.py"]
    assert "DA303 symlink loop" in by_file["loop_a"]
    assert "DA304" in by_file["outside_file"]
    assert len(lines) == 6
    assert (out / "good.py_docs.md").is_file()
    page = (out / "py2.py_docs.md").read_text()
    assert "could not be analysed" in page and "DA201" in page
    index = (out / "index.md").read_text()
    assert "| [image.bin](../image.bin) | binary: binary data, 1,024 bytes |" in index
    assert not (out / "image.bin_docs.md").exists()
    assert not any(p.name.startswith("outside") for p in out.rglob("*"))


def test_unreadable_file(make_repo, tmp_path: Path, capsys) -> None:
    if os.geteuid() == 0:
        # root reads everything; simulate with a file that vanishes into a directory-less path instead
        repo = make_repo({"a.py": "A = 1\n"})
        os.mkfifo(repo / "pipe")  # not a regular file: skipped without blocking
        code, lines = run(repo, tmp_path / "out", capsys)
        assert code == 0 and lines == []
        return
    repo = make_repo({"a.py": "A = 1\n", "locked.py": "B = 1\n"})
    (repo / "locked.py").chmod(0)
    code, lines = run(repo, tmp_path / "out", capsys)
    assert code == 0 and "locked.py:0:0: DA101 cannot read" in lines[0]


def test_previous_pages_survive_a_failed_run(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "A = 1\n"})
    out = tmp_path / "out"
    assert run(repo, out, capsys)[0] == 0
    before = (out / "a.py_docs.md").read_bytes()
    code, lines = run(repo, out, capsys, "--embed-source", "bogus")
    assert code == 2
    assert any("bogus" in line for line in lines)
    assert (out / "a.py_docs.md").read_bytes() == before


def test_folders_named_like_pages_do_not_crash(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"keywords.md/x.txt": "hi\n", "a.py": "A = 1\n", "a.py_docs.md/n.txt": "n\n",
                      "pkg/index.md/y.txt": "y\n"})
    out = tmp_path / "out"
    code, lines = run(repo, out, capsys)
    assert code == 0 and lines == []  # every page written: the folders' own go under `NAME~/`
    assert (out / "keywords.md~" / "x.txt_docs.md").is_file() and (out / "keywords.md").is_file()
    assert (out / "a.py_docs.md~" / "n.txt_docs.md").is_file() and (out / "a.py_docs.md").is_file()
    assert (out / "pkg" / "index.md~" / "index.md").is_file() and (out / "pkg" / "index.md").is_file()
    assert "(./index.md~/index.md)" in (out / "pkg" / "index.md").read_text()
    assert (out / "a.py_kw.md").is_file()


def test_unreadable_file_by_injected_oserror(make_repo, tmp_path: Path, capsys, monkeypatch) -> None:
    """The DA101 path without relying on file permissions (root reads everything, and CI runs as root): the
    read of one file raises, as a permission error would. The file is listed and its page says why it has no
    analysis; the rest is documented; it is not cached, so the next build tries it again."""
    repo = make_repo({"a.py": "A = 1\n", "locked.py": "B = 1\n"})
    real = Path.read_bytes
    tried: list[str] = []

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.py":
            tried.append(self.name)
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    out = tmp_path / "out"
    code = main(["build", str(repo), "-o", str(out), "-j", "1", "-q"])  # in-process, so the patch applies
    lines = capsys.readouterr().err.splitlines()
    assert code == 0 and lines == ["locked.py:0:0: DA101 cannot read: Permission denied"]
    assert (out / "a.py_docs.md").is_file()
    page = (out / "locked.py_docs.md").read_text()
    assert "DA101" in page
    assert "| [locked.py](../locked.py) |" in (out / "index.md").read_text()
    tried.clear()
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q", "--strict"]) == 1
    assert tried == ["locked.py"]  # not taken from the cache: read again
