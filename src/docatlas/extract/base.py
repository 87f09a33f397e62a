"""What a language extractor returns, and small helpers every extractor shares."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from docatlas.model import Diagnostic, Finding, Import, References, Symbol, TestCase


@dataclass
class Extraction:
    """Mutable while one extractor fills it; frozen into `FileFacts` by `extract_bytes`."""

    docstring: str = ""
    symbols: list[Symbol] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    tests: list[TestCase] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    main_line: int = 0
    main_end: int = 0
    exports: list[str] = field(default_factory=list)
    parse_ok: bool = True
    extra: list[tuple[str, str]] = field(default_factory=list)
    doc: str = ""  # the whole module docstring as Markdown
    # seconds spent in named parts ("rules"), returned for benchmarks; not part of the facts
    seconds: dict[str, float] = field(default_factory=dict)
    references: References | None = None


_WS = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """`text` without lone surrogates (a docstring may spell one as an escape, `"\\udfff"`), which no page
    or index can encode: each becomes its escape, as written in the source."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


# Lines that are not prose: rules (`-----`, `/*****/`), editor and tool directives (`-*- mode: C -*-`,
# `vim: set ft=...`, `syntax = docker/dockerfile:...`, `coding: utf-8`), shebangs and licence tags.
_NOT_PROSE_LINE = re.compile(r"^(?:[\W_]{3,}|#!.*|.*-\*-.*-\*-.*|vim?:.*|ex:.*|\s*(?:syntax|escape|check)\s*=.*|"
                             r"(?:.*\b)?coding[:=]\s*[-\w.]+.*|spdx-license-identifier:.*|@generated.*)$", re.I)
_LICENCE = re.compile(r"\bcopyright\b|\(c\) (?:\d{4}|[A-Z])|licensed under|license, version|all rights reserved|"
                      r"permission is hereby granted|spdx-license|confidential and proprietary", re.I)


def prose_paragraphs(doc: str) -> list[str]:
    """The paragraphs of a docstring or comment that say something: rule lines and directives dropped,
    licence headers skipped; each on one line."""
    return list(_paragraphs(doc))


def _paragraphs(doc: str) -> Iterator[str]:
    """`prose_paragraphs` one at a time: `first_paragraph` stops at the first, never reading the rest."""
    para: list[str] = []
    for line in [*clean_text(doc).strip().splitlines(), ""]:
        s = line.strip()
        if s and _NOT_PROSE_LINE.match(s):
            s = ""
        if s:
            para.append(s)
            continue
        if para:
            text = _WS.sub(" ", " ".join(para)).strip()
            if not _LICENCE.search(text):
                yield text
            para = []


def first_paragraph(doc: str | None, limit: int = 400) -> str:
    """The first paragraph of prose in a docstring or comment, on one line; explicit `…` when it is cut."""
    if not doc:
        return ""
    text = next(_paragraphs(doc), "")
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit] + " …"
    return text
