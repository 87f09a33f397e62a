"""Check the statements docatlas's pages make against an independent computation.

    python bench/claims_audit.py CORPUS N [--out DIR] [--seed S] [--examples K]

CORPUS is a repository (a name under ~/.cache/docatlas-corpora or a path); DIR is its built output (default
`/tmp/claims/<name>`). N file pages are sampled reproducibly (seeded, from the sorted page list), and every
statement on them that a program can check is checked against the sources, never against docatlas's own code
or index: Python through `ast`, Markdown through markdown-it-py, packages by the `__init__.py` rule, tests as
`def test*` in test classes or test files, imports as written. The folder pages of the sampled files are checked
too (descriptions, public API). It prints, per kind of statement, how many were checked and how many were
false, with examples; the exit status is 1 when any was false.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import os
import random
import re
import sys
import warnings
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

CORPORA = Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache/docatlas-corpora"))
_SKIP_DIRS = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".tox", ".venv"}
_BACKTICKED = re.compile(r"`+([^`]+?)`+")


class Audit:
    def __init__(self, repo: Path, out: Path) -> None:
        self.repo = repo
        self.out = out
        self.checked: Counter[str] = Counter()
        self.false: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.files = self._walk()

    # -- bookkeeping ------------------------------------------------------------------------------
    def claim(self, kind: str, ok: bool, example: str) -> None:
        self.checked[kind] += 1
        if not ok:
            self.false[kind] += 1
            self.examples[kind].append(example)

    def _walk(self) -> set[str]:
        found: set[str] = set()
        out_abs = self.out.resolve()
        for dirpath, dirnames, filenames in os.walk(self.repo):
            dirnames[:] = [d for d in dirnames if d not in _SKIP_DIRS
                           and Path(dirpath, d).resolve() != out_abs
                           and not Path(dirpath, d, ".docatlas-manifest.json").exists()]
            rel = os.path.relpath(dirpath, self.repo)
            for f in filenames:
                found.add(f if rel == "." else f"{rel}/{f}".replace(os.sep, "/"))
        return found

    def source(self, path: str) -> str:
        return _read(str(self.repo / path))

    # -- Python, computed here -----------------------------------------------------------------
    def module_of(self, path: str) -> str:
        """The dotted name by the `__init__.py` rule: a file's package is each folder up that has one."""
        if not path.endswith((".py", ".pyi")):
            return ""
        folder, _, name = path.rpartition("/")
        names = [] if name in ("__init__.py", "__init__.pyi") else [name.rsplit(".", 1)[0]]
        while folder and f"{folder}/__init__.py" in self.files:
            folder, _, pkg = folder.rpartition("/")
            names.insert(0, pkg)
        return ".".join(names)

    @cache  # noqa: B019 - one Audit per run
    def tree(self, path: str) -> ast.Module | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ast.parse(self.source(path))
        except (SyntaxError, ValueError, RecursionError):
            return None

    @cache  # noqa: B019
    def imported(self, path: str, packages: bool = False) -> frozenset[str]:
        """Modules a Python file imports (relative ones resolved by the `__init__` rule): `from p import x`
        imports `p.x` when that is a module of the repository, else `p` (where `x` is defined); with
        `packages`, `p` in both cases (Python runs `p/__init__.py` first)."""
        tree = self.tree(path)
        if tree is None:
            return frozenset()
        own = self.module_of(path).split(".")
        package = own if path.endswith("/__init__.py") else own[:-1]
        out: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    out.add(a.name)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1] if node.level - 1 <= len(package) else []
                    mod = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    mod = node.module or ""
                subs = [f"{mod}.{a.name}" if mod else a.name for a in node.names]
                found = [m for m in subs if self.module_file(m) or
                         any(self.module_file(m, r) for r in self.roots())]
                out.update(found)
                if packages or len(found) < len(subs):
                    out.add(mod)
        return frozenset(out)

    @cache  # noqa: B019
    def test_defs(self, path: str) -> list[tuple[str, int]]:
        """(qualified name, line) of `def test*` in a class named `Test*`/`*Test(s)`/`*TestCase` or deriving
        from such a class, and module-level `def test_*` in a file named like a test."""
        tree = self.tree(path)
        if tree is None:
            return []
        name = path.rsplit("/", 1)[-1]
        test_file = name.startswith("test") or name.endswith(("_test.py", "tests.py"))
        out = []
        body = list(tree.body)
        for node in tree.body:  # a test class defined only when the file runs as a script is a test too
            if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) and "__name__" in ast.unparse(
                    node.test):
                body += node.body
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test") \
                    and test_file:
                out.append((node.name, node.lineno))
            elif isinstance(node, ast.ClassDef) and _testish_class(node):
                for sub in node.body:
                    if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)) and sub.name.startswith("test"):
                        out.append((f"{node.name}.{sub.name}", sub.lineno))
        return out

    @cache  # noqa: B019
    def roots(self) -> tuple[str, ...]:
        """Folders holding a top-level package (a folder with `__init__.py` whose parent has none)."""
        out = set()
        for p in self.files:
            if p.endswith("/__init__.py"):
                pkg = p.rsplit("/", 1)[0]
                parent = pkg.rsplit("/", 1)[0] if "/" in pkg else ""
                if f"{parent}/__init__.py" not in self.files and (parent or "__init__.py" not in self.files):
                    out.add(parent)
        return tuple(sorted(out))

    @cache  # noqa: B019
    def test_files(self) -> list[str]:
        return [p for p in sorted(self.files) if p.endswith(".py") and self.test_defs(p)]

    @cache  # noqa: B019
    def pytest_evidence(self) -> str:
        """Why pytest would be the repository's runner, "" when nothing says so."""
        for name in ("pytest.ini", "conftest.py", "tests/conftest.py", "test/conftest.py"):
            if name in self.files:
                return name
        for name, marker in (("pyproject.toml", "[tool.pytest"), ("setup.cfg", "[tool:pytest]"),
                             ("tox.ini", "[pytest]")):
            if name in self.files and marker in self.source(name):
                return name
        return ""

    def imports_pytest(self, path: str) -> bool:
        return any(m == "pytest" or m.startswith("pytest.") for m in self.imported(path))

    def module_file(self, module: str, base: str = "") -> str:
        """The file that a dotted module names under `base` (a folder), "" when none."""
        stem = "/".join(filter(None, [base, module.replace(".", "/")]))
        for cand in (f"{stem}.py", f"{stem}/__init__.py", f"{stem}.pyi", f"{stem}/__init__.pyi"):
            if cand in self.files:
                return cand
        return stem + "/" if stem in self.folders() else ""

    @cache  # noqa: B019
    def folders(self) -> frozenset[str]:
        out = set()
        for p in self.files:
            while "/" in p:
                p = p.rsplit("/", 1)[0]
                out.add(p)
        return frozenset(out)


