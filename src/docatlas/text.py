"""Bytes to text, as the analysis reads a file: shared by the extract stage and the renderer, which embeds the
source exactly as it was analysed (BOM dropped, PEP 263 coding lines honoured, undecodable bytes replaced)."""

from __future__ import annotations

import re

from docatlas import diagnostics as dx
from docatlas.model import Diagnostic


def decode(data: bytes, path: str, language: str) -> tuple[str, list[Diagnostic]]:
    """Text of the file; undecodable bytes are replaced and reported, never fatal."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        if language in ("python", "python-stub"):
            encoding = _python_coding(data)
            if encoding:
                try:
                    return data.decode(encoding), []
                except (UnicodeDecodeError, LookupError):
                    pass
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        diag = dx.NOT_UTF8.at(path, line, col, reason=exc.reason)
        return data.decode("utf-8", errors="replace"), [diag]


_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")


def _python_coding(data: bytes) -> str | None:
    for line in data.split(b"\n", 2)[:2]:
        m = _CODING.match(line)
        if m:
            return m.group(1).decode("ascii")
    return None
