"""C, C++, CUDA and Objective-C through tree-sitter: namespaces, types, functions, macros, includes, gtest.

The C++ grammar does not know project macros, so `class TORCH_API Foo` or `C10_HOST_DEVICE int f()` make it
emit error nodes and lose the surrounding definitions. `blank_macros` overwrites such attribute/export macro
tokens (a fixed token list plus the `*_API`/`*_EXPORT` naming convention) with spaces before parsing, so byte
offsets and line numbers stay those of the file; signatures and comments are always cut from the original
text. C++, CUDA and headers use the CUDA grammar, a superset of the C++ grammar that also parses
`__global__`, `__launch_bounds__` and `kernel<<<grid, block>>>(...)` launches.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import re2  # type: ignore[import-untyped]

from docatlas.extract import crules
from docatlas.extract import tsadapter as ts
from docatlas.extract.base import Extraction, first_paragraph
from docatlas.extract.tsadapter import Node
from docatlas.model import Import, Symbol, TestCase

# -- macro blanking -----------------------------------------------------------------------------
# Attribute/export macros that expand to nothing the grammar needs (visibility, inlining, CUDA
# execution-space qualifiers, diagnostics pragmas). Those in _WITH_ARGS take a parenthesised argument.
_PLAIN = (
    "TORCH_API", "C10_API", "C10_EXPORT", "C10_IMPORT", "C10_HIDDEN", "CAFFE2_API", "CAFFE2_EXPORT",
    "CAFFE2_IMPORT", "TORCH_CUDA_CPP_API", "TORCH_CUDA_CU_API", "TORCH_CUDA_API", "TORCH_HIP_API",
    "TORCH_PYTHON_API", "C10_CUDA_API", "C10_HIP_API", "C10_API_ENUM", "TORCH_API_ENUM",
    "__host__", "__device__", "__global__", "__forceinline__", "__noinline__", "__inline__",
    "C10_HOST_DEVICE", "C10_DEVICE", "C10_HOST", "C10_ALWAYS_INLINE", "C10_ALWAYS_INLINE_UNLESS_MOBILE",
    "C10_NOINLINE", "C10_UNUSED", "C10_USED", "C10_NODISCARD", "C10_NORETURN", "C10_DEPRECATED",
    "C10_HOST_CONSTEXPR", "C10_HOST_CONSTEXPR_EXCEPT_WIN_CUDA", "CONSTEXPR_EXCEPT_WIN_CUDA",
    "C10_HOST_CONSTEXPR_VAR", "C10_ALWAYS_INLINE_ATTRIBUTE", "C10_TYPENAME_CONSTEXPR", "C10_EXPORT_CLASS",
    "C10_ANONYMOUS_VARIABLE_UNUSED", "__ubsan_ignore_float_divide_by_zero__", "__ubsan_ignore_undefined__",
    "__ubsan_ignore_signed_int_overflow__", "__ubsan_ignore_function__", "__ubsan_ignore_pointer_overflow__",
    "TORCH_UNUSED", "TORCH_NODISCARD", "AT_CPP14_CONSTEXPR", "C10_CPP14_CONSTEXPR", "C10_CONSTEXPR_TYPE",
    "CUTLASS_HOST_DEVICE", "CUTLASS_DEVICE", "CUTLASS_HOST", "CUB_RUNTIME_FUNCTION", "FMT_API",
    "FMT_CONSTEXPR", "FMT_CONSTEXPR20", "FMT_INLINE", "GLOO_API", "ONNX_API", "PROTOBUF_EXPORT",
    "DNNL_API", "SLEEF_INLINE", "CAFFE2_CUDA_API", "CAFFE2_CUDA_EXPORT", "TH_API", "THC_API", "TORCH_XPU_API",
    "__restrict", "C10_RESTRICT", "__CUDA_ARCH_CONSTEXPR__", "VISIBILITY_HIDDEN", "__at_align__",
    "PROTOBUF_ALWAYS_INLINE", "PROTOBUF_NOINLINE", "PROTOBUF_NODISCARD", "PROTOBUF_FUTURE_FINAL",
    "PYBIND11_NOINLINE", "PYBIND11_EXPORT", "PYBIND11_EXPORT_EXCEPTION", "PYBIND11_INLINE", "C10_CUDA_CPP_API",
    "TORCH_PYTHON_API", "C10_LIKELY", "C10_ATTR_ALWAYS_INLINE", "AT_ALWAYS_INLINE",
    "GPU_LAMBDA", "FUNCAPI", "JNIEXPORT", "JNICALL", "PyObject_HEAD", "PyObject_VAR_HEAD", "CAFFE2_CUDA_API",
    "TORCH_CUDA_CU_API", "C10_MPARK_ALWAYS_INLINE", "C10_ALWAYS_INLINE_UNLESS_MOBILE",
)
_WITH_ARGS = (
    "__launch_bounds__", "C10_LAUNCH_BOUNDS_0", "C10_LAUNCH_BOUNDS_1", "C10_LAUNCH_BOUNDS_2",
    "C10_DEPRECATED_MESSAGE", "__align__", "C10_ALIGNAS", "C10_CLANG_DIAGNOSTIC_PUSH",
    "C10_CLANG_DIAGNOSTIC_POP", "C10_CLANG_DIAGNOSTIC_IGNORE", "C10_DIAGNOSTIC_PUSH_AND_IGNORED_IF_DEFINED",
    "C10_DIAGNOSTIC_POP", "C10_THREAD_LOCAL", "C10_LIKELY_ATTR", "__declspec", "__pragma", "_Pragma",
    "C10_DEFINE_DEPRECATED_USING", "C10_MPARK_CONSTEXPR", "CUDA_LAUNCH_BOUNDS",
    # namespace-opening/closing macros come in balanced pairs: blanking both keeps the braces balanced
    "PYBIND11_NAMESPACE_BEGIN", "PYBIND11_NAMESPACE_END", "HIDDEN_NAMESPACE_BEGIN", "HIDDEN_NAMESPACE_END",
)
_PLAIN_SET = frozenset(_PLAIN)
_ARGS_SET = frozenset(_WITH_ARGS)
# The listed tokens and the all-caps `*_API`/`*_EXPORT` export-macro convention, as whole identifiers. RE2 (a
# dependency already, for .gitignore matching) runs the alternation as one automaton: Python's `re` tried the
# alternatives one by one, and matching every capitalised identifier to filter in Python cost a tenth of
# C-family extraction. This only locates tokens; `blank_macros` then checks each is code, not a directive.
_CANDIDATE = re2.compile(
    rb"\b(?:" + b"|".join(re.escape(t.encode()) for t in sorted(set(_PLAIN + _WITH_ARGS), key=lambda t: (-len(t), t)))
    + rb"|(?:[A-Z_][A-Z0-9_]*)?_(?:API|EXPORT|IMPORT|VISIBILITY))\b")
_BRACE_DEFAULT = re.compile(rb"(?<![=!<>+\-*/%&|^])=[ \t]*\{")


def _brace_end(data: bytes, pos: int) -> int:
    """End of the short balanced `{ ... }` starting at `pos` that holds no statement, else -1."""
    depth = 0
    for i in range(pos, min(len(data), pos + 400)):
        c = data[i]
        if c == 0x7B:
            depth += 1
        elif c == 0x7D:
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == 0x3B:
            return -1
    return -1


_KERNEL_TOKENS = {"__global__": "kernel", "__device__": "device", "C10_DEVICE": "device",
                  "C10_HOST_DEVICE": "device", "CUTLASS_HOST_DEVICE": "device", "CUTLASS_DEVICE": "device"}


def _logical_line_is_directive(data: bytes, pos: int) -> bool:
    """Whether `pos` lies on a preprocessor line (`#define TORCH_API ...`), following `\\` continuations."""
    start = data.rfind(b"\n", 0, pos) + 1
    while start > 0:
        j = start - 1  # the newline ending the previous physical line
        if j > 0 and data[j - 1] == 13:
            j -= 1
        if j > 0 and data[j - 1] == 92:  # backslash: the previous line continues into this one
            start = data.rfind(b"\n", 0, j - 1) + 1
        else:
            break
    return data[start:pos].lstrip(b" \t").startswith(b"#")


def _args_end(data: bytes, pos: int) -> int:
    """End of a balanced `( ... )` that starts at the first non-blank at or after `pos`, else -1."""
    i = pos
    n = len(data)
    while i < n and data[i] in b" \t\r\n":
        i += 1
    if i >= n or data[i] != 0x28:  # "("
        return -1
    depth = 0
    while i < n:
        c = data[i]
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return i + 1
        elif c == 0x3B or c == 0x7B:  # ";" or "{": not a macro argument list after all
            return -1
        i += 1
    return -1


def blank_macros(data: bytes) -> tuple[bytes, int]:
    """`data` with attribute/export macro tokens (and their arguments) replaced by spaces; and how many.

    Newlines inside blanked arguments are kept, so every byte offset and line number is unchanged.
    """
    buf: bytearray | None = None
    count = 0
    for m in _CANDIDATE.finditer(data):
        start, end = m.span()
        token = m.group(0).decode("ascii")
        if token in _ARGS_SET:
            args = _args_end(data, end)
            if args < 0:
                if token in ("__declspec", "__pragma", "_Pragma"):
                    continue
            else:
                end = args
        elif token not in _PLAIN_SET and _args_end(data, end) >= 0:
            continue  # FOO_API(x): a function-like macro call, not an annotation
        if _logical_line_is_directive(data, start):
            continue
        if buf is None:
            buf = bytearray(data)
        for i in range(start, end):
            if buf[i] not in (10, 13):
                buf[i] = 32
        count += 1
    pos = data.find(b"/*")
    while pos >= 0:  # `/* NOLINT */` inside a continued #define ends the grammar's macro body early
        close = data.find(b"*/", pos + 2)
        if close < 0:
            break
        if _logical_line_is_directive(data, pos):
            if buf is None:
                buf = bytearray(data)
            for i in range(pos, close + 2):
                if buf[i] not in (10, 13):
                    buf[i] = 32
        pos = data.find(b"/*", close + 2)
    for m in _BRACE_DEFAULT.finditer(data):  # `T x = {}` / `= {0, 1}` default arguments
        close = _brace_end(data, m.end() - 1)
        if close < 0 or data[close:close + 40].lstrip(b" \t\r\n")[:1] not in (b",", b")"):
            continue
        if buf is None:
            buf = bytearray(data)
        buf[m.end() - 1] = 0x30  # "0": the grammar wants an expression here, an initializer list is not one
        for i in range(m.end(), close):
            if buf[i] not in (10, 13):
                buf[i] = 32
        count += 1
    return (bytes(buf) if buf is not None else data), count


_IF_WORDS = (b"if", b"ifdef", b"ifndef")
_ELSE_WORDS = (b"else", b"elif", b"elifdef", b"elifndef")


def blank_else_branches(data: bytes) -> bytes:
    """`data` with the code of every `#else`/`#elif` branch blanked, as ctags reads C: first branch only.

    `#if A  if (x) {  #else  if (y) {  #endif` opens two braces for one close, which no grammar can parse;
    keeping only the first branch balances them. Directive lines (nested `#if`, `#define`) stay, so
    macros defined in other branches are still found. Used only when a file fails to parse as it is.
    """
    out = bytearray(data)
    depth = 0
    blank_depth = 0  # > 0: inside an else branch opened at this #if depth
    pos = 0
    n = len(data)
    continued = False
    while pos < n:
        end = data.find(b"\n", pos)
        if end < 0:
            end = n
        line = data[pos:end]
        stripped = line.lstrip(b" \t")
        directive = continued or stripped.startswith(b"#")
        if stripped.startswith(b"#") and not continued:
            word = stripped[1:].lstrip(b" \t").split(None, 1)
            w = word[0].split(b"(")[0] if word else b""
            if w in _IF_WORDS:
                depth += 1
            elif w in _ELSE_WORDS:
                if blank_depth == 0 or blank_depth == depth:
                    blank_depth = depth
            elif w == b"endif":
                if blank_depth == depth:
                    blank_depth = 0
                depth = max(0, depth - 1)
        elif blank_depth and not directive:
            for i in range(pos, end):
                if out[i] != 13:
                    out[i] = 32
        continued = directive and line.rstrip(b"\r").endswith(b"\\")
        pos = end + 1
    return bytes(out)


def _error_bytes(root: Node) -> int:
    total = 0
    stack = [root]
    while stack:
        node = stack.pop()
        if not node.has_error:
            continue
        if node.is_error:
            total += node.end_byte - node.start_byte
        elif node.is_missing:
            total += 1
        else:
            stack.extend(node.children)
    return total


def parse_c_family(data: bytes, grammar: str) -> tuple[Node, bytes]:
    """Parse after blanking attribute macros; retry with only the first `#if` branches if that parses better.

    Returns the root node and the bytes actually parsed (same length and lines as `data`).
    """
    blanked, _ = blank_macros(data)
    tree = ts.parse(grammar, blanked)
    if tree.root_node.has_error and b"#el" in blanked:
        retry_bytes = blank_else_branches(blanked)
        retry = ts.parse(grammar, retry_bytes)
        if _error_bytes(retry.root_node) < _error_bytes(tree.root_node):
            return retry.root_node, retry_bytes
    return tree.root_node, blanked


# -- comments -----------------------------------------------------------------------------------
_NOISE = ("clang-format", "NOLINT", "namespace ", "end namespace", "@lint", "IWYU", "TODO")


def comment_text(raw: str) -> str:
    """A comment's words without `//`, `///`, `/** */` and leading `*` markers."""
    lines = []
    if raw.startswith("/*"):
        body = raw[2:-2] if raw.endswith("*/") else raw[2:]
        body = body.lstrip("*!<")
        for ln in body.splitlines():
            s = ln.strip()
            if s.startswith("*"):
                s = s[1:]
            lines.append(s.strip())
    else:
        for ln in raw.splitlines():
            s = ln.strip().lstrip("/#").lstrip("!<")
            lines.append(s.strip())
    return "\n".join(lines).strip()


