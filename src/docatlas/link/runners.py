"""How a repository runs its tests, from evidence in the repository, and the command for one test file.

Each command comes with the evidence that chose it, so a page can say why: CPython's own runner
(`Lib/test/libregrtest/`: `./python -m test test_re`), Django's `tests/runtests.py`, pytest (a `pytest.ini`,
a `conftest.py`, `[tool.pytest.ini_options]` in `pyproject.toml`, a `[pytest]` section in `tox.ini`, the
file's own `import pytest`), unittest (`TestCase` classes, `unittest.main()`), go/cargo/npm conventions. A
file whose tests nothing in the repository knows how to run (a C++ test, whatever binary the build system
makes of it) gets no command rather than a guess.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from docatlas.link.resolve import PY_LANGS, PythonIndex
from docatlas.model import FileFacts

_Q = shlex.quote


@dataclass(frozen=True)
class RepoRunners:
    """What the repository says about running Python tests."""

    regrtest: str = ""  # the import root holding `test/libregrtest/` ("Lib"), "" when none
    pytest: str = ""  # the file that configures pytest, "" when none


def repo_runners(facts: Mapping[str, FileFacts]) -> RepoRunners:
    regrtest = ""
    pytest = ""
    for path in facts:  # sorted: the first evidence found is the same on every run
        if path.endswith("test/libregrtest/__init__.py") and not regrtest:
            regrtest = path[: -len("test/libregrtest/__init__.py")].rstrip("/") or "."
        name = PurePosixPath(path).name
        if not pytest and (name in ("pytest.ini", "conftest.py") or
                           (name == "pyproject.toml" and any(s.qualname.startswith("tool.pytest")
                                                            for s in facts[path].symbols))):
            pytest = path
    return RepoRunners(regrtest, pytest)


def run_commands(path: str, facts: FileFacts, index: PythonIndex | None, paths: set[str],
                 runners: RepoRunners = RepoRunners()) -> tuple[list[str], str]:
    """(shell commands that run one test file, the evidence that chose them); ([], "") when nothing in the
    repository says how."""
    frameworks = {t.framework for t in facts.tests if t.kind in ("test", "class")}
    if facts.language in PY_LANGS:
        return _python(path, facts, index, paths, runners, frameworks)
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
    if runners.regrtest and path.startswith(suite) and module.startswith("test."):
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
