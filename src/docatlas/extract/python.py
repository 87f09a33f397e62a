"""Python files through the standard library's `ast`: exact structure, imports, tests, findings."""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import PurePosixPath

from docatlas import diagnostics as dx
from docatlas.extract import pyrefs, pyrules, runconfig
from docatlas.extract.base import Extraction, first_paragraph
from docatlas.extract.docmd import inline, to_markdown
from docatlas.model import CLASS, CONSTANT, FUNCTION, METHOD, VARIABLE, Import, References, Symbol, TestCase

_CONSTANT_NAME = re.compile(r"^_*[A-Z][A-Z0-9_]*$")


def _is_bound_definition(name: str, node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> bool:
    """A public module-level name bound to a call or a lambda (`conv2d = _add_docstr(...)`, `relu_ = _make(...)`):
    a definition in all but syntax, so it is a `variable` symbol. Plain data (`x = 1`, `y = other`) and loggers are
    not: they would only crowd the symbol lists."""
    if isinstance(node, ast.AugAssign) or name.startswith("_") or name in ("logger", "log"):
        return False
    value = node.value
    return isinstance(value, ast.Lambda) or (isinstance(value, ast.Call) and not (
        isinstance(value.func, ast.Attribute) and value.func.attr == "getLogger"))
_FUNC = (ast.FunctionDef, ast.AsyncFunctionDef)
_METHOD_FLAGS = {"property": "property", "cached_property": "property", "classmethod": "classmethod",
                 "staticmethod": "staticmethod", "abstractmethod": "abstract", "overload": "overload",
                 "setter": "setter", "getter": "getter", "deleter": "deleter"}


def extract(path: str, text: str) -> Extraction:
    out = Extraction()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are not our diagnostics
            tree = ast.parse(text, filename=path, type_comments=False)
    except SyntaxError as exc:
        hint = " (Python 2 syntax?)" if _looks_like_python2(exc) else ""
        out.diagnostics.append(dx.SYNTAX_ERROR.at(path, exc.lineno or 0, exc.offset or 0, detail=f"{exc.msg}{hint}",
                                                  what="symbols"))
        out.parse_ok = False
        return out
    except ValueError as exc:  # null bytes on Python < 3.12
        out.diagnostics.append(dx.NULL_BYTES.at(path, detail=exc))
        out.parse_ok = False
        return out
    module_doc = ast.get_docstring(tree, clean=True)
    out.docstring = first_paragraph(module_doc)
    out.doc = _full_doc(module_doc, out.docstring)
    walker = _Walker(path, out)
    walker.lines = text.splitlines()
    walker.body(tree.body, parent=None, scope="module")
    walker.collect_imports(tree)
    _find_tests(path, out, walker)
    out.findings.extend(pyrules.check(tree, text, walker.aliases))
    out.references = References(*pyrefs.collect(tree, text))
    if path == "noxfile.py" or path.endswith("/noxfile.py"):  # how the repository runs its tests
        out.extra += runconfig.nox_sessions(tree)
    return out


def _full_doc(doc: str | None, summary: str) -> str:
    """The docstring as Markdown when it says more than its summary, else "" (the summary is shown)."""
    if not doc:
        return ""
    text = to_markdown(doc)
    return "" if " ".join(text.split()) == summary else text


def _comment_above(lines: list[str], line: int) -> str:
    """The `#` comment block that ends on the line above `line` (1-based), without the `#`s; "" if none."""
    block: list[str] = []
    i = line - 2
    while 0 <= i < len(lines) and lines[i].lstrip().startswith("#"):
        block.append(lines[i].lstrip()[1:].strip())
        i -= 1
    return "\n".join(reversed(block)).strip()


def _looks_like_python2(exc: SyntaxError) -> bool:
    msg = exc.msg or ""
    return "print" in msg or "Missing parentheses" in msg or "exec" in msg


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    return ast.unparse(node)


def _start_line(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    """Where the definition starts: its first decorator, as `inspect.getsourcelines` and griffe count."""
    return min([node.lineno, *(d.lineno for d in node.decorator_list)])


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    ret = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){ret}"


def _class_signature(node: ast.ClassDef) -> str:
    parts = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
    return f"class {node.name}({', '.join(parts)})" if parts else f"class {node.name}"


class _Walker:
    def __init__(self, path: str, out: Extraction) -> None:
        self.path = path
        self.out = out
        self.classes: dict[str, ast.ClassDef] = {}  # qualname -> node
        self.aliases: dict[str, str] = {}  # local name -> dotted origin, from imports
        self.lines: list[str] = []  # the source, for the comment block above a definition

    def documentation(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> tuple[str, str]:
        """(summary, whole text as Markdown) from the docstring, else from the comment block right above the
        definition (above its decorators)."""
        doc = ast.get_docstring(node, clean=True)
        if doc is None:
            doc = _comment_above(self.lines, _start_line(node))
            summary = first_paragraph(doc)
            return summary, (inline(" ".join(doc.split())) if doc and summary and
                             " ".join(doc.split()) != summary else "")
        summary = first_paragraph(doc)
        return summary, _full_doc(doc, summary)

    # -- definitions ---------------------------------------------------------------------------
    def body(self, stmts: list[ast.stmt], parent: Symbol | None, scope: str) -> None:
        for stmt in stmts:
            self.stmt(stmt, parent, scope)

    def stmt(self, node: ast.stmt, parent: Symbol | None, scope: str) -> None:
        if isinstance(node, _FUNC):
            self.function(node, parent, scope)
        elif isinstance(node, ast.ClassDef):
            self.klass(node, parent, scope)
        elif isinstance(node, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith)):
            if scope == "module" and isinstance(node, ast.If) and _is_main_test(node.test) and not self.out.main_line:
                self.out.main_line, self.out.main_end = node.lineno, node.end_lineno or node.lineno
            self.body(node.body, parent, scope)
            self.body(getattr(node, "orelse", []), parent, scope)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.body(node.body, parent, scope)  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                self.body(handler.body, parent, scope)
            self.body(node.orelse, parent, scope)  # type: ignore[attr-defined]
            self.body(node.finalbody, parent, scope)  # type: ignore[attr-defined]
        elif isinstance(node, ast.Match):
            for case in node.cases:
                self.body(case.body, parent, scope)
        elif scope == "module" and isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            self.module_assign(node)
        elif scope == "module" and isinstance(node, ast.Expr) and _all_method(node.value):
            call = node.value
            assert isinstance(call, ast.Call)
            method = call.func.attr  # type: ignore[attr-defined]
            args = call.args
            if method == "append" and len(args) == 1 and _literal_strings(ast.List(elts=args)):
                self.out.exports.extend(_string_items(ast.List(elts=args)))
            elif method == "extend" and len(args) == 1 and _literal_strings(args[0]):
                self.out.exports.extend(_string_items(args[0]))
            else:  # remove, insert, extend(other_module.__all__): not evident without running it
                self.all_computed()

    def all_computed(self) -> None:
        """`__all__` is (partly) computed: `exports` holds only the names written literally."""
        if ("all", "computed") not in self.out.extra:
            self.out.extra.append(("all", "computed"))

    def _qualname(self, name: str, parent: Symbol | None, scope: str) -> str:
        if parent is None:
            return name
        return f"{parent.qualname}.<locals>.{name}" if scope == "function" else f"{parent.qualname}.{name}"

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, parent: Symbol | None, scope: str) -> None:
        decorators = tuple(_decorator_name(d) for d in node.decorator_list)
        flags: list[str] = []
        if isinstance(node, ast.AsyncFunctionDef):
            flags.append("async")
        if scope == "class":
            kind = METHOD
            for d in decorators:
                flag = _METHOD_FLAGS.get(d.rsplit(".", 1)[-1])
                if flag and flag not in flags:
                    flags.append(flag)
        else:
            kind = FUNCTION
            if scope == "function":
                flags.append("nested")
        summary, doc = self.documentation(node)
        sym = Symbol(
            kind=kind, name=node.name, qualname=self._qualname(node.name, parent, scope),
            line=_start_line(node), end_line=node.end_lineno or node.lineno, signature=_signature(node),
            summary=summary, decorators=decorators,
            parent=parent.qualname if parent else "", flags=tuple(flags), doc=doc,
        )
        self.out.symbols.append(sym)
        self.body(node.body, sym, "function")

    def klass(self, node: ast.ClassDef, parent: Symbol | None, scope: str) -> None:
        flags = ("nested",) if parent is not None else ()
        summary, doc = self.documentation(node)
        sym = Symbol(
            kind=CLASS, name=node.name, qualname=self._qualname(node.name, parent, scope),
            line=_start_line(node), end_line=node.end_lineno or node.lineno, signature=_class_signature(node),
            summary=summary,
            decorators=tuple(_decorator_name(d) for d in node.decorator_list),
            bases=tuple(ast.unparse(b) for b in node.bases), parent=parent.qualname if parent else "",
            flags=flags, doc=doc,
        )
        self.out.symbols.append(sym)
        self.classes[sym.qualname] = node
        self.body(node.body, sym, "class")

    def module_assign(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            if target.id == "__all__" and node.value is not None:
                self.out.exports.extend(_string_items(node.value))
                if not _literal_strings(node.value):
                    self.all_computed()
            elif _CONSTANT_NAME.match(target.id) and not isinstance(node, ast.AugAssign):
                value = ast.unparse(node.value) if node.value is not None else ""
                if len(value) > 80:
                    value = value[:77] + "..."
                ann = f": {ast.unparse(node.annotation)}" if isinstance(node, ast.AnnAssign) else ""
                sig = f"{target.id}{ann} = {value}" if value else f"{target.id}{ann}"
                self.out.symbols.append(Symbol(kind=CONSTANT, name=target.id, qualname=target.id,
                                               line=node.lineno, end_line=node.end_lineno or node.lineno,
                                               signature=sig))
            elif _is_bound_definition(target.id, node):
                # `conv2d = _add_docstr(...)`, `post_save = ModelSignal(...)`: what readers look up by name
                value = ast.unparse(node.value) if node.value is not None else ""
                sig = f"{target.id} = {value[:77] + '...' if len(value) > 80 else value}"
                self.out.symbols.append(Symbol(kind=VARIABLE, name=target.id, qualname=target.id,
                                               line=node.lineno, end_line=node.end_lineno or node.lineno,
                                               signature=sig))

    # -- imports -------------------------------------------------------------------------------
    def collect_imports(self, tree: ast.Module) -> None:
        self._imports(tree.body, "")

    def _imports(self, stmts: list[ast.stmt], cond: str) -> None:
        for node in stmts:
            if isinstance(node, ast.Import):
                for a in node.names:
                    self.out.imports.append(Import(module=a.name, alias=a.asname or "", line=node.lineno,
                                                   conditional=cond))
                    if a.asname:
                        self.aliases[a.asname] = a.name
                    else:
                        head = a.name.split(".", 1)[0]
                        self.aliases.setdefault(head, head)
            elif isinstance(node, ast.ImportFrom):
                module = "." * node.level + (node.module or "")
                names = tuple(f"{a.name} as {a.asname}" if a.asname else a.name for a in node.names)
                self.out.imports.append(Import(module=module, names=names, level=node.level,
                                               line=node.lineno, conditional=cond))
                if node.level == 0 and node.module:
                    for a in node.names:
                        if a.name != "*":
                            self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, _FUNC):
                self._imports(node.body, cond or "function")
            elif isinstance(node, ast.ClassDef):
                self._imports(node.body, cond)
            elif isinstance(node, ast.If):
                inner = "TYPE_CHECKING" if _is_type_checking(node.test) else (cond or "if")
                self._imports(node.body, inner)
                self._imports(node.orelse, cond or "if")
            elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
                self._imports(node.body, cond or "try")  # type: ignore[attr-defined]
                for handler in node.handlers:  # type: ignore[attr-defined]
                    self._imports(handler.body, cond or "try")
                self._imports(node.orelse, cond)  # type: ignore[attr-defined]
                self._imports(node.finalbody, cond)  # type: ignore[attr-defined]
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                self._imports(node.body, cond)
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
                self._imports(node.body, cond or "if")
                self._imports(node.orelse, cond or "if")
            elif isinstance(node, ast.Match):
                for case in node.cases:
                    self._imports(case.body, cond or "if")


