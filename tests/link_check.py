"""Every link of a generated page resolves: a page or folder of the output, a repository file (links that leave
the output folder, which sits at the repository root), and an anchor (`<a id="...">`, a heading's slug) in
the page it names. Used by tests/test_book.py and bench/book.py."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

_LINK = re.compile(r"\]\(([^)\s]+)\)")
_ID = re.compile(r'<a id="([^"]+)"></a>')
_HEADING = re.compile(r"^#{1,6} (.+)$", re.M)


def _anchors(text: str) -> set[str]:
    found = set(_ID.findall(text))
    for h in _HEADING.findall(text):  # GitHub's slugs: lower case, punctuation dropped, spaces to hyphens
        found.add(re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-"))
    return found


def broken_links(out: Path, page: str, repo: Path | None = None) -> tuple[int, list[str]]:
    """(links checked, the broken ones) of one page of the output folder `out`."""
    text = (out / page).read_text(encoding="utf-8")
    text = re.sub(r"^(```|~~~).*?^\1\s*$", "", text, flags=re.S | re.M)  # fenced code holds no links
    cache: dict[Path, set[str]] = {}
    bad = []
    links = [m for m in _LINK.findall(text) if not m.startswith(("http://", "https://", "mailto:"))]
    for link in links:
        path, _, frag = link.partition("#")
        target = (out / page).parent / unquote(path) if path else out / page
        target = Path(_normal(target))
        inside = target == out or out in target.parents
        if not inside:
            if repo is None:
                continue
            target = repo / target.relative_to(out.parent) if out.parent in target.parents else target
        if not target.exists():
            bad.append(f"{page}: {link} (no {target})")
            continue
        if frag and not frag.startswith("L") and target.is_file() and target.suffix == ".md":
            if target not in cache:
                cache[target] = _anchors(target.read_text(encoding="utf-8"))
            if frag not in cache[target]:
                bad.append(f"{page}: {link} (no anchor #{frag})")
    return len(links), bad


def _normal(path: Path) -> str:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return str(Path(*parts))
