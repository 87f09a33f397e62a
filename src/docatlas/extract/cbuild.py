"""The include folders a repository's build files name: where its own `#include <...>` headers are looked up.

A compiler finds `#include <Python.h>` through `-I` flags, and a repository writes those in its build files:
CMake's `include_directories(...)`/`target_include_directories(tgt PUBLIC ...)`, a setup.py's
`include_dirs=[...]`, a Makefile's `-I$(srcdir)/Include`. `include_dirs` reads one such file and returns the
folders it names, relative to the repository root (`FileFacts.extra` entries keyed `INCLUDE_DIR`); the link
stage keeps those that exist as include roots (`link.resolve.IncludeIndex`). Only what the text says plainly
counts: a path relative to the file's folder, or built on a variable that names a known folder
(`${CMAKE_CURRENT_SOURCE_DIR}`, `$(srcdir)`, a `set(VAR ...)` of the same file); anything the build computes
otherwise (`${Python_INCLUDE_DIRS}`) is left out rather than guessed.
"""

from __future__ import annotations

import ast
import posixpath
import re

from docatlas.model import INCLUDE_DIR

_CMAKE_CALL = re.compile(r"\b(target_include_directories|include_directories)\s*\(([^()]*)\)", re.I)
_CMAKE_SET = re.compile(r"\bset\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s+\"?([^\s()\"]+)\"?\s*\)", re.I)
_CMAKE_WORDS = frozenset(("SYSTEM", "BEFORE", "AFTER", "PUBLIC", "PRIVATE", "INTERFACE"))
_CMAKE_HERE = ("CMAKE_CURRENT_SOURCE_DIR", "CMAKE_CURRENT_LIST_DIR")
_CMAKE_TOP = ("CMAKE_SOURCE_DIR",)
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FLAG = re.compile(r"(?:^|[\s'\"=])-I[ \t]*([^\s'\";]+)")
_MAKE_HERE = re.compile(r"\$[({](?:srcdir|abs_srcdir|top_srcdir|abs_top_srcdir|CURDIR)[)}]")


def is_build_file(path: str, language: str) -> bool:
    """Whether `path` is a build file `include_dirs` reads (by language, and by name for `Makefile.pre.in`)."""
    name = path.rsplit("/", 1)[-1]
    return language in ("cmake", "make") or name == "setup.py" or name.startswith(("Makefile", "makefile"))


def include_dirs(path: str, language: str, text: str) -> list[tuple[str, str]]:
    """`(INCLUDE_DIR, folder)` for each include folder the build file at `path` names, sorted, no repeats."""
    here = path.rsplit("/", 1)[0] if "/" in path else ""
    name = path.rsplit("/", 1)[-1]
    if language == "cmake":
        found = _cmake(here, text)
    elif name == "setup.py":
        found = _setup(here, text)
    elif is_build_file(path, language):
        found = _flags(here, text, _MAKE_HERE)
    else:
        found = []
    return [(INCLUDE_DIR, d) for d in sorted(set(found))]


def _norm(here: str, rel: str) -> str | None:
    """`rel` (relative to `here`) relative to the repository root; None when absolute or above the root."""
    rel = rel.strip().rstrip("/")
    if not rel or rel.startswith(("/", "~")) or "$" in rel or "\\" in rel or ":" in rel:
        return None
    joined = posixpath.normpath(posixpath.join(here, rel)) if here else posixpath.normpath(rel)
    if joined == ".":
        return ""
    if joined.startswith("../") or joined == "..":
        return None
    return joined


def _cmake(here: str, text: str) -> list[str]:
    text = re.sub(r"#[^\n]*", "", text)
    known: dict[str, str] = {v: "." for v in _CMAKE_HERE}
    if here.rsplit("/", 1)[-1].lower() == "cmake":  # a module the folder above includes: its source dir is there
        known["CMAKE_CURRENT_SOURCE_DIR"] = ".."
    top = "/".join([".."] * (here.count("/") + 1)) if here else "."
    known.update({v: top for v in _CMAKE_TOP})
    if re.search(r"\bproject\s*\(", text, re.I):
        known["PROJECT_SOURCE_DIR"] = "."
    for m in _CMAKE_SET.finditer(text):  # `set(TORCH_ROOT ${CMAKE_CURRENT_SOURCE_DIR}/..)`
        value = _subst(m.group(2), known)
        if value is not None:
            known.setdefault(m.group(1), value)
    out = []
    for m in _CMAKE_CALL.finditer(text):
        args = m.group(2).split()
        if m.group(1).lower() == "target_include_directories":
            args = args[1:]
        for arg in args:
            arg = arg.strip('"')
            if arg.upper() in _CMAKE_WORDS:
                continue
            if arg.startswith("$<BUILD_INTERFACE:") and arg.endswith(">"):
                arg = arg[len("$<BUILD_INTERFACE:"):-1]
            value = _subst(arg, known)
            folder = _norm(here, value) if value is not None else None
            if folder is not None:
                out.append(folder)
    return out


def _subst(arg: str, known: dict[str, str]) -> str | None:
    """`arg` with each `${VAR}` replaced by its known folder (relative to the file's folder), or None."""
    if "$<" in arg:
        return None
    failed = False

    def one(m: re.Match[str]) -> str:
        nonlocal failed
        value = known.get(m.group(1))
        if value is None:
            failed = True
            return ""
        return value

    value = _VAR.sub(one, arg)
    return None if failed else value


def _flags(here: str, text: str, here_vars: re.Pattern[str]) -> list[str]:
    """Folders of `-I` flags: plain relative paths, or paths on a variable that names the file's folder."""
    text = re.sub(r"\\\n", " ", text)
    out = []
    for m in _FLAG.finditer(text):
        value = here_vars.sub(".", m.group(1))
        folder = _norm(here, value)
        if folder is not None:
            out.append(folder)
    return out


def _setup(here: str, text: str) -> list[str]:
    """`include_dirs=[...]` keyword arguments of a setup.py, and string constants that are a `-I` flag."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "include_dirs" and isinstance(node.value,
                                                                                      ast.List | ast.Tuple):
            for item in node.value.elts:
                value = _joined(item)
                folder = _norm(here, value) if value is not None else None
                if folder is not None:
                    out.append(folder)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("-I"):
            out.extend(_flags(here, node.value, _MAKE_HERE))  # `extra_compile_args=["-Ifoo"]`
    return out


def _joined(node: ast.expr) -> str | None:
    """A string constant, or `os.path.join(...)` of string constants, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "join" \
            and node.args and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args):
        return posixpath.join(*(str(a.value) for a in node.args if isinstance(a, ast.Constant)))
    return None
