"""Hypothesis: small file trees with hostile names and contents never break a build (issue 11).

Asserted for every tree: exit code 0 or 1, every file in the index and every page the index names on disk,
the index answers queries, and nothing is written outside the output folder."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from docatlas.cli import main  # noqa: E402
from docatlas.store import schema  # noqa: E402

# characters that have broken tools before: Markdown and shell metacharacters, controls, newline, non-ASCII,
# a lone surrogate is impossible in a file name (not UTF-8) and is fuzzed in contents instead
NAME_CHARS = st.sampled_from([*"ab_-.#%[]`*<>|&'\" \t\n\x1b~$!()ü名Д", "\u202e", "\xa0"])
RESERVED = {"pyproject.toml", "docatlas.toml", ".docatlas-manifest.json", ".gitignore", ".", ".."}
names = st.text(NAME_CHARS, min_size=1, max_size=12).filter(lambda n: n not in RESERVED)
long_names = st.builds(lambda n, k: (n * 255)[:k], names, st.integers(200, 250)).filter(
    lambda n: len(n.encode()) <= 255 and n not in RESERVED)
suffixes = st.sampled_from(["", ".py", ".md", ".yaml", ".json", ".js", ".c", ".h", ".txt", ".toml", ".sh"])
SNIPPETS = ['x = "\\udfff"\n', "def f(:\n", "\x00\x01\x02", "# " + "#" * 50 + "\n", "[" * 300, "- " * 300,
            "<script>alert(1)</script>\n", "`" * 10, "\r\n\r\n", "\ufeff\ufeff", "def Данные():\n    pass\n",
            "class A:\n    def m(self):\n        '''Doc\x1b[2J.'''\n", "#include <" + "a" * 300 + ">\n",
            '{"a": ' * 100 + "1" + "}" * 100, "key:\n" + "  - x\n" * 5]
contents = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from(SNIPPETS), max_size=5).map(lambda xs: "".join(xs).encode("utf-8", "surrogatepass")),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)
paths = st.tuples(st.lists(names, max_size=2), st.one_of(names, long_names), suffixes).map(
    lambda t: "/".join([*t[0], t[1][: 255 - len(t[2].encode())] + t[2]]) if len((t[1] + t[2]).encode()) <= 255
    else "/".join([*t[0], t[1]]))
trees = st.dictionaries(paths, contents, min_size=1, max_size=8)


def _write(root: Path, files: dict[str, bytes]) -> dict[str, bytes]:
    written: dict[str, bytes] = {}
    for rel, data in files.items():
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except (OSError, ValueError):  # a file and a folder of the same name: the first one wins
            continue
        written[rel] = data
    return {r: d for r, d in written.items() if (root / r).is_file()}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_hostile_trees(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        repo = base / "repo"
        repo.mkdir()
        written = _write(repo, files)
        out = base / "out"
        before = {p for p in base.rglob("*") if out not in p.parents}
        code = main(["build", str(repo), "-o", str(out), "-q", "-j", "1"])
        assert code in (0, 1)
        assert {p for p in base.rglob("*") if out not in p.parents and p != out} == before
        conn = sqlite3.connect(out / schema.INDEX_NAME)
        rows = conn.execute("SELECT path, page, kw_page FROM files").fetchall()
        conn.close()
        assert {r[0] for r in rows} == set(written)
        for _, page, kw in rows:
            for name in (page, kw):
                assert not name or (out / name).is_file(), name
        assert main(["stats", "-o", str(out)]) == 0
        for rel in list(written)[:3]:
            word = "".join(c for c in os.path.basename(rel) if c.isalnum())
            if word:
                assert main(["search", word[:20], "-o", str(out)]) in (0, 1)