def _string_items(value: ast.expr) -> list[str]:
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return [e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _string_items(value.left) + _string_items(value.right)
    return []


def _literal_strings(value: ast.expr) -> bool:
    """Whether `value` is a list/tuple/set of string literals, or a sum of such."""
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in value.elts)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _literal_strings(value.left) and _literal_strings(value.right)
    return False


def _all_method(value: ast.expr) -> bool:
    """`__all__.append(...)`, `__all__.extend(...)` and the like."""
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and isinstance(value.func.value, ast.Name) and value.func.value.id == "__all__")


def _is_main_test(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


# -- tests --------------------------------------------------------------------------------------
def _is_test_file_name(path: str) -> bool:
    name = PurePosixPath(path).name
    return (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
            or name.startswith("tests.py") or name == "test.py")


def _find_tests(path: str, out: Extraction, walker: _Walker) -> None:
    uses_pytest = any(i.module.split(".")[0] == "pytest" for i in out.imports)
    by_name = {qn.rsplit(".", 1)[-1]: qn for qn in walker.classes}
    # unittest evidence: the import, a `*TestCase` base, or mixins (`class TestDecode:` holding the tests,
    # `class TestPyDecode(TestDecode, PyTest)` adding the TestCase base from elsewhere). Without pytest's
    # import such a file is not pytest's, whatever its name.
    bases_of = {qn: [ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases] for qn, node in walker.classes.items()}
    mixed_in = {b for bases in bases_of.values() if len(bases) > 1 for b in bases
                if b in by_name and b.startswith("Test")}
    uses_unittest = bool(mixed_in) or any(i.module.split(".")[0] == "unittest" for i in out.imports) or \
        any(b.endswith("TestCase") for bases in bases_of.values() for b in bases)
    pytest_style = uses_pytest or (_is_test_file_name(path) and not uses_unittest)
    test_classes: dict[str, str] = {}  # qualname -> framework
    changed = True
    while changed:  # a class deriving from a same-file test class is a test class too
        changed = False
        for qn, node in walker.classes.items():
            if qn in test_classes or "<locals>" in qn:
                continue
            framework = ""
            for base in node.bases:
                dotted = ast.unparse(base)
                last = dotted.rsplit(".", 1)[-1]
                if last in by_name and by_name[last] in test_classes:
                    framework = test_classes[by_name[last]]
                elif last.endswith("TestCase") or _TEST_BASE.search(last):
                    framework = "unittest"  # `TestCase`, or a suite's base: `TestBase`, `SitemapTestsBase`
                if framework:
                    break
            if not framework and node.name.startswith("Test") and not _has_init(node):
                if pytest_style:
                    framework = "pytest"
                elif uses_unittest and (node.name in mixed_in or _has_test_method(node)):
                    framework = "unittest"  # a mixin: its tests run through the TestCase classes using it
            if framework:
                test_classes[qn] = framework
                changed = True
    classes = {qn: sym for sym in out.symbols if sym.kind == CLASS for qn in (sym.qualname,)}
    for qn in sorted(test_classes, key=lambda q: classes[q].line):
        out.tests.append(TestCase(name=qn, line=classes[qn].line, framework=test_classes[qn], kind="class"))
    for sym in out.symbols:
        if sym.kind == METHOD and sym.parent in test_classes and sym.name.startswith("test"):
            out.tests.append(TestCase(name=sym.qualname, line=sym.line, framework=test_classes[sym.parent]))
        elif sym.kind == FUNCTION and not sym.parent:
            if any(d.rsplit(".", 1)[-1] == "fixture" for d in sym.decorators):
                out.tests.append(TestCase(name=sym.qualname, line=sym.line, framework="pytest", kind="fixture"))
            elif pytest_style and sym.name.startswith("test"):
                out.tests.append(TestCase(name=sym.qualname, line=sym.line, framework="pytest"))
    out.tests.sort(key=lambda t: (t.line, t.name))


_TEST_BASE = re.compile(r"Tests?(?:Base|Mixin)$")


def _has_test_method(node: ast.ClassDef) -> bool:
    return any(isinstance(s, _FUNC) and s.name.startswith("test") for s in node.body)


def _has_init(node: ast.ClassDef) -> bool:
    return any(isinstance(s, _FUNC) and s.name == "__init__" for s in node.body)
