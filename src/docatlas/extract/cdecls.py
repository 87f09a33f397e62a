"""The symbols of a C-family file, one tree-sitter node at a time: namespaces, types, functions, prototypes.

`State` is what one file's walk accumulates; `cfamily.extract_c_family` drives the walk and calls the
builders here with the enclosing scope. Names, signatures and comments are cut from the original text
(`State.data`), never from the macro-blanked text the grammar saw (`State.parsed`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from docatlas.extract import tsadapter as ts
from docatlas.extract.base import Extraction
from docatlas.extract.cbranches import branch_of, is_header_guard
from docatlas.extract.ccomments import doc_comment, squash
from docatlas.extract.tsadapter import Node
from docatlas.model import Symbol, TestCase

_KERNEL_TOKENS = {"__global__": "kernel", "__device__": "device", "C10_DEVICE": "device",
                  "C10_HOST_DEVICE": "device", "CUTLASS_HOST_DEVICE": "device", "CUTLASS_DEVICE": "device"}


# -- names --------------------------------------------------------------------------------------
_NAME_TYPES = {"identifier", "field_identifier", "type_identifier", "destructor_name", "operator_name",
               "qualified_identifier", "template_function", "operator_cast", "namespace_identifier"}
_WRAPPERS = {"pointer_declarator", "reference_declarator", "attributed_declarator", "array_declarator",
             "init_declarator", "function_declarator"}


def _function_name_node(decl: Node | None) -> Node | None:
    """The name inside a declarator if the declarator declares a function (not a function pointer)."""
    seen_function = False
    while decl is not None:
        t = decl.type
        if t == "function_declarator":
            seen_function = True
            decl = decl.child_by_field_name("declarator")
        elif t == "operator_cast":
            return decl
        elif t in _WRAPPERS:
            inner = decl.child_by_field_name("declarator")
            if inner is None:
                inner = next((c for c in decl.named_children if c.type not in ("type_qualifier", "attribute_specifier",
                                                                               "ms_pointer_modifier")), None)
            decl = inner
        elif t in _NAME_TYPES:
            return decl if seen_function else None
        else:
            return None
    return None


def _plain_name(data: bytes, node: Node) -> str:
    """`Foo` for `Foo<T>`, `operator==` for `operator ==`, `operator bool` for a conversion."""
    t = node.type
    if t == "template_function" or t == "template_type":
        inner = node.child_by_field_name("name")
        return ts.text(data, inner) if inner is not None else ts.text(data, node)
    if t == "operator_cast":
        inner = node.child_by_field_name("declarator")
        end = inner.start_byte if inner is not None else node.end_byte
        return " ".join(data[node.start_byte:end].decode("utf-8", "replace").split())
    if t == "operator_name":
        raw = " ".join(ts.text(data, node).split())
        word = raw[len("operator"):].strip()
        return "operator" + (" " + word if word[:1].isalpha() else word)
    return " ".join(ts.text(data, node).split())


def _split_qualified(data: bytes, node: Node) -> tuple[list[str], str, bool]:
    """`ns::Foo<T>::bar` -> (["ns", "Foo"], "bar", scope_is_template)."""
    scope: list[str] = []
    templated = False
    while node is not None and node.type == "qualified_identifier":
        s = node.child_by_field_name("scope")
        if s is not None:
            if s.type == "template_type":
                templated = True
            scope.append(_plain_name(data, s))
        node = node.child_by_field_name("name")
    if node is None:
        return scope, "", templated
    return scope, _plain_name(data, node), templated


# -- the extractor ------------------------------------------------------------------------------
@dataclass
class Scope:
    end: int
    kind: str  # namespace, class, function (a body: only local types count there), transparent
    qualname: str


@dataclass
class State:
    path: str
    data: bytes  # original text: names, signatures and comments come from here
    parsed: bytes  # what the grammar saw: `data` with macros blanked
    out: Extraction
    seen_namespaces: set[str] = field(default_factory=set)
    class_names: set[str] = field(default_factory=set)
    namespace_names: set[str] = field(default_factory=set)
    pending: list[tuple[int, Symbol, list[str], bool]] = field(default_factory=list)  # out-of-line functions
    docs: dict[str, str] | None = None  # `PyDoc_STRVAR` docstrings by name, read when a binding first asks
    # a parse of text without conditional directives (`cmacros.blank_conditionals`): each line's branches and
    # the include guards' `#define` lines, from the text (`cmacros.line_conditions`), as the tree has none
    conditions: list[str] | None = None
    guards: frozenset[int] = frozenset()
    # `data` with macros blanked only, where `parsed` also has other `#if` branches or the directives blanked:
    # what `_start` walks back over (a blanked `__device__` belongs to the definition, another branch does not)
    base: bytes = b""
    branches: dict[int, tuple[tuple[str, ...], bool]] = field(default_factory=dict)  # `branch_of`'s memo

    def condition(self, node: Node) -> tuple[str, bool]:
        """`branch_of` for `node`, from the text's conditions when the parse has no directives."""
        condition, extern_c = branch_of(self.data, node, self.branches)
        if self.conditions is not None:
            row = node.start_point[0]
            condition = self.conditions[row] if row < len(self.conditions) else ""
        return condition, extern_c

    def guard(self, node: Node, name: str) -> bool:
        """Whether `node`, the `#define` of `name`, is an include guard's."""
        if self.conditions is not None:
            return node.start_point[0] in self.guards
        parent = node.parent
        guarded = parent.child_by_field_name("name") if parent is not None else None
        return parent is not None and guarded is not None and is_header_guard(self.data, parent) \
            and ts.text(self.data, guarded) == name


