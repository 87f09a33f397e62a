"""Names that C and C++ code gives its functions through macros and tables: the cross-language bridges.

A reader looks for `softmax_cuda_out`, not for `TORCH_IMPL_FUNC`; for the Python name `abs`, not only for
`builtin_abs`. These builders turn what registers or names a function into symbols searchable by either name:
- definitions named by a macro: `TORCH_IMPL_FUNC(x)`, `TORCH_META_FUNC(x)` (see `macro_named`);
- dispatch stubs: `DEFINE_DISPATCH(stub)` (a variable), `DECLARE_DISPATCH(type, stub)` (its declaration),
  `REGISTER_*DISPATCH(stub, &fn)` (a binding of the stub to `fn`);
- registrations by name: `m.def("schema", fn)`/`m.impl("name", fn)` in `TORCH_LIBRARY*` blocks and pybind11's
  `.def("name", &fn)` (bindings, the registered name -> the C++ function);
- CPython's tables: `PyMethodDef` rows and Argument Clinic's `*_METHODDEF` macros (the Python name -> the C
  function) and `PyModuleDef` (a `module` symbol: the extension module's name -> this file).
Every symbol keeps the macro or table that made it in `Symbol.macro` and the function it names in `target`.
"""

from __future__ import annotations

import dataclasses
import re

from docatlas.extract import tsadapter as ts
from docatlas.extract.ccomments import squash
from docatlas.extract.cdecls import State, add_symbol
from docatlas.extract.tsadapter import Node

_BIND_METHODS = ("def", "def_static", "impl", "def_property", "def_property_readonly", "def_readonly",
                 "def_readwrite")
_TABLE_TYPES = ("PyMethodDef", "PyModuleDef")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_:]*\Z")


def query_patterns() -> str:
    """Query patterns for the symbol query (appended to `queries/<grammar>.scm`); helpers start with `_`."""
    methods = " ".join(f'"{m}"' for m in _BIND_METHODS)
    tables = " ".join(f'"{t}"' for t in _TABLE_TYPES)
    return f"""
(expression_statement (call_expression function: (identifier) @_reg
  (#match? @_reg "^(DEFINE_DISPATCH|DECLARE_DISPATCH|(ALSO_)?REGISTER_[A-Z0-9_]*DISPATCH)$"))) @registration
(call_expression function: (field_expression field: (field_identifier) @_bind (#any-of? @_bind {methods}))
  arguments: (argument_list . (string_literal))) @binding
(declaration type: (type_identifier) @_table (#any-of? @_table {tables})
  declarator: (init_declarator value: (initializer_list))) @table
(declaration type: (struct_specifier name: (type_identifier) @_table) (#any-of? @_table {tables})
  declarator: (init_declarator value: (initializer_list))) @table
"""


def _args(data: bytes, args: Node | None) -> list[str]:
    if args is None:
        return []
    return [" ".join(ts.text(data, a).split()) for a in args.named_children if a.type != "comment"]


def _function_ref(text: str) -> str:
    """`add_kernel` for `&add_kernel`, `TORCH_FN(add_cpu)`, `(PyCFunction)(void(*)(void))fn`; "" for a lambda,
    a null pointer or anything else that names no function."""
    text = text.strip()
    while True:
        if text.startswith("&"):
            text = text[1:].strip()
        elif text.startswith("(") and ")" in text:  # a cast: drop the balanced parenthesised type
            depth = 0
            for i, c in enumerate(text):
                depth += c == "("
                depth -= c == ")"
                if depth == 0:
                    text = text[i + 1:].strip()
                    break
            else:
                return ""
        elif text.endswith(")") and "(" in text:  # TORCH_FN(f), torch::dispatch(key, f), py::overload_cast<...>(&f)
            inner = text[text.index("(") + 1:-1]
            text = inner.rsplit(",", 1)[-1].strip()
        else:
            break
    if "<" in text and text.endswith(">"):  # `&qadd_kernel<false>`: the function template
        text = text[:text.index("<")].strip()
    if text in ("NULL", "nullptr", "0") or not _IDENT.match(text):
        return ""
    return text


