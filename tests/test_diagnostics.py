"""The catalogue of diagnostic codes is complete, used everywhere, and documented with an example per code."""

from __future__ import annotations

import re
from pathlib import Path

from docatlas.diagnostics import CATALOGUE

ROOT = Path(__file__).parent.parent
SRC = ROOT / "src" / "docatlas"
DOC = ROOT / "docs" / "diagnostics.md"


def _pattern(template: str) -> re.Pattern[str]:
    """A template as a regular expression: each `{field}` matches any text."""
    parts = re.split(r"\{[^}]*\}", template)
    return re.compile("^" + ".+".join(re.escape(p) for p in parts) + "$")


def test_codes_are_spelled_only_in_the_catalogue() -> None:
    """Other modules name a code through `diagnostics` (`dx.UNREADABLE`), never as a string of their own."""
    literal = re.compile(r"[\"']DA\d{3}")
    offenders = [f"{p.relative_to(SRC)}:{n}" for p in sorted(SRC.rglob("*.py")) if p.name != "diagnostics.py"
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if literal.search(line)]
    assert offenders == []


def test_catalogue_is_well_formed() -> None:
    for code, entry in CATALOGUE.items():
        assert re.fullmatch(r"DA[1-3]\d\d", code) and entry.code == code
        assert entry.severity in ("error", "warning"), code
        assert entry.meaning.endswith("."), code


def test_every_code_is_documented_with_an_example_line() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `(DA\d{3})` \| (\w+) \|", text, re.M))
    assert table == {code: entry.severity for code, entry in CATALOGUE.items()}
    examples = re.findall(r"^(\S+):(\d+):(\d+): (DA\d{3}) (.*)$", text, re.M)
    assert [e[3] for e in examples] == sorted(CATALOGUE)
    for _path, _line, _col, code, message in examples:
        assert _pattern(CATALOGUE[code].template).match(message), (code, message)


def test_at_fills_the_template() -> None:
    d = CATALOGUE["DA103"].at("big.bin", size=9_000_000, limit=8_000_000)
    assert str(d) == ("big.bin:0:0: DA103 9,000,000 bytes, over the 8,000,000-byte analysis limit "
                      "(--max-file-bytes); listed without analysis")
