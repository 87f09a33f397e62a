"""The catalogue of diagnostic codes: every `DAnnn` docatlas reports, with its severity and message template.

One place, so that a code means one thing everywhere, the documentation (`docs/diagnostics.md`, checked by
`tests/test_diagnostics.py`) lists exactly the codes that exist, and a message reads the same from every stage.
Codes: DA1xx reading and decoding a file, DA2xx parsing it, DA3xx the scan and the output folder.

Severity: `error` when a file (or page) is missing from the analysis because something went wrong; `warning`
when it is analysed only in part, or left out by a rule that the message names. Both are listed and counted in
the build's summary; with `--strict` they make the exit code 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from docatlas.model import Diagnostic


@dataclass(frozen=True)
class Code:
    code: str
    severity: str  # "error" | "warning"
    stage: str  # the stage that reports it: scan, extract or render
    template: str  # str.format template of the message; `at` fills it
    meaning: str  # one sentence for docs/diagnostics.md

    def at(self, path: str, line: int = 0, col: int = 0, **fields: Any) -> Diagnostic:
        """The diagnostic for `path` (1-based line and column; 0 when the problem is the whole file)."""
        return Diagnostic(path, line, col, self.code, self.template.format(**fields))


UNREADABLE = Code("DA101", "error", "scan, extract", "cannot {action}: {reason}",
                  "A file (or a `.gitignore`) could not be read or stat'ed; it is listed without analysis, and the "
                  "next build tries it again.")
NOT_UTF8 = Code("DA102", "warning", "extract", "not valid UTF-8 ({reason}); shown with U+FFFD",
                "A text file is not valid UTF-8 (nor in the encoding its PEP 263 line declares); undecodable bytes "
                "are replaced and the rest is analysed.")
TOO_LARGE = Code("DA103", "warning", "extract",
                 "{size:,} bytes, over the {limit:,}-byte analysis limit (--max-file-bytes); listed without analysis",
                 "A file is larger than `--max-file-bytes`; it is listed with its size but not read.")
SYNTAX_ERROR = Code("DA201", "error", "extract", "syntax error: {detail}; {what} not extracted",
                    "Python (or a Bazel/Starlark file) that `ast` cannot parse; its symbols or targets are missing.")
NULL_BYTES = Code("DA202", "error", "extract", "cannot parse: {detail}; symbols not extracted",
                  "Python source that the parser rejects outright (null bytes on Python < 3.12).")
TOO_DEEP = Code("DA203", "error", "extract", "nesting too deep to analyse",
                "A file nested so deeply that analysing it would exhaust the recursion limit, or a native parser "
                "(YAML past 100 levels) would not survive it.")
PARTIAL_PARSE = Code("DA204", "warning", "extract", "{detail}; symbols there may be missing or incomplete",
                     "tree-sitter parsed a file only in part: the message says how many bytes in how many regions "
                     "could not be parsed, and how many missing tokens were assumed.")
EXTRACTOR_FAILED = Code("DA205", "error", "extract", "{language} analysis failed: {error}",
                        "A language extractor raised an exception on this file; the file is listed without symbols.")
BAD_FILE_NAME = Code("DA302", "warning", "scan", "file name is not valid UTF-8; skipped",
                     "A file name that is not valid UTF-8 (shown with escapes); the file is skipped.")
BAD_SYMLINK = Code("DA303", "warning", "scan", "{reason}; skipped",
                   "A symbolic link that loops or points at nothing; it is skipped.")
SYMLINK_OUTSIDE = Code("DA304", "warning", "scan", "symlink points outside the repository; skipped",
                       "A symbolic link to a place outside the repository; docatlas never follows it.")
PAGE_NAME_TAKEN = Code("DA305", "warning", "render",
                       "this page's name is taken by a folder of the repository (its own pages go inside it); "
                       "page not written",
                       "A page whose path is a folder of the repository (a folder named `index.md`, say); the page "
                       "is not written.")
INTERNAL_ERROR = Code("DA306", "error", "extract, render, index", "internal error while {stage}: {error}; {effect}",
                      "A bug of docatlas met on this file (extraction, its page or its index rows): the file "
                      "still gets a page that says what failed, the rest of the build goes on, and `-v` prints "
                      "the traceback.")
WORKER_LOST = Code("DA307", "error", "extract", "analysis stopped: {reason}; documented without analysis",
                   "The worker analysing this file died (a crash in a native parser) or ran past the time budget "
                   "of one file; the file is analysed again without its parser, and the worker replaced.")

CATALOGUE: dict[str, Code] = {c.code: c for c in (
    UNREADABLE, NOT_UTF8, TOO_LARGE, SYNTAX_ERROR, NULL_BYTES, TOO_DEEP, PARTIAL_PARSE, EXTRACTOR_FAILED,
    BAD_FILE_NAME, BAD_SYMLINK, SYMLINK_OUTSIDE, PAGE_NAME_TAKEN, INTERNAL_ERROR, WORKER_LOST)}
