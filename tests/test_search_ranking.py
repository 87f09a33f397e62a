"""Search ranking rules on small repositories: assignment-bound names, partial-match fallback, path words,
docstrings, name weight, uses in full text, Unicode identifiers. Each expected order differs from path order."""

from __future__ import annotations

from pathlib import Path

from docatlas.config import make_config
from docatlas.extract import python
from docatlas.pipeline import build
from docatlas.store import queries, schema


def _search(make_repo, tmp_path: Path, files: dict[str, str], query: str, **kw: object) -> list[queries.Hit]:
    repo = make_repo(files)
    out = tmp_path / "out"
    build(make_config(repo, out, jobs=1))
    return queries.search(schema.open_index(out), query, **kw)  # type: ignore[arg-type]


def test_module_level_names_bound_to_calls_are_variables() -> None:
    src = ("import logging\nconv2d = _add_docstr(torch.conv2d, 'doc')\nsquare = lambda a: a * a\nx = 1\n"
           "alias = conv2d\nlogger = logging.getLogger(__name__)\n_private = make()\nMAX = 3\n"
           "def f():\n    inner = make()\n")
    got = [(s.kind, s.name, s.line) for s in python.extract("m.py", src).symbols]
    assert ("variable", "conv2d", 2) in got and ("variable", "square", 3) in got
    assert {n for _, n, _ in got} == {"conv2d", "square", "MAX", "f"}


def test_an_assignment_bound_name_is_found_as_a_definition(make_repo, tmp_path: Path) -> None:
    hits = _search(make_repo, tmp_path, {
        "aaa/other.py": "def conv2d_helper():\n    pass\n",
        "zzz/functional.py": "conv2d = _add_docstr(_conv, 'Applies a 2D convolution.')\n"}, "conv2d")
    assert [(h.path, h.kind, h.match) for h in hits[:2]] == [("zzz/functional.py", "variable", "exact"),
                                                            ("aaa/other.py", "function", "prefix")]


def test_several_words_that_nothing_has_all_of_fall_back_to_partial_matches(make_repo, tmp_path: Path) -> None:
    hits = _search(make_repo, tmp_path, {
        "aaa/one.py": "def softmax():\n    pass\n",
        "zzz/cuda/kernels.py": "def softmax_forward():\n    pass\n",
        "bbb/unrelated.py": "def other():\n    pass\n"}, "where is softmax implemented on cuda")
    assert [(h.path, h.match) for h in hits if h.kind == "function"] == [
        ("zzz/cuda/kernels.py", "partial"), ("aaa/one.py", "partial")]  # two words (softmax, cuda) before one


def test_path_words_count(make_repo, tmp_path: Path) -> None:
    hits = _search(make_repo, tmp_path, {
        "aaa/cpu/ops.c": "void softmax_kernel(void) {}\n",
        "zzz/cuda/ops.c": "void softmax_kernel(void) {}\n"}, "softmax cuda")
    # C names do not carry their folder: `cuda` is only in the path
    assert [(h.path, h.match) for h in hits if h.kind == "function"] == [
        ("zzz/cuda/ops.c", "mention"), ("aaa/cpu/ops.c", "partial")]


def test_docstrings_count_and_a_word_in_the_name_counts_more(make_repo, tmp_path: Path) -> None:
    files = {
        "aaa/a.py": "def frob():\n    pass\n",
        "mmm/m.py": "def frob():\n    '''Frobnicate the widget.'''\n",
        "nnn/n.py": "def widget_frob():\n    pass\n"}
    hits = _search(make_repo, tmp_path, files, "widget frob", kind="function")
    assert [h.path for h in hits] == ["nnn/n.py", "mmm/m.py", "aaa/a.py"]
    assert [h.match for h in hits] == ["text", "mention", "partial"]


def test_uses_order_full_text_matches(make_repo, tmp_path: Path) -> None:
    files = {
        "aaa/__init__.py": "", "zzz/__init__.py": "",
        "aaa/rare.py": "class GraphRunner:\n    pass\n",
        "zzz/common.py": "class GraphRunner:\n    pass\n",
        **{f"users/u{i}.py": "from zzz.common import GraphRunner\nGraphRunner()\n" for i in range(3)}}
    hits = _search(make_repo, tmp_path, files, "graph runner", kind="class")
    assert [h.path for h in hits] == ["zzz/common.py", "aaa/rare.py"]


def test_unicode_identifiers_are_searchable(make_repo, tmp_path: Path) -> None:
    files = {"m.py": "def größe_berechnen():\n    pass\n\n\n変数 = make()\n"}
    hits = _search(make_repo, tmp_path, files, "größe")
    assert [h.name for h in hits if h.kind == "function"] == ["größe_berechnen"]
    repo_out = tmp_path / "out"
    assert [h.name for h in queries.search(schema.open_index(repo_out), "変数")] == ["変数"]
