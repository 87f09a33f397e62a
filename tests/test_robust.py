"""No file can crash a build, lock the user out or lose the last good output (issue 11): bad input files,
hostile names, docatlas's own names in the repository, the output folder's lock, marker and manifest, and the
CLI's one-line errors. Signals and kills are in test_signals.py."""

from __future__ import annotations

import json
import marshal
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docatlas import paths
from docatlas.cli import main
from docatlas.output import LOCK_NAME, MARKER_NAME, STATE_FILES, OutputFolder, manifest_pages
from docatlas.safetext import has_unsafe, md_inline, terminal, visible
from docatlas.scan import MANIFEST_NAME
from docatlas.store import schema


def build(capsys, repo: Path, out: Path, *extra: str) -> tuple[int, list[str]]:
    code = main(["build", str(repo), "-o", str(out), "-q", *extra])
    return code, capsys.readouterr().err.splitlines()


def pages(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in (schema.INDEX_NAME, Path(schema.CACHE_NAME).name, *STATE_FILES)}


def query(capsys, out: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "-o", str(out)])
    got = capsys.readouterr()
    return code, got.out, got.err


# -- the text boundary --------------------------------------------------------------------------------------
def test_visible_escapes_what_would_break_output() -> None:
    assert visible("/tmp\udfffabc") == "/tmp\\udfffabc"
    assert visible("a\x00b\x1b[31m") == "a\\x00b\\x1b[31m"
    assert visible("tab\tand\nnewline") == "tab\tand\nnewline"
    assert terminal("two\nlines") == "two\\x0alines"
    s = "plain text"
    assert visible(s) is s  # no copy in the usual case
    assert md_inline("<script>alert(1)</script>") == "\\<script\\>alert(1)\\</script\\>"
    assert md_inline("# not a heading") == "\\# not a heading"


def test_surrogate_string_constant(make_repo, tmp_path: Path, capsys) -> None:
    """CPython's test suite has `'/tmp\\udfffabcds'`: it once crashed the page write and the index insert."""
    repo = make_repo({"a.py": 'P = "/tmp\\udfffabc"\nopen(P)\nX = "\\x1b[2J"\n'})
    out = tmp_path / "out"
    code, lines = build(capsys, repo, out)
    assert code == 0, lines
    page = (out / "a.py_docs.md").read_text(encoding="utf-8")
    assert "/tmp\\udfffabc" in page and "\x1b" not in page
    code, stdout, _ = query(capsys, out, "export")
    assert code == 0 and "udfff" in stdout
    assert not has_unsafe(json.loads(stdout.splitlines()[0]))
    assert query(capsys, out, "search", "P")[0] == 0
    assert build(capsys, repo, out)[0] == 0  # and the next build is not locked out


def test_nul_crlf_and_control_bytes(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"nul.py": b"x = 1\n\x00\x00\n",
                      "crlf.py": b"def f():\r\n    return 1\r\n\r\nclass C:\r\n    pass\r\n",
                      "ctl.md": b"# Title \x07 bell\n\nText \x1b[31m red\n"})
    out = tmp_path / "out"
    code, lines = build(capsys, repo, out)
    assert code == 0 and lines == []
    crlf = (out / "crlf.py_docs.md").read_text()
    assert "**`f`**" in crlf and "**`C`**" in crlf and "\r" not in crlf.split("## Source")[0]
    assert "\x07" not in (out / "ctl.md_kw.md").read_text()
    assert "| [nul.py](../nul.py) | binary: binary data, 9 bytes |" in (out / "index.md").read_text()


