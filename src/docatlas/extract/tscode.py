"""JavaScript, TypeScript/TSX, Go, Rust, Java and shell through tree-sitter queries.

Each language's `.scm` query marks definitions (`@definition.<kind>` with `@name`), scopes that are not
symbols themselves (`@scope.impl`), imports and calls; this module turns the matches into records the same
way for every language: nesting from byte ranges, signatures cut from the source up to the body, the
comment block directly above as summary, and the language's test convention.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from docatlas.extract import tsadapter as ts
from docatlas.extract.base import Extraction, first_paragraph
from docatlas.extract.cfamily import comment_text, doc_comment
from docatlas.extract.tsadapter import Node
from docatlas.model import Import, Symbol, TestCase


@dataclass(frozen=True)
class _Spec:
    grammar: str
    query: str
    sep: str = "."
    comments: tuple[str, ...] = ("comment",)
    wrappers: tuple[str, ...] = ()  # nodes around a definition that its doc comment sits above
    skip: tuple[str, ...] = ()  # nodes that may stand between a doc comment and its definition


_SPECS = {
    "javascript": _Spec("javascript", "javascript", wrappers=("export_statement",)),
    "typescript": _Spec("typescript", "typescript", wrappers=("export_statement", "ambient_declaration",
                                                              "expression_statement")),
    "tsx": _Spec("tsx", "typescript", wrappers=("export_statement", "ambient_declaration", "expression_statement")),
    "go": _Spec("go", "go", wrappers=("type_declaration",)),
    "rust": _Spec("rust", "rust", sep="::", comments=("line_comment", "block_comment"), skip=("attribute_item",)),
    "java": _Spec("java", "java", comments=("line_comment", "block_comment")),
    "bash": _Spec("bash", "bash"),
}
_CONTAINERS = {"class", "interface", "struct", "enum", "trait", "union", "namespace", "module", "impl"}
_TYPE_LIKE = {"class", "interface", "struct", "enum", "trait", "union", "impl"}
_BODY_FIELDS = ("body", "value")


@dataclass
class _Def:
    node: Node
    kind: str
    name: str
    scope_only: bool = False
    receiver: str = ""
    type_node: Node | None = None
    qualname: str = ""
    end: int = 0
    symbol: Symbol | None = None


@dataclass
class _Ctx:
    path: str
    language: str
    spec: _Spec
    data: bytes
    out: Extraction = field(default_factory=Extraction)


def _sig(data: bytes, node: Node, head: Node | None = None, prefix: str = "") -> str:
    body = None
    for f in _BODY_FIELDS:
        body = node.child_by_field_name(f)
        if body is not None and body.type not in ("identifier", "type_identifier"):
            break
        body = None
    start = (head or node).start_byte
    end = body.start_byte if body is not None and body.start_byte > start else node.end_byte
    text = prefix + " ".join(data[start:end].decode("utf-8", "replace").split()).rstrip(" ;{=")
    return text if len(text) <= 200 else text[:200].rstrip() + " …"


def _outer(node: Node, wrappers: tuple[str, ...]) -> Node:
    parent = node.parent
    while parent is not None and parent.type in wrappers:
        node = parent
        parent = node.parent
    return node


def _strip_type(name: str) -> str:
    """`*Calculator` -> `Calculator`, `Point<T>` -> `Point`, `[]T` -> `T`."""
    name = name.lstrip("*&[]").strip()
    for ch in "<[(":
        name = name.split(ch, 1)[0]
    return name.strip()


def extract_code(path: str, text: str, language: str) -> Extraction:
    """Symbols, imports and tests of one file in a tree-sitter language without a dedicated module."""
    spec = _SPECS[language]
    data = text.encode("utf-8", "surrogatepass")
    root = ts.parse(spec.grammar, data).root_node
    ctx = _Ctx(path, language, spec, data)
    defs: list[_Def] = []
    calls: list[tuple[Node, str, Node]] = []
    for caps in ts.matches(ts.query(spec.grammar, spec.query), root):
        keys = set(caps)
        def_key = next((k for k in keys if k.startswith(("definition.", "scope."))), None)
        if def_key is not None and "name" in caps:
            node, name_node = caps[def_key][0], caps["name"][0]
            kind = def_key.split(".", 1)[1]
            d = _Def(node, kind, ts.text(data, name_node), scope_only=def_key.startswith("scope."))
            if "receiver" in caps:
                d.receiver = _strip_type(ts.text(data, caps["receiver"][0]))
            if "type" in caps:
                d.type_node = caps["type"][0]
            defs.append(d)
        elif "import" in caps:
            _import(ctx, caps["import"][0], caps.get("import.source", [None])[0])
        elif "package" in caps:
            pkg = caps["package"][0]
            ctx.out.extra.append(("package", _package_name(data, pkg)))
        elif "call" in caps:
            calls.append((caps["call"][0], ts.text(data, caps["call.fn"][0]), caps["call.arg"][0]))
    _symbols(ctx, defs)
    _tests(ctx, defs, calls)
    ctx.out.docstring = _file_doc(data, root, spec)
    diag = ts.error_diagnostic(path, root, len(data))
    if diag is not None:
        ctx.out.diagnostics.append(diag)
        ctx.out.parse_ok = bool(ctx.out.symbols or ctx.out.imports) or root.named_child_count > 1
    return ctx.out


def _file_doc(data: bytes, root: Node, spec: _Spec) -> str:
    """The file's leading comment (after a `#!` line), unless it is a license header."""
    for node in root.named_children:
        if node.type not in spec.comments:
            return ""
        raw = ts.text(data, node)
        if raw.startswith("#!"):
            continue
        doc = comment_text(raw)
        if "copyright" in doc.lower() or "license" in doc.lower():
            return ""
        return first_paragraph(doc)
    return ""