_GTEST = {"TEST", "TEST_F", "TEST_P", "TYPED_TEST", "TYPED_TEST_P", "CUDA_TEST", "TEST_CUDA", "TEST_CPU",
          "TEST_CUDA_F"}
_CONTAINER_KINDS = {"namespace": "namespace", "class": "class", "struct": "class", "union": "class",
                    "protocol": "class"}
KIND_OF = {"class": "class", "struct": "struct", "union": "union", "enum": "enum", "protocol": "protocol"}

def macro_signature(data: bytes, node: Node) -> str:
    """`#define NAME(args)`, plus the value of an object-like macro when it is short."""
    value = node.child_by_field_name("value")
    end = value.start_byte if value is not None else node.end_byte
    head = data[node.start_byte:end].decode("utf-8", "replace").strip()
    if node.type == "preproc_def" and value is not None:
        text = " ".join(ts.text(data, value).split())
        if len(text) <= 60 and "\\" not in text:
            head = f"{head} {text}"
    return head


def add_symbol(st: State, node: Node, kind: str, name: str, qualname: str, parent: str, signature: str,
               flags: tuple[str, ...], summary: str | None = None, bases: tuple[str, ...] = (),
               macro: str | None = None, target: str = "") -> Symbol:
    doc_node = _outer(node)
    start = _start(st, doc_node)  # at or before the node: count only the newlines in between
    line = doc_node.start_point[0] + 1 - st.data.count(b"\n", start, doc_node.start_byte)
    condition, extern_c = st.condition(node)
    if macro is None:
        macro = export_macro(signature, name) or ('extern "C"' if extern_c and kind in _LINKED else "")
    sym = Symbol(kind=kind, name=name, qualname=qualname or name, line=line,
                 end_line=ts.end_line(node), signature=signature,
                 summary=doc_comment(st.data, doc_node, start_row=line - 1) if summary is None else summary,
                 bases=bases, parent=parent, flags=flags, macro=macro, condition=condition, target=target)
    st.out.symbols.append(sym)
    return sym