@cache
def _read(path: str) -> str:
    try:
        return Path(path).read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""


def _testish_class(node: ast.ClassDef) -> bool:
    bases = [ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases]
    return node.name.startswith("Test") or node.name.endswith(("Test", "Tests", "TestCase")) or \
        any(b.endswith(("TestCase", "Test", "Tests")) or b.startswith("Test") for b in bases)


# -- page reading -------------------------------------------------------------------------------
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def sections(text: str) -> dict[str, str]:
    """`## X` and `### X` headings -> the text under them (up to the next heading of either level)."""
    out: dict[str, str] = {}
    cur = ""
    buf: list[str] = []
    fence = ""  # the open fence's run of backticks or tildes
    for line in text.splitlines():
        m = _FENCE.match(line)
        if m and not fence:
            fence = m.group(1)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not m.group(2).strip():
            fence = ""  # CommonMark: only a run as long as the opening one, with no info string, closes it
        if not fence and line.startswith(("## ", "### ")):
            out[cur] = "\n".join(buf).strip()
            cur = line.lstrip("#").strip()
            buf = []
        else:
            buf.append(line)
    out[cur] = "\n".join(buf).strip()
    return out


def _pages(out: Path) -> list[str]:
    pages = []
    for dirpath, _, filenames in os.walk(out):
        rel = os.path.relpath(dirpath, out)
        for f in filenames:
            if f.endswith("_docs.md"):
                pages.append(f if rel == "." else f"{rel}/{f}".replace(os.sep, "/"))
    return sorted(pages)


