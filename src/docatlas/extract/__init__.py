"""The extract stage: one file's bytes in, one `FileFacts` out; no knowledge of other files.

`extract_file` reads the file once, settles what it is (binary? generated? which language?), decodes it,
and hands the text to the extractor registered for its language. Extractors are looked up lazily by
dotted name so that a worker process imports only the parsers it needs.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Callable
from pathlib import Path

from docatlas import diagnostics as dx
from docatlas import languages
from docatlas.extract import cbuild
from docatlas.extract.base import Extraction
from docatlas.extract.generated import generated_marker
from docatlas.model import FileFacts, ScannedFile
from docatlas.safetext import clean_record, has_unsafe, needs_cleaning
from docatlas.text import decode

Extractor = Callable[[str, str], Extraction]

# language id -> "module:function". Languages without an entry get metadata, purpose and source only.
REGISTRY: dict[str, str] = {
    "python": "docatlas.extract.python:extract",
    "python-stub": "docatlas.extract.python:extract",
    "markdown": "docatlas.extract.markup:extract_markdown",
    "rst": "docatlas.extract.markup:extract_rst",
    # tree-sitter (extract/tsadapter.py); C headers and Metal are parsed as C++
    "c": "docatlas.extract.cfamily:extract_c",
    "cpp": "docatlas.extract.cfamily:extract_cpp",
    "c-header": "docatlas.extract.cfamily:extract_header",
    "cuda": "docatlas.extract.cfamily:extract_cuda",
    "metal": "docatlas.extract.cfamily:extract_cpp",
    "objc": "docatlas.extract.cfamily:extract_objc",
    "objcpp": "docatlas.extract.cfamily:extract_objcpp",
    "javascript": "docatlas.extract.tscode:extract_javascript",
    "typescript": "docatlas.extract.tscode:extract_typescript",
    "tsx": "docatlas.extract.tscode:extract_tsx",
    "go": "docatlas.extract.tscode:extract_go",
    "rust": "docatlas.extract.tscode:extract_rust",
    "java": "docatlas.extract.tscode:extract_java",
    "bash": "docatlas.extract.tscode:extract_bash",
    "yaml": "docatlas.extract.config:extract_yaml",
    "github-actions": "docatlas.extract.config:extract_yaml",
    "toml": "docatlas.extract.config:extract_toml",
    "json": "docatlas.extract.config:extract_json",
    "cmake": "docatlas.extract.config:extract_cmake",
    "dockerfile": "docatlas.extract.config:extract_dockerfile",
    "bazel": "docatlas.extract.config:extract_bazel",
    "requirements": "docatlas.extract.config:extract_requirements",
    "ini": "docatlas.extract.runconfig:extract_ini",
}

_loaded: dict[str, Extractor] = {}

_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image"),
    (b"%PDF", "PDF document"), (b"PK\x03\x04", "ZIP archive"), (b"\x7fELF", "ELF binary"),
    (b"\x1f\x8b", "gzip archive"), (b"BZh", "bzip2 archive"), (b"\xfd7zXZ", "xz archive"),
    (b"\x93NUMPY", "NumPy array"), (b"\x80\x02", "Python pickle"), (b"\x80\x04", "Python pickle"),
    (b"\x00asm", "WebAssembly module"), (b"RIFF", "RIFF media"), (b"OggS", "Ogg media"),
    (b"\xca\xfe\xba\xbe", "Mach-O/Java class"), (b"\xcf\xfa\xed\xfe", "Mach-O binary"),
    (b"MZ", "Windows executable"), (b"SQLite format 3", "SQLite database"), (b"<\x00?\x00", "UTF-16 text"),
    (b"\xff\xfe", "UTF-16 text"), (b"\xfe\xff", "UTF-16 text"),
)
_BINARY_EXTENSIONS = {
    ".png": "PNG image", ".jpg": "JPEG image", ".jpeg": "JPEG image", ".gif": "GIF image",
    ".ico": "icon", ".pdf": "PDF document", ".zip": "ZIP archive", ".gz": "gzip archive",
    ".so": "shared library", ".a": "static library", ".o": "object file", ".pyc": "Python bytecode",
    ".pt": "PyTorch archive", ".pth": "PyTorch archive", ".npy": "NumPy array", ".pkl": "Python pickle",
    ".whl": "Python wheel", ".jar": "Java archive", ".ttf": "font", ".woff": "font", ".woff2": "font",
}


def load_extractor(language: str) -> Extractor | None:
    target = REGISTRY.get(language)
    if target is None:
        return None
    fn = _loaded.get(target)
    if fn is None:
        module, _, name = target.partition(":")
        fn = getattr(importlib.import_module(module), name)
        _loaded[target] = fn
    return fn


def binary_kind(data: bytes, path: str) -> str:
    """A short description when `data` is not text, else ""."""
    head = data[:8192]
    for sig, kind in _BINARY_SIGNATURES:
        if head.startswith(sig):
            return kind  # UTF-16 text included: listed with its kind, not analysed as UTF-8
    if b"\x00" in head:
        return _BINARY_EXTENSIONS.get(os.path.splitext(path)[1].lower(), "binary data")
    if head and _control_share(head) > 0.30:
        return _BINARY_EXTENSIONS.get(os.path.splitext(path)[1].lower(), "binary data")
    return ""


# Bytes that may appear in text; whatever `translate` leaves after deleting them is a control byte.
_TEXT_BYTES = bytes([9, 10, 12, 13, 27, *range(32, 256)])


def _control_share(head: bytes) -> float:
    return len(head.translate(None, _TEXT_BYTES)) / len(head)


def extract_file(root: str, scanned: ScannedFile, max_bytes: int = 0, parse: bool = True) -> FileFacts:
    """Read, classify and analyse one file. Never raises for bad input: problems become diagnostics."""
    path = scanned.path
    try:
        if max_bytes and scanned.size > max_bytes:
            return _over_limit(root, scanned, max_bytes)
        data = Path(root, path).read_bytes()
    except OSError as exc:
        diag = dx.UNREADABLE.at(path, action="read", reason=exc.strerror or exc)
        return FileFacts(path=path, language=scanned.language, size=scanned.size, digest="",
                         vendored=scanned.vendored, diagnostics=(diag,), parse_ok=False)
    return extract_bytes(path, data, scanned.language, scanned.vendored, parse)


def _over_limit(root: str, scanned: ScannedFile, max_bytes: int) -> FileFacts:
    """A file too big to analyse: listed, with what its head says it is (a 200 MB archive is binary data,
    not a text file)."""
    with open(os.path.join(root, scanned.path), "rb") as fh:
        head = fh.read(8192)
    kind = binary_kind(head, scanned.path)
    diag = dx.TOO_LARGE.at(scanned.path, size=scanned.size, limit=max_bytes)
    if kind:
        return FileFacts(path=scanned.path, language="binary", size=scanned.size, digest="", binary=True,
                         binary_kind=kind, vendored=scanned.vendored, diagnostics=(diag,), parse_ok=False)
    return FileFacts(path=scanned.path, language=scanned.language, size=scanned.size, digest="",
                     vendored=scanned.vendored, diagnostics=(diag,), parse_ok=False)


def extract_bytes(path: str, data: bytes, language: str, vendored: bool = False, parse: bool = True) -> FileFacts:
    """One file's facts from its bytes. `parse=False` skips the language's parser (the retry after a parser
    crashed or ran out of time in a worker): metadata, purpose and source only."""
    digest = hashlib.sha1(data).hexdigest()
    kind = binary_kind(data, path)
    if kind:
        return FileFacts(path=path, language="binary", size=len(data), digest=digest, binary=True,
                         binary_kind=kind, vendored=vendored)
    if language == "text" and data.startswith(b"#!"):
        language = languages.language_from_shebang(data.split(b"\n", 1)[0]) or language
    text, diags = decode(data, path, language)
    lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    generated = generated_marker(text, language)
    extractor = load_extractor(language) if parse else None
    result = Extraction()
    if extractor is not None:
        try:
            result = extractor(path, text)
        except RecursionError:
            result = Extraction(parse_ok=False)
            result.diagnostics.append(dx.TOO_DEEP.at(path))
    diags.extend(result.diagnostics)
    if parse and cbuild.is_build_file(path, language):  # include folders for `#include <...>` (link.resolve)
        result.extra.extend(cbuild.include_dirs(path, language, text))
    facts = FileFacts(
        path=path, language=language, size=len(data), digest=digest, lines=lines,
        generated=generated, vendored=vendored, docstring=result.docstring,
        symbols=tuple(result.symbols), imports=tuple(result.imports), tests=tuple(result.tests),
        findings=tuple(sorted(result.findings, key=lambda f: (f.line, f.category, f.rule))),
        diagnostics=tuple(diags), main_line=result.main_line, main_end=result.main_end, exports=tuple(result.exports),
        parse_ok=result.parse_ok and parse, extra=tuple(result.extra), references=result.references, doc=result.doc,
    )
    # the one boundary for repository text: lone surrogates and control characters escaped visibly
    return clean_record(facts) if needs_cleaning(text, language) and has_unsafe(facts) else facts
