"""What a file provides, in a few words: its main definitions and what their docs say of them.

A purpose that only restated the file type ("source: C/C++ Header File") or the module name the page already
gives told the reader nothing. `provides` names the file's main top-level definitions (public before private,
types before functions, then constants, keys, targets ...; in file order within a kind) with the first
sentence of the first one's documentation; it returns "" when the file defines nothing, and the page then says
nothing rather than something empty.
"""

from __future__ import annotations

import re

from docatlas.model import FileFacts, Symbol

SHOWN = 3  # names listed; the rest are counted

# Most telling first: what a reader would import or include the file for.
_KIND_ORDER = ("class", "struct", "interface", "protocol", "trait", "enum", "union", "type", "alias", "function",
               "macro", "constant", "namespace", "target", "job", "stage", "key", "dependency", "variable")
_GUARD = re.compile(r"_(?:H|HPP|HXX|INCLUDED|H_INCLUDED)_*$")  # include guards say nothing
_SETTINGS = frozenset({"key", "dependency", "option", "variable"})
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(\"'])")


def first_sentence(text: str, limit: int = 120) -> str:
    """The first sentence of a summary, without its full stop, cut at a word with `…` past `limit`."""
    sentence = _SENTENCE.split(text.strip(), 1)[0].rstrip(".").strip()
    if len(sentence) > limit:
        sentence = sentence[:limit].rsplit(" ", 1)[0] + " …"
    return sentence


def main_symbols(facts: FileFacts) -> list[Symbol]:
    """Top-level definitions, most telling first; declarations only when nothing defines the name here."""
    top = [s for s in facts.symbols if not s.parent and s.kind in _KIND_ORDER
           and not (s.kind == "macro" and _GUARD.search(s.name))]
    seen: set[str] = set()
    unique = []
    for s in sorted(top, key=lambda s: ("declaration" in s.flags, s.line)):
        if s.name not in seen:
            seen.add(s.name)
            unique.append(s)
    return sorted(unique, key=lambda s: (s.name.startswith("_"), _KIND_ORDER.index(s.kind), s.line))


def provides(facts: FileFacts) -> str:
    """"defines `Linear` (Applies a linear transformation to the incoming data), `Bilinear`, `Identity` and
    4 more", or "" when the file defines nothing at its top level."""
    main = main_symbols(facts)
    if not main:
        return ""
    shown = main[:SHOWN]
    names = []
    for i, s in enumerate(shown):
        summary = first_sentence(s.summary) if i == 0 and s.summary else ""
        names.append(f"`{s.name}`" + (f" ({summary})" if summary else ""))
    more = len(main) - len(shown)
    listed = ", ".join(names[:-1]) + (" and " if len(names) > 1 and not more else ", " if more else "") + \
        names[-1] if len(names) > 1 else names[0]
    verb = "sets" if all(s.kind in _SETTINGS for s in shown) else "defines"
    return f"{verb} {listed}" + (f" and {more} more" if more else "")