_LINKED = frozenset(("function", "variable"))
# Export macros by name, beside the `*_API`/`*_EXPORT` convention (TORCH_API, C10_API, CAFFE2_API, ...).
_EXPORT_WORDS = frozenset(("PyAPI_FUNC", "PyAPI_DATA", "PyMODINIT_FUNC", "Py_EXPORTED_SYMBOL", "Py_LOCAL",
                           "Py_LOCAL_INLINE", "JNIEXPORT", "__declspec"))
_EXPORT_RE = re.compile(r"[A-Z][A-Z0-9_]*_(?:API|EXPORT)\Z")
_LOOP_MACRO = re.compile(r"[A-Z0-9_]*_LOOP(?:_[A-Z0-9_]+)?\Z")
_MACRO_NAME = re.compile(r"_?[A-Z][A-Z0-9_]*\Z")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def export_macro(signature: str, name: str) -> str:
    """The export macro written before `name` in its declaration (`PyAPI_FUNC`, `TORCH_API`), or ""."""
    cut = signature.find(name) if name else -1
    for word in _WORD_RE.findall(signature[:cut] if cut > 0 else ""):
        if word in _EXPORT_WORDS or _EXPORT_RE.match(word):
            return str(word)
    return ""


_OUTER_TYPES = {"template_declaration", "field_declaration", "declaration", "type_definition",
                "linkage_specification"}


def _outer(node: Node) -> Node:
    """The node a doc comment sits above: `template <...>` or the declaration around a definition."""
    parent = node.parent
    while parent is not None and (parent.type == "template_declaration"
                                  or (parent.type in _OUTER_TYPES and parent.start_byte == node.start_byte)):
        if parent.type == "linkage_specification" and parent.child_by_field_name("body") is not None:
            break
        node = parent
        parent = node.parent
    return node


def _join(prefix: str, name: str) -> str:
    return f"{prefix}::{name}" if prefix else name


def _start(st: State, node: Node) -> int:
    """Where `node` starts in the source, including blanked macros right before it (`__device__ float f()`)."""
    i: int = node.start_byte
    parsed, data = st.base or st.parsed, st.data
    while i > 0 and parsed[i - 1] in b" \t\r\n":
        i -= 1
    while i < node.start_byte:  # forward again over what is not code: blanks, and comments the blanking hid
        if data[i] in b" \t\r\n":
            i += 1
        elif data.startswith(b"/*", i):
            end = data.find(b"*/", i + 2, node.start_byte)
            i = node.start_byte if end < 0 else end + 2
        elif data.startswith(b"//", i):
            end = data.find(b"\n", i, node.start_byte)
            i = node.start_byte if end < 0 else end + 1
        else:
            break
    return i


def _signature_to_body(st: State, node: Node, head: Node) -> str:
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None else node.end_byte
    return squash(st.data[_start(st, head):end].decode("utf-8", "replace").rstrip().rstrip(";"))


def namespace_symbol(st: State, node: Node, prefix: str, stack: list[Scope]) -> None:
    name_node = node.child_by_field_name("name")
    if name_node is None:
        stack.append(Scope(node.end_byte, "transparent", ""))  # anonymous: internal linkage, no name
        return
    name = "".join(ts.text(st.data, name_node).split())
    qualname = _join(prefix, name)
    stack.append(Scope(node.end_byte, "namespace", qualname))
    st.namespace_names.add(qualname)
    if qualname in st.seen_namespaces:
        return  # reopened namespace: one symbol per namespace, at its first block
    st.seen_namespaces.add(qualname)
    parent, _, _ = qualname.rpartition("::")
    flags = ("inline",) if node.children and node.children[0].type == "inline" else ()
    add_symbol(st, node, "namespace", name, qualname, parent, f"namespace {name}", flags)


