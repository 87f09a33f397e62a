"""The SQLite index: schema, identifier-aware search ranking, symbol resolution, robustness."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from docatlas.config import make_config
from docatlas.link.stage import link, link_state
from docatlas.model import FileFacts, Import, Symbol
from docatlas.model import TestCase as Case
from docatlas.pipeline import build
from docatlas.store import queries, schema, writer
from docatlas.store.cache import FactsCache
from store_helpers import write_index

COMPILER = '''"""Graph compilation helpers."""


class RecompileTests:
    """Checks that guards trigger recompilation."""

    def test_no_recursive_compile_after_cache_limit_hit(self):
        pass


def compile_graph(graph):
    """Applies a linear transformation to every node of the graph."""
    return graph


def compile_graph_fast(graph):
    return graph
'''

REPO = {
    "pkg/__init__.py": '"""Demo package."""\nfrom .compiler import RecompileTests, compile_graph\n',
    "pkg/compiler.py": COMPILER,
    "tests/test_compiler.py": "import unittest\nfrom pkg.compiler import compile_graph\n\n\n"
                              "class CompileGraphTest(unittest.TestCase):\n    def test_identity(self):\n"
                              "        self.assertEqual(compile_graph(1), 1)\n",
    "README.md": "# Demo\n\nSome words about recompilation.\n",
}


def _cpp_facts() -> dict[str, FileFacts]:
    """C++ records written by hand, so these tests do not depend on the C++ extractor."""
    cpp = FileFacts(path="aten/native/BinaryOps.cpp", language="cpp", size=100, digest="c" * 40, lines=9, symbols=(
        Symbol("namespace", "at", "at", 1, 9),
        Symbol("namespace", "native", "at::native", 1, 9, parent="at"),
        Symbol("function", "add", "at::native::add", 3, 5, signature="Tensor add(const Tensor& a, const Tensor& b)",
               summary="Adds two tensors elementwise.", parent="at::native"),
        Symbol("function", "add_out", "at::native::add_out", 6, 8, parent="at::native"),
    ), imports=(Import("ATen/ATen.h", line=1),))
    header = FileFacts(path="aten/native/BinaryOps.h", language="c-header", size=50, digest="d" * 40, lines=3,
                       symbols=(Symbol("function", "add", "at::native::add", 2, 2, flags=("declaration",),
                                       parent="at::native"),))
    test = FileFacts(path="test/test_ops.py", language="python", size=80, digest="e" * 40, lines=5,
                     symbols=(Symbol("class", "TestAdd", "TestAdd", 1, 5),
                              Symbol("method", "test_add", "TestAdd.test_add", 2, 3, parent="TestAdd")),
                     tests=(Case("TestAdd", 1, "unittest", "class"), Case("TestAdd.test_add", 2, "unittest")))
    return {f.path: f for f in (cpp, header, test)}


def index_from_facts(tmp_path: Path, facts: dict[str, FileFacts]) -> Path:
    """Write an index straight from FileFacts records (no extraction, no pages)."""
    root = tmp_path / "src"
    root.mkdir(exist_ok=True)
    cfg = make_config(root, tmp_path / "out")
    cfg.output.mkdir(exist_ok=True)
    cache = FactsCache.load(cfg)
    model = link("demo", facts)
    write_index(cfg, model, cache, list(facts), [], {}, [], link_state(model))
    return cfg.output


@pytest.fixture
def built(make_repo, tmp_path: Path) -> Path:
    repo = make_repo(REPO)
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    return out


def names(hits: list[queries.Hit]) -> list[str]:
    return [h.name for h in hits]


def test_identifier_words_split_camel_case_only_where_the_tokenizer_does_not() -> None:
    assert schema.identifier_words("RecompileTests") == "recompile tests"
    assert schema.identifier_words("torch.nn.Conv2d", "HTTPServer") == "http server"
    assert schema.identifier_words("snake_case_name") == ""  # unicode61 already splits at `_`


def test_fts_query_quotes_user_text() -> None:
    assert schema.fts_query('a"b OR c') == '"a""b"* AND "OR"* AND "c"*'
    with pytest.raises(schema.QueryError):
        schema.fts_query('"( ) ::')


def test_schema_and_contents(built: Path) -> None:
    conn = sqlite3.connect(built / schema.INDEX_NAME)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    files = dict(conn.execute("SELECT path, purpose FROM files"))
    assert files == {"README.md": "docs", "pkg/__init__.py": "package-init", "pkg/compiler.py": "library",
                     "tests/test_compiler.py": "test"}
    row = conn.execute("SELECT kind, qualname, fqname, line, end_line, summary FROM symbols "
                       "WHERE name = 'compile_graph'").fetchone()
    assert row == ("function", "compile_graph", "pkg.compiler.compile_graph", 11, 13,
                   "Applies a linear transformation to every node of the graph.")
    assert ("tests/test_compiler.py", "repo", "pkg/compiler.py") in conn.execute(
        "SELECT path, category, target FROM imports").fetchall()
    assert conn.execute("SELECT count(*) FROM test_links WHERE target = 'pkg/compiler.py' "
                        "AND test_path = 'tests/test_compiler.py'").fetchone()[0] == 1
    cache = sqlite3.connect(schema.cache_path(built))
    assert cache.execute("SELECT count(*) FROM facts_cache").fetchone()[0] == 4
    private = "SELECT count(*) FROM sqlite_master WHERE name IN ('facts_cache', 'link_state', 'search_content')"
    assert not conn.execute(private).fetchone()[0]
    assert {r[0] for r in conn.execute("SELECT path FROM folders")} == {"", "pkg", "tests"}


def test_search_exact_then_prefix_then_words(built: Path) -> None:
    conn = schema.open_index(built)
    hits = queries.search(conn, "compile_graph")
    assert [(h.name, h.match) for h in hits[:2]] == [("compile_graph", "exact"), ("compile_graph_fast", "prefix")]
    assert hits[0].path == "pkg/compiler.py" and hits[0].line == 11


def test_search_partial_identifier_word(built: Path) -> None:
    conn = schema.open_index(built)
    top = names(queries.search(conn, "recompile"))
    assert top[:2] == ["RecompileTests", "test_no_recursive_compile_after_cache_limit_hit"]
    assert "compile_graph" in names(queries.search(conn, "graph"))
    assert names(queries.search(conn, "cache_limit"))[0] == "test_no_recursive_compile_after_cache_limit_hit"


def test_search_docstring_phrase_and_filters(built: Path) -> None:
    conn = schema.open_index(built)
    hits = queries.search(conn, "linear transformation")
    assert (hits[0].name, hits[0].match) == ("compile_graph", "mention")
    assert names(queries.search(conn, "compile", kind="class")) == ["CompileGraphTest", "RecompileTests"]
    assert {h.path for h in queries.search(conn, "compile", path="tests")} == {"tests/test_compiler.py"}
    assert {h.path for h in queries.search(conn, "compile", path="*/compiler.py")} == {"pkg/compiler.py"}
    assert queries.search(conn, "compile", lang="markdown") == []
    assert len(queries.search(conn, "compile", limit=2)) == 2
    assert [h.kind for h in queries.search(conn, "compiler", kind="file")] == ["file", "file"]


def test_search_cpp_qualified_names_definitions_before_declarations(tmp_path: Path) -> None:
    conn = schema.open_index(index_from_facts(tmp_path, _cpp_facts()))
    hits = queries.search(conn, "at::native::add")
    assert [(h.path, h.match) for h in hits[:2]] == [("aten/native/BinaryOps.cpp", "exact"),
                                                     ("aten/native/BinaryOps.h", "exact")]
    assert queries.search(conn, "native::add_out")[0].qualname == "at::native::add_out"
    assert queries.search(conn, "add")[0].path == "aten/native/BinaryOps.cpp"
    assert queries.search(conn, "elementwise")[0].qualname == "at::native::add"


def test_search_rows_keep_a_path_only_where_the_qualified_name_lacks_it(make_repo, tmp_path: Path) -> None:
    """A Python symbol's search row has no path words (its fqname holds its module's); a C symbol's keeps all
    but the extension, a file's all of them, so `zebra stripes` still finds both definitions, and an edit
    removes the rows it indexed (an incremental build's search terms equal a full build's: test_incremental)."""
    repo = make_repo({"pkg/__init__.py": "", "pkg/zebra.py": "def stripes():\n    pass\n",
                      "src/zebra.c": "int stripes_c(void) { return 0; }\n"})
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    conn = schema.open_index(out)
    in_path = {r[0] for r in conn.execute("SELECT rowid FROM search WHERE search MATCH 'path : zebra'")}
    ids = dict(conn.execute("SELECT qualname, id FROM symbols"))
    files = dict(conn.execute("SELECT path, -id FROM files"))
    assert in_path == {ids["stripes_c"], files["pkg/zebra.py"], files["src/zebra.c"]}
    assert {r[0] for r in conn.execute("SELECT rowid FROM search WHERE search MATCH 'path : c'")} == {
        files["src/zebra.c"]}  # a symbol's row leaves the extension to its file's
    assert {(h.qualname, h.path) for h in queries.search(conn, "zebra stripes")} >= {
        ("pkg.zebra.stripes", "pkg/zebra.py"), ("stripes_c", "src/zebra.c")}
    conn.close()
    (repo / "pkg/zebra.py").write_text("def stripes():\n    pass\n\n\ndef mane():\n    pass\n")
    build(make_config(repo, out, jobs=1))
    conn = schema.open_index(out)
    assert {r[0] for r in conn.execute("SELECT rowid FROM search WHERE search MATCH 'path : zebra'")} == in_path
    assert queries.search(conn, "zebra mane")[0].qualname == "pkg.zebra.mane"


def test_fqname_lookups_match_the_views_fqname(built: Path, tmp_path: Path) -> None:
    """A Python symbol's fqname is not stored (module + qualname): the indexed lookups find what comparing
    the view's `fqname` finds, case-insensitively, for exact names and prefixes."""
    for conn in (schema.open_index(built), schema.open_index(index_from_facts(tmp_path, _cpp_facts()))):
        every = {r[0] for r in conn.execute("SELECT fqname FROM symbols")}
        queries_ = [*sorted(every), "PKG.Compiler.compile_graph", "pkg.", "pkg.compiler.Rec", "pkg.comp",
                    "AT::native::ad", "at::", "pkg.compiler.RecompileTests.test_no", "nothing.here"]
        for q in queries_:
            sql, args = schema.fqname_is(q)
            found = sorted(conn.execute(f"SELECT id FROM symbols WHERE {sql}", args))
            assert found == sorted(conn.execute("SELECT id FROM symbols WHERE fqname = ?", (q,))), q
            hi = q + "\U0010ffff"
            for ranged in (True, False):
                sql, args = schema.fqname_prefix(q, hi, ranged)
                found = sorted(conn.execute(f"SELECT id FROM symbols WHERE {sql}", args))
                assert found == sorted(conn.execute("SELECT id FROM symbols WHERE fqname >= ? AND fqname < ?",
                                                    (q, hi))), q
        assert conn.execute("SELECT count(*) FROM symbols").fetchone()[0] > 3