def test_huge_file_over_the_limit_is_listed_by_what_it_is(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "A = 1\n"})
    with open(repo / "big.log", "wb") as fh:  # 200 MB, sparse: costs no disk
        fh.truncate(200 << 20)
    (repo / "big.txt").write_text("hello\n" * 2000)
    out = tmp_path / "out"
    code, lines = build(capsys, repo, out, "--max-file-bytes", "10000")
    assert code == 0
    assert sorted(line.split(":")[0] for line in lines) == ["big.log", "big.txt"]
    assert all("DA103" in line for line in lines)
    assert not (out / "big.log_docs.md").exists()  # binary: listed in its folder, no page of text
    assert "binary data, 209,715,200 bytes" in (out / "index.md").read_text()
    assert "Type**: Text File" in (out / "big.txt_docs.md").read_text()


def test_deep_nesting_costs_the_file_its_analysis_only(make_repo, tmp_path: Path, capsys) -> None:
    deep_yaml = "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v: 1\n"
    repo = make_repo({"deep.yaml": deep_yaml, "seq.yaml": "- " * 300 + "x\n", "ok.yaml": "a:\n  b: 1\n",
                      "deep.py": "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n",
                      "indent.py": "".join("    " * i + "if x:\n" for i in range(1000)) + "    " * 1000 + "pass\n"})
    out = tmp_path / "out"
    for jobs in ("1", "2"):  # in-process, the segfault of tree-sitter-yaml killed the build itself
        code, lines = build(capsys, repo, out, "-j", jobs, "--full")
        by_file = {line.split(":")[0]: line for line in lines}
        assert code == 0 and sorted(by_file) == ["deep.py", "deep.yaml", "indent.py", "seq.yaml"], lines
        assert "DA203" in by_file["deep.yaml"] and "DA203" in by_file["seq.yaml"]
        assert "DA201" in by_file["deep.py"]
        assert "DA203" in (out / "deep.yaml_docs.md").read_text() and (out / "ok.yaml_docs.md").is_file()


HOSTILE = ["new\nline.py", "back`tick.py", "hash#name.py", "per%cent.py", "[bracket].py", "-leading.py",
           "ünïcødé_名前.py", "tab\tname.py", "a" * 240 + ".py", "b" * 250 + ".py", "c" * 252 + ".py"]


def test_hostile_file_names(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({name: f"def f_{i}():\n    pass\n" for i, name in enumerate(HOSTILE)} |
                     {"d" * 200 + "/" + "e" * 250 + ".md": "# T\n"})
    out = tmp_path / "out"
    code, lines = build(capsys, repo, out, "-j", "2")
    assert code == 0 and lines == []
    for name in HOSTILE:
        page = out / paths.file_page(name)
        assert page.is_file() and (out / paths.kw_page(name)).is_file(), name
        assert len(page.name.encode()) <= 255
    long = paths.file_page("b" * 250 + ".py")
    assert long.startswith("b" * 200) and long.endswith("_docs.md") and long == paths.file_page("b" * 250 + ".py")
    assert paths.file_page("b" * 250 + ".py") != paths.file_page("b" * 250 + ".pyi")
    index = (out / "index.md").read_text()
    assert paths.url_quote(paths.rel("index.md", long)) in index  # linked under its short name
    newline_page = (out / paths.file_page("new\nline.py")).read_text()
    assert newline_page.startswith("# Documentation: `new\\x0aline.py`\n")
    conn = sqlite3.connect(out / schema.INDEX_NAME)  # `files.page`, `kw_page`: generated from a stored stem
    stems = dict(conn.execute("SELECT path, page_stem FROM files"))
    assert {p: pages for p, *pages in conn.execute("SELECT path, page, kw_page FROM files")} == {
        p: [paths.file_page(p), paths.kw_page(p)] for p in stems}
    assert {p for p, stem in stems.items() if stem} == {p for p in stems if paths.file_page(p) != p + "_docs.md"}
    assert {p for p, stem in stems.items() if stem} >= {"b" * 250 + ".py", "d" * 200 + "/" + "e" * 250 + ".md"}
    conn.close()
    assert build(capsys, repo, out)[0] == 0  # a no-op rebuild
    for i in range(len(HOSTILE)):
        assert query(capsys, out, "search", f"f_{i}")[0] == 0


def test_docatlas_names_inside_the_repository(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"docatlas.sqlite/a.py": "A = 1\n", ".docatlas-manifest.json/b.py": "B = 1\n",
                      "index.md/c.py": "C = 1\n", "keywords.md/d.py": "D = 1\n", ".docatlas.lock/e.py": "E = 1\n",
                      "top.py": "T = 1\n"})
    (repo / ".docatlas-manifest.json").rename(repo / "tmp")  # a folder named like the manifest, not at root:
    (repo / "sub").mkdir()  # at the root it would mark the repository as docatlas output, which is refused
    (repo / "tmp").rename(repo / "sub" / ".docatlas-manifest.json")
    out = tmp_path / "out"
    for _ in range(2):
        code, lines = build(capsys, repo, out)
        assert code == 0 and lines == []
        assert (out / schema.INDEX_NAME).is_file() and (out / MANIFEST_NAME).is_file()
        assert (out / "index.md").read_text().startswith("# repo: repository documentation")
        assert (out / "docatlas.sqlite~" / "a.py_docs.md").is_file()
        assert (out / "index.md~" / "c.py_docs.md").is_file() and (out / "keywords.md~" / "d.py_docs.md").is_file()
        assert (out / "sub" / ".docatlas-manifest.json" / "b.py_docs.md").is_file()
        assert query(capsys, out, "search", "A")[0] == 0
        conn = sqlite3.connect(out / schema.INDEX_NAME)
        assert dict(conn.execute("SELECT path, page FROM files WHERE page_stem != ''")) == {
            p: paths.file_page(p) for p in ("docatlas.sqlite/a.py", "index.md/c.py", "keywords.md/d.py",
                                             ".docatlas.lock/e.py")}
        conn.close()