def type_symbol(st: State, node: Node, kind: str, prefix: str, stack: list[Scope], local: bool = False) -> None:
    data = st.data
    name_node = node.child_by_field_name("name")
    if name_node is None and kind in ("class", "protocol"):  # Objective-C: first identifier child
        name_node = next((c for c in node.named_children if c.type == "identifier"), None)
    name = ""
    if name_node is not None:
        if name_node.type == "qualified_identifier":
            scope, name, _ = _split_qualified(data, name_node)
            prefix = "::".join([prefix, *scope]) if prefix else "::".join(scope)
        else:
            name = _plain_name(data, name_node)
    elif node.parent is not None and node.parent.type == "type_definition":
        decl = node.parent.child_by_field_name("declarator")
        if decl is not None and decl.type == "type_identifier":
            name = ts.text(data, decl)  # typedef struct { ... } Name;
    container = _CONTAINER_KINDS.get(kind)
    if not name:
        if container:
            stack.append(Scope(node.end_byte, "transparent", ""))
        return
    qualname = _join(prefix, name)
    if container:
        stack.append(Scope(node.end_byte, container, qualname))
        st.class_names.add(qualname)
    flags: list[str] = ["local"] if local else []
    if kind == "enum" and len(node.children) > 1 and node.children[1].type in ("class", "struct"):
        flags.append("scoped")
    outer = _outer(node)
    if outer.type == "template_declaration":
        flags.append("template")
    if node.type == "class_implementation":
        flags.append("implementation")
    elif node.type == "class_interface":
        flags.append("interface")
    if name_node is not None and name_node.type == "template_type":
        flags.append("specialization")
    bases = tuple(" ".join(ts.text(data, c).split()) for b in node.named_children if b.type == "base_class_clause"
                  for c in b.named_children if c.type != "access_specifier")
    head = outer if outer.type == "template_declaration" else node
    if name_node is None:  # named by its typedef
        signature = squash(f"typedef {node.children[0].type} {{…}} {name}")
    elif node.child_by_field_name("body") is not None:
        signature = _signature_to_body(st, node, head)
    else:
        signature = squash(ts.text(data, node).split("\n", 1)[0])
    add_symbol(st, node, KIND_OF[kind], name, qualname, prefix, signature, tuple(flags), bases=bases)


def _spec_flags(data: bytes, start: int, node: Node, decl: Node | None) -> list[str]:
    """Flags from the specifiers before the declarator, read from the original (unblanked) text."""
    flags: list[str] = []
    end = decl.start_byte if decl is not None else node.end_byte
    words = data[start:end].decode("utf-8", "replace").replace("(", " ").replace(")", " ").split()
    for w in words:
        flag = _KERNEL_TOKENS.get(w)
        if flag and flag not in flags:
            flags.append(flag)
    if "__host__" in words and "device" in flags and "__global__" not in words:
        flags.append("host")
    for w in ("static", "virtual", "inline", "constexpr", "explicit"):
        if w in words:
            flags.append(w)
    return flags


# Definitions whose name is a macro argument (`TORCH_IMPL_FUNC(add_out)(...) { }`), see `cbridges.macro_named`.
NAMING_MACROS = frozenset(("TORCH_IMPL_FUNC", "TORCH_META_FUNC", "TORCH_META_FUNC2", "TORCH_PRECOMPUTE_META_FUNC",
                           "TORCH_PRECOMPUTE_META_FUNC2"))
# Statement keywords the grammar may take for a function name when error recovery leaves `if (x) { }` outside a
# body; a declarator can never be named by one.
KEYWORDS = frozenset((
    "if", "else", "while", "for", "do", "switch", "case", "default", "return", "goto", "break", "continue", "sizeof",
    "alignof", "typeof", "decltype", "static_assert", "catch", "try", "throw", "new", "delete", "co_await",
    "co_return", "co_yield", "__asm__", "asm", "_Generic", "defined"))


