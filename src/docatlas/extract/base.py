"""What a language extractor returns, and small helpers every extractor shares."""

from __future__ import annotations

import re
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
    exports: list[str] = field(default_factory=list)
    parse_ok: bool = True
    extra: list[tuple[str, str]] = field(default_factory=list)
    # seconds spent in named parts ("rules"), returned for benchmarks; not part of the facts
    seconds: dict[str, float] = field(default_factory=dict)
    references: References | None = None


_WS = re.compile(r"\s+")


def first_paragraph(doc: str | None, limit: int = 400) -> str:
    """The first paragraph of a docstring or comment on one line; explicit `…` when it is cut."""
    if not doc:
        return ""
    lines = doc.strip().splitlines()
    para: list[str] = []
    for line in lines:
        if not line.strip():
            if para:
                break
            continue
        para.append(line.strip())
    text = _WS.sub(" ", " ".join(para)).strip()
    if len(text) > limit:
        cut = text.rfind(" ", 0, limit)
        text = text[: cut if cut > limit // 2 else limit] + " …"
    return text