def test_unlistable_folder_is_a_diagnostic(make_repo, tmp_path: Path, capsys,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo({"a.py": "A = 1\n", "secret/b.py": "B = 1\n"})
    real = os.scandir

    def scandir(path: object = ".") -> object:  # as a folder without read permission (tests run as root)
        if str(path).endswith("secret"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    code, lines = build(capsys, repo, tmp_path / "out", "-j", "1")
    assert code == 0 and lines == ["secret/:0:0: DA101 cannot list this folder: Permission denied; its files are "
                                   "not documented"]


# -- the output folder ---------------------------------------------------------------------------------------
def test_interrupted_first_build_is_resumed_not_refused(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "A = 1\n", "pkg/b.py": "B = 1\n"})
    out = tmp_path / "out"
    out.mkdir()
    (out / MARKER_NAME).write_text("123 0\n")  # what a build killed before its manifest leaves
    (out / "a.py_docs.md").write_text("half")
    (out / "gone.py_docs.md").write_text("a page of a file deleted since")
    (out / "pkg").mkdir()
    (out / "pkg" / ".999.docatlas-tmp").write_text("stray")
    (out / "docatlas.sqlite.tmp").write_text("stray index")
    code = main(["build", str(repo), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and "repairs it" in err
    clean = tmp_path / "clean"
    assert build(capsys, repo, clean)[0] == 0
    assert pages(out) == pages(clean)
    assert not (out / MARKER_NAME).exists() and not (out / "docatlas.sqlite.tmp").exists()


def test_foreign_folder_refused_garbage_manifest_repaired(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "A = 1\n"})
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    code, lines = build(capsys, repo, foreign)
    assert code == 2 and "not written by docatlas" in lines[-1] and len(lines) == 1
    assert (foreign / "notes.txt").read_text() == "mine" and not (foreign / LOCK_NAME).exists()
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    (out / MANIFEST_NAME).write_text("\x00garbage{")
    code = main(["build", str(repo), "-o", str(out)])
    assert code == 0 and "unreadable" in capsys.readouterr().err
    assert manifest_pages(json.loads((out / MANIFEST_NAME).read_text()))


@pytest.mark.parametrize("version", [1, 2])
def test_an_older_manifest_is_read_and_its_pages_removed_when_gone(make_repo, tmp_path: Path, capsys,
                                                                   version: int) -> None:
    """A manifest of docatlas before version 3 (a list of page names, or before 2 a dict of their digests)
    still says which pages docatlas wrote: one no build produces any more is removed, and the manifest is
    written again grouped by folder."""
    repo = make_repo({"a.py": "A = 1\n", "pkg/b.py": "B = 2\n"})
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    good = pages(out)
    listed = [*manifest_pages(json.loads((out / MANIFEST_NAME).read_text())), "pkg/gone.py_docs.md"]
    assert "pkg/b.py_docs.md" in listed
    (out / "pkg" / "gone.py_docs.md").write_text("a page of a file since deleted\n")
    old = {"generator": "docatlas", "version": "0", "pages": listed if version == 2 else dict.fromkeys(listed, "")}
    (out / MANIFEST_NAME).write_text(json.dumps(old))
    assert build(capsys, repo, out)[0] == 0
    assert not (out / "pkg" / "gone.py_docs.md").exists() and pages(out) == good
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["manifest_version"] == 3 and "pkg/gone.py_docs.md" not in manifest_pages(manifest)
    assert "b.py_docs.md" in manifest["folders"]["pkg"]


def test_hand_edited_and_deleted_pages_are_restored(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "A = 1\n", "b.py": "B = 2\n"})
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    good = pages(out)
    (out / "a.py_docs.md").write_text("edited by hand\n")
    (out / "b.py_kw.md").unlink()
    assert build(capsys, repo, out)[0] == 0
    assert pages(out) == good



def test_page_state_is_private_and_its_loss_rewrites_every_page(make_repo, tmp_path: Path, capsys) -> None:
    """Signatures, sizes and mtimes are build-to-build bookkeeping: they live in the cache folder (which its
    `.gitignore` keeps out of what is published), not beside the pages. Without them, or beside a manifest they
    were not written with, no page on disk is trusted: a page edited by hand is restored all the same."""
    from docatlas.output import STATE_PATH

    repo = make_repo({"a.py": "A = 1\n", "b.py": "B = 2\n"})
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    good = pages(out)
    assert not (out / ".docatlas-stats.json").exists()
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert set(manifest) == {"generator", "version", "manifest_version", "folders"}  # names only, by folder
    assert list(manifest["folders"]) == sorted(manifest["folders"])
    assert all(names == sorted(names) for names in manifest["folders"].values())
    state = marshal.loads((out / STATE_PATH).read_bytes())
    assert set(state[2]) == set(state[3]) == set(state[4]) == set(manifest_pages(manifest))  # digest, input, stat
    assert (out / schema.CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    # the state goes: a page edited by hand keeps its size and mtime, and is found all the same
    a = out / "a.py_docs.md"
    st = a.stat()
    a.write_bytes(b"X" * st.st_size)
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    (out / STATE_PATH).unlink()
    assert build(capsys, repo, out)[0] == 0
    assert pages(out) == good
    # a state written with another manifest is not trusted either
    a.write_bytes(b"X" * st.st_size)
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    tag, _manifest, digests, inputs, stats = marshal.loads((out / STATE_PATH).read_bytes())
    stats["a.py_docs.md"] = (st.st_size, st.st_mtime_ns)
    (out / STATE_PATH).write_bytes(marshal.dumps((tag, "0" * 40, digests, inputs, stats)))
    assert build(capsys, repo, out)[0] == 0
    assert pages(out) == good
    # nor one of another type than it should be (marshal keeps any), nor the JSON state of an older docatlas,
    # which the build removes
    a.write_bytes(b"X" * st.st_size)
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    tag, manifest_digest, digests, inputs, stats = marshal.loads((out / STATE_PATH).read_bytes())
    stats["a.py_docs.md"] = [st.st_size, st.st_mtime_ns]
    (out / STATE_PATH).write_bytes(marshal.dumps((tag, manifest_digest, digests, inputs, stats)))
    (out / schema.CACHE_DIR / "page-state.json").write_text("{}")
    assert build(capsys, repo, out)[0] == 0
    assert pages(out) == good
    assert not (out / schema.CACHE_DIR / "page-state.json").exists()

def test_lock_no_wait_and_wait(make_repo, tmp_path: Path, capsys) -> None:
    import fcntl

    repo = make_repo({"a.py": "A = 1\n"})
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    fd = os.open(out / LOCK_NAME, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another build holds the folder
    try:
        code, lines = build(capsys, repo, out, "--no-wait")
        assert code == 2 and len(lines) == 1 and "another docatlas build" in lines[0]
        proc = subprocess.Popen([sys.executable, "-m", "docatlas", "build", str(repo), "-o", str(out), "-q"],
                                stderr=subprocess.PIPE, text=True)
        line = proc.stderr.readline() if proc.stderr else ""
        assert "waiting for another docatlas build" in line and proc.poll() is None
    finally:
        os.close(fd)
    assert proc.wait(timeout=60) == 0


def test_open_reads_the_state_again_only_when_it_changed(make_repo, tmp_path: Path, capsys, monkeypatch) -> None:
    """`OutputFolder.open` takes the lock, then reads the last build's manifest and page state again only when
    they are not the files the folder read when made: a build that finished in between is seen, and an
    uncontended open does not parse the same 4 MB (PyTorch) twice."""
    repo = make_repo({"a.py": "A = 1\n", "b.py": "B = 1\n"})
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    reads: list[int] = []
    load = OutputFolder._load_manifest

    def counted(self: OutputFolder) -> object:
        reads.append(1)
        return load(self)

    monkeypatch.setattr(OutputFolder, "_load_manifest", counted)
    folder = OutputFolder(out, repo)
    before = dict(folder.previous_inputs)
    folder.open()
    folder.close()
    assert len(reads) == 1 and folder.previous_inputs == before and folder.known
    (out / MARKER_NAME).unlink()  # (what `finish` and `complete` would have done)
    folder = OutputFolder(out, repo)  # read now; another build then changes the pages before this one locks
    (repo / "c.py").write_text("C = 1\n")
    assert build(capsys, repo, out)[0] == 0
    reads.clear()
    folder.open()
    folder.close()
    assert len(reads) == 1 and "c.py_docs.md" in folder.previous and folder.previous_inputs != before


def test_open_checks_the_index_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / schema.INDEX_NAME).mkdir(parents=True)
    with pytest.raises(Exception, match="is not a file"):
        OutputFolder(out, tmp_path / "repo")


# -- one-line errors and exit codes ---------------------------------------------------------------------------
def test_user_errors_are_one_line_exit_2(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "A = 1\n"})
    for extra in (["--exclude", "\\"], ["-o", "/proc/docatlas-x"], ["-o", str(repo / "a.py" / "out")]):
        code = main(["build", str(repo), "-q", *extra])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("docatlas: error:"), (extra, err)
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    code, _, err = query(capsys, out, "export", "--to", "/nonexistent/d/x.jsonl")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_exit_codes_like_sphinx(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "def broken(:\n", "b.py": "B = 1\n"})
    out = tmp_path / "out"
    code = main(["build", str(repo), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 0 and "1 diagnostic (DA201 1)" in err
    assert build(capsys, repo, out, "--strict")[0] == 1


def test_exclude_everything_warns(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "A = 1\n"})
    code, lines = build(capsys, repo, tmp_path / "out", "--exclude", "*")
    assert code == 0 and any("warning: no file left to document" in line for line in lines)


def test_docstrings_cannot_inject_html(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": '"""Run <script>alert(1)</script> with `code` kept."""\n\n\ndef f():\n'
                              '    """Also <img src=x onerror=y> here."""\n'})
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    # every page: files, folders, keywords and the repository guide, and llms.txt
    text = "".join(p.read_text() for p in [*out.rglob("*.md"), out / "llms.txt"])
    text = re.sub(r"^```.*?^```$", "", text, flags=re.S | re.M)  # the embedded source is code, shown as it is
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script>alert(1)&lt;/script> with `code` kept." in text


def test_project_name_is_escaped(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "A = 1\n"})
    out = tmp_path / "out"
    assert build(capsys, repo, out, "--name", "<script>alert(1)</script>")[0] == 0
    text = "".join(p.read_text() for p in out.rglob("*.md"))
    assert "<script>" not in text and "\\<script\\>alert(1)" in text


def test_jobs_capped_with_a_warning(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"docatlas.toml": "jobs = 100000\n", **{f"m{i}.py": f"X{i} = 1\n" for i in range(10)}})
    code, lines = build(capsys, repo, tmp_path / "out")
    assert code == 0 and any("--jobs 100000 is more than this machine has" in line for line in lines)


def test_progress_lines_without_a_terminal(make_repo, tmp_path: Path) -> None:
    repo = make_repo({f"m{i}.py": f"X{i} = 1\n" for i in range(12)})
    env = {**os.environ, "DOCATLAS_PROGRESS_SECONDS": "0"}
    proc = subprocess.run([sys.executable, "-m", "docatlas", "build", str(repo), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0
    assert "docatlas: extract 12/12" in proc.stderr and "docatlas: render" in proc.stderr


# -- queries ---------------------------------------------------------------------------------------------------
def test_search_caps_and_unicode(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"u.py": "def Данные():\n    pass\n\n\ndef 计算():\n    pass\n"})
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    for word in ("Данные", "计算"):
        code, stdout, _ = query(capsys, out, "search", word)
        assert code == 0 and word in stdout
    code, _, err = query(capsys, out, "search", "x" * 10_000)
    assert code == 2 and "query too long" in err and len(err) < 300
    code, _, err = query(capsys, out, "search", " ".join(["w"] * 50))
    assert code == 2 and "too many words" in err


def test_hot_journal_never_breaks_queries(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({"a.py": "def alpha():\n    pass\n"})
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    db = out / schema.INDEX_NAME
    killer = ("import os, signal, sqlite3, sys\n"
              "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
              "c.execute('PRAGMA journal_mode=DELETE'); c.execute('PRAGMA cache_size=1')\n"
              "c.execute('BEGIN IMMEDIATE'); c.execute('DELETE FROM symbol_rows'); c.execute('DELETE FROM meta')\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")
    subprocess.run([sys.executable, "-c", killer, str(db)], check=False)
    assert (out / (schema.INDEX_NAME + "-journal")).exists()
    for args in (["search", "alpha"], ["show", "a.py"], ["stats"]):
        code, _, err = query(capsys, out, *args)
        assert code == 0 and "readonly" not in err, (args, err)
    assert "alpha" in query(capsys, out, "search", "alpha")[1]
    assert sqlite3.connect(db).execute("SELECT count(*) FROM symbols").fetchone()[0] > 0


def test_broken_pipe_is_one_line(make_repo, tmp_path: Path, capsys) -> None:
    repo = make_repo({f"m{i}.py": "".join(f"def f{j}():\n    pass\n" for j in range(300)) for i in range(3)})
    out = tmp_path / "out"
    assert build(capsys, repo, out)[0] == 0
    proc = subprocess.Popen([sys.executable, "-m", "docatlas", "export", "-o", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 2 and "Traceback" not in err and len(err.strip().splitlines()) <= 1


@pytest.mark.parametrize("where", ["page", "index"])
def test_full_disk_is_one_line_and_the_next_build_repairs(make_repo, tmp_path: Path, capsys,
                                                          monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    import errno

    from docatlas.store.writer import IndexWrite

    repo = make_repo({f"m{i}.py": f"X{i} = 1\n" for i in range(6)})
    out = tmp_path / "out"
    assert build(capsys, repo, out, "-j", "1")[0] == 0
    (repo / "m2.py").write_text("X2 = 2\n")
    (repo / "m7.py").write_text("X7 = 7\n")
    if where == "page":
        real = OutputFolder.write
        calls = []

        def write(self: OutputFolder, rel: str, text: str) -> object:
            calls.append(rel)
            if len(calls) > 2:
                raise OSError(errno.ENOSPC, "No space left on device", rel)
            return real(self, rel, text)

        monkeypatch.setattr(OutputFolder, "write", write)
    else:
        def commit(self: IndexWrite, *args: object) -> str:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(IndexWrite, "commit", commit)
    code, lines = build(capsys, repo, out, "-j", "1")
    assert code == 2 and len(lines) == 1 and lines[0].startswith("docatlas: error:"), lines
    assert "No space left" in lines[0] or "disk is full" in lines[0]
    assert (out / MARKER_NAME).exists()
    monkeypatch.undo()
    assert build(capsys, repo, out, "-j", "1")[0] == 0
    clean = tmp_path / "clean"
    assert build(capsys, repo, clean, "-j", "1")[0] == 0
    assert pages(out) == pages(clean)


def test_index_rows_of_one_file_fail_alone(make_repo, tmp_path: Path, capsys,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from docatlas.store import writer

    real = writer._symbol_rows

    def rows(facts: object, module: str, file_id: int, *rest: object) -> object:
        if getattr(facts, "path", "") == "bad.py":
            raise KeyError("boom")
        return real(facts, module, file_id, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(writer, "_symbol_rows", rows)
    repo = make_repo({"bad.py": "def bad_fn():\n    pass\n", "good.py": "def good_fn():\n    pass\n"})
    out = tmp_path / "out"
    code, lines = build(capsys, repo, out, "-j", "1")
    assert code == 0 and any("bad.py:0:0: DA306 internal error while indexing: KeyError" in line for line in lines)
    assert query(capsys, out, "search", "good_fn")[0] == 0
    assert query(capsys, out, "search", "bad_fn")[0] == 1
    conn = sqlite3.connect(out / schema.INDEX_NAME)
    assert conn.execute("SELECT count(*) FROM diagnostics WHERE code = 'DA306' AND path = 'bad.py'").fetchone()[0] == 1
    assert (out / "bad.py_docs.md").is_file()


_ESCAPES = ["\\r", "\\v", "\\f", "\\a", "\\b", "\\0", "\\177", "\\x1b", "\\x85", "\\u202e", "\\U0001F600",
            "\\udfff", "\\N{RIGHT-TO-LEFT OVERRIDE}", "\\n", "\\t", "\\\\", "\\e", "\\N", "\\L", "\\P", "\\_"]


@given(st.lists(st.sampled_from(_ESCAPES), min_size=1, max_size=4), st.sampled_from(["python", "json", "toml",
                                                                                       "yaml"]))
@settings(max_examples=120, deadline=None)
def test_escapes_that_evaluate_to_unsafe_characters_are_caught(escapes: list[str], language: str) -> None:
    """Files whose text has no unsafe character skip the walk over their facts unless an escape in them may make
    one (`needs_cleaning`); whatever the escapes, the facts end up holding none."""
    from docatlas.extract import extract_bytes

    body = "".join(escapes)
    source = {"python": f'"""Doc {body}."""\nX = "{body}"\n\n\ndef f():\n    """{body}"""\n',
              "json": f'{{"k{body}": "{body}"}}\n', "toml": f'[t]\nk = "{body}"\n',
              "yaml": f'k{body.replace(chr(92), "")}: "{body}"\n'}[language]
    name = {"python": "m.py", "json": "d.json", "toml": "c.toml", "yaml": "c.yaml"}[language]
    facts = extract_bytes(name, source.encode(), language)
    assert not has_unsafe(facts)
