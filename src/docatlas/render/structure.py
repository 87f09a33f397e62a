"""A Code Structure too long for one file page: its first rows stay on `P_docs.md`, the rest continue on
`P_docs-2.md`, `P_docs-3.md` ... so that no page passes what a Git host renders (512 KB).

Whether a file needs this is known from its summary (`FileSummary.long_structure`); where each row goes is
decided from the rendered rows, in line order. Keyword pages link each definition to the page that holds
its anchor (`symbol_page`); their signatures follow, because a long file's `symbols_key` covers every field
a row shows.
"""

from __future__ import annotations

import functools
from typing import Any

from docatlas import paths as P
from docatlas import summary as S
from docatlas.link.stage import RepoModel
from docatlas.render.format import (
    Memo,
    Page,
    SymbolRow,
    facts_key,
    file_anchors,
    lazy_page,
    structure_lines,
    symbol_tree,
)

PART_BUDGET = 400 * 1024  # rows on each continuation page


def part_page(path: str, part: int) -> str:
    """The page holding part `part` (0: the file page itself) of a file's Code Structure."""
    return P.file_page(path) if part == 0 else f"{path}_docs-{part + 1}.md"


def structure_parts(memo: Memo, model: RepoModel, path: str) -> list[list[SymbolRow]] | None:
    """The Code Structure rows of each page, or None when they all fit on the file page. Memoised."""
    if path in memo.structure_parts:
        found: list[list[SymbolRow]] | None = memo.structure_parts[path]
        return found
    found = None
    if model.summary(path).long_structure:
        facts = model.files[path]
        tree = symbol_tree(facts.symbols, file_anchors(memo, model, path))
        src_base = P.url_quote(P.source_link(P.file_page(path), path))  # continuation pages sit beside it
        parts: list[list[SymbolRow]] = [[]]
        used, budget = 0, S.STRUCTURE_BUDGET
        for row in tree:
            n = len(structure_lines([row], src_base).encode("utf-8", "surrogatepass")) + 1
            if parts[-1] and used + n > budget:
                parts.append([])
                used, budget = 0, PART_BUDGET
            parts[-1].append(row)
            used += n
        found = parts if len(parts) > 1 else None
    memo.structure_parts[path] = found
    return found


def symbol_parts(memo: Memo, model: RepoModel, path: str) -> dict[str, int]:
    """anchor -> the part holding it, for anchors off the file page itself (empty for most files)."""
    parts = structure_parts(memo, model, path)
    if parts is None:
        return {}
    return {row.anchor: i for i, rows in enumerate(parts) if i for row in rows}


def part_summaries(memo: Memo, model: RepoModel, path: str, page: str) -> list[dict[str, Any]]:
    """What the file page says of each continuation page: its link and the rows and lines it holds."""
    parts = structure_parts(memo, model, path) or []
    out = []
    first = len(parts[0]) + 1 if parts else 0
    for i, rows in enumerate(parts[1:], 1):
        out.append({"n": i + 1, "link": P.url_quote(P.rel(page, part_page(path, i))), "first": first,
                    "last": first + len(rows) - 1, "from_line": rows[0].sym.line, "to_line": rows[-1].sym.line})
        first += len(rows)
    return out


def render_structure_pages(memo: Memo, model: RepoModel, path: str) -> list[Page]:
    """The continuation pages of a long Code Structure (none for most files: known from the summary)."""
    if not model.summary(path).long_structure:
        return []
    parts = structure_parts(memo, model, path)
    if parts is None:
        return []
    facts = model.files[path]
    total = sum(map(len, parts))
    pages = []
    first = len(parts[0]) + 1
    for i, rows in enumerate(parts[1:], 1):
        page = part_page(path, i)
        ctx = {"path": path, "n": i + 1, "parts": len(parts), "first": first, "last": first + len(rows) - 1,
               "total": total, "doc_link": P.url_quote(P.rel(page, P.file_page(path))),
               "lines": structure_lines(rows, P.url_quote(P.source_link(page, path)))}
        pages.append(lazy_page(page, "file_structure.md.j2", f"{i}:{facts_key(facts)}", functools.partial(dict, ctx)))
        first += len(rows)
    return pages