def _signature(ctx: _Ctx, d: _Def, name: str) -> str:
    node = d.node
    if ctx.language == "go" and d.type_node is not None:  # `type Calculator struct`, `type ID = string`
        kind = d.type_node.type
        if kind in ("struct_type", "interface_type"):
            return f"type {name} {kind.removesuffix('_type')}"
        return _sig(ctx.data, node, head=None, prefix="type ")
    if node.type == "variable_declarator":  # `const double = (x) => ...`: cut at the arrow function's body
        value = node.child_by_field_name("value")
        if value is not None:
            body = value.child_by_field_name("body")
            end = body.start_byte if body is not None else value.end_byte
            text = " ".join(ctx.data[node.start_byte:end].decode("utf-8", "replace").split()).rstrip(" {")
            return text if len(text) <= 200 else text[:200].rstrip() + " …"
    return _sig(ctx.data, node)


def _package_name(data: bytes, node: Node) -> str:
    raw = ts.text(data, node)
    for word in ("package", ";"):
        raw = raw.replace(word, " ")
    return " ".join(raw.split())


def _symbols(ctx: _Ctx, defs: list[_Def]) -> None:
    data, spec = ctx.data, ctx.spec
    defs.sort(key=lambda d: (d.node.start_byte, -d.node.end_byte))
    stack: list[_Def] = []
    for d in defs:
        while stack and stack[-1].node.end_byte <= d.node.start_byte:
            stack.pop()
        parent = stack[-1] if stack else None
        kind = d.kind
        flags: list[str] = []
        if kind == "type" and d.type_node is not None:  # Go: `type X struct {...}` / interface / other
            kind = {"struct_type": "struct", "interface_type": "interface"}.get(d.type_node.type, "type")
        in_function = parent is not None and parent.kind in ("function", "method", "variable_function")
        if kind == "variable_function":
            if in_function:
                continue  # a local closure, not part of the file's API
            kind = "function"
        if kind == "function" and parent is not None and parent.kind in _TYPE_LIKE:
            kind = "method"
        if in_function:
            flags.append("nested")
        prefix = parent.qualname if parent is not None else ""
        name = d.name
        if d.scope_only:
            name = _strip_type(name)
        if d.receiver:  # Go method: `func (c *Calculator) Add()` belongs to Calculator
            prefix = d.receiver
        qualname = f"{prefix}{spec.sep}{name}" if prefix else name
        d.qualname = qualname
        if d.scope_only or kind in _CONTAINERS or kind in ("function", "method"):
            stack.append(d)
        if d.scope_only:
            continue
        outer = _outer(d.node, spec.wrappers)
        decorators = _decorators(ctx, d.node, outer)
        if ctx.language == "rust" and parent is not None and parent.scope_only:
            trait = parent.node.child_by_field_name("trait")
            if trait is not None:
                flags.append(f"impl {ts.text(data, trait)}")
        if any(ts.text(data, c) == "async" for c in d.node.children[:3] if not c.is_named) \
                or ts.text(data, d.node).startswith("async "):
            flags.append("async")
        sym = Symbol(kind=kind, name=name, qualname=qualname, line=ts.line(outer), end_line=ts.end_line(d.node),
                     signature=_signature(ctx, d, name), summary=doc_comment(data, outer, spec.comments, spec.skip),
                     decorators=decorators, parent=prefix, flags=tuple(flags))
        d.symbol = sym
        ctx.out.symbols.append(sym)