def statement_macro(st: State, node: Node) -> bool:
    """Whether a function definition found inside a body is a statement macro with a block, not a function:
    no return type (`TARGET(op) {`, `CUDA_KERNEL_LOOP(i, n) {`), or named by a keyword."""
    if node.child_by_field_name("type") is None:
        return True
    name_node = _function_name_node(node.child_by_field_name("declarator"))
    return name_node is None or ts.text(st.data, name_node) in KEYWORDS


def function_def(st: State, node: Node, prefix: str, in_class: bool, scope: Scope | None) -> str:
    """Add the function or method `node` defines; returns its qualified name ("" when it is none)."""
    data = st.data
    decl = node.child_by_field_name("declarator")
    name_node = _function_name_node(decl)
    if name_node is None:
        return ""  # e.g. a macro-shaped definition such as `FOO(x) { }` without a function declarator
    if name_node.type == "identifier" and ts.text(data, name_node) in _GTEST and not in_class:
        return _gtest(st, node, name_node, decl, prefix)
    if name_node.type == "identifier" and ts.text(data, name_node) in KEYWORDS:
        return ""  # `if (x) {` in an error-recovered tree: a statement, never a function
    if name_node.type == "identifier" and node.child_by_field_name("type") is None \
            and _LOOP_MACRO.match(ts.text(data, name_node)):
        return ""  # `CUDA_1D_KERNEL_LOOP(i, n) {` left at file scope when its kernel failed to parse
    if name_node.type == "identifier" and ts.text(data, name_node) in NAMING_MACROS:
        return _macro_named(st, node, name_node, prefix)
    if _broken_head(st.parsed, node):
        return ""  # `SMALL_INDEX(...); } else if (...) {` glued together by error recovery: statements
    if in_class and scope is not None and name_node.type == "identifier" \
            and node.child_by_field_name("type") is None \
            and ts.text(data, name_node) != scope.qualname.rpartition("::")[2]:
        return ""  # only a constructor has no return type in a class: `TORCH_ARG(T, x) = {};` is a macro call
    flags = _spec_flags(data, _start(st, node), node, decl)
    if node.parent is not None and node.parent.type == "friend_declaration":
        flags.append("friend")
    outer = _outer(node)
    if outer.type == "template_declaration":
        flags.append("template")
    if node.child_by_field_name("body") is None:
        for c in node.named_children:
            if c.type == "default_method_clause":
                flags.append("defaulted")
            elif c.type == "delete_method_clause":
                flags.append("deleted")
            elif c.type == "pure_virtual_clause":
                flags.append("pure")
    signature = _signature_to_body(st, node, outer if outer.type == "template_declaration" else node)
    return _function_symbol(st, node, name_node, prefix, in_class, scope, flags, signature)


_COMMENTS = re.compile(rb"/\*.*?\*/|//[^\n]*", re.S)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"()[]{};")  # what `_broken_head` need not look at


def _broken_head(parsed: bytes, node: Node) -> bool:
    """Whether the text before a definition's body holds a `;` or an unopened `}` outside brackets: no head does,
    only statements that error recovery joined to a block (`FOO(a); } else if (b) {`)."""
    body = node.child_by_field_name("body")
    if body is None:
        return False
    head = _COMMENTS.sub(b"", parsed[node.start_byte:body.start_byte]).translate(None, _NOT_BRACKETS)
    depth = 0
    for c in head:  # (a constructor's `: a_{x}, b_{y}` has balanced braces)
        if c in b"([{":
            depth += 1
        elif c in b")]}":
            depth -= 1
            if depth < 0:
                return True
        elif c == 59 and depth <= 0:  # ";"
            return True
    return False


def _macro_named(st: State, node: Node, name_node: Node, prefix: str) -> str:
    """`TORCH_IMPL_FUNC(softmax_cuda_out)(...) { }`: the function named by the macro's argument."""
    from docatlas.extract.cbridges import macro_named  # cbridges builds on this module

    macro = ts.text(st.data, name_node)
    name = macro_named(st.data, name_node)
    if not name:
        return ""
    flags = ("meta",) if "META" in macro else ("impl",)
    signature = _signature_to_body(st, node, node)
    return add_symbol(st, node, "function", name, _join(prefix, name), prefix, signature, flags, macro=macro).qualname


