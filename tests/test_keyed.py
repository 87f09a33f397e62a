"""`keyed.Keyed`: a mapping stored as one pickle per key, whose values are made on first read."""

from __future__ import annotations

import pickle
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from docatlas.keyed import Keyed, copied, key_sorted

VALUES = st.dictionaries(st.text(max_size=6), st.lists(st.tuples(st.text(max_size=4), st.integers()), max_size=3),
                         max_size=8)


@given(VALUES, VALUES)
def test_a_keyed_mapping_behaves_as_the_dict_it_was_made_from_through_a_store(base: dict[str, Any],
                                                                             changes: dict[str, Any]) -> None:
    stored = pickle.loads(pickle.dumps(Keyed.of(base)))  # as the facts cache reads a part back
    assert type(stored) is Keyed and dict(stored) == base and list(stored) == list(base)
    edit = copied(stored)
    expected = copied(base)
    for key, value in changes.items():
        edit[key] = value
        expected[key] = value
    for key in sorted(base)[::2]:
        del edit[key]
        del expected[key]
    assert dict(edit) == expected and list(edit) == list(expected)
    assert dict(stored) == base, "a copy's changes reach the mapping it was copied from"
    assert (edit == stored) == (expected == base) and edit == expected
    again = pickle.loads(pickle.dumps(edit))
    assert dict(again) == expected and list(again) == list(expected)
    assert list(key_sorted(edit)) == sorted(expected) and dict(key_sorted(edit)) == expected


def test_values_are_made_on_first_read_and_untouched_bytes_are_stored_as_they_were() -> None:
    stored = pickle.loads(pickle.dumps(Keyed.of({"a": [1], "b": [2], "c": [3]})))
    blobs = stored.blobs()
    assert stored._values == {}  # nothing made by reading the part
    assert stored["b"] == [2] and set(stored._values) == {"b"}
    edit = copied(stored)
    edit["c"] = [4]
    after = edit.blobs()
    assert after["a"] is blobs["a"] and after["b"] is blobs["b"] and pickle.loads(after["c"]) == [4]
    assert edit != stored and copied(stored) == stored
    assert "a" in stored and "z" not in stored and stored.get("z") is None and len(stored) == 3