def test_text_lookups_by_hash_compare_the_text(make_repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`strings` is looked up by a hash of its text (`strings_hash`), never by the hash alone: with every text
    given the key of its first two letters (texts that begin alike collide), the indexed lookups of names,
    qualified names, fqnames and prefixes still find exactly what comparing the views' columns finds,
    case-insensitively; and the stored hash is the one `text_hash` gives, the same for texts equal under
    `COLLATE NOCASE` (ASCII letters folded, no others), and within `hash_range` of every prefix of the text."""
    from docatlas.store import intern
    built_out = tmp_path / "real"
    build(make_config(make_repo(REPO), built_out, jobs=1))
    conn = schema.open_index(built_out)
    assert all(h == schema.text_hash(t) for t, h in conn.execute("SELECT text, hash FROM strings"))
    assert schema.text_hash("RecompileTests") == schema.text_hash("recompiletests")
    assert schema.text_hash("Größe") == schema.text_hash("gRößE") != schema.text_hash("GRÖSSE")
    for text in [t for (t,) in conn.execute("SELECT text FROM strings")] + ["a", "ö", "Größe", "x" * 3]:
        swapped = "".join(c.swapcase() if c.isascii() else c for c in text)  # NOCASE folds ASCII letters only
        for prefix in {text[:i] for i in range(1, len(text) + 1)} | {swapped[:1], swapped[:3], swapped}:
            low, high = schema.hash_range(prefix)
            assert low <= schema.text_hash(text) <= high and -2**31 <= low <= high < 2**31, (text, prefix)
    assert schema.hash_range("ab") == (schema.hash_range("AB")[0], schema.hash_range("abc")[1])
    for module in (schema, intern, queries):
        monkeypatch.setattr(module, "text_hash", lambda text, lead=schema.hash_range: lead(text)[0])
    out = tmp_path / "collide"
    build(make_config(make_repo(REPO), out, jobs=1))
    conn = schema.open_index(out)
    hashes = dict(conn.execute("SELECT text, hash FROM strings"))  # every text of one first two letters: one key
    assert hashes["compile_graph"] == hashes["compile_graph_fast"] == hashes["CompileGraphTest"]
    rows = conn.execute("SELECT name, qualname, fqname FROM symbols").fetchall()
    assert len(rows) > 3
    for name, qualname, fqname in rows:
        for q in (name, name.upper(), qualname, qualname.swapcase()):
            for column, where in (("name", schema.name_is()), ("qualname", schema.qualname_is())):
                found = sorted(conn.execute(f"SELECT id FROM symbols WHERE {where}", schema.text_args(q)))
                assert found == sorted(conn.execute(f"SELECT id FROM symbols WHERE {column} = ?", (q,))), q
        sql, args = schema.fqname_is(fqname.upper())
        found = sorted(conn.execute(f"SELECT id FROM symbols WHERE {sql}", args))
        assert found == sorted(conn.execute("SELECT id FROM symbols WHERE fqname = ?", (fqname.upper(),)))
    for q in ("compile", "Compile_g", "pkg.compiler.Rec", "RecompileTests.test_no"):
        hi = q + "\U0010ffff"
        for ranged in (True, False):
            found = sorted(conn.execute(f"SELECT y.id FROM strings n JOIN symbol_rows y ON y.name = n.id "
                                        f"WHERE {schema.text_prefix('n', ranged)}", schema.prefix_args(q, hi, ranged)))
            assert found == sorted(conn.execute("SELECT id FROM symbols WHERE name >= ? AND name < ?", (q, hi))), q
    assert names(queries.search(conn, "compile_graph"))[:2] == ["compile_graph", "compile_graph_fast"]
    assert queries.show(conn, "pkg/compiler.py")["file"]["imported_by"] == ["pkg/__init__.py",  # type: ignore[index]
                                                                            "tests/test_compiler.py"]


def test_show_resolves_files_folders_modules_and_symbols(built: Path, tmp_path: Path) -> None:
    conn = schema.open_index(built)
    found = queries.show(conn, "pkg/compiler.py")
    assert found is not None and found["type"] == "file"
    rec = found["file"]
    assert rec["imported_by"] == ["pkg/__init__.py", "tests/test_compiler.py"]
    assert [t["test"] for t in rec["tested_by"]] == ["tests/test_compiler.py"]
    assert (queries.show(conn, "pkg/") or {})["type"] == "folder"
    assert (queries.show(conn, "pkg.compiler") or {})["file"]["path"] == "pkg/compiler.py"
    assert (queries.show(conn, "PKG.compiler") or {}).get("type") != "file"  # a module is matched as spelled
    assert [h.path for h in queries.search(conn, "pkg.compiler", kind="file")] == ["pkg/compiler.py"]
    via_reexport = queries.show(conn, "pkg.RecompileTests.test_no_recursive_compile_after_cache_limit_hit")
    assert via_reexport is not None
    assert via_reexport["symbols"][0]["fqname"] == \
        "pkg.compiler.RecompileTests.test_no_recursive_compile_after_cache_limit_hit"
    assert queries.show(conn, "no.such.thing") is None
    cpp = schema.open_index(index_from_facts(tmp_path, _cpp_facts()))
    found = queries.show(cpp, "at::native::add")
    assert found is not None
    assert [s["path"] for s in found["symbols"]] == ["aten/native/BinaryOps.cpp", "aten/native/BinaryOps.h"]


def test_corrupt_index_is_rebuilt_with_a_warning(make_repo, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    repo = make_repo(REPO)
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    (out / schema.INDEX_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(schema.IndexUnavailable, match="unreadable"):
        schema.open_index(out)
    with caplog.at_level(logging.WARNING, logger="docatlas.store"):
        report = build(make_config(repo, out, jobs=1))
    assert "unreadable" in caplog.text and "rebuilding" in caplog.text
    assert report.timings.get("extract") is not None
    assert names(queries.search(schema.open_index(out), "RecompileTests"))[0] == "RecompileTests"


def test_old_schema_is_rebuilt(make_repo, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    repo = make_repo(REPO)
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    conn = sqlite3.connect(out / schema.INDEX_NAME)
    conn.execute("PRAGMA user_version = 0")
    conn.close()
    with pytest.raises(schema.IndexUnavailable, match="schema version 0"):
        schema.open_index(out)
    with caplog.at_level(logging.WARNING, logger="docatlas.store"):
        build(make_config(repo, out, jobs=1))
    assert "schema version 0" in caplog.text
    assert schema.open_index(out).execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION


def test_interrupted_index_write_keeps_the_previous_index(make_repo, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(REPO)
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    (repo / "pkg" / "extra.py").write_text("def brand_new():\n    pass\n")

    def boom(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_whole_repo", boom)
    with pytest.raises(KeyboardInterrupt):
        build(make_config(repo, out, jobs=1))
    monkeypatch.undo()
    conn = schema.open_index(out)
    assert names(queries.search(conn, "RecompileTests"))[0] == "RecompileTests"
    assert queries.search(conn, "brand_new") == []
    conn.close()
    build(make_config(repo, out, jobs=1))
    assert names(queries.search(schema.open_index(out), "brand_new")) == ["brand_new"]


RANKING_REPO = {
    # Three definitions of `Engine`. The most imported one sits between the others in path order, and the
    # test file's sorts last by path but first in reverse: neither order of paths gives the expected ranking.
    "aaa/__init__.py": "",
    "aaa/engine_low.py": "class Engine:\n    '''Nobody imports this one.'''\n",
    "mmm/__init__.py": "",
    "mmm/core.py": "class Engine:\n    '''The one everybody imports.'''\n",
    "mmm/a.py": "from mmm.core import Engine\n",
    "mmm/b.py": "from mmm.core import Engine\n",
    "bbb/__init__.py": "",
    "bbb/config.py": "from mmm.core import Engine\n\n\nclass EngineConfig:\n    '''Settings of the engine.'''\n",
    "zzz/__init__.py": "",
    "zzz/tests/__init__.py": "",
    "zzz/tests/test_engine.py": "class Engine:\n    pass\n\n\ndef test_engine():\n    assert Engine\n",
}


def test_search_ranks_by_tier_then_test_files_then_centrality(make_repo, tmp_path: Path) -> None:
    repo = make_repo(RANKING_REPO)
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    hits = queries.search(schema.open_index(out), "Engine")
    got = [(h.path, h.name, h.match) for h in hits[:4]]
    assert got == [("mmm/core.py", "Engine", "exact"),  # defined, not a test, most central
                   ("aaa/engine_low.py", "Engine", "exact"),
                   ("zzz/tests/test_engine.py", "Engine", "exact"),  # test files after the code
                   ("bbb/config.py", "EngineConfig", "prefix")]
    paths = [p for p, _, _ in got]
    assert paths not in (sorted(paths), sorted(paths, reverse=True))


def test_facts_cache_of_another_build_or_missing_is_not_used(make_repo, tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    repo = make_repo(REPO)
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    assert (out / schema.CACHE_DIR / ".gitignore").read_text().splitlines()[-1] == "*"
    assert FactsCache.load(make_config(repo, out, jobs=1)).usable
    # a build stopped between renaming the new cache and the new index leaves them paired with other builds
    conn = sqlite3.connect(schema.cache_path(out))
    conn.execute("UPDATE meta SET value = '1' WHERE key = 'start_ns'")
    conn.commit()
    conn.close()
    with caplog.at_level(logging.WARNING, logger="docatlas.store"):
        cache = FactsCache.load(make_config(repo, out, jobs=1))
    assert not cache.usable and "another build" in cache.reason and "another build" in caplog.text
    report = build(make_config(repo, out, jobs=1))
    assert report.timings.get("extract") is not None and FactsCache.load(make_config(repo, out, jobs=1)).usable
    schema.cache_path(out).unlink()
    assert FactsCache.load(make_config(repo, out, jobs=1)).reason == "no facts cache"
    build(make_config(repo, out, jobs=1))
    assert names(queries.search(schema.open_index(out), "RecompileTests"))[0] == "RecompileTests"


def test_signatures_read_back_as_written_though_the_name_is_stored_once(tmp_path: Path) -> None:
    sigs = {"f": "def f(self, f=f) -> f", "g": "weird\x01 g()", "h": "operator()", "": "x", "i": "\x01\x01i"}
    facts = FileFacts(path="m.py", language="python", size=10, digest="a" * 40, lines=9, symbols=tuple(
        Symbol("function", name, name or "anon", i + 1, i + 1, signature=sig)
        for i, (name, sig) in enumerate(sigs.items())))
    conn = sqlite3.connect(index_from_facts(tmp_path, {"m.py": facts}) / schema.INDEX_NAME)
    assert dict(conn.execute("SELECT name, signature FROM symbols")) == sigs
    stored = dict(conn.execute("SELECT n.text, g.text FROM symbol_rows s JOIN strings n ON n.id = s.name "
                               "JOIN texts g ON g.id = s.signature"))
    assert stored["f"] == "de\x01 f(self, f=f) -> f" and stored["g"] == "\x01\x01weird\x01 g()"


def test_c_references_and_candidates_read_back_through_the_views(make_repo, tmp_path: Path) -> None:
    """References and ambiguous uses are stored as ids of interned rows (`ref_uses`, `cand_uses`): the
    `refs` and `ref_candidates` views and the queries over them give back what the link stage found."""
    from docatlas.store import refs

    repo = make_repo({
        "a/util.h": "#pragma once\nint helper(int x);\nstruct Box { int v; };\n",
        "a/util.cpp": '#include "util.h"\nint helper(int x) { return x + 1; }\n',
        "b/util.h": "#pragma once\nint helper(int x);\n",
        "b/util.cpp": '#include "util.h"\nint helper(int x) { return x; }\n',
        "a/util_test.cpp": '#include "util.h"\n#include <gtest/gtest.h>\n\nTEST(Util, Helper) {\n'
                           "  Box b;\n  EXPECT_EQ(helper(1), 2);\n  EXPECT_EQ(helper(2), 3);\n}\n",
        "d/other.cpp": "int g() { return helper(3); }\nint h() { return helper(4); }\n",
    })
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    conn = schema.open_index(out)
    found = refs.sites(conn, "a/util.h", "helper")
    assert [(s["path"], s["line"], s["kind"], s["enclosing"], s["test"]) for s in found] == [
        ("a/util_test.cpp", 6, "call", "Util.Helper", True), ("a/util_test.cpp", 7, "call", "Util.Helper", True)]
    assert [(s["line"], s["kind"]) for s in refs.sites(conn, "a/util.h", "Box")] == [(5, "annotation")]
    for target in ("a/util.cpp", "b/util.cpp"):
        assert [(c["path"], c["line"], c["enclosing"], c["name"], c["candidates"])
                for c in refs.candidate_sites(conn, target, "helper")] == [("d/other.cpp", 1, "g", "helper", 2),
                                                                           ("d/other.cpp", 2, "h", "helper", 2)]
    assert refs.use_counts(conn, "a/util.h") == {"Box": (1, 1), "helper": (1, 2)}
