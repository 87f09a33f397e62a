"""A C or C++ header's declared API, grouped as the header groups it: what its page's analysis starts with.

A header is read for what it offers: the functions it declares, its types, its macros. The Code Structure
lists every symbol in line order, members and include guard among them; the Declared API before it lists the
file- and namespace-level API only, under the header's own section comments (`/* === Object Protocol === */`,
`heading` symbols from `extract.cfamily`), each name linked to its entry in Code Structure. The High-Level
Overview counts what was declared apart from what was defined (a prototype defines nothing).
"""

from __future__ import annotations

from typing import Any

from docatlas import paths as P
from docatlas.link.stage import RepoModel
from docatlas.model import Symbol
from docatlas.render.format import Memo, code, file_anchors, symbol_counts
from docatlas.render.structure import part_page, symbol_parts

API_BUDGET = 16 * 1024  # bytes (bounded from above) of the Declared API list; the Code Structure has them all
_GROUPS = (("functions", ("function",)), ("variables", ("variable",)),
           ("types", ("class", "struct", "union", "enum", "alias")), ("macros", ("macro",)))
_API_KINDS = frozenset(k for _, kinds in _GROUPS for k in kinds)
HEADER_LANGS = frozenset(("c-header",))


def counts(symbols: tuple[Symbol, ...]) -> dict[str, Any]:
    """`counts` (what the file defines: a C header's section comments and declarations left out) and
    `declared` (what it declares only) for the High-Level Overview. Markdown headings still count."""
    kept = tuple(s for s in symbols if not (s.kind == "heading" and "section" in s.flags))
    defined = tuple(s for s in kept if "declaration" not in s.flags)
    declared = tuple(s for s in kept if "declaration" in s.flags)
    return {"counts": symbol_counts(defined), "declared": symbol_counts(declared)}


def _is_api(s: Symbol, namespaces: set[str]) -> bool:
    return s.kind in _API_KINDS and (not s.parent or s.parent in namespaces) and "guard" not in s.flags \
        and "local" not in s.flags


def header_api(memo: Memo, model: RepoModel, path: str, page: str) -> dict[str, Any]:
    """The Declared API of a header page: `api_groups` [(section title or "", [(group, [links])])] in source
    order, `api_total`, `api_shown`, `api_sections`; empty for other files and headers without API."""
    facts = model.files[path]
    if facts.language not in HEADER_LANGS:
        return {"api_groups": []}
    symbols = facts.symbols
    anchors = file_anchors(memo, model, path)
    elsewhere = symbol_parts(memo, model, path)
    namespaces = {s.qualname for s in symbols if s.kind == "namespace"}
    sections: list[tuple[str, list[tuple[Symbol, str]]]] = [("", [])]
    for s, a in zip(symbols, anchors, strict=True):
        if s.kind == "heading":
            sections.append((s.name, []))
        elif _is_api(s, namespaces):
            sections[-1][1].append((s, a))
    total = sum(len(items) for _, items in sections)
    if not total:
        return {"api_groups": []}
    groups: list[tuple[str, list[tuple[str, list[str]]]]] = []
    used = shown = 0
    for title, items in sections:
        if not items or used > API_BUDGET:
            continue
        rows = []
        for label, kinds in _GROUPS:
            links = []
            for s, a in items:
                if s.kind not in kinds:
                    continue
                part = elsewhere.get(a, 0)
                target = "" if part == 0 else P.url_quote(P.rel(page, part_page(path, part)))
                link = f"[{code(s.qualname)}]({target}#{a})"
                used += len(link) + 2
                if used > API_BUDGET:
                    break
                links.append(link)
            if links:
                rows.append((label, links))
                shown += len(links)
        if rows:
            groups.append((title, rows))
    titles = sum(1 for title, items in sections if title and items)
    return {"api_groups": groups, "api_total": total, "api_shown": shown, "api_sections": titles}