def doc_comment(data: bytes, node: Node, comment_types: tuple[str, ...] = ("comment",),
                skip: tuple[str, ...] = (), start_row: int | None = None) -> str:
    """The comment block directly above `node` (no blank line between), as one paragraph.

    Nodes of the `skip` types (Rust's `#[derive(...)]` attributes) may sit between comment and definition.
    """
    prev = node.prev_sibling
    expect = node.start_point[0] if start_row is None else min(start_row, node.start_point[0])
    parts: list[str] = []
    while prev is not None and (prev.type in comment_types or prev.type in skip):
        if prev.end_point[0] < expect - 1:
            break
        before = prev.prev_sibling
        if before is not None and before.end_point[0] == prev.start_point[0] and before.type not in comment_types \
                and before.type not in skip:
            break  # a trailing comment of the previous line's code
        if prev.type not in skip:
            parts.append(comment_text(ts.text(data, prev)))
        expect = prev.start_point[0]
        prev = before
    if not parts:
        return ""
    text = "\n".join(reversed(parts))
    kept = [ln for ln in text.splitlines() if not ln.strip().startswith(_NOISE)]
    return first_paragraph("\n".join(kept))


def _squash(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


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
class _Scope:
    end: int
    kind: str  # namespace, class, function (a body: only local types count there), transparent
    qualname: str


@dataclass
class _State:
    path: str
    data: bytes  # original text: names, signatures and comments come from here
    parsed: bytes  # what the grammar saw: `data` with macros blanked
    out: Extraction
    seen_namespaces: set[str] = field(default_factory=set)
    class_names: set[str] = field(default_factory=set)
    namespace_names: set[str] = field(default_factory=set)
    pending: list[tuple[int, Symbol, list[str], bool]] = field(default_factory=list)  # out-of-line functions


_GTEST = {"TEST", "TEST_F", "TEST_P", "TYPED_TEST", "TYPED_TEST_P", "CUDA_TEST", "TEST_CUDA", "TEST_CPU",
          "TEST_CUDA_F"}
_CONTAINER_KINDS = {"namespace": "namespace", "class": "class", "struct": "class", "union": "class",
                    "protocol": "class"}
_KIND_OF = {"class": "class", "struct": "struct", "union": "union", "enum": "enum", "protocol": "protocol"}


def _grammar_for(language: str) -> tuple[str, str]:
    if language == "c":
        return "c", "c"
    if language == "objc":
        return "objc", "objc"
    return "cuda", "cpp"


def _make_extractor(language: str) -> Callable[[str, str], Extraction]:
    grammar, qname = _grammar_for(language)

    @ts.safe(language)
    def extract(path: str, text: str) -> Extraction:
        return extract_c_family(path, text, grammar, qname)

    extract.__name__ = f"extract_{language.replace('-', '_')}"
    return extract


@functools.cache
def _query(grammar: str, query_name: str) -> Any:
    """The symbol query with the findings rules' patterns (`crules.patterns`) appended: one walk for both."""
    return ts.compile_query(grammar, ts.query_source(query_name) + "\n" + crules.patterns(grammar))


def extract_c_family(path: str, text: str, grammar: str, query_name: str) -> Extraction:
    """Symbols, includes, gtest cases and a parse diagnostic for one C-family file."""
    out = Extraction()
    data = text.encode("utf-8", "surrogatepass")
    root, parsed = parse_c_family(data, grammar)
    caps = ts.captures(_query(grammar, query_name), root)
    rule_caps = {k: caps.pop(k) for k in list(caps) if k.startswith(crules.PREFIX)}
    st = _State(path, data, parsed, out)
    items: list[tuple[int, int, str, Node]] = []
    for kind, nodes in caps.items():
        for n in nodes:
            items.append((n.start_byte, -n.end_byte, kind, n))
    items.sort(key=lambda it: (it[0], it[1]))
    stack: list[_Scope] = []
    for start, _neg_end, kind, node in items:
        while stack and stack[-1].end <= start:
            stack.pop()
        if kind == "include":
            _include(st, node)
            continue
        if kind == "macro":
            name = node.child_by_field_name("name")
            if name is not None:
                sym = _add(st, node, "macro", ts.text(data, name), "", "", _squash(_macro_signature(data, node)), ())
                if sym.line != ts.line(name):  # error recovery can start the node on an earlier line
                    st.out.symbols[-1] = dataclasses.replace(sym, line=ts.line(name))
            continue
        scope = next((s for s in reversed(stack) if s.kind != "transparent"), None)
        prefix = scope.qualname if scope is not None else ""
        in_class = scope is not None and scope.kind == "class"
        if scope is not None and scope.kind == "function" and kind not in _KIND_OF:
            if kind not in ("function", "namespace"):
                continue  # local declarations (`Foo bar(baz);` is a variable) and local aliases are not API
            # A function inside a function body exists only in an error-recovered tree (a `}` lost to a
            # macro such as `CATCH_ALL_ERRORS(return)`): it belongs to the enclosing namespace or class.
            scope = next((s for s in reversed(stack) if s.kind in ("namespace", "class")), None)
            prefix = scope.qualname if scope is not None else ""
            in_class = scope is not None and scope.kind == "class"
        if kind == "namespace":
            _namespace(st, node, prefix, stack)
        elif kind in _KIND_OF:
            _type(st, node, kind, prefix, stack, local=scope is not None and scope.kind == "function")
        elif kind == "function":
            qualname = _function(st, node, prefix, in_class, scope)
            stack.append(_Scope(node.end_byte, "function", qualname))
        elif kind == "prototype":
            _prototype(st, node, prefix, in_class, scope)
        elif kind in ("typedef", "alias"):
            _alias(st, node, kind, prefix)
        elif kind == "objc_method":
            _objc_method(st, node, prefix)
    _resolve_out_of_line(st)
    out.symbols.sort(key=lambda s: (s.line, s.end_line))
    t0 = time.perf_counter()
    out.findings.extend(crules.check(root, data, grammar, rule_caps))
    out.seconds["rules"] = time.perf_counter() - t0
    out.docstring = _file_comment(data, root)
    diag = ts.error_diagnostic(path, root, len(data))
    if diag is not None:
        out.diagnostics.append(diag)
        out.parse_ok = bool(out.symbols) or bool(out.imports) or not _mostly_errors(root, len(data))
    return out


def _mostly_errors(root: Node, total: int) -> bool:
    return bool(root.type == "ERROR" or (root.named_child_count == 1 and root.named_children[0].type == "ERROR"))


def _macro_signature(data: bytes, node: Node) -> str:
    """`#define NAME(args)`, plus the value of an object-like macro when it is short."""
    value = node.child_by_field_name("value")
    end = value.start_byte if value is not None else node.end_byte
    head = data[node.start_byte:end].decode("utf-8", "replace").strip()
    if node.type == "preproc_def" and value is not None:
        text = " ".join(ts.text(data, value).split())
        if len(text) <= 60 and "\\" not in text:
            head = f"{head} {text}"
    return head


def _add(st: _State, node: Node, kind: str, name: str, qualname: str, parent: str, signature: str,
         flags: tuple[str, ...], summary: str | None = None, bases: tuple[str, ...] = ()) -> Symbol:
    doc_node = _outer(node)
    start = _start(st, doc_node)  # at or before the node: count only the newlines in between
    line = doc_node.start_point[0] + 1 - st.data.count(b"\n", start, doc_node.start_byte)
    sym = Symbol(kind=kind, name=name, qualname=qualname or name, line=line,
                 end_line=ts.end_line(node), signature=signature,
                 summary=doc_comment(st.data, doc_node, start_row=line - 1) if summary is None else summary,
                 bases=bases, parent=parent, flags=flags)
    st.out.symbols.append(sym)
    return sym


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


def _start(st: _State, node: Node) -> int:
    """Where `node` starts in the source, including blanked macros right before it (`__device__ float f()`)."""
    i: int = node.start_byte
    parsed, data = st.parsed, st.data
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


def _signature_to_body(st: _State, node: Node, head: Node) -> str:
    body = node.child_by_field_name("body")
    end = body.start_byte if body is not None else node.end_byte
    return _squash(st.data[_start(st, head):end].decode("utf-8", "replace").rstrip().rstrip(";"))


def _namespace(st: _State, node: Node, prefix: str, stack: list[_Scope]) -> None:
    name_node = node.child_by_field_name("name")
    if name_node is None:
        stack.append(_Scope(node.end_byte, "transparent", ""))  # anonymous: internal linkage, no name
        return
    name = "".join(ts.text(st.data, name_node).split())
    qualname = _join(prefix, name)
    stack.append(_Scope(node.end_byte, "namespace", qualname))
    st.namespace_names.add(qualname)
    if qualname in st.seen_namespaces:
        return  # reopened namespace: one symbol per namespace, at its first block
    st.seen_namespaces.add(qualname)
    parent, _, _ = qualname.rpartition("::")
    flags = ("inline",) if node.children and node.children[0].type == "inline" else ()
    _add(st, node, "namespace", name, qualname, parent, f"namespace {name}", flags)


def _type(st: _State, node: Node, kind: str, prefix: str, stack: list[_Scope], local: bool = False) -> None:
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
            stack.append(_Scope(node.end_byte, "transparent", ""))
        return
    qualname = _join(prefix, name)
    if container:
        stack.append(_Scope(node.end_byte, container, qualname))
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
        signature = _squash(f"typedef {node.children[0].type} {{…}} {name}")
    elif node.child_by_field_name("body") is not None:
        signature = _signature_to_body(st, node, head)
    else:
        signature = _squash(ts.text(data, node).split("\n", 1)[0])
    _add(st, node, _KIND_OF[kind], name, qualname, prefix, signature, tuple(flags), bases=bases)


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


def _function(st: _State, node: Node, prefix: str, in_class: bool, scope: _Scope | None) -> str:
    """Add the function or method `node` defines; returns its qualified name ("" when it is none)."""
    data = st.data
    decl = node.child_by_field_name("declarator")
    name_node = _function_name_node(decl)
    if name_node is None:
        return ""  # e.g. a macro-shaped definition such as `FOO(x) { }` without a function declarator
    if name_node.type == "identifier" and ts.text(data, name_node) in _GTEST and not in_class:
        return _gtest(st, node, name_node, decl, prefix)
    flags = _spec_flags(data, _start(st, node), node, decl)
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


def _function_symbol(st: _State, node: Node, name_node: Node, prefix: str, in_class: bool,
                     scope: _Scope | None, flags: list[str], signature: str) -> str:
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
        sym = _add(st, node, "function", name, _join(parent, name), parent, signature, tuple(flags))
        st.pending.append((len(st.out.symbols) - 1, sym, quals, templated))
        return sym.qualname
    kind = "method" if in_class else "function"
    return _add(st, node, kind, name, _join(prefix, name), prefix, signature, tuple(flags)).qualname


def _resolve_out_of_line(st: _State) -> None:
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


def _prototype(st: _State, node: Node, prefix: str, in_class: bool, scope: _Scope | None) -> None:
    data = st.data
    first = node.children[0] if node.child_count else None
    if first is not None and first.type == "friend":
        return
    for decl in node.children_by_field_name("declarator"):
        name_node = _function_name_node(decl)
        if name_node is None:
            continue
        if name_node.type == "identifier" and ts.text(data, name_node) in _GTEST:
            continue
        flags = ["declaration", *_spec_flags(data, _start(st, node), node, decl)]
        outer = _outer(node)
        if outer.type == "template_declaration":
            flags.append("template")
        for c in node.named_children:
            if c.type == "number_literal" and node.child_by_field_name("default_value") is not None:
                flags.append("pure")
                break
        head = outer if outer.type == "template_declaration" else node
        signature = _squash(data[_start(st, head):decl.end_byte].decode("utf-8", "replace"))
        _function_symbol(st, node, name_node, prefix, in_class, scope, flags, signature)


def _alias(st: _State, node: Node, kind: str, prefix: str) -> None:
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
    signature = _squash(data[head.start_byte:node.end_byte].decode("utf-8", "replace").rstrip(";"), 200)
    for n in names:
        name = ts.text(data, n)
        _add(st, node, "alias", name, _join(prefix, name), prefix, signature, flags)


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


def _objc_method(st: _State, node: Node, prefix: str) -> None:
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
    signature = _squash(data[node.start_byte:end].decode("utf-8", "replace").rstrip().rstrip(";"))
    flags = ("declaration",) if node.type == "method_declaration" else ()
    if signature.startswith("+"):
        flags = (*flags, "class")
    _add(st, node, "method", name, _join(prefix, name), prefix, signature, flags)


def _gtest(st: _State, node: Node, name_node: Node, decl: Node | None, prefix: str) -> str:
    data = st.data
    macro = ts.text(data, name_node)
    params = decl.child_by_field_name("parameters") if decl is not None else None
    args = [" ".join(ts.text(data, p).split()) for p in params.named_children] if params is not None else []
    name = ".".join(args) if args else macro
    st.out.tests.append(TestCase(name=name, line=ts.line(node), framework="gtest"))
    return _add(st, node, "test", name, _join(prefix, name), prefix, _squash(f"{macro}({', '.join(args)})"),
                ()).qualname


# -- includes -----------------------------------------------------------------------------------
_CONDITIONAL = {"preproc_if", "preproc_ifdef", "preproc_elif", "preproc_else", "preproc_elifdef"}


def _is_header_guard(data: bytes, node: Node) -> bool:
    if node.type != "preproc_ifdef" or not ts.text(data, node).startswith("#ifndef"):
        return False
    name = node.child_by_field_name("name")
    if name is None:
        return False
    for c in node.named_children:
        if c.type in ("identifier", "comment") or c == name:
            continue
        if c.type == "preproc_def":
            inner = c.child_by_field_name("name")
            return inner is not None and ts.text(data, inner) == ts.text(data, name)
        return False
    return False


def _include(st: _State, node: Node) -> None:
    data = st.data
    path_node = node.child_by_field_name("path")
    if path_node is None:
        return
    system = path_node.type == "system_lib_string"
    raw = ts.text(data, path_node).strip()
    module = raw[1:-1] if (system or path_node.type == "string_literal") and len(raw) >= 2 else raw
    cond = ""
    parent = node.parent
    while parent is not None:
        if parent.type in _CONDITIONAL and not _is_header_guard(data, parent):
            cond = "#if"
            break
        parent = parent.parent
    st.out.imports.append(Import(module=module, line=ts.line(node), conditional=cond, system=system))


def _file_comment(data: bytes, root: Node) -> str:
    """The file's leading comment block unless it is a license header."""
    first = root.named_children[0] if root.named_child_count else None
    if first is None or first.type != "comment":
        return ""
    parts = []
    node: Node | None = first
    while node is not None and node.type == "comment":
        parts.append(comment_text(ts.text(data, node)))
        node = node.next_sibling
    text = "\n".join(parts)
    lowered = text.lower()
    if "copyright" in lowered or "license" in lowered or "spdx" in lowered:
        return ""
    return first_paragraph(text)


extract_c = _make_extractor("c")
extract_cpp = _make_extractor("cpp")
extract_cuda = _make_extractor("cuda")
extract_header = _make_extractor("c-header")
extract_objc = _make_extractor("objc")
extract_objcpp = _make_extractor("objcpp")