def _function_symbol(st: State, node: Node, name_node: Node, prefix: str, in_class: bool,
                     scope: Scope | None, flags: list[str], signature: str) -> str:
    data = st.data
    if name_node.type == "qualified_identifier":
        quals, name, templated = _split_qualified(data, name_node)
    else:
        quals, name, templated = [], _plain_name(data, name_node), False
    if not name:
        return ""
    cls_name = quals[-1] if quals else (scope.qualname.rpartition("::")[2] if in_class and scope else "")
    if cls_name and (name == cls_name or (name.startswith("~") and name[1:] == cls_name)):
        flags.insert(0, "destructor" if name.startswith("~") else "constructor")
    elif name.startswith("operator"):
        flags.insert(0, "operator")
    if quals:  # out-of-line definition: `void ns::Class::method() { }`
        parent = "::".join([prefix, *quals]) if prefix else "::".join(quals)
        sym = add_symbol(st, node, "function", name, _join(parent, name), parent, signature, tuple(flags))
        st.pending.append((len(st.out.symbols) - 1, sym, quals, templated))
        return sym.qualname
    kind = "method" if in_class else "function"
    return add_symbol(st, node, kind, name, _join(prefix, name), prefix, signature, tuple(flags)).qualname


def resolve_out_of_line(st: State) -> None:
    """`Class::method` outside its class is a method of that class; `ns::f` a function of a namespace."""
    for index, sym, quals, templated in st.pending:
        parent = sym.parent
        if parent in st.namespace_names:
            continue
        last = quals[-1]
        is_method = (parent in st.class_names or templated or "constructor" in sym.flags
                     or "destructor" in sym.flags or "operator" in sym.flags or last[:1].isupper()
                     or any(c.endswith("::" + last) or c == last for c in st.class_names))
        if is_method:
            st.out.symbols[index] = Symbol(
                kind="method", name=sym.name, qualname=sym.qualname, line=sym.line, end_line=sym.end_line,
                signature=sym.signature, summary=sym.summary, parent=parent, flags=sym.flags)


def prototypes(st: State, node: Node, prefix: str, in_class: bool, scope: Scope | None) -> None:
    data = st.data
    first = node.children[0] if node.child_count else None
    if first is not None and first.type == "friend":
        return
    external: bool | None = None
    for decl in node.children_by_field_name("declarator"):
        name_node = _function_name_node(decl)
        if name_node is None:
            if in_class or node.type != "declaration" or decl.type == "init_declarator":
                continue  # a field, or a variable defined here (`int x = 1;`)
            if external is None:
                external = _is_extern(st, node)
            if external:
                _variable(st, node, decl, prefix)
            continue
        if name_node.type == "identifier" and ts.text(data, name_node) in _GTEST:
            continue
        if node.child_by_field_name("type") is None and name_node.type in ("identifier", "field_identifier") \
                and _MACRO_NAME.match(ts.text(data, name_node)):
            continue  # `INPUT_TAGS(A, B);`, `C10_DISABLE_COPY_AND_ASSIGN(Foo);`: a macro call, not a prototype
        flags = ["declaration", *_spec_flags(data, _start(st, node), node, decl)]
        outer = _outer(node)
        if outer.type == "template_declaration":
            flags.append("template")
        for c in node.named_children:
            if c.type == "number_literal" and node.child_by_field_name("default_value") is not None:
                flags.append("pure")
                break
        head = outer if outer.type == "template_declaration" else node
        signature = squash(data[_start(st, head):decl.end_byte].decode("utf-8", "replace"))
        _function_symbol(st, node, name_node, prefix, in_class, scope, flags, signature)