_TYPE = re.compile(r"^- \*\*Type\*\*: (.+)$", re.M)
_PURPOSE = re.compile(r"^\*\*([\w-]+)\*\*: (.*?)\.?$", re.M)
_GENERATED = re.compile(r"^- \*\*Generated\*\*: yes, (?:[^`]*: )?`(.+?)` at line (\d+)", re.M)
_COUNT = re.compile(r"(?<![\w,])(\d[\d,]*) ([A-Za-z][\w ]*?)(?=,|\.$)")
_RULE_GAPS = ("No security rules exist for ", "No performance rules exist for ", "No pattern rules exist for ",
              "docatlas has no ")
_RULES_CHECKED = re.compile(r"^([\d,]+) (\w+) rules? checked \((.*)\): none matched\.$")
_GROUPED = re.compile(r"^A test file: its ([\d,]+) (\w+) findings? are on test code")


def all_page_facts(out: Path, pages: list[str]) -> tuple[dict[str, set[str]], set[str]]:
    """File types for which some page lists a finding (per section), and types for which some page lists
    symbols: read from every page, so that a page saying "no rules/extractor exist for X" can be checked
    against the others."""
    with_findings: dict[str, set[str]] = defaultdict(set)
    analysed: set[str] = set()
    for page in pages:
        text = _read(str(out / page))
        m = _TYPE.search(text)
        if not m:
            continue
        sec = sections(text)
        for s in ("Security Considerations", "Performance Notes", "Common Patterns"):
            if sec.get(s, "").startswith(("- **", "A test file: ")):
                with_findings[s].add(m.group(1))
        if sec.get("Code Structure", "").startswith("- "):
            analysed.add(m.group(1))
    return with_findings, analysed


def _leading_comment_lines(text: str, path: str) -> set[int]:
    """Line numbers of the file's leading comment block (and a module docstring for Python): comments and
    blank lines before the first line of code."""
    lines = text.splitlines()
    out: set[int] = set()
    in_block = False
    doc_quote = ""
    for i, line in enumerate(lines, 1):
        s = line.strip()
        if in_block:
            out.add(i)
            if "*/" in s or "-->" in s:
                in_block = False
            continue
        if doc_quote:
            out.add(i)
            if doc_quote in s:
                doc_quote = ""
            continue
        if not s or (s.startswith(("#", "//", "--", ";", "%", "REM ", "..", "'''", '"""')) and \
                not s.startswith(("#include", "#define", "#if", "#pragma", "#import"))):
            out.add(i)
            if path.endswith((".py", ".pyi")) and s[:3] in ("'''", '"""') and s.count(s[:3]) == 1:
                doc_quote = s[:3]
            continue
        if s.startswith(("/*", "<!--")):
            out.add(i)
            in_block = "*/" not in s[2:] and "-->" not in s[4:]
            continue
        break
    return out