def _decorators(ctx: _Ctx, node: Node, outer: Node) -> tuple[str, ...]:
    data = ctx.data
    out: list[str] = []
    if ctx.language == "java":
        mods = next((c for c in node.named_children if c.type == "modifiers"), None)
        if mods is not None:
            out = [ts.text(data, c).lstrip("@") for c in mods.named_children
                   if c.type in ("marker_annotation", "annotation")]
    elif ctx.language == "rust":
        prev = outer.prev_named_sibling
        while prev is not None and prev.type in ("attribute_item", "line_comment", "block_comment"):
            if prev.type == "attribute_item":
                out.insert(0, ts.text(data, prev)[2:-1].strip())
            prev = prev.prev_named_sibling
    elif ctx.language in ("typescript", "tsx", "javascript"):
        out = [ts.text(data, c).lstrip("@") for c in node.named_children if c.type == "decorator"]
    return tuple(" ".join(d.split()) for d in out)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in "\"'`" and text[-1] == text[0]:
        return text[1:-1]
    return text


def _conditional(node: Node, stop: tuple[str, ...]) -> str:
    parent = node.parent
    while parent is not None and parent.type not in stop:
        if parent.type in ("if_statement", "try_statement", "if_expression"):
            return "if" if parent.type.startswith("if") else "try"
        if parent.type in ("function_declaration", "arrow_function", "function_expression", "method_definition",
                           "function_definition"):
            return "function"
        parent = parent.parent
    return ""


def _import(ctx: _Ctx, node: Node, source: Node | None) -> None:
    data, lang = ctx.data, ctx.language
    line = ts.line(node)
    if lang in ("javascript", "typescript", "tsx"):
        if source is None:
            return
        names: list[str] = []
        clause = next((c for c in node.named_children if c.type == "import_clause"), None)
        if clause is not None:
            for c in clause.named_children:
                if c.type == "identifier":
                    names.append(ts.text(data, c))
                elif c.type == "named_imports":
                    names.extend(" ".join(ts.text(data, s).split()) for s in c.named_children
                                 if s.type == "import_specifier")
                elif c.type == "namespace_import":
                    names.append(" ".join(ts.text(data, c).split()))
        cond = "" if node.type == "import_statement" else (_conditional(node, ("program",)) or "dynamic")
        ctx.out.imports.append(Import(module=_unquote(ts.text(data, source)), names=tuple(names), line=line,
                                      conditional=cond))
    elif lang == "go" and source is not None:
        alias = node.child_by_field_name("name")
        ctx.out.imports.append(Import(module=_unquote(ts.text(data, source)),
                                      alias=ts.text(data, alias) if alias is not None else "", line=line))
    elif lang == "rust" and source is not None:
        module = " ".join(ts.text(data, source).split())
        taken: tuple[str, ...] = ()
        if module.endswith("}") and "::{" in module:
            module, _, rest = module.partition("::{")
            taken = tuple(n.strip() for n in rest.rstrip("}").split(",") if n.strip())
        ctx.out.imports.append(Import(module=module, names=taken, line=line))
    elif lang == "java":
        text = " ".join(ts.text(data, node).split()).removeprefix("import").rstrip(";").strip()
        static = text.startswith("static ")
        module = text.removeprefix("static ").strip()
        ctx.out.imports.append(Import(module=module, line=line, conditional="", names=("static",) if static else ()))


