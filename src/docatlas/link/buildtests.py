"""C and C++ test targets that build files declare, and which sources each is built from.

CMake: `add_executable` targets linked to gtest/gmock or Catch2 (`target_link_libraries`), or registered with
ctest (`add_test`, `gtest_discover_tests`, `gtest_add_tests`, `catch_discover_tests`). The commands a CMake file
kept at extraction (`extract.config`, only for files that mention a test command) are evaluated here, where
the repository's paths are known: `set`, `list(APPEND)`, `file(GLOB/GLOB_RECURSE)`, `foreach`,
`get_filename_component`, and functions and macros defined in the same file. Each file is evaluated on its
own, with `CMAKE_CURRENT_SOURCE_DIR` and `CMAKE_SOURCE_DIR` known; a source whose path starts with a variable
set elsewhere counts only when exactly one file of the repository ends with the rest of it. `if` conditions are
not evaluated: every branch's commands run, so a target may need an option to exist (the page cites its line).
Bazel: `cc_test` rules with a literal name and literal or `glob()` sources, in a package (a folder holding a
`BUILD` or `BUILD.bazel` file).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any

from docatlas.model import FileFacts

_UNKNOWN = "\x00"  # stands for a variable this file does not set
_VAR = re.compile(r"\$(?:ENV)?\{([^${}]*)\}")
_TARGET_FILE = re.compile(r"^\$<TARGET_FILE:([^>]+)>$")
_MAX_STEPS = 20000  # commands evaluated per file: a bound, not a limit any real file reaches
_KEYWORDS = {"PRIVATE", "PUBLIC", "INTERFACE", "LINK_PRIVATE", "LINK_PUBLIC", "LINK_INTERFACE_LIBRARIES",
             "debug", "optimized", "general"}
_EXE_OPTIONS = {"WIN32", "MACOSX_BUNDLE", "EXCLUDE_FROM_ALL"}


@dataclass
class TestTarget:
    """One test binary a build file declares."""

    name: str
    build_file: str
    line: int  # the `add_executable` / `cc_test` line
    system: str  # "cmake" | "bazel"
    sources: set[str] = field(default_factory=set)
    framework: str = ""  # "gtest" | "catch2" | "" (from what it links)
    framework_line: int = 0
    ctest: str = ""  # how ctest knows it: "add_test", "gtest_discover_tests", ...; "" when it does not
    ctest_name: str = ""  # the ctest test name (`add_test`) or TEST_PREFIX (discovery)
    ctest_line: int = 0
    package: str = ""  # Bazel: the package folder ("" for the root)
    called_from: tuple[str, int] = ("", 0)  # CMake: the function or macro that declared it, and the call's line


def test_targets(facts: Mapping[str, FileFacts], paths: Iterable[str]) -> dict[str, list[TestTarget]]:
    """Source path -> the test targets built from it (CMake first, then Bazel; each by file and line)."""
    path_set = set(paths)
    files = sorted(path_set)
    out: dict[str, list[TestTarget]] = {}
    for path in sorted(facts):
        for key, value in facts[path].extra:
            found: list[TestTarget] = []
            if key == "cmake-commands":
                found = _Cmake(path, files, path_set).run(json.loads(value))
            elif key == "cc-test":
                t = _bazel(path, json.loads(value), files, path_set)
                found = [t] if t else []
            for t in found:
                if t.system == "cmake" and not (t.framework or t.ctest):
                    continue  # an ordinary executable
                for src in sorted(t.sources):
                    out.setdefault(src, []).append(t)
    return out


# -- CMake ----------------------------------------------------------------------------------------
class _Cmake:
    def __init__(self, path: str, files: list[str], path_set: set[str]) -> None:
        self.path = path
        self.folder = path.rsplit("/", 1)[0] if "/" in path else ""
        self.files = files
        self.path_set = path_set
        here = "/" + self.folder if self.folder else ""
        self.globals = {"CMAKE_CURRENT_SOURCE_DIR": here, "CMAKE_CURRENT_LIST_DIR": here,
                        "CMAKE_SOURCE_DIR": "" if "CMakeLists.txt" in path_set else _UNKNOWN}
        self.functions: dict[str, tuple[str, list[str], list[list[Any]]]] = {}
        self.targets: dict[str, TestTarget] = {}
        self.steps = 0
        self.calls: list[tuple[str, int]] = []  # the function calls being evaluated, outermost first

    def run(self, tree: list[list[Any]]) -> list[TestTarget]:
        self.block(tree, dict(self.globals), 0)
        return [t for t in self.targets.values() if t.sources]

    # evaluation ------------------------------------------------------------------------------------
    def expand(self, raw: str, env: dict[str, str]) -> list[str]:
        """One argument as written -> its values (an unquoted argument splits on `;`)."""
        if raw.startswith("[") and re.match(r"^\[=*\[", raw):
            return [raw[raw.index("[", 1) + 1: raw.rindex("]", 0, len(raw) - 1)]]
        quoted = len(raw) >= 2 and raw[0] == raw[-1] == '"'
        text = raw[1:-1] if quoted else raw
        for _ in range(20):  # innermost first: `${${name}}`
            new = _VAR.sub(lambda m: env.get(m.group(1), _UNKNOWN), text)
            if new == text:
                break
            text = new
        if quoted:
            return [text]
        return [x for x in text.split(";") if x]

    def args(self, raw: list[str], env: dict[str, str]) -> list[str]:
        return [v for a in raw for v in self.expand(a, env)]

    def block(self, tree: list[list[Any]], env: dict[str, str], depth: int) -> None:
        if depth > 12:
            return
        for node in tree:
            self.steps += 1
            if self.steps > _MAX_STEPS:
                return
            line, word, raw = int(node[0]), str(node[1]), [str(a) for a in node[2]]
            if word in ("function", "macro"):
                params = self.args(raw, env)
                if params:
                    self.functions[params[0].lower()] = (word, params[1:], node[3])
                continue
            if word == "foreach":
                self.foreach(self.args(raw, env), node[3], env, depth)
                continue
            if word == "while":
                continue
            self.command(line, word, self.args(raw, env), env, depth)

    def foreach(self, args: list[str], body: list[list[Any]], env: dict[str, str], depth: int) -> None:
        if not args:
            return
        var, rest = args[0], args[1:]
        if rest[:1] == ["RANGE"]:
            return
        items: list[str] = []
        if rest[:1] == ["IN"]:
            mode = ""
            for a in rest[1:]:
                if a in ("LISTS", "ITEMS", "ZIP_LISTS"):
                    mode = a
                elif mode == "LISTS":
                    items += [x for x in env.get(a, "").split(";") if x]
                elif mode == "ITEMS":
                    items.append(a)
        else:
            items = rest
        for item in items[:2000]:
            env[var] = item
            self.block(body, env, depth + 1)

    def call(self, name: str, line: int, args: list[str], env: dict[str, str], depth: int) -> None:
        kind, params, body = self.functions[name]
        self.calls.append((name, line))
        scope = dict(env) if kind == "function" else env
        for i, p in enumerate(params):
            scope[p] = args[i] if i < len(args) else ""
        scope["ARGN"] = ";".join(args[len(params):])
        scope["ARGV"] = ";".join(args)
        scope["ARGC"] = str(len(args))
        for i, a in enumerate(args):
            scope[f"ARGV{i}"] = a
        self.block(body, scope, depth + 1)
        self.calls.pop()

    def command(self, line: int, word: str, args: list[str], env: dict[str, str], depth: int) -> None:
        if word in self.functions:
            self.call(word, line, args, env, depth)
        elif word == "set" and args:
            values = args[1:]
            for stop in ("CACHE", "PARENT_SCOPE"):
                if stop in values:
                    values = values[: values.index(stop)]
            env[args[0]] = ";".join(values)
        elif word == "unset" and args:
            env.pop(args[0], None)
        elif word == "list" and len(args) >= 2 and args[0] in ("APPEND", "PREPEND", "REMOVE_ITEM"):
            old = [x for x in env.get(args[1], "").split(";") if x]
            new = {"APPEND": old + args[2:], "PREPEND": args[2:] + old,
                   "REMOVE_ITEM": [x for x in old if x not in args[2:]]}[args[0]]
            env[args[1]] = ";".join(new)
        elif word == "file" and len(args) >= 2 and args[0] in ("GLOB", "GLOB_RECURSE"):
            env[args[1]] = ";".join(self.glob(args[2:], recurse=args[0] == "GLOB_RECURSE"))
        elif word == "get_filename_component" and len(args) >= 3:
            env[args[0]] = _component(args[1], args[2])
        elif word in ("add_executable", "cuda_add_executable") and args:
            if len(args) > 1 and args[1] in ("IMPORTED", "ALIAS"):
                return
            t = self.targets.setdefault(args[0], TestTarget(args[0], self.path, line, "cmake",
                                                            called_from=self.calls[0] if self.calls else ("", 0)))
            t.sources |= self.sources(a for a in args[1:] if a not in _EXE_OPTIONS)
        elif word == "target_sources" and args and args[0] in self.targets:
            self.targets[args[0]].sources |= self.sources(a for a in args[1:] if a not in _KEYWORDS)
        elif word == "target_link_libraries" and args and args[0] in self.targets:
            t = self.targets[args[0]]
            for lib in args[1:]:
                low = lib.lower()
                framework = "gtest" if ("gtest" in low or "gmock" in low) else "catch2" if "catch2" in low else ""
                if framework and not t.framework:
                    t.framework, t.framework_line = framework, line
        elif word == "add_test" and args:
            self.add_test(line, args)
        elif word in ("gtest_discover_tests", "catch_discover_tests") and args and args[0] in self.targets:
            t = self.targets[args[0]]
            prefix = args[args.index("TEST_PREFIX") + 1] if "TEST_PREFIX" in args[:-1] else ""
            if not t.ctest and _UNKNOWN not in prefix:
                t.ctest, t.ctest_name, t.ctest_line = word, prefix, line
        elif word == "gtest_add_tests" and "TARGET" in args[:-1]:
            name = args[args.index("TARGET") + 1]
            if name in self.targets and not self.targets[name].ctest:
                self.targets[name].ctest, self.targets[name].ctest_line = word, line

    def add_test(self, line: int, args: list[str]) -> None:
        if args[0] == "NAME" and "COMMAND" in args[:-1]:
            name, exe = args[1], args[args.index("COMMAND") + 1]
        elif len(args) >= 2:
            name, exe = args[0], args[1]
        else:
            return
        m = _TARGET_FILE.match(exe)
        exe = m.group(1) if m else exe
        t = self.targets.get(exe)
        if t is not None and not t.ctest and _UNKNOWN not in name and re.fullmatch(r"[\w.+-]+", name):
            t.ctest, t.ctest_name, t.ctest_line = "add_test", name, line

    def resolve(self, value: str) -> str:
        """A path as the build file writes it -> the repository path, "" when it is no file of the repository."""
        if value.startswith(_UNKNOWN):
            rest = value.lstrip(_UNKNOWN).lstrip("/")
            if not rest or _UNKNOWN in rest or "$" in rest or "/" not in rest:
                return ""  # a bare file name after an unknown folder could be anywhere
            hits = [p for p in self.files if p == rest or p.endswith("/" + rest)]
            return hits[0] if len(hits) == 1 else ""
        if _UNKNOWN in value or "$" in value:
            return ""
        full = value[1:] if value.startswith("/") else f"{self.folder}/{value}" if self.folder else value
        parts: list[str] = []
        for part in full.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    return ""
                parts.pop()
            else:
                parts.append(part)
        rel = "/".join(parts)
        return rel if rel in self.path_set else ""

    def sources(self, values: Iterable[str]) -> set[str]:
        return {r for v in values if (r := self.resolve(v))}

    def glob(self, args: list[str], recurse: bool) -> list[str]:
        patterns, relative, skip = [], "", False
        for i, a in enumerate(args):
            if skip:
                skip = False
                continue
            if a in ("LIST_DIRECTORIES", "RELATIVE"):
                skip = True
                if a == "RELATIVE" and i + 1 < len(args):
                    relative = args[i + 1]
                continue
            if a in ("CONFIGURE_DEPENDS", "FOLLOW_SYMLINKS"):
                continue
            patterns.append(a)
        if relative:
            return []  # names relative to another folder: not followed
        found: list[str] = []
        for pat in patterns:
            if _UNKNOWN in pat:
                continue
            full = pat[1:] if pat.startswith("/") else f"{self.folder}/{pat}" if self.folder else pat
            base, _, name = full.rpartition("/")
            for p in self.files:
                if recurse:
                    ok = (not base or p.startswith(base + "/")) and fnmatchcase(p.rsplit("/", 1)[-1], name)
                else:
                    ok = (p.rpartition("/")[0] == base) and fnmatchcase(p.rsplit("/", 1)[-1], name)
                if ok:
                    found.append("/" + p)
        return found


def _component(value: str, mode: str) -> str:
    p = PurePosixPath(value)
    if mode == "NAME":
        return p.name
    if mode == "NAME_WE":
        return p.name.split(".", 1)[0]
    if mode == "NAME_WLE":
        return p.stem
    if mode in ("DIRECTORY", "PATH"):
        return str(p.parent)
    if mode == "EXT":
        return p.name[len(p.name.split(".", 1)[0]):]
    return _UNKNOWN


# -- Bazel ----------------------------------------------------------------------------------------
def _bazel(path: str, rule: dict[str, Any], files: list[str], path_set: set[str]) -> TestTarget | None:
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    prefix = folder + "/" if folder else ""
    if not any(f"{prefix}{b}" in path_set for b in ("BUILD", "BUILD.bazel")):
        return None  # a macro file outside a package: the package that calls it is not known here
    t = TestTarget(str(rule["name"]), path, int(str(rule["line"])), "bazel", package=folder)
    for s in rule.get("srcs", []) or []:
        if not str(s).startswith((":", "//", "@")) and f"{prefix}{s}" in path_set:
            t.sources.add(f"{prefix}{s}")
    include = [str(g) for g in rule.get("glob", []) or []]
    exclude = [str(g) for g in rule.get("exclude", []) or []]
    for p in files if include else []:
        if not p.startswith(prefix):
            continue
        rel = p[len(prefix):]
        if any(_bazel_glob(rel, g) for g in include) and not any(_bazel_glob(rel, g) for g in exclude):
            t.sources.add(p)
    deps = [str(d) for d in rule.get("deps", []) or []]
    low = " ".join(deps).lower()
    t.framework = "gtest" if ("googletest" in low or "gtest" in low) else "catch2" if "catch2" in low else ""
    return t if t.sources else None


def _bazel_glob(rel: str, pattern: str) -> bool:
    """Bazel's glob: `*` within a folder, `**` across folders."""
    tokens = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*"}
    rx = "".join(tokens.get(part, re.escape(part)) for part in re.split(r"(\*\*/?|\*)", pattern) if part)
    return re.fullmatch(rx, rel) is not None