def check_page(a: Audit, page: str, with_findings: dict[str, set[str]], analysed: set[str]) -> None:
    path = page[: -len("_docs.md")]
    text = _read(str(a.out / page))
    sec = sections(text)
    m = _TYPE.search(text)
    type_name = m.group(1) if m else ""
    src = a.source(path) if path in a.files else ""
    is_py = path.endswith((".py", ".pyi"))

    # Generated: the marker sits on that line, inside the file's leading comment.
    g = _GENERATED.search(text)
    clinic = src.startswith("/*[clinic input]") and "preserve" in src[:200]
    if g:
        marker, line = g.group(1), int(g.group(2))
        lines = src.splitlines()
        ok = 0 < line <= len(lines) and marker.lower() in lines[line - 1].lower() \
            and line in _leading_comment_lines(src, path)
        a.claim("generated: marker in the file's leading comment", ok, f"{path}: `{marker}` at line {line}")
    elif src:
        a.claim("not called generated: no Argument Clinic header", not clinic, f"{path}: clinic output unmarked")

    # Purpose.
    pm = _PURPOSE.search(sec.get("File Purpose", ""))
    if pm:
        label, reason = pm.group(1), pm.group(2).strip()
        purpose = sec["File Purpose"]
        if label == "test":
            a.claim("purpose `test`: the file defines tests", bool(is_py and a.test_defs(path)) or not is_py,
                    f"{path}: {reason}")
        if label == "generated":
            pass  # checked through the marker above
        restated = reason.rstrip(".") in (type_name, f"{type_name} defining `main`")
        module = a.module_of(path) if is_py else ""
        twice = bool(module) and f"importable module `{module}`" in reason and f"Importable as `{module}`" \
            in purpose
        a.claim("purpose says more than the file type, once", not restated and not twice, f"{path}: {purpose!r}")
        names = [n for n in _BACKTICKED.findall(reason) if re.fullmatch(r"[A-Za-z_][\w.:]*", n)]
        own = {path, path.rsplit("/", 1)[-1], module}
        for n in names:
            if n in own or "/" in n or n.endswith((".py", ".txt")):
                continue
            short = n.rsplit(".", 1)[-1].rsplit("::", 1)[-1]
            a.claim("purpose names what the file has", short in src, f"{path}: purpose names `{n}`")

    # Importable as: the `__init__` rule gives the same name.
    im = re.search(r"^Importable as `([\w.]+)`", sec.get("File Purpose", ""), re.M)
    if im and is_py:
        a.claim("importable as M", im.group(1) == a.module_of(path) or
                path.endswith((im.group(1).replace(".", "/") + ".py", im.group(1).replace(".", "/") +
                               "/__init__.py")), f"{path}: {im.group(1)} vs {a.module_of(path)}")

    overview = sec.get("High-Level Overview", "")
    tree = a.tree(path) if is_py and src else None
    # Counts of definitions (Python) and headings (Markdown).
    dm = re.search(r"^Defines (.+)\.$", overview, re.M)
    if dm and tree is not None:
        counts = {k.strip(): int(n.replace(",", "")) for n, k in _COUNT.findall(dm.group(1) + ".")}
        defs = sum(v for k, v in counts.items() if re.search(r"class|method|function", k))
        real = sum(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for n in ast.walk(tree))
        a.claim("count of classes/functions/methods", defs == real, f"{path}: page {defs}, ast {real}")
    if path.endswith(".md") and src:
        n_head = 0
        if dm:
            n_head = sum(int(n.replace(",", "")) for n, k in _COUNT.findall(dm.group(1) + ".") if "heading" in k)
        a.claim("count of Markdown headings", n_head == _md_headings(src), f"{path}: page {n_head}, "
                f"markdown-it {_md_headings(src)}")
    hm = re.search(r"^Has ([\d,]+) imports?:", overview, re.M)
    if hm and tree is not None:
        real = sum(len(n.names) if isinstance(n, ast.Import) else 1 for n in ast.walk(tree)
                   if isinstance(n, (ast.Import, ast.ImportFrom)))
        a.claim("count of imports", int(hm.group(1).replace(",", "")) == real, f"{path}: page {hm.group(1)}, "
                f"ast {real}")

    # Symbol lines: the name is written at (or, for Python's decorators, just after) the line given.
    lines = src.splitlines()
    for sm in re.finditer(r"(?:</a>)?([\w ()-]*?) ?\*\*`([^`]+)`\*\*:? .*?\[line (\d+)(?:–(\d+))?\]",
                          sec.get("Code Structure", "")):
        kind, name, line = sm.group(1), sm.group(2).split("::")[-1].split(".")[-1], int(sm.group(3))
        end = line if kind.startswith("macro") else int(sm.group(4) or line)  # a `#define` names it first
        window = lines[line - 1: min(end, line + 30) if is_py else end] if 0 < line <= len(lines) else []
        if name.startswith("operator"):  # C++ allows `operator ()`, `operator <<`: compare without spaces
            name, window = name.replace(" ", ""), [w.replace(" ", "") for w in window]
        a.claim("symbol line", any(name in w for w in window), f"{path}: `{name}` at line {line}")

    # Empty sections say what was checked and are true.
    for s in ("Common Patterns", "Performance Notes", "Security Considerations"):
        body = sec.get(s, "")
        if body.startswith(_RULE_GAPS):
            a.claim("'no rules exist for this type'", type_name not in with_findings.get(s, set()), f"{path}: {body}")
        rc = _RULES_CHECKED.match(body)
        if rc:
            ids = [i.strip() for i in rc.group(3).split(",")]
            known = _bandit_ids()
            ok = int(rc.group(1).replace(",", "")) == len(ids) == len(set(ids)) and \
                all(i in known for i in ids if re.fullmatch(r"B\d{3}", i))
            a.claim("'N rules checked (ids)': count and bandit ids", ok, f"{path}: {body[:120]}")
        gm = _GROUPED.match(body)
        if gm:
            counted = sum(int(n) for n in re.findall(r"^- \*\*[\w-]+\*\* × (\d+)", body, re.M))
            cut = re.search(r"; the ([\d,]+) past the first [\d,]+ \(line order\) are not listed", body)
            counted += int(cut.group(1).replace(",", "")) if cut else 0  # a page-size cut, said on the page
            a.claim("grouped test-file findings add up", counted == int(gm.group(1).replace(",", "")),
                    f"{path}: {gm.group(1)} vs {counted}")
    structure = sec.get("Code Structure", "")
    if structure.startswith("Not analysed: no extractor") or overview.startswith("No structural analysis"):
        a.claim("'no extractor for this type'", type_name not in analysed, f"{path}: {type_name}")

    testing = sec.get("Testing", "")
    module = a.module_of(path) if is_py else ""
    if testing.startswith("No test in this repository imports this package's `__init__.py`") and module:
        hit = next((t for t in a.test_files() if t != path and module in a.imported(t)), "")
        a.claim("'no test imports names from this __init__'", not hit, f"{path}: imported by test {hit}")
    sm = re.match(r"This is the type stub of \[`([^`]+)`\]", testing)
    if sm:
        a.claim("type stub: the module file beside it", path.endswith(".pyi") and sm.group(1) == path[:-1]
                and (a.repo / sm.group(1)).is_file(), f"{path}: stub of {sm.group(1)}")
    if testing.startswith("No test in this repository imports this file") and module:
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        # a top-level name of the standard library is the library's, except for scripts beside the file
        stdlib = "." not in module and module in sys.stdlib_module_names
        hit = next((t for t in a.test_files() if t != path and module in a.imported(t, path.endswith("__init__.py"))
                    and (not stdlib or (t.startswith(folder + "/") and "/" not in t[len(folder) + 1:]))), "")
        a.claim("'no test imports this file'", not hit, f"{path}: imported by test {hit}")
    for tm in re.finditer(r"^- \[`([^`]+)`\]\([^)]*\) \(\d[\d,]* tests?\)(.*)$", testing, re.M):
        tester, rest = tm.group(1), tm.group(2)
        via = re.search(r"through \[`([^`]+)`\]", rest)
        if not module:
            continue
        if via:
            vm = a.module_of(via.group(1))
            ok = bool(vm) and vm in a.imported(tester) and module in a.imported(via.group(1))
        else:
            ok = module in a.imported(tester)
        a.claim("listed tester imports the file", ok and bool(a.test_defs(tester)),
                f"{path}: {tester}" + (f" via {via.group(1)}" if via else ""))

    # Tests the file defines, their framework, and how to run them.
    rows = re.findall(r"^\| `([^`]+)` \| \[(\d+)\]\([^)]*\) \| (\w+) \|$", testing, re.M)
    nm = re.match(r"Defines ([\d,]+) tests?", testing)
    if nm:
        cut = re.search(r"^The first [\d,]+ tests \(line order\) are listed; ([\d,]+) more are not", testing, re.M)
        listed = len(rows) + (int(cut.group(1).replace(",", "")) if cut else 0)  # a page-size cut, said on the page
        a.claim("number of tests = rows listed", int(nm.group(1).replace(",", "")) == listed, f"{path}")
    for node, line, framework in rows:
        if framework == "pytest" and is_py:
            a.claim("framework pytest has evidence", bool(a.pytest_evidence() or a.imports_pytest(path)),
                    f"{path}: {node}")
        if is_py:
            ok = 0 < int(line) <= len(lines) and node.rsplit("::", 1)[-1] in "\n".join(
                lines[int(line) - 1: int(line) + 30])
            a.claim("test row line", ok, f"{path}: {node} line {line}")
    ev = re.search(r"^Chosen from: (.*)\.$", testing, re.M)
    evidence = ev.group(1) if ev else ""
    for named in _BACKTICKED.findall(evidence):
        cited = re.fullmatch(r"([^\s:`]+):(\d+)", named)
        if cited:
            n = len(a.source(cited.group(1)).splitlines()) if cited.group(1) in a.files else 0
            a.claim("run evidence cites a real file line", 0 < int(cited.group(2)) <= n, f"{path}: `{named}`")
        elif ("/" in named or named.endswith((".py", ".ini", ".toml", ".cfg"))) and not named.startswith("./") \
                and " " not in named:
            a.claim("run evidence names a real file", named in a.files or any(
                p.startswith(named) for p in a.files), f"{path}: `{named}`")
    cm = re.search(r"Run them with:\s*```bash\n(.*?)```", testing, re.S)
    for cmd in (cm.group(1).strip().splitlines() if cm else []):
        a.claim("run command names real files and the repository's runner", _command_ok(a, cmd), f"{path}: {cmd}")
        kind = runner_check(a, path, cmd, evidence)
        if kind:
            a.claim(kind[0], kind[1], f"{path}: {cmd}")


