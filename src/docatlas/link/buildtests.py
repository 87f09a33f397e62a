"""C and C++ test targets that build files declare, and which sources each is built from.

CMake: `add_executable` targets linked to gtest/gmock or Catch2 (`target_link_libraries`), or registered with
ctest (`add_test`, `gtest_discover_tests`, `gtest_add_tests`, `catch_discover_tests`). The commands each CMake
file kept at extraction (`extract.config`) are evaluated here, where the repository's paths are known, as CMake
would: from the top `CMakeLists.txt` down through `add_subdirectory` (a child scope; `PARENT_SCOPE` hands a
value back) and `include`, with `set`, `list`, `file(GLOB/GLOB_RECURSE)`, `foreach`, `get_filename_component`,
functions and macros. A `CMakeLists.txt` that nothing reaches is then evaluated on its own. `if` conditions are
not evaluated: every branch's commands run, so a target may need an option to exist (the page cites its line).
A source whose path starts with a variable never set counts only when exactly one file of the repository ends
with the rest of it. Where a source was named (a `set`, `list(APPEND)` or `file(GLOB)` line) is kept, so the page
can cite it.
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

_UNKNOWN = "\x00"  # stands for a variable that is never set
_VAR = re.compile(r"\$(?:ENV)?\{([^${}]*)\}")
_TARGET_FILE = re.compile(r"^\$<TARGET_FILE:([^>]+)>$")
_MAX_STEPS = 500_000  # commands evaluated in all: a bound against runaway loops, far above PyTorch's
_MAX_DEPTH = 40
_PASS_ON = re.compile(r'"?(?:\$\{[^}]*\})+"?')  # an argument that is only variables
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
    framework_at: tuple[str, int] = ("", 0)  # the `target_link_libraries` that links it
    ctest: str = ""  # how ctest knows it: "add_test", "gtest_discover_tests", ...; "" when it does not
    ctest_name: str = ""  # the ctest test name (`add_test`) or TEST_PREFIX (discovery)
    ctest_at: tuple[str, int] = ("", 0)
    package: str = ""  # Bazel: the package folder ("" for the root)
    called_from: tuple[str, str, int] = ("", "", 0)  # CMake: the function or macro that declared it, the call
    listed: dict[str, tuple[str, int]] = field(default_factory=dict)  # source -> where a variable got it


def test_targets(facts: Mapping[str, FileFacts], paths: Iterable[str]) -> dict[str, list[TestTarget]]:
    """Source path -> the test targets built from it (CMake first, then Bazel; each by file and line)."""
    path_set = set(paths)
    files = sorted(path_set)
    lists: dict[str, list[list[Any]]] = {}
    found: list[TestTarget] = []
    for path in sorted(facts):
        for key, value in facts[path].extra:
            if key == "cmake-commands":
                lists[path] = json.loads(value)
            elif key == "cc-test" and (not path.endswith(".bzl") or _loaded_by_package(path, facts)):
                t = _bazel(path, json.loads(value), files, path_set)
                found += [t] if t else []
    cmake = [t for t in _Cmake(lists, files, path_set).run() if t.framework or t.ctest]  # not ordinary programs
    out: dict[str, list[TestTarget]] = {}
    for t in cmake + found:
        for src in sorted(t.sources):
            out.setdefault(src, []).append(t)
    return out


# -- CMake ----------------------------------------------------------------------------------------
class _Scope(dict[str, str]):
    """A CMake variable scope: a directory's or a function's; `parent` receives `PARENT_SCOPE` values."""

    def __init__(self, values: Mapping[str, str], parent: _Scope | None = None) -> None:
        super().__init__(values)
        self.parent = parent


class _Cmake:
    def __init__(self, lists: dict[str, list[list[Any]]], files: list[str], path_set: set[str]) -> None:
        self.lists = lists
        self.files = files
        self.path_set = path_set
        self.functions: dict[str, tuple[str, list[str], list[list[Any]], str]] = {}  # kind, params, body, file
        self.targets: dict[str, TestTarget] = {}
        self.named: dict[str, tuple[str, int]] = {}  # value -> the first `set`/`list`/`file` line writing it
        self.listed: dict[str, tuple[str, int]] = {}  # source -> where the value a target used for it was written
        self.calls: list[tuple[str, str, int]] = []  # the function calls being evaluated, outermost first
        self.active: list[str] = []  # the files being evaluated (no file includes itself)
        self.seen: set[str] = set()
        self.steps = 0
        self.resolved: dict[tuple[str, str], str] = {}  # (current folder, value) -> repository path or ""
        self.by_name: dict[str, list[str]] = {}  # file name -> its paths
        self.by_folder: dict[str, list[str]] = {}  # folder -> its files' names
        for p in files:
            folder, _, leaf = p.rpartition("/")
            self.by_name.setdefault(leaf, []).append(p)
            self.by_folder.setdefault(folder, []).append(leaf)

    def run(self) -> list[TestTarget]:
        root = "" if "CMakeLists.txt" in self.lists else _UNKNOWN
        for path in ["CMakeLists.txt", *sorted(self.lists)]:
            if path.endswith("CMakeLists.txt") and path in self.lists and path not in self.seen:
                folder = path.rsplit("/", 1)[0] if "/" in path else ""
                self.directory(path, _Scope({"CMAKE_SOURCE_DIR": root, "PROJECT_SOURCE_DIR": _here(folder)}))
        for t in self.targets.values():
            t.listed = {s: self.listed[s] for s in t.sources if s in self.listed}
        return [t for t in self.targets.values() if t.sources and _UNKNOWN not in t.name]

    def directory(self, path: str, scope: _Scope) -> None:
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        scope["CMAKE_CURRENT_SOURCE_DIR"] = scope["CMAKE_CURRENT_LIST_DIR"] = _here(folder)
        self.listfile(path, scope)

    def listfile(self, path: str, scope: _Scope) -> None:
        if path in self.active or len(self.active) > _MAX_DEPTH:
            return
        self.active.append(path)
        self.seen.add(path)
        self.block(self.lists[path], scope, path)
        self.active.pop()

    # evaluation ------------------------------------------------------------------------------------
    def expand(self, raw: str, env: _Scope) -> list[str]:
        """One argument as written -> its values (an unquoted argument splits on `;`)."""
        if re.match(r"^\[=*\[", raw):
            return [raw[raw.index("[", 1) + 1: raw.rindex("]", 0, len(raw) - 1)]]
        quoted = len(raw) >= 2 and raw[0] == raw[-1] == '"'
        text = raw[1:-1] if quoted else raw
        for _ in range(20):  # innermost first: `${${name}}`
            new = _VAR.sub(lambda m: env.get(m.group(1), _UNKNOWN), text)
            if new == text:
                break
            text = new
        return [text] if quoted else [x for x in text.split(";") if x]

    def args(self, raw: list[str], env: _Scope) -> list[str]:
        return [v for a in raw for v in self.expand(a, env)]

    def block(self, tree: list[list[Any]], env: _Scope, path: str) -> None:
        for node in tree:
            self.steps += 1
            if self.steps > _MAX_STEPS or len(self.calls) > _MAX_DEPTH:
                return
            line, word, raw = int(node[0]), str(node[1]), [str(a) for a in node[2]]
            if word in ("function", "macro"):
                params = self.args(raw, env)
                if params:
                    self.functions[params[0].lower()] = (word, params[1:], node[3], path)
            elif word == "foreach":
                self.foreach(self.args(raw, env), node[3], env, path)
            elif word != "while":
                self.command(path, line, word, self.args(raw, env), env, raw)

    def foreach(self, args: list[str], body: list[list[Any]], env: _Scope, path: str) -> None:
        if not args:
            return
        var, rest = args[0], args[1:]
        items: list[str] = []
        if rest[:1] == ["RANGE"]:
            nums = [int(x) for x in rest[1:4] if re.fullmatch(r"-?\d+", x)]
            if len(nums) != len(rest[1:4]) or not nums:
                return
            start, stop, step = (0, nums[0], 1) if len(nums) == 1 else (nums[0], nums[1], nums[2] if len(nums) > 2
                                                                             else 1)
            items = [str(i) for i in range(start, stop + 1, step)] if step > 0 else []
        elif rest[:1] == ["IN"]:
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
        for item in items[:5000]:
            env[var] = item
            self.block(body, env, path)

    def call(self, name: str, path: str, line: int, args: list[str], env: _Scope) -> None:
        kind, params, body, where = self.functions[name]
        scope = _Scope(env, env) if kind == "function" else env
        for i, p in enumerate(params):
            scope[p] = args[i] if i < len(args) else ""
        scope["ARGN"] = ";".join(args[len(params):])
        scope["ARGV"] = ";".join(args)
        scope["ARGC"] = str(len(args))
        for i, a in enumerate(args):
            scope[f"ARGV{i}"] = a
        self.calls.append((name, path, line))
        self.block(body, scope, where)
        self.calls.pop()

    def command(self, path: str, line: int, word: str, args: list[str], env: _Scope, raw: list[str]) -> None:
        if word in self.functions:
            self.call(word, path, line, args, env)
        elif word == "set" and args:
            values = args[1:]
            up = "PARENT_SCOPE" in values
            for stop in ("CACHE", "PARENT_SCOPE"):
                values = values[: values.index(stop)] if stop in values else values
            self.note(raw[1:], env, path, line)
            if up:
                if env.parent is not None:
                    env.parent[args[0]] = ";".join(values)
            else:
                env[args[0]] = ";".join(values)
        elif word == "unset" and args:
            env.pop(args[0], None)
        elif word == "list" and len(args) >= 2:
            self.list_command(args, env, path, line)
            if args[0] in ("APPEND", "PREPEND"):
                self.note(raw[2:], env, path, line)
        elif word == "file" and len(args) >= 2 and args[0] in ("GLOB", "GLOB_RECURSE"):
            found = self.glob(args[2:], env, recurse=args[0] == "GLOB_RECURSE")
            for f in found:
                self.named.setdefault(f, (path, line))
            env[args[1]] = ";".join(found)
        elif word == "get_filename_component" and len(args) >= 3:
            env[args[0]] = _component(args[1], args[2])
        elif word == "add_subdirectory" and args:
            sub = self.resolve_dir(args[0], env)
            if sub is not None and f"{sub}/CMakeLists.txt".lstrip("/") in self.lists:
                self.directory(f"{sub}/CMakeLists.txt".lstrip("/"), _Scope(env, env))
        elif word == "include" and args:
            self.include(args[0], env)
        elif word == "project" and args:
            env["PROJECT_SOURCE_DIR"] = env[f"{args[0]}_SOURCE_DIR"] = env.get("CMAKE_CURRENT_SOURCE_DIR", "")
        else:
            self.target_command(path, line, word, args, env)

    def list_command(self, args: list[str], env: _Scope, path: str, line: int) -> None:
        op, var = args[0], args[1]
        old = [x for x in env.get(var, "").split(";") if x]
        if op in ("APPEND", "PREPEND"):
            env[var] = ";".join(old + args[2:] if op == "APPEND" else args[2:] + old)
        elif op == "REMOVE_ITEM":
            drop = set(args[2:])
            env[var] = ";".join(x for x in old if x not in drop)
        elif op == "LENGTH" and len(args) >= 3:
            env[args[2]] = str(len(old))
        elif op == "GET" and len(args) >= 4 and re.fullmatch(r"-?\d+", args[2]):
            i = int(args[2])
            env[args[-1]] = old[i] if -len(old) <= i < len(old) else _UNKNOWN

    def include(self, name: str, env: _Scope) -> None:
        candidates = [name] if name.endswith(".cmake") or "/" in name else \
            [f"{d}/{name}.cmake" for d in env.get("CMAKE_MODULE_PATH", "").split(";") if d]
        for cand in candidates:
            rel = self.resolve_dir(cand, env)
            if rel is not None and rel.lstrip("/") in self.lists:
                saved = env.get("CMAKE_CURRENT_LIST_DIR", "")
                env["CMAKE_CURRENT_LIST_DIR"] = _here(rel.lstrip("/").rpartition("/")[0])
                self.listfile(rel.lstrip("/"), env)
                env["CMAKE_CURRENT_LIST_DIR"] = saved
                return

    def target_command(self, path: str, line: int, word: str, args: list[str], env: _Scope) -> None:
        if word in ("add_executable", "cuda_add_executable") and args:
            if len(args) > 1 and args[1] in ("IMPORTED", "ALIAS"):
                return
            t = self.targets.setdefault(args[0], TestTarget(args[0], path, line, "cmake",
                                                            called_from=self.calls[0] if self.calls else ("", "", 0)))
            t.sources |= self.sources((a for a in args[1:] if a not in _EXE_OPTIONS), env)
        elif word == "target_sources" and args and args[0] in self.targets:
            self.targets[args[0]].sources |= self.sources((a for a in args[1:] if a not in _KEYWORDS), env)
        elif word == "target_link_libraries" and args and args[0] in self.targets:
            t = self.targets[args[0]]
            for lib in args[1:]:
                low = lib.lower()
                framework = "gtest" if ("gtest" in low or "gmock" in low) else "catch2" if "catch2" in low else ""
                if framework and not t.framework:
                    t.framework, t.framework_at = framework, (path, line)
        elif word == "add_test" and args:
            self.add_test(path, line, args)
        elif word in ("gtest_discover_tests", "catch_discover_tests") and args and args[0] in self.targets:
            t = self.targets[args[0]]
            prefix = args[args.index("TEST_PREFIX") + 1] if "TEST_PREFIX" in args[:-1] else ""
            if not t.ctest and _UNKNOWN not in prefix:
                t.ctest, t.ctest_name, t.ctest_at = word, prefix, (path, line)
        elif word == "gtest_add_tests" and "TARGET" in args[:-1]:
            name = args[args.index("TARGET") + 1]
            if name in self.targets and not self.targets[name].ctest:
                self.targets[name].ctest, self.targets[name].ctest_at = word, (path, line)

    def add_test(self, path: str, line: int, args: list[str]) -> None:
        if args[0] == "NAME" and "COMMAND" in args[:-1]:
            name, exe = args[1], args[args.index("COMMAND") + 1]
        elif len(args) >= 2:
            name, exe = args[0], args[1]
        else:
            return
        m = _TARGET_FILE.match(exe)
        exe = m.group(1) if m else exe
        t = self.targets.get(exe)
        if t is not None and not t.ctest and re.fullmatch(r"[\w.+-]+", name):
            t.ctest, t.ctest_name, t.ctest_at = "add_test", name, (path, line)

    def note(self, raw: list[str], env: _Scope, path: str, line: int) -> None:
        """Remember where a value is first written: an argument that writes a name, not one that only passes a
        variable's value on (`${SRCS}`, written where it was set). A relative name is resolved where a target
        uses it, as CMake does, so the value is kept as written."""
        for a in raw:
            if "." in a and not _PASS_ON.fullmatch(a):
                for v in self.expand(a, env):
                    self.named.setdefault(v, (path, line))

    def resolve_dir(self, value: str, env: _Scope) -> str | None:
        """A folder or file path as the build file writes it -> "/" + its repository path; None when unknown."""
        if _UNKNOWN in value or "$" in value:
            return None
        here = env.get("CMAKE_CURRENT_SOURCE_DIR", "")
        full = value if value.startswith("/") else f"{here}/{value}"
        parts: list[str] = []
        for part in full.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            else:
                parts.append(part)
        return "/" + "/".join(parts)

    def resolve(self, value: str, env: _Scope) -> str:
        """A source path as the build file writes it -> the repository path, "" when it is no file here."""
        key = (env.get("CMAKE_CURRENT_SOURCE_DIR", ""), value)
        if key not in self.resolved:
            self.resolved[key] = self._resolve(value, env)
        return self.resolved[key]

    def _resolve(self, value: str, env: _Scope) -> str:
        if value.startswith(_UNKNOWN):
            rest = value.lstrip(_UNKNOWN).lstrip("/")
            if not rest or _UNKNOWN in rest or "$" in rest or "/" not in rest:
                return ""  # a bare file name after an unknown folder could be anywhere
            hits = [p for p in self.by_name.get(rest.rsplit("/", 1)[-1], []) if p == rest or p.endswith("/" + rest)]
            return hits[0] if len(hits) == 1 else ""
        rel = self.resolve_dir(value, env)
        return rel[1:] if rel is not None and rel[1:] in self.path_set else ""

    def sources(self, values: Iterable[str], env: _Scope) -> set[str]:
        out = set()
        for v in values:
            rel = self.resolve(v, env)
            if rel:
                out.add(rel)
                if v in self.named:
                    self.listed.setdefault(rel, self.named[v])
        return out

    def glob(self, args: list[str], env: _Scope, recurse: bool) -> list[str]:
        patterns, skip = [], False
        for a in args:
            if skip:
                skip = False
            elif a in ("LIST_DIRECTORIES", "RELATIVE"):
                if a == "RELATIVE":
                    return []  # names relative to another folder: not followed
                skip = True
            elif a not in ("CONFIGURE_DEPENDS", "FOLLOW_SYMLINKS"):
                patterns.append(a)
        found: list[str] = []
        for pat in patterns:
            full = self.resolve_dir(pat, env)
            if full is None:
                continue
            base, _, name = full[1:].rpartition("/")
            folders = [f for f in self.by_folder if f == base or not base or f.startswith(base + "/")] \
                if recurse else [base]
            for folder in sorted(folders):
                found += ["/" + (f"{folder}/{leaf}" if folder else leaf) for leaf in self.by_folder.get(folder, [])
                          if fnmatchcase(leaf, name)]
        return found


def _here(folder: str) -> str:
    return "/" + folder if folder else ""


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


def _loaded_by_package(path: str, facts: Mapping[str, FileFacts]) -> bool:
    """A macro file (`.bzl`) declares its targets in the package of its folder only when that package's BUILD
    file loads it (`load(":build.bzl", ...)`); elsewhere the package that calls it is not known here."""
    folder, _, name = path.rpartition("/")
    for build in ("BUILD", "BUILD.bazel"):
        f = facts.get(f"{folder}/{build}" if folder else build)
        if f is not None and any(i.module.endswith((f":{name}", f"/{name}")) for i in f.imports):
            return True
    return False


def _bazel_glob(rel: str, pattern: str) -> bool:
    """Bazel's glob: `*` within a folder, `**` across folders."""
    tokens = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*"}
    rx = "".join(tokens.get(part, re.escape(part)) for part in re.split(r"(\*\*/?|\*)", pattern) if part)
    return re.fullmatch(rx, rel) is not None
