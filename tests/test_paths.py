"""Page paths and links: the fast relative-link arithmetic agrees with posixpath.relpath."""

from __future__ import annotations

import posixpath

from hypothesis import assume, given
from hypothesis import strategies as st

from docatlas import paths as P

segment = st.sampled_from(["a", "b", "a b", "ü", "x.py_docs.md", "index.md", "..x", "c.d"])
page = st.lists(segment, min_size=1, max_size=5).map("/".join)


@given(page, page)
def test_rel_matches_relpath(a: str, b: str) -> None:
    assume(not a.startswith(b + "/") and not b.startswith(a + "/"))  # a page is never a folder of another
    expected = posixpath.relpath(b, posixpath.dirname(a) or ".")
    assert P.rel(a, b) == (expected if expected.startswith("../") else "./" + expected)


def test_source_links_climb_out_of_the_output_folder() -> None:
    assert P.source_link("pkg/mod.py_docs.md", "pkg/mod.py", 3) == "../../pkg/mod.py#L3"
    assert P.source_link("index.md", "README.md") == "../README.md"


def test_url_quote_keeps_links_valid_markdown() -> None:
    assert P.url_quote("./my file (1).py_docs.md") == "./my%20file%20%281%29.py_docs.md"


def test_url_quote_encodes_path_characters_but_keeps_our_fragments() -> None:
    assert P.url_quote("../../C#/x.py#L1") == "../../C%23/x.py#L1"
    assert P.url_quote("./C#/index.md") == "./C%23/index.md"
    assert P.url_quote("./test a|b.py_docs.md#sym-f") == "./test%20a%7Cb.py_docs.md#sym-f"
    assert P.url_quote("./q?.txt_docs.md") == "./q%3F.txt_docs.md"