def _command_ok(a: Audit, cmd: str) -> bool:
    """The files and modules a command names exist, and a pytest/regrtest/runtests command has evidence."""
    cmd = cmd.split("  #", 1)[0].strip()
    base = ""
    cd = re.match(r"\(cd (\S+) && (.*)\)$", cmd)
    if cd:
        base, cmd = cd.group(1), cd.group(2)
    words = cmd.split()
    if words[:3] == ["python", "-m", "pytest"]:
        return bool(a.pytest_evidence() or any(a.imports_pytest(w) for w in words[3:] if w in a.files)) and \
            all(w.split("::")[0] in a.files or a.module_file("", w.rstrip("/")) for w in words[3:])
    if words[:3] in (["./python", "-m", "test"], ["python", "-m", "test"]):
        regr = next((p for p in a.files if p.endswith("test/libregrtest/__init__.py")), "")
        root = regr[: -len("test/libregrtest/__init__.py")].rstrip("/")
        return bool(regr) and all(a.module_file("test." + w, root) for w in words[3:])
    if words[:3] == ["python", "-m", "unittest"]:
        return all(a.module_file(w, base) for w in words[3:])
    if words[:2] == ["python", "-m"] and len(words) >= 3:
        return bool(a.module_file(words[2], base))
    if words and words[0] == "python" and len(words) >= 2:
        script = "/".join(filter(None, [base, words[1]]))
        if script not in a.files:
            return False
        if script.endswith("runtests.py"):
            root = script.rsplit("/", 1)[0] if "/" in script else ""
            return all(a.module_file(w.split("::")[0], root) or
                       a.module_file(w.rsplit(".", 1)[0], root) for w in words[2:])
        return True
    return True  # other languages' tools: not checked here