_JS_SUITES = {"describe", "suite", "context"}
_JS_TESTS = {"it", "test", "specify"}


def _tests(ctx: _Ctx, defs: list[_Def], calls: list[tuple[Node, str, Node]]) -> None:
    lang, data, out = ctx.language, ctx.data, ctx.out
    if lang == "go" and PurePosixPath(ctx.path).name.endswith("_test.go"):
        for d in defs:
            s = d.symbol
            if s is not None and s.kind == "function" and _go_test_name(s.name):
                out.tests.append(TestCase(name=s.name, line=s.line, framework="go"))
    elif lang == "rust":
        for d in defs:
            s = d.symbol
            if s is not None and s.kind in ("function", "method") and any(
                    dec == "test" or dec.endswith("::test") or dec.startswith(("test(", "rstest"))
                    for dec in s.decorators):
                out.tests.append(TestCase(name=s.qualname, line=s.line, framework="rust"))
    elif lang == "java":
        for d in defs:
            s = d.symbol
            if s is not None and s.kind == "method" and any(dec.split("(")[0].rsplit(".", 1)[-1] in
                                                            ("Test", "ParameterizedTest", "RepeatedTest")
                                                            for dec in s.decorators):
                out.tests.append(TestCase(name=s.qualname, line=s.line, framework="junit"))
    elif lang in ("javascript", "typescript", "tsx"):
        _js_tests(ctx, calls)
    elif lang == "bash":
        for node, fn, arg in calls:
            if fn in ("source", "."):
                out.imports.append(Import(module=_unquote(ts.text(data, arg)), line=ts.line(node),
                                          conditional=_conditional(node, ("program",))))
    out.tests.sort(key=lambda t: (t.line, t.name))


def _go_test_name(name: str) -> bool:
    for prefix in ("Test", "Benchmark", "Example", "Fuzz"):
        if name.startswith(prefix):
            rest = name[len(prefix):]
            return not rest or not rest[0].islower()
    return False


def _js_tests(ctx: _Ctx, calls: list[tuple[Node, str, Node]]) -> None:
    data = ctx.data
    suites: list[tuple[int, str]] = []  # (end byte, qualified title) of enclosing describe blocks
    for node, fn, arg in sorted(calls, key=lambda c: c[0].start_byte):
        if fn == "require":
            ctx.out.imports.append(Import(module=_unquote(ts.text(data, arg)), line=ts.line(node),
                                          conditional=_conditional(node, ("program",))))
            continue
        if fn not in _JS_SUITES and fn not in _JS_TESTS:
            continue
        while suites and suites[-1][0] <= node.start_byte:
            suites.pop()
        title = _unquote(ts.text(data, arg))
        name = f"{suites[-1][1]} > {title}" if suites else title
        if fn in _JS_SUITES:
            ctx.out.tests.append(TestCase(name=name, line=ts.line(node), framework="js", kind="class"))
            suites.append((node.end_byte, name))
        else:
            ctx.out.tests.append(TestCase(name=name, line=ts.line(node), framework="js"))


def _make(language: str) -> Callable[[str, str], Extraction]:
    @ts.safe(language)
    def extract(path: str, text: str) -> Extraction:
        return extract_code(path, text, language)

    extract.__name__ = f"extract_{language}"
    return extract


extract_javascript = _make("javascript")
extract_typescript = _make("typescript")
extract_tsx = _make("tsx")
extract_go = _make("go")
extract_rust = _make("rust")
extract_java = _make("java")
extract_bash = _make("bash")