def _is_extern(st: State, node: Node) -> bool:
    """`extern int x;` or `PyAPI_DATA(int) x;`: a variable declared here and defined elsewhere."""
    for c in node.children:
        if c.type == "storage_class_specifier" and ts.text(st.data, c) == "extern":
            return True
    head = st.data[_start(st, node):node.start_byte]
    return b"PyAPI_DATA" in head or b"_API" in head


def _variable(st: State, node: Node, decl: Node, prefix: str) -> None:
    """An `extern` variable declaration: part of a header's API, like a prototype."""
    found = decl if decl.type in ("identifier", "qualified_identifier") else _first_of(
        decl, ("identifier", "qualified_identifier"))
    if found is None:
        return
    name = ts.text(st.data, found)
    signature = squash(st.data[_start(st, node):decl.end_byte].decode("utf-8", "replace"))
    add_symbol(st, node, "variable", name, _join(prefix, name), prefix, signature, ("declaration", "extern"))


def alias_symbols(st: State, node: Node, kind: str, prefix: str) -> None:
    data = st.data
    names: list[Node] = []
    if kind == "alias":
        n = node.child_by_field_name("name")
        if n is not None:
            names.append(n)
    else:
        type_node = node.child_by_field_name("type")
        for decl in node.children_by_field_name("declarator"):
            found = _first_of(decl, ("type_identifier", "primitive_type", "identifier"))
            if found is None:
                continue
            if type_node is not None and type_node.type in ("struct_specifier", "union_specifier",
                                                            "enum_specifier", "class_specifier") \
                    and type_node.child_by_field_name("name") is None \
                    and type_node.child_by_field_name("body") is not None and decl.type == "type_identifier":
                continue  # `typedef struct { } Name;` is listed as the struct Name
            names.append(found)
    flags = ("typedef",) if kind == "typedef" else ()
    outer = _outer(node)
    head = outer if outer.type == "template_declaration" else node
    signature = squash(data[head.start_byte:node.end_byte].decode("utf-8", "replace").rstrip(";"), 200)
    for n in names:
        name = ts.text(data, n)
        add_symbol(st, node, "alias", name, _join(prefix, name), prefix, signature, flags)


def _first_of(node: Node, types: tuple[str, ...]) -> Node | None:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.type in types:
            return n
        if n.type in ("parameter_list", "template_argument_list"):
            continue
        stack.extend(reversed(n.named_children))
    return None


def objc_method(st: State, node: Node, prefix: str) -> None:
    data = st.data
    parts: list[str] = []
    for c in node.named_children:
        if c.type == "identifier":
            parts.append(ts.text(data, c))
        elif c.type == "method_parameter" and parts and not parts[-1].endswith(":"):
            parts[-1] += ":"
    if not parts:
        return
    name = "".join(parts)
    body = next((c for c in node.named_children if c.type == "compound_statement"), None)
    end = body.start_byte if body is not None else node.end_byte
    signature = squash(data[node.start_byte:end].decode("utf-8", "replace").rstrip().rstrip(";"))
    flags = ("declaration",) if node.type == "method_declaration" else ()
    if signature.startswith("+"):
        flags = (*flags, "class")
    add_symbol(st, node, "method", name, _join(prefix, name), prefix, signature, flags)


def _gtest(st: State, node: Node, name_node: Node, decl: Node | None, prefix: str) -> str:
    data = st.data
    macro = ts.text(data, name_node)
    params = decl.child_by_field_name("parameters") if decl is not None else None
    args = [" ".join(ts.text(data, p).split()) for p in params.named_children] if params is not None else []
    name = ".".join(args) if args else macro
    st.out.tests.append(TestCase(name=name, line=ts.line(node), framework="gtest"))
    return add_symbol(st, node, "test", name, _join(prefix, name), prefix, squash(f"{macro}({', '.join(args)})"),
                ()).qualname