# -- run commands of build systems, tox and nox, checked against the files they cite ----------------
_CMAKE_EV = re.compile(r"CMake target `([^`]+)` \(`([^`:]+):(\d+)`(?:, declared by `([\w-]+)\(\)` called at "
                       r"`([^`:]+):(\d+)`)?\) is built from this file(?:, named at `([^`:]+):(\d+)`)?")
_BAZEL_EV = re.compile(r"Bazel `cc_test` `([^`]+)` \(`([^`:]+):(\d+)`\)")
_TOX_EV = re.compile(r"tox environment `([^`]+)` \(`([^`:]+):(\d+)`: `[^`]*`(?:, in `([^`]*)`)?\)")
_NOX_EV = re.compile(r"nox session `([^`]+)` \(`([^`:]+):(\d+)`\)")


def _statement(lines: list[str], line: int, limit: int = 40) -> str:
    """The build-file statement that starts at `line` (1-based): up to its closing parenthesis."""
    text, depth = [], 0
    for raw in lines[line - 1: line - 1 + limit]:
        text.append(raw)
        depth += raw.count("(") - raw.count(")")
        if depth <= 0:
            break
    return "\n".join(text)


def _names_file(a: Audit, build_file: str, text: str, path: str) -> bool:
    """`text` (a statement of `build_file`) names `path`: by its path relative to the build file's folder or
    as a bare name; or, when it uses a variable (`${SRCS}`), the build file names it anywhere or through a glob
    (`file(GLOB ...)`, `glob([...])`)."""
    folder = build_file.rsplit("/", 1)[0] if "/" in build_file else ""
    rel = path[len(folder) + 1:] if folder and path.startswith(folder + "/") else path
    name = path.rsplit("/", 1)[-1]
    bare = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
    if rel in text or bare.search(text) or _glob_names(text, rel, name):
        return True
    if "${" not in text and "glob(" not in text:
        return False
    whole = a.source(build_file)
    return bool(bare.search(whole)) or _glob_names(whole, rel, name)


