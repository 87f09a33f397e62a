"""Which files an edit can change the references of, without reading every file's facts again.

Per file the link stage keeps two small digests: its face (one 64-bit entry per name it gives others: the
name's hash and a hash of its definitions, bindings and `__all__` membership; a member's entry includes its
class's bases) and a bit mask of the names its references mention (each part of every chain, the names its
bindings read; C family: every name used). After an edit, the names whose entries changed are the only ones
whose resolution can differ; a file whose mask has none of their bits cannot resolve differently and is not
read. A file that does is read and checked exactly (hash of every part); when one of its bindings reads a
changed name, the name it binds changes too (`from m import x as y`), until nothing new is found. A changed
star import can bring any name: the caller then resolves everything again.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from docatlas.model import FileFacts

MASK_BYTES = 512  # 4096 bits: a file mentioning 300 names matches one unrelated name with odd 7%
STAR = zlib.crc32(b"*")


def name_hash(name: str) -> int:
    return zlib.crc32(name.encode("utf-8", "surrogatepass"))


def face(facts: FileFacts) -> bytes:
    """Sorted 64-bit entries (name hash, hash of what the name is), packed. A definition's text is its fields
    joined by control characters no name or base holds (a Python binding's, its `repr`): the `repr` of each
    definition cost more (PyTorch's 9,115 files in the full link: 0.93 -> 0.60 CPU-s)."""
    groups: dict[str, list[str]] = {}
    symbols = facts.symbols
    bases = {s.qualname: s.bases for s in symbols if s.kind == "class"}
    for s in symbols:
        own, above = s.bases, bases.get(s.parent)
        text = (f"{s.qualname}\0{s.kind}\0{s.parent}\0{_SEP.join(own) if own else ''}\0"
                f"{_SEP.join(above) if above else ''}")
        found = groups.get(s.name)
        if found is None:
            groups[s.name] = [text]
        else:
            found.append(text)
    for n in facts.exports or ():
        groups.setdefault(n, []).append("__all__")
    refs = facts.references
    if refs is not None:
        for b in refs.bindings:
            if len(b) > 7:  # Python bindings (C-family files have none)
                groups.setdefault(b[1], []).append(repr(b[:7]))
    crc32 = zlib.crc32  # (`name_hash` inline)
    entries = sorted((crc32(n.encode("utf-8", "surrogatepass")) << 32)
                     | crc32("\2".join(v).encode("utf-8", "surrogatepass")) for n, v in groups.items())
    return struct.pack(f">{len(entries)}Q", *entries)


_SEP = "\1"  # between a class's bases in `face`


def changed_names(old: bytes | None, new: bytes) -> set[int] | None:
    """Hashes of the names whose entries differ; None when there is no old face to compare with."""
    if old is None:
        return None
    a = {old[i:i + 8] for i in range(0, len(old), 8)}
    b = {new[i:i + 8] for i in range(0, len(new), 8)}
    return {int.from_bytes(e[:4], "big") for e in a ^ b}


def mentioned(facts: FileFacts, uses: tuple[tuple[Any, ...], ...] | None = None) -> set[int]:
    """Hashes of the names a file's references mention and its bindings read; `uses`: its references' uses
    when the caller has them (each read of `References.uses` unpickles them again)."""
    refs = facts.references
    if refs is None:
        return set()
    if uses is None:
        uses = refs.uses
    words: set[str] = set()
    python = bool(uses) and isinstance(uses[0][1], tuple)  # (one language a file)
    for text in {u[0] for u in uses}:  # each text once: a file uses its names many times
        if python:  # Python: dotted chain (`m:x` for an import)
            words.update(text.replace(":", ".").split("."))
        else:  # C family: `ns::f`, `.f` (a member)
            words.update(text.replace("::", ".").split("."))
    for b in refs.bindings:
        words.update(b[3].split("."))
        words.add(b[4])
    words.discard("")
    crc32 = zlib.crc32  # (`name_hash` inline: PyTorch's files mention 598k names)
    return {crc32(w.encode("utf-8", "surrogatepass")) for w in words}


def mask(hashes: Iterable[int]) -> bytes:
    out = bytearray(MASK_BYTES)
    for h in hashes:
        i = h % (MASK_BYTES * 8)
        out[i >> 3] |= 1 << (i & 7)
    return bytes(out)


def _hits(m: bytes, names: set[int]) -> bool:
    for h in names:
        i = h % (MASK_BYTES * 8)
        if m[i >> 3] & (1 << (i & 7)):
            return True
    return False


def dependents(names: set[int], masks: dict[str, bytes], facts: Callable[[str], FileFacts],
               skip: set[str]) -> set[str]:
    """The files (of `masks`, not in `skip`) whose references mention one of `names`, following bindings
    that pass a changed name on under their own name. Reads only the files whose mask matches."""
    found: set[str] = set()
    todo = set(names)
    seen_names: set[int] = set()
    checked: dict[str, set[int]] = {}
    while todo:
        seen_names |= todo
        batch, todo = todo, set()
        for path, m in masks.items():
            if path in skip or not _hits(m, batch):
                continue
            f = facts(path)
            words = checked.get(path)
            if words is None:
                words = checked[path] = mentioned(f)
            if not words & batch:
                continue
            found.add(path)  # (again, when a later name reaches it: its bindings may pass that one on)
            refs = f.references
            for b in refs.bindings if refs is not None else ():
                read = {name_hash(w) for w in (*b[3].split("."), b[4]) if w}
                if read & seen_names:
                    h = name_hash(b[1])
                    if h not in seen_names:
                        todo.add(h)
    return found
