"""How a repository runs its tests, from evidence in the repository, and the command for one test file.

Each command comes with the evidence that chose it, so a page can say why: CPython's own runner
(`Lib/test/libregrtest/`: `./python -m test test_re`), Django's `tests/runtests.py`, pytest (a `pytest.ini`,
a `conftest.py`, `[tool.pytest.ini_options]` in `pyproject.toml`, a `[pytest]` section in `tox.ini`, the
file's own `import pytest`), unittest (`TestCase` classes, `unittest.main()`), go/cargo/npm conventions, and
beside them tox environments and nox sessions that pass their arguments on to pytest or to `runtests.py`. A
C or C++ test file gets a command when a build file builds it into a test target (`link.buildtests`: a CMake
executable linked to gtest/Catch2 or registered with ctest, a Bazel `cc_test`), naming that target and the
build file's line; a file whose tests nothing in the repository knows how to run gets no command rather than
a guess.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from docatlas.link.buildtests import TestTarget, test_targets
from docatlas.link.resolve import C_LANGS, PY_LANGS, PythonIndex
from docatlas.model import FileFacts

_Q = shlex.quote
_BUILD_NAMES = ("CMakeLists.txt", "BUILD", "BUILD.bazel")
_BUILD_SUFFIXES = (".cmake", ".bzl", ".bazel")


@dataclass(frozen=True)
class PassOn:
    """A tox environment or nox session that hands its command-line arguments to a test runner."""

    tool: str  # "tox" | "nox"
    config: str  # the file that declares it
    line: int  # where its command is written
    name: str  # the environment or session
    runner: str  # "pytest" | "runtests": what receives the arguments
    workdir: str  # the folder the runner runs in ("" for the repository root)
    command: str  # the command as written, for the page

    @property
    def folder(self) -> str:
        return self.config.rsplit("/", 1)[0] if "/" in self.config else ""


@dataclass(frozen=True)
class RepoRunners:
    """What the repository says about running tests."""

    regrtest: str = ""  # the import root holding `test/libregrtest/` ("Lib"), "" when none
    pytest: str = ""  # the file that configures pytest, "" when none
    pass_on: tuple[PassOn, ...] = ()  # tox environments and nox sessions, by config path
    cc: Mapping[str, list[TestTarget]] = field(default_factory=dict)  # C/C++ source -> test targets


def repo_runners(facts: Mapping[str, FileFacts]) -> RepoRunners:
    regrtest = ""
    pytest = ""
    builds: dict[str, FileFacts] = {}
    pass_on: list[PassOn] = []
    for path in facts:  # sorted: the first evidence found is the same on every run
        if path.endswith("test/libregrtest/__init__.py") and not regrtest:
            regrtest = path[: -len("test/libregrtest/__init__.py")].rstrip("/") or "."
        name = PurePosixPath(path).name
        if not pytest and (name in ("pytest.ini", "conftest.py") or
                           (name == "pyproject.toml" and any(s.qualname.startswith("tool.pytest")
                                                            for s in facts[path].symbols))):
            pytest = path
        if name in _BUILD_NAMES or name.endswith(_BUILD_SUFFIXES):
            builds[path] = facts[path]
        elif name in ("tox.ini", "tox.toml", "pyproject.toml", "noxfile.py"):
            for key, value in facts[path].extra:
                if key == "tox":
                    pass_on += _tox(path, json.loads(value))
                elif key == "nox-session":
                    pass_on += _nox(path, json.loads(value))
    # tox reads the first of tox.ini, pyproject.toml (legacy_tox_ini, then native), tox.toml in a folder (tox 4);
    # nox has one noxfile per folder
    rank = {"tox.ini": 0, "pyproject.toml": 1, "tox.toml": 2}
    pass_on.sort(key=lambda p: (p.folder, p.tool != "tox", rank.get(PurePosixPath(p.config).name, 3)))
    pass_on = [p for i, p in enumerate(pass_on) if i == 0 or (p.tool, p.folder) != (pass_on[i - 1].tool,
                                                                                      pass_on[i - 1].folder)]
    return RepoRunners(regrtest, pytest, tuple(pass_on), test_targets(builds, facts))


def _tox(path: str, cfg: dict[str, Any]) -> list[PassOn]:
    """The environment a test run picks: the first plain name of `envlist` whose commands pass `{posargs}` to
    pytest or `runtests.py`, else `py` (an environment tox makes from `[testenv]` for the current Python)."""
    envs = {str(e["section"]): e for e in cfg.get("envs", [])}
    base = envs.get("testenv", {})
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    names = [e for e in cfg.get("envlist", []) if re.fullmatch(r"[\w.-]+", e)]
    for name in [*names, "py"]:
        env = envs.get(f"testenv:{name}", {})
        if name == "py" and env:
            continue
        commands = env.get("commands") or base.get("commands")
        changedir = env.get("changedir") or base.get("changedir")
        if not commands:
            continue
        line, text = int(commands[0]), str(commands[1])
        for offset, cmd in enumerate(text.splitlines()):
            runner = _pass_on_runner(cmd)
            if runner:
                workdir = _tox_dir(folder, str(changedir[1]) if changedir else "")
                if workdir is not None:
                    return [PassOn("tox", path, line + offset, name, runner, workdir, cmd.strip())]
    return []


def _pass_on_runner(cmd: str) -> str:
    if "{posargs" not in cmd:
        return ""
    words = cmd.split()
    if any(w.endswith("runtests.py") for w in words):
        return "runtests"
    if any(w in ("pytest", "py.test") or w.endswith(("/pytest", "/py.test")) for w in words) or \
            " -m pytest" in f" {cmd}":
        return "pytest"
    return ""


def _tox_dir(folder: str, changedir: str) -> str | None:
    """`changedir` as a repository folder ("" for the root), None when it is anywhere else."""
    value = changedir.strip().replace("{toxinidir}", "").replace("{tox_root}", "").lstrip("/")
    if "{" in value or value.startswith(".."):
        return None
    parts = [p for p in value.split("/") if p not in ("", ".")]
    return "/".join([*([folder] if folder else []), *parts])


def _nox(path: str, session: dict[str, Any]) -> list[PassOn]:
    if not (session.get("posargs") and session.get("pytest")):
        return []
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    name = str(session["name"])
    if not re.fullmatch(r"[\w.-]+", name) or "test" not in name.lower():
        return []
    return [PassOn("nox", path, int(str(session["line"])), name, "pytest", folder, "session.posargs")]


def run_commands(path: str, facts: FileFacts, index: PythonIndex | None, paths: set[str],
                 runners: RepoRunners = RepoRunners()) -> tuple[list[str], str]:
    """(shell commands that run one test file, the evidence that chose them); ([], "") when nothing in the
    repository says how."""
    frameworks = {t.framework for t in facts.tests if t.kind in ("test", "class")}
    if facts.language in PY_LANGS:
        commands, why = _python(path, facts, index, paths, runners, frameworks)
        if commands:
            more, more_why = _pass_on(path, commands[0], runners)
            commands, why = commands + more, "; ".join(filter(None, [why, more_why]))
        return commands, why
    if facts.language in C_LANGS:
        return _cc(path, facts, runners.cc.get(path, []))
    stem = PurePosixPath(path).stem
    folder = path.rsplit("/", 1)[0] if "/" in path else "."
    if "go" in frameworks or facts.language == "go":
        return [f"go test {_Q('./' + folder + '/')}"], "Go test file (`go test` runs a package's `_test.go` files)"
    if "rust" in frameworks or facts.language == "rust":
        why = "Rust tests (`#[test]`); cargo runs them"
        if path.startswith("tests/") or "/tests/" in path:
            return [f"cargo test --test {_Q(stem)}"], why + ", an integration-test file under `tests/`"
        return ["cargo test"], why
    if frameworks & {"jest", "vitest", "mocha", "js"} or facts.language in ("javascript", "typescript", "tsx"):
        first = next(iter(sorted(frameworks)), "")
        tool = {"vitest": "npx vitest run", "mocha": "npx mocha"}.get(first, "npx jest")
        return [f"{tool} {_Q(path)}"], f"JavaScript tests ({', '.join(sorted(frameworks)) or 'test file'})"
    return [], ""


def _python(path: str, facts: FileFacts, index: PythonIndex | None, paths: set[str], runners: RepoRunners,
            frameworks: set[str]) -> tuple[list[str], str]:
    root = index.root_of.get(path, "") if index else ""
    module = index.module_of.get(path, "") if index else ""
    runtests = f"{root}/runtests.py" if root else "runtests.py"
    if root and runtests in paths and module:  # Django's convention: labels relative to the tests root
        return [f"python {_Q(runtests)} {_Q(module)}"], f"the repository's test runner `{runtests}`"
    suite = f"{runners.regrtest}/test/" if runners.regrtest not in ("", ".") else "test/"
    tests = [t for t in facts.tests if t.kind in ("test", "class")]
    only_main = bool(tests) and all(facts.main_line <= t.line <= facts.main_end for t in tests)
    if runners.regrtest and path.startswith(suite) and module.startswith("test.") and not only_main:
        # (regrtest imports the module: tests defined only under `if __name__ == "__main__":` never run there)
        return ([f"./python -m test {_Q(module.removeprefix('test.'))}"],
                f"CPython's regrtest (`{suite}libregrtest/`); `./python` is the interpreter the build makes")
    imports_pytest = any(i.module.split(".")[0] == "pytest" for i in facts.imports)
    pytest_why = ("the file imports `pytest`" if imports_pytest else
                  f"pytest is configured in `{runners.pytest}`" if runners.pytest else "")
    python = "./python" if runners.regrtest else "python"
    commands: list[str] = []
    reasons: list[str] = []
    if facts.main_line:
        if module and any(i.level for i in facts.imports):  # relative imports need the package context
            run = f"{python} -m {_Q(module)}"
            commands.append(f"(cd {_Q(root)} && {run})" if root else run)
        else:
            commands.append(f"{python} {_Q(path)}")
        reasons.append(f"its `__main__` block (line {facts.main_line})")
    elif "unittest" in frameworks and module and not pytest_why:
        run = f"{python} -m unittest {_Q(module)}"
        commands.append(f"(cd {_Q(root)} && {run})" if root else run)
        reasons.append("unittest `TestCase` classes, and no pytest configuration in the repository")
    if pytest_why or ("pytest" in frameworks and not commands):
        commands.append(f"python -m pytest {_Q(path)}")
        reasons.append(pytest_why or "pytest-style test functions (nothing else in the repository runs them)")
    return commands, "; ".join(reasons)


def _pass_on(path: str, direct: str, runners: RepoRunners) -> tuple[list[str], str]:
    """The tox and nox commands that run the same tests as `direct`, the first command chosen for the file."""
    commands: list[str] = []
    reasons: list[str] = []
    for p in runners.pass_on:
        arg = ""
        if p.runner == "pytest" and direct.startswith("python -m pytest ") and \
                (not p.workdir or path.startswith(p.workdir + "/")):
            arg = path[len(p.workdir) + 1:] if p.workdir else path
        elif p.runner == "runtests":
            words = direct.split()
            script = f"{p.workdir}/runtests.py" if p.workdir else "runtests.py"
            if words[:2] == ["python", _Q(script)] and len(words) == 3:
                arg = words[2]
        if not arg or any(c.startswith(p.tool + " ") for c in commands):
            continue
        flag = "-e" if p.tool == "tox" else "-s"
        run = f"{p.tool} {flag} {_Q(p.name)} -- {_Q(arg) if p.runner == 'pytest' else arg}"
        commands.append(f"(cd {_Q(p.folder)} && {run})" if p.folder else run)
        where = f", in `{p.workdir}`" if p.workdir != p.folder else ""
        what = (f"tox environment `{p.name}` (`{p.config}:{p.line}`: `{p.command}`{where})" if p.tool == "tox" else
                f"nox session `{p.name}` (`{p.config}:{p.line}`) passes `session.posargs` to pytest")
        reasons.append(what)
    return commands, "; ".join(reasons)


def _cc(path: str, facts: FileFacts, targets: list[TestTarget]) -> tuple[list[str], str]:
    """One command per build system that builds the file into a test target: CMake's (a target ctest knows
    first), then Bazel's."""
    commands: list[str] = []
    reasons: list[str] = []
    cmake = sorted((t for t in targets if t.system == "cmake" and "\x00" not in t.name),
                   key=lambda t: (not t.ctest, t.build_file, t.line))
    if cmake:
        t = cmake[0]
        build = f"cmake --build build --target {_Q(t.name)}"
        fn, call_file, call_line = t.called_from
        where = f"`{t.build_file}:{t.line}`" + (f", declared by `{fn}()` called at `{call_file}:{call_line}`"
                                                if fn else "")
        why = f"CMake target `{t.name}` ({where}) is built from this file"
        listed = t.listed.get(path)
        if listed and listed != (t.build_file, t.line) and (not fn or listed != (call_file, call_line)):
            why += f", named at `{listed[0]}:{listed[1]}`"
        if t.framework:
            why += f" and linked to {t.framework} (`{t.framework_at[0]}:{t.framework_at[1]}`)"
        suites = sorted({re.split(r"[./]", c.name)[0] for c in facts.tests if c.framework == "gtest"})
        if t.ctest == "add_test":
            commands.append(f"{build} && ctest --test-dir build -R {_Q('^' + _regex(t.ctest_name) + '$')}")
            why += f"; ctest runs it as `{t.ctest_name}` (`add_test`, `{t.ctest_at[0]}:{t.ctest_at[1]}`)"
        elif t.ctest == "gtest_discover_tests" and suites and all(re.fullmatch(r"\w+", s) for s in suites):
            pattern = f"^{_regex(t.ctest_name)}(.*/)?({'|'.join(suites)})(/[0-9]+)?\\."
            commands.append(f"{build} && ctest --test-dir build -R {_Q(pattern)}")
            why += (f"; ctest knows its gtest cases (`gtest_discover_tests`, `{t.ctest_at[0]}:{t.ctest_at[1]}`), "
                    f"selected here by this file's test suites")
        else:
            commands.append(f"{build}  # then run the `{t.name}` binary it makes")
        reasons.append(why + "; `build` is the folder CMake was configured in")
    bazel = sorted((t for t in targets if t.system == "bazel"), key=lambda t: (t.build_file, t.line))
    if bazel:
        t = bazel[0]
        commands.append(f"bazel test {_Q(f'//{t.package}:{t.name}')}")
        reasons.append(f"Bazel `cc_test` `{t.name}` (`{t.build_file}:{t.line}`) is built from this file")
    return commands, "; ".join(reasons)


def _regex(text: str) -> str:
    """`text` as a literal in CMake's regular expressions (which know no escape for `-`)."""
    return re.sub(r"([.^$*+?()\[\]{}|\\])", r"\\\1", text)