def _glob_names(text: str, rel: str, name: str) -> bool:
    """A glob pattern written in `text` matches the file (`rel`: its path from the build file's folder)."""
    for pattern in re.findall(r"[\w./${}*-]*\*[\w./*-]*", text):
        tail = re.sub(r"^.*\}/?", "", pattern)  # `${CMAKE_CURRENT_SOURCE_DIR}/unit/*.cpp` -> `unit/*.cpp`
        if tail and (fnmatch.fnmatchcase(rel, tail) or fnmatch.fnmatchcase(rel, tail.replace("**/", "")) or
                     ("/" not in tail and fnmatch.fnmatchcase(name, tail))):
            return True
    return False


def runner_check(a: Audit, path: str, cmd: str, evidence: str) -> tuple[str, bool] | None:
    """(kind of statement, true?) for a command of CMake, Bazel, tox or nox; None for other commands."""
    words = cmd.split("  #", 1)[0].split()
    if words[:3] == ["cmake", "--build", "build"]:
        m = _CMAKE_EV.search(evidence)
        if not m or len(words) < 5 or words[4] != m.group(1) or m.group(2) not in a.files:
            return "CMake target: exists in the cited build file and is built from the test file", False
        target, build_file, line = m.group(1), m.group(2), int(m.group(3))
        lines = a.source(build_file).splitlines()
        stmt = _statement(lines, line) if 0 < line <= len(lines) else ""
        first = re.match(r"\s*(?:cuda_)?add_executable\s*\(\s*([^\s)]+)", stmt)
        stem = path.rsplit("/", 1)[-1].split(".", 1)[0]  # a computed name (`${name}`) comes from the file's
        ok = first is not None and (first.group(1) == target or ("${" in first.group(1) and stem in target))
        # where the file is named: the line the page cites, else the function call, else the target's line
        named_file, named_line = (m.group(7), m.group(8)) if m.group(7) else (m.group(5), m.group(6)) \
            if m.group(5) else (build_file, str(line))
        named_lines = a.source(named_file).splitlines()
        named = _statement(named_lines, int(named_line)) if 0 < int(named_line) <= len(named_lines) else ""
        ok = ok and bool(named) and _names_file(a, named_file, named, path)
        if ok and "ctest" in words:
            regex = words[-1].strip("'")
            suites = re.findall(r"\(([\w|]+)\)\(/", regex)
            if suites:
                src = a.source(path)
                ok = all(re.search(rf"\bTEST\w*\s*\(\s*{s}\s*,", src) for s in suites[0].split("|"))
            else:
                name = regex.strip("^$").replace("\\", "")
                ok = bool(re.search(rf"add_test\s*\(\s*(?:NAME\s+)?({re.escape(name)}|\S*\$\{{)", a.source(build_file)))
        return "CMake target: exists in the cited build file and is built from the test file", ok
    if words[:2] == ["bazel", "test"]:
        m = _BAZEL_EV.search(evidence)
        label = words[2].strip("'") if len(words) > 2 else ""
        if m is None:
            return "Bazel cc_test: exists in the cited file and is built from the test file", False
        ok = m.group(2) in a.files and label.rsplit(":", 1)[-1] == m.group(1)
        if ok:
            lines = a.source(m.group(2)).splitlines()
            stmt = _statement(lines, int(m.group(3))) if int(m.group(3)) <= len(lines) else ""
            ok = "cc_test" in stmt and f'"{m.group(1)}"' in stmt and _names_file(a, m.group(2), stmt, path) and \
                label.startswith(f"//{m.group(2).rsplit('/', 1)[0] if '/' in m.group(2) else ''}:")
        return "Bazel cc_test: exists in the cited file and is built from the test file", ok
    if words[:1] in (["tox"], ["nox"]) or cmd.startswith("(cd "):
        inner = re.sub(r"^\(cd (\S+) && (.*)\)$", r"\2", cmd).split()
        if inner[:1] not in (["tox"], ["nox"]):
            return None
        base = re.match(r"^\(cd (\S+) && ", cmd)
        folder = base.group(1) if base else ""
        m = (_TOX_EV if inner[0] == "tox" else _NOX_EV).search(evidence)
        if m is None:
            return f"{inner[0]} command: the cited configuration passes this file to its runner", False
        ok = inner[2] == m.group(1) and len(inner) == 5 and inner[3] == "--" and m.group(2) in a.files
        if ok:
            lines = a.source(m.group(2)).splitlines()
            line = int(m.group(3))
            arg = inner[4].strip("'")
            if inner[0] == "tox":
                workdir = m.group(4) if m.group(4) is not None else folder
                # an INI command sits on its line; a TOML `commands = [...]` array starts there
                cited = "\n".join(lines[line - 1: line + (8 if m.group(2).endswith(".toml") else 0)])
                ok = 0 < line <= len(lines) and ("{posargs" in cited or ("posargs" in cited and
                                                 m.group(2).endswith(".toml"))) and (
                    "/".join(filter(None, [workdir, arg])) == path or
                    a.module_file(arg, workdir) == path or
                    a.module_file(arg.rsplit(".", 1)[0], workdir) == path)
            else:
                body = "\n".join(lines[line - 1: line + 60])
                ok = 0 < line <= len(lines) and "posargs" in body and "/".join(filter(None, [folder, arg])) == path
        return f"{inner[0]} command: the cited configuration passes this file to its runner", ok
    return None