def _string(text: str) -> str:
    """The value of a plain string literal (`"add.Tensor"`), else ""."""
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and '"' not in text[1:-1]:
        return text[1:-1]
    return ""


def macro_named(data: bytes, name_node: Node) -> str:
    """For `TORCH_IMPL_FUNC(softmax_cuda_out)(...) { }`: the name the macro gives (`softmax_cuda_out`,
    `TORCH_META_FUNC2(add, Tensor)` -> `add_Tensor`), else ""."""
    inner = name_node.parent
    if inner is None or inner.type != "function_declarator":
        return ""
    args = _args(data, inner.child_by_field_name("parameters"))
    if not args or not all(_IDENT.match(a) for a in args):
        return ""
    return "_".join(args)


def registration(st: State, node: Node, prefix: str) -> None:
    """`DEFINE_DISPATCH(stub);`, `DECLARE_DISPATCH(fn_type, stub);`, `REGISTER_DISPATCH(stub, &fn);`."""
    data = st.data
    call = node.named_children[0] if node.named_children else None
    fn = call.child_by_field_name("function") if call is not None else None
    if call is None or fn is None:
        return
    macro = ts.text(data, fn)
    args = _args(data, call.child_by_field_name("arguments"))
    signature = squash(ts.text(data, node).rstrip(";"))

    def qual(name: str) -> str:
        return f"{prefix}::{name}" if prefix else name

    if macro == "DEFINE_DISPATCH" and len(args) == 1 and _IDENT.match(args[0]):
        add_symbol(st, node, "variable", args[0], qual(args[0]), prefix, signature, ("dispatch-stub",), macro=macro)
    elif macro == "DECLARE_DISPATCH" and len(args) == 2 and _IDENT.match(args[1]):
        add_symbol(st, node, "variable", args[1], qual(args[1]), prefix, signature,
                   ("declaration", "dispatch-stub"), macro=macro)
    elif "REGISTER" in macro and len(args) >= 2 and _IDENT.match(args[0]):
        target = _function_ref(args[-1]) if "NO_CPU" not in macro else ""
        add_symbol(st, node, "binding", args[0], qual(args[0]), prefix, signature, ("dispatch",), macro=macro,
                   target=target)


def binding(st: State, node: Node, prefix: str, block: str) -> None:
    """`m.def("name", &fn)` (pybind11, `TORCH_LIBRARY`), `m.impl("name", TORCH_FN(fn))`: the name registered
    and the function it is bound to. `block` is the macro of the enclosing definition (`TORCH_LIBRARY_IMPL`)."""
    data = st.data
    fn = node.child_by_field_name("function")
    field = fn.child_by_field_name("field") if fn is not None else None
    if field is None:
        return
    method = ts.text(data, field)
    args = _args(data, node.child_by_field_name("arguments"))
    name = _string(args[0]) if args else ""
    if not name:
        return
    if block.startswith("TORCH_LIBRARY") or "(" in name or "::" in name:
        name = name.split("(", 1)[0].strip()  # a schema `add.Tensor(Tensor self, ...) -> Tensor`: its name
        name = name.rsplit("::", 1)[-1]
    if not name or not re.match(r"[A-Za-z_][A-Za-z0-9_.]*\Z", name):
        return
    target = _function_ref(args[1]) if len(args) > 1 else ""
    # In a chain (`m.def("a", f).def("b", g)`) the call starts where the chain starts: the binding is at its
    # own `.def`, its signature that call alone.
    arguments = node.child_by_field_name("arguments")
    signature = squash(f".{method}{ts.text(data, arguments)}" if arguments is not None else ts.text(data, node))
    receiver = fn.child_by_field_name("argument") if fn is not None else None
    if receiver is not None and receiver.type == "identifier":  # `m.def(...)`: with its receiver
        signature = squash(ts.text(data, node))
    # the enclosing registration block (`PYBIND11_MODULE`, `TORCH_LIBRARY_IMPL`), else the call's own method
    sym = add_symbol(st, field, "binding", name, f"{prefix}::{name}" if prefix else name, prefix, signature,
                     (method,), summary="", macro=block or f".{method}", target=target)
    st.out.symbols[-1] = dataclasses.replace(sym, end_line=ts.end_line(node))


