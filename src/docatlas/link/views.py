"""Views of the linked model that pages show: a file's centrality band, a package's public API, the commands
that run a folder's tests. They are analysis, so they live with the link stage; the renderer only reads them."""

from __future__ import annotations

import shlex

from docatlas.link.stage import RepoModel, pytest_command

_CENTRALITY_BANDS = (1, 5, 10, 25, 50)


def centrality_band(model: RepoModel, path: str) -> str:
    """The file's PageRank position as a band ("top 5%"). Exact positions shift for thousands of files when
    one file is added or removed, which would rewrite every page on each such rebuild; bands rarely move.
    The exact score is in the index (`files.rank`) and in `docatlas show`."""
    pos, total = model.rank_pos.get(path, 0), len(model.files)
    if not pos or not total:
        return "not ranked"
    for band in _CENTRALITY_BANDS:
        if pos <= max(1, total * band // 100):
            return f"top {band}%"
    return "lower half"


def public_api(model: RepoModel, init: str) -> tuple[list[str], str]:
    """What a package's `__init__` offers: `__all__`, else the names it imports from the package itself."""
    f = model.files.get(init)
    if f is None:
        return [], ""
    computed = ("all", "computed") in f.extra
    if f.exports:
        return list(f.exports), ("`__all__`, only the names it lists literally: the rest of it is computed when "
                                 "the module runs" if computed else "`__all__`")
    if init in model.refs.package_api:
        return list(model.refs.package_api[init]), (("its `__all__` is computed when the module runs; instead, "
                                                     if computed else "")
                                                    + "names its `__init__.py` defines or imports (not modules), "
                                                    "then those its star imports bring: their `__all__`, else "
                                                    "their public names")
    names: list[str] = []
    for r in model.imports.get(init, []):
        if r.category == "repo" and r.imp.names and "*" not in r.imp.names:
            local = (n.partition(" as ")[2] or n for n in r.imp.names)  # the name the package binds
            names.extend(n for n in local if not n.startswith("_"))
    names += [s.name for s in f.symbols if not s.parent and s.kind in ("class", "function")
              and not s.name.startswith("_")]
    return list(dict.fromkeys(names)), "names its `__init__.py` defines or imports from the repository"


def folder_test_commands(model: RepoModel, folder: str, tests: list[str]) -> tuple[list[str], list[str]]:
    """Commands that run the folder's tests, and the test files for which the repository says nothing about
    how to run them (a C++ test is whatever binary the build system makes). Python test files collapse to
    one command when there are many: the runner's common label, else pytest on the folder; other languages
    keep their own commands, never a Python one."""
    python = [p for p in tests if model.summary(p).language in ("python", "python-stub")]
    py_commands = sorted({c[0] for p in python if (c := model.run_commands.get(p))})
    if len(py_commands) > 5:
        runner = next((c.split()[1] for c in py_commands if c.startswith("python ") and "runtests.py " in c), "")
        labels = [model.module_of.get(p, "").split(".") for p in python if model.module_of.get(p)]
        common: list[str] = []
        for parts in zip(*labels, strict=False):
            if len(set(parts)) != 1:
                break
            common.append(parts[0])
        label = ".".join(common[:-1] if labels and len(common) == min(map(len, labels)) else common)
        if runner:
            py_commands = [f"python {runner} {label}".rstrip()]
        elif all(c.startswith("./python -m test ") for c in py_commands):  # CPython's regrtest
            py_commands = [f"./python -m test {label.removeprefix('test').lstrip('.')}".rstrip()]
        elif any(c.startswith("python -m pytest ") for c in py_commands):
            py_commands = [pytest_command(folder or ".")]
        else:  # unittest: discovery over the folder, from its import root
            root = next((r for r in sorted(model.python_roots, key=len, reverse=True)
                         if folder == r or folder.startswith(r + "/") or not r), "")
            run = f"python -m unittest discover -s {shlex.quote(folder or '.')}"
            py_commands = [f"{run} -t {shlex.quote(root)}" if root else run]
    others = [p for p in tests if p not in set(python)]
    other_commands = sorted({c for p in others for c in model.run_commands.get(p, [])[:1]})
    if len(other_commands) > OTHER_COMMANDS_SHOWN:  # one per C++ test target: a folder can have hundreds
        cut = len(other_commands) - OTHER_COMMANDS_SHOWN
        other_commands = [*other_commands[:OTHER_COMMANDS_SHOWN],
                          f"# … and {cut:,} more (alphabetical order), one per test target: each test file's page "
                          f"gives its own"]
    return py_commands + other_commands, [p for p in others if not model.run_commands.get(p)]


OTHER_COMMANDS_SHOWN = 5  # commands of non-Python test files listed on a folder page