@cache
def _bandit_ids() -> frozenset[str]:
    """Every test id bandit has (plugins and blacklists), or nothing when bandit is not installed."""
    try:
        from bandit.core import extension_loader
    except ImportError:
        return frozenset()
    mgr = extension_loader.MANAGER
    return frozenset([*mgr.plugins_by_id, *mgr.blacklist_by_id])


@cache
def _md_headings(text: str) -> int:
    from markdown_it import MarkdownIt
    return sum(t.type == "heading_open" for t in MarkdownIt("commonmark").parse(text))


_BAD_DESC = re.compile(r"^(?:[-=_*#~`+]{3,}\s*$|syntax\s*=|#!|-\*-|copyright\b|\(c\)|spdx-|licensed |\[!\[|"
                       r"<)", re.I)


def check_folder(a: Audit, folder: str) -> None:
    index = _read(str(a.out / folder / "index.md"))
    for m in re.finditer(r"^\| \[([^\]]+)\]\([^)]*\) \| (.*?) \| \[", index, re.M):
        a.claim("description is prose", not _BAD_DESC.match(m.group(2).strip("` ")),
                f"{folder or '.'}/{m.group(1)}: {m.group(2)[:80]!r}")
    doc = _read(str(a.out / folder / "doc.md"))
    api = re.search(r"^Its public API \((.*?), [\d,]+ names?\): (.*)$", doc, re.M)
    if api and "__all__" not in api.group(1):
        for n in re.findall(r"`([^`]+)`", api.group(2)):
            a.claim("public API name is public", not n.startswith("_"), f"{folder}: `{n}`")


def sample(pages: list[str], n: int, seed: int) -> list[str]:
    return sorted(random.Random(seed).sample(pages, min(n, len(pages))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("n", type=int)
    ap.add_argument("--out", help="the built output (default /tmp/claims/<name>)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--examples", type=int, default=3)
    args = ap.parse_args(argv)
    repo = Path(args.corpus) if Path(args.corpus).is_dir() else CORPORA / args.corpus
    out = Path(args.out) if args.out else Path("/tmp/claims") / repo.name
    pages = _pages(out)
    if not pages:
        print(f"no pages under {out}: build first (docatlas build {repo} -o {out})", file=sys.stderr)
        return 2
    a = Audit(repo, out)
    with_findings, analysed = all_page_facts(out, pages)
    chosen = sample(pages, args.n, args.seed)
    for page in chosen:
        check_page(a, page, with_findings, analysed)
    for folder in sorted({p.rsplit("/", 1)[0] if "/" in p else "" for p in chosen}):
        check_folder(a, folder)
    print(f"{repo.name}: {len(chosen)} of {len(pages)} file pages (seed {args.seed}); "
          f"{sum(a.checked.values())} statements checked, {sum(a.false.values())} false")
    for kind in sorted(a.checked):
        print(f"  {a.checked[kind]:6} checked {a.false[kind]:5} false  {kind}")
        for ex in a.examples[kind][: args.examples]:
            print(f"        e.g. {ex}")
    return 1 if sum(a.false.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