def table(st: State, node: Node) -> None:
    """A `PyMethodDef` array (a binding per row) or a `PyModuleDef` (the module symbol)."""
    data = st.data
    type_node = node.child_by_field_name("type")
    if type_node is None:
        return
    if type_node.type == "struct_specifier":
        type_node = type_node.child_by_field_name("name")
    kind = ts.text(data, type_node)
    decl = node.child_by_field_name("declarator")
    value = decl.child_by_field_name("value") if decl is not None else None
    var = decl.child_by_field_name("declarator") if decl is not None else None
    while var is not None and var.type not in ("identifier",):
        var = var.child_by_field_name("declarator")
    if value is None or var is None:
        return
    table_name = ts.text(data, var)
    if kind == "PyModuleDef":
        for name, condition, flags in _module_names(st, value):
            shown = name if flags else f'"{name}"'
            sym = add_symbol(st, node, "module", name, name, "", f"PyModuleDef {table_name} = {{… {shown} …}}",
                             ("python-module", *flags), macro="PyModuleDef", target=table_name)
            if condition and not sym.condition:
                st.out.symbols[-1] = dataclasses.replace(sym, condition=condition)
        return
    for row in value.named_children:
        if row.type != "initializer_list":
            continue
        cells = _args(data, row)
        name = _string(cells[0]) if cells else ""
        if not name:
            continue
        target = _function_ref(cells[1]) if len(cells) > 1 else ""
        add_symbol(st, row, "binding", name, f"{table_name}.{name}", table_name, squash(ts.text(data, row)),
                   ("python-method",), summary=_doc_of(cells, st), macro="PyMethodDef", target=target)


def _module_names(st: State, value: Node) -> list[tuple[str, str, tuple[str, ...]]]:
    """The module names a `PyModuleDef` initializer gives, each with the preprocessor branch it holds in:
    `.m_name = "x"`, the positional name after `PyModuleDef_HEAD_INIT`, a string macro of this file
    (`.m_name = MODULE_NAME`, one name per `#define` of it: `MODNAME` is "nt" or "posix"), a concatenation
    (`"_" SRE_MODULE`). A lone macro this file does not define keeps its name, flagged `name-macro`, for the
    link stage to look up (`link.resolve.c_extension_modules`)."""
    data = st.data
    children = [c for c in value.named_children if c.type != "comment"]
    expr: Node | None = None
    for c in children:
        if c.type == "initializer_pair" and ts.text(data, c).split("=", 1)[0].strip() == ".m_name":
            expr = c.child_by_field_name("value")
    if expr is None:
        positional = [c for c in children if c.type != "initializer_pair"]
        if len(positional) >= 2 and ts.text(data, positional[0]).startswith("PyModuleDef_HEAD_INIT"):
            expr = positional[1]
        elif positional and positional[0].type in ("string_literal", "concatenated_string"):
            expr = positional[0]
    if expr is None:
        return []
    parts = expr.named_children if expr.type == "concatenated_string" else [expr]
    names: list[tuple[str, str]] = [("", "")]
    for part in parts:
        text = ts.text(data, part)
        if part.type == "string_literal":
            piece = _string(text)
            if not piece:
                return []
            names = [(n + piece, c) for n, c in names]
        elif part.type == "identifier":
            values = [(m.group(1), s.condition) for s in st.out.symbols if s.kind == "macro" and s.name == text
                      for m in [_STRING_MACRO.match(s.signature)] if m is not None]
            if not values:
                return [(text, "", ("name-macro",))] if len(parts) == 1 and _IDENT.match(text) else []
            if len(values) == 1:  # one definition (often a default under `#ifndef`): no alternative to tell
                values = [(values[0][0], "")]
            names = [(n + v, " > ".join(x for x in (c, vc) if x)) for n, c in names for v, vc in values]
        else:
            return []
    return [(n, c, ()) for n, c in sorted(set(names)) if re.match(r"[A-Za-z_][A-Za-z0-9_.]*\Z", n)]


