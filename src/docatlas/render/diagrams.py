"""Mermaid diagrams from link facts: a folder's subfolders and the folders it depends on. (A file page draws
none: its import neighbourhood would repeat the imports table and the Imported By list beside it.)

Plain data in, Mermaid text out, so the page renderer (from the link model) and the server (from the index)
draw the same diagram. Everything is sorted (heaviest first, then by name) and capped; a cut diagram says in
its caption how many were left out and how the shown ones were chosen. Labels are quoted and stripped of the
characters Mermaid would read as syntax, so any file name is safe to draw.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_CAP = 8  # per side: more stacks into a diagram taller than a screen
_UNSAFE = re.compile(r'["<>`#;{}\[\]|\\&\n\r\t]')


@dataclass(frozen=True)
class Diagram:
    """Mermaid source and a one-line caption that states what is drawn and what was cut."""

    mermaid: str
    caption: str

    def markdown(self) -> str:
        """A fenced `mermaid` block (GitHub renders it) followed by the caption."""
        return f"```mermaid\n{self.mermaid}\n```\n\n{self.caption}\n"


def label(text: str) -> str:
    """A quoted Mermaid label: syntax characters replaced, so a hostile name draws as text, never as markup."""
    return '"' + _UNSAFE.sub("_", text) + '"'


def _top(weights: Mapping[str, int], cap: int) -> list[tuple[str, int]]:
    return sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:cap]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def folder_diagram(folder: str, subfolders: Mapping[str, int], depends_on: Mapping[str, int],
                   cap: int = DEFAULT_CAP) -> Diagram | None:
    """The folder, its direct subfolders (weighted by files in their subtree) and the folders outside it whose
    files its files import (weighted by import links). None when there is nothing to draw."""
    if not subfolders and not depends_on:
        return None
    name = folder or "/"
    lines = ["flowchart LR", f"  F0[{label(name + ('/' if folder else ''))}]"]
    subs, deps = _top(subfolders, cap), _top(depends_on, cap)
    for i, (sub, files) in enumerate(subs, 1):
        lines.append(f"  S{i}[{label(sub.rsplit('/', 1)[-1] + '/')}]")
        lines.append(f"  F0 -->|{label(_plural(files, 'file'))}| S{i}")
    for i, (dep, n) in enumerate(deps, 1):
        lines.append(f"  D{i}([{label((dep or '/') + ('/' if dep else ''))}])")
        lines.append(f"  F0 -.->|{label(_plural(n, 'import'))}| D{i}")
    parts = []
    if subfolders:
        cut = f" ({len(subs)} shown, those with the most files)" if len(subs) < len(subfolders) else ""
        parts.append(f"{_plural(len(subfolders), 'subfolder')}, edges weighted by files in their subtree{cut}")
    if depends_on:
        cut = f" ({len(deps)} shown, the most imported)" if len(deps) < len(depends_on) else ""
        parts.append(f"{len(depends_on)} other folder{'s' if len(depends_on) != 1 else ''} its files import "
                     f"from (dashed, weighted by import links){cut}")
    return Diagram("\n".join(lines), "Diagram: " + "; ".join(parts) + ".")
