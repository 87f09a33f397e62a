"""`Keyed`: a mapping kept as one pickle per key, each unpickled on first read.

Some parts of the link stage's output are read per file and only for the pages a build renders: each file's
related files, a test file's links, the C-family declaration pairs of a file, the possible users of a header.
After an edit a rebuild renders a few pages, yet unpickling those parts whole cost PyTorch's edits 0.1 s (a third
of reading the last build's link state, while the edited files were extracted beside it). Kept as a mapping of
pickled values, a part is read as a dict of bytes and each value is made on first use; what a rebuild changes is
a few keys, and the bytes of the others are stored again as they were.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, TypeVar

V = TypeVar("V")

__all__ = ["Keyed", "copied", "key_sorted"]


class Keyed(MutableMapping[str, V]):
    """Values pickled one per key (`blobs`, None for a value set since, kept in `values`), in key order."""

    __slots__ = ("_blobs", "_values")

    def __init__(self, blobs: dict[str, bytes | None], values: dict[str, V] | None = None) -> None:
        self._blobs = blobs
        self._values: dict[str, V] = values if values is not None else {}

    @classmethod
    def of(cls, items: Mapping[str, V]) -> Keyed[V]:
        """A plain mapping as a `Keyed` one (its values pickled when it is)."""
        return cls(dict.fromkeys(items), dict(items))

    def __getitem__(self, key: str) -> V:
        try:
            return self._values[key]
        except KeyError:
            pass
        blob = self._blobs[key]  # (KeyError: absent)
        assert blob is not None  # a value without bytes is in `_values`
        value: V = pickle.loads(blob)
        self._values[key] = value
        return value

    def __setitem__(self, key: str, value: V) -> None:
        self._blobs[key] = None
        self._values[key] = value

    def __delitem__(self, key: str) -> None:
        del self._blobs[key]
        self._values.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self._blobs

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)

    def copy(self) -> Keyed[V]:
        """A copy whose changes leave this one as it is (the bytes and values are shared, never modified)."""
        return Keyed(dict(self._blobs), dict(self._values))

    def blobs(self) -> dict[str, bytes]:
        """Each value's pickle, in key order: those read are the very bytes read."""
        return {k: b if b is not None else pickle.dumps(self._values[k], protocol=5) for k, b in self._blobs.items()}

    def __reduce__(self) -> tuple[Any, ...]:
        return (Keyed, (self.blobs(),))

    def __eq__(self, other: object) -> bool:
        """Equal to a mapping with the same keys and equal values; a value whose bytes both share is not made."""
        if not isinstance(other, Mapping) or len(other) != len(self):
            return False
        if isinstance(other, Keyed):
            if list(self._blobs) != list(other._blobs):
                return False
            return all((b is not None and b is other._blobs[k]) or self[k] == other[k]
                       for k, b in self._blobs.items())
        return all(k in other and self[k] == other[k] for k in self._blobs)

    __hash__ = None  # type: ignore[assignment]  # (mutable)


def copied(part: Mapping[str, V]) -> MutableMapping[str, V]:
    """A copy of a part of the link state to change: a `Keyed` one stays so (no value is made)."""
    return part.copy() if isinstance(part, Keyed) else dict(part)


def key_sorted(part: Mapping[str, V]) -> MutableMapping[str, V]:
    """A copy with its keys in order: a `Keyed` one stays so (no value is made)."""
    if isinstance(part, Keyed):
        return Keyed(dict(sorted(part._blobs.items())), dict(part._values))
    return dict(sorted(part.items()))