_STRING_MACRO = re.compile(r'#\s*define\s+[A-Za-z_][A-Za-z0-9_]*\s+"([A-Za-z_][A-Za-z0-9_.]*)"\s*\Z')


def _doc_of(cells: list[str], st: State | None = None) -> str:
    """A `PyMethodDef` row's docstring: written in place (`PyDoc_STR("...")` or a literal), or the first
    paragraph of the `PyDoc_STRVAR(name, "...")` of this file that the row names (Argument Clinic's
    `builtin_format__doc__`, whose signature lines before `--` are left out)."""
    if len(cells) < 4:
        return ""
    doc = cells[3].strip().rstrip(",").strip()
    if doc.startswith("PyDoc_STR(") and doc.endswith(")"):
        doc = doc[len("PyDoc_STR("):-1]
    if st is not None and _IDENT.match(doc) and b"PyDoc_STRVAR" in st.data:
        if st.docs is None:
            st.docs = _docstrings(st.data)
        return st.docs.get(doc, "")
    return _string(doc)


_STRVAR = re.compile(rb'PyDoc_STRVAR\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,((?:\s*"(?:[^"\\\n]|\\.)*")+)\s*\)')
_LITERAL = re.compile(rb'"((?:[^"\\\n]|\\.)*)"')


def _docstrings(data: bytes) -> dict[str, str]:
    """`PyDoc_STRVAR(name, "..." "...")` of a file: name -> the docstring's first paragraph."""
    out: dict[str, str] = {}
    for m in _STRVAR.finditer(data):
        raw = b"".join(_LITERAL.findall(m.group(2))).decode("utf-8", "replace")
        text = re.sub(r"\\(.)", lambda e: {"n": "\n", "t": " "}.get(e.group(1), e.group(1)), raw)
        if "\n--\n" in text:  # clinic's `name($module, x, /)\n--\n\n` signature block
            text = text.split("\n--\n", 1)[1]
        para = text.strip().split("\n\n", 1)[0]
        out.setdefault(m.group(1).decode(), " ".join(para.split()))
    return out


# Argument Clinic writes each method's row as a macro: `#define BUILTIN_ABS_METHODDEF {"abs", (PyCFunction)builtin_abs,
# METH_O, builtin_abs__doc__},` (in `clinic/*.c.h`); the macro's value is text to the grammar, so it is read here.
# The function may be cast (`(PyCFunction)fn`, `(PyCFunction)(void(*)(void))fn`) or wrapped in a cast macro
# (`_PyCFunction_CAST(fn)`, CPython 3.11's clinic output).
_METHODDEF_ROW = re.compile(r'\{\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*,\s*((?:\([^(){}]*(?:\([^(){}]*\)[^(){}]*)*\)\s*)*'
                            r'&?[A-Za-z_][A-Za-z0-9_]*(?:\s*\(\s*&?[A-Za-z_][A-Za-z0-9_]*\s*\))?)')


def clinic_methoddef(st: State, node: Node, name: str) -> None:
    """A `*_METHODDEF` macro: the Python method name and the C function of its row."""
    value = node.child_by_field_name("value")
    if value is None or not name.endswith("_METHODDEF"):
        return
    m = _METHODDEF_ROW.search(ts.text(st.data, value))
    if m is None:
        return
    pyname, target = m.group(1), _function_ref(m.group(2))
    row = ts.text(st.data, value).strip().lstrip("{").rstrip().rstrip(",").rstrip("}")
    summary = _doc_of([c.strip() for c in row.split(",")], st)
    add_symbol(st, node, "binding", pyname, f"{name}.{pyname}", "", squash(m.group(0) + ", …}"),
               ("python-method",), summary=summary, macro="PyMethodDef", target=target)
