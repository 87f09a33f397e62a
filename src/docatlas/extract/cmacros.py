"""Making C-family text parseable: project macros blanked in place, `#else` branches blanked on a retry.

The C++ grammar does not know project macros, so `class TORCH_API Foo` or `C10_HOST_DEVICE int f()` make it
emit error nodes and lose the surrounding definitions. `blank_macros` overwrites such attribute/export macro
tokens (a fixed token list plus the `*_API`/`*_EXPORT` naming convention) with spaces before parsing, so byte
offsets and line numbers stay those of the file; signatures and comments are always cut from the original
text.
"""

from __future__ import annotations

import re

import re2  # type: ignore[import-untyped]

from docatlas.extract import tsadapter as ts
from docatlas.extract.tsadapter import Node

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
    # CPython's statement macros without a semicolon: BEGIN opens a block that END closes, so blanking both
    # keeps the braces balanced and the statements between them parse as the body they are
    "Py_BEGIN_ALLOW_THREADS", "Py_END_ALLOW_THREADS", "Py_BLOCK_THREADS", "Py_UNBLOCK_THREADS",
    "Py_EXPORTED_SYMBOL", "Py_IMPORTED_SYMBOL", "Py_LOCAL_SYMBOL", "_Py_NO_RETURN", "Py_NO_INLINE",
    "Py_ALWAYS_INLINE", "_Py_NO_SANITIZE_ADDRESS", "_Py_NO_SANITIZE_THREAD", "_Py_NO_SANITIZE_MEMORY",
    "_Py_HOT_FUNCTION", "Py_NO_RETURN",
    # PyTorch's `try {` ... `} catch (...) {...}` pair around Python-facing bodies, blanked together likewise
    "HANDLE_TH_ERRORS", "END_HANDLE_TH_ERRORS", "END_HANDLE_TH_ERRORS_PYBIND",
)
# Export macros that take the declared type as their argument (`PyAPI_FUNC(PyObject *) f(void);`): the macro
# name and its parentheses are blanked, the type inside them stays for the grammar.
_TYPE_WRAPPERS = frozenset(("PyAPI_FUNC", "PyAPI_DATA", "Py_LOCAL", "Py_LOCAL_INLINE", "XMLPARSEAPI"))
_WITH_ARGS = (
    "__launch_bounds__", "C10_LAUNCH_BOUNDS_0", "C10_LAUNCH_BOUNDS_1", "C10_LAUNCH_BOUNDS_2",
    "C10_DEPRECATED_MESSAGE", "__align__", "C10_ALIGNAS", "C10_CLANG_DIAGNOSTIC_PUSH",
    "C10_CLANG_DIAGNOSTIC_POP", "C10_CLANG_DIAGNOSTIC_IGNORE", "C10_DIAGNOSTIC_PUSH_AND_IGNORED_IF_DEFINED",
    "C10_DIAGNOSTIC_POP", "C10_THREAD_LOCAL", "C10_LIKELY_ATTR", "__declspec", "__pragma", "_Pragma",
    "C10_DEFINE_DEPRECATED_USING", "C10_MPARK_CONSTEXPR", "CUDA_LAUNCH_BOUNDS",
    # namespace-opening/closing macros come in balanced pairs: blanking both keeps the braces balanced
    "PYBIND11_NAMESPACE_BEGIN", "PYBIND11_NAMESPACE_END", "HIDDEN_NAMESPACE_BEGIN", "HIDDEN_NAMESPACE_END",
    "Py_DEPRECATED", "Py_GCC_ATTRIBUTE", "Py_ALIGNED", "_Py_ALIGNED_DEF", "END_HANDLE_TH_ERRORS_RET",
)
_PLAIN_SET = frozenset(_PLAIN)
_ARGS_SET = frozenset(_WITH_ARGS)
# The listed tokens and the all-caps `*_API`/`*_EXPORT` export-macro convention, as whole identifiers. RE2 (a
# dependency already, for .gitignore matching) runs the alternation as one automaton: Python's `re` tried the
# alternatives one by one, and matching every capitalised identifier to filter in Python cost a tenth of
# C-family extraction. This only locates tokens; `blank_macros` then checks each is code, not a directive.
_CANDIDATE = re2.compile(
    rb"\b(?:" + b"|".join(re.escape(t.encode()) for t in sorted(set(_PLAIN + _WITH_ARGS) | _TYPE_WRAPPERS,
                                                               key=lambda t: (-len(t), t)))
    + rb"|(?:[A-Z_][A-Z0-9_]*)?_(?:API|EXPORT|IMPORT|VISIBILITY))\b")
# `= {` of a default argument; the byte before the `=` (not `==`, `<=`, `+=` ...) is checked in `blank_macros`: a
# pattern that starts with a literal lets `re` search for it, where a leading lookbehind was tried at every byte.
_BRACE_DEFAULT = re.compile(rb"=[ \t]*\{")
_NOT_BEFORE_DEFAULT = frozenset(b"=!<>+-*/%&|^")


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


def _args_end(data: bytes, pos: int, braces: bool = False) -> int:
    """End of a balanced `( ... )` that starts at the first non-blank at or after `pos`, else -1 (also at a `;`,
    and at a `{` unless `braces`: `FORWARD_HAS_DEFAULT_ARGS({1, AnyValue()})`)."""
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
        elif c == 0x3B or (c == 0x7B and not braces):  # ";" or "{": not a macro argument list after all
            return -1
        i += 1
    return -1


def _code_before(data: bytes, pos: int) -> bytes:
    """Up to 400 bytes of text before `pos`, without the whole-line `//` comments just above it (at most 60
    of them; a `/* */` comment's end stays, as `/`)."""
    end = pos
    for _ in range(60):
        line_start = data.rfind(b"\n", 0, end) + 1
        if not data[line_start:end].strip() or data[line_start:end].lstrip().startswith(b"//"):
            if line_start == 0:
                return b""
            end = line_start - 1
            continue
        break
    return data[max(0, end - 400):end].rstrip()


def blank_macros(data: bytes) -> tuple[bytes, int]:
    """`data` with attribute/export macro tokens (and their arguments) replaced by spaces; and how many.

    Newlines inside blanked arguments are kept, so every byte offset and line number is unchanged.
    """
    buf: bytearray | None = None
    count = 0
    for m in _CANDIDATE.finditer(data):
        start, end = m.span()
        token = m.group(0).decode("ascii")
        if token in _TYPE_WRAPPERS:
            args = _args_end(data, end)
            if args < 0 or _logical_line_is_directive(data, start):
                continue
            if buf is None:
                buf = bytearray(data)
            for i in range(start, data.index(b"(", end) + 1):
                if buf[i] not in (10, 13):
                    buf[i] = 32
            buf[args - 1] = 32
            count += 1
            continue
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
        if m.start() and data[m.start() - 1] in _NOT_BEFORE_DEFAULT:
            continue
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
    for m in _LAMBDA_INTRO.finditer(data):  # `[pf(std::move(pf))](...)`: init captures the grammar lacks
        before = _code_before(data, m.start())
        if not (before[-1:] in b"(,={" or before.endswith(b"return")):
            continue
        spans = _init_captures(data, m.end() - 1)
        if spans:
            if buf is None:
                buf = bytearray(data)
            for a, b in spans:
                for i in range(a, b):
                    if buf[i] not in (10, 13):
                        buf[i] = 32
            count += 1
    for m in _CALL_LINE.finditer(data):  # `  DEF_HELPEE_FUNC(Long, val_)` alone on its lines, no `;`
        close = _args_end(data, m.end() - 1, braces=True)
        if close < 0:
            continue
        eol = data.find(b"\n", close)
        eol = len(data) if eol < 0 else eol
        tail = data[close:eol].strip()
        before = _code_before(data, m.start())
        after = data[eol:eol + 200].lstrip()
        if (tail and not tail.startswith(b"//")) or not before or before[-1:] not in b";{})/:" \
                or after[:1] in b"),;=[.-+*/&|?:<>{(" or _logical_line_is_directive(data, m.start()):
            continue
        if buf is None:
            buf = bytearray(data)
        for i in range(m.start(1), close):
            if buf[i] not in (10, 13):
                buf[i] = 32
        count += 1
    for m in _STATEMENT_LINE.finditer(data):  # `    ENTER_PYTHON` alone on a line inside a body
        last = _last_code_byte(data, m.start())
        after = data[m.end():m.end() + 200].lstrip()
        if last < 0 or data[last:last + 1] not in b";{})" or after[:1] in b"),;=[.-+*/&|?:<>":
            continue
        if buf is None:
            buf = bytearray(data)
        for i in range(m.start(1), m.end(1)):
            buf[i] = 32
        count += 1
    return (bytes(buf) if buf is not None else data), count


_SPACE = frozenset(b" \t\n\r\x0b\x0c")  # what `bytes.rstrip()` strips


def _last_code_byte(data: bytes, pos: int) -> int:
    """Index of the last byte before `pos` that is not blank, else -1: `data[:pos].rstrip()`'s last byte without
    copying the text before `pos` (once per statement-macro line, that copy made the scan quadratic)."""
    i = pos - 1
    while i >= 0 and data[i] in _SPACE:
        i -= 1
    return i


# A lambda's capture list with a name followed by `(` or `{` in it, after `(`, `,`, `=`, `{` or `return` (comments
# between allowed); `_init_captures` reads it.
# (The `[` comes first and the lookbehind, over it and the byte before, after: `re` then searches for the literal.)
_LAMBDA_INTRO = re.compile(rb"\[(?<![A-Za-z0-9_\])\[]\[)(?=[^\]\[;]{0,200}?[A-Za-z0-9_]\s*[({])")
_CAPTURE_NAME = re.compile(rb"\s*&?\s*[A-Za-z_][A-Za-z0-9_]*\s*(?=[({])")


def _init_captures(data: bytes, pos: int) -> list[tuple[int, int]]:
    """For the capture list opening at `pos` (`[a, pf(std::move(pf)), fn{std::move(fn)}](...)`), the spans of the
    initializers written in parentheses or braces, which the grammar cannot parse (it knows `pf = x` only):
    blanked, each capture keeps its name. None when the brackets are no capture list followed by `(`, `{`,
    `mutable` or `->`."""
    depth, i, end = 0, pos, min(len(data), pos + 400)
    items: list[tuple[int, int]] = []
    start = pos + 1
    while i < end:
        c = data[i]
        if c in b"([{":
            depth += 1
        elif c in b")]}":
            depth -= 1
            if depth == 0:
                break
        elif c == 0x2C and depth == 1:  # ","
            items.append((start, i))
            start = i + 1
        elif c == 0x3B:  # ";"
            return []
        i += 1
    else:
        return []
    items.append((start, i))
    if not data[i + 1:i + 40].lstrip().startswith((b"(", b"{", b"mutable", b"->")):
        return []
    spans = []
    for a, b in items:
        while b > a and data[b - 1] in b" \t\r\n":
            b -= 1
        m = _CAPTURE_NAME.match(data, a, b)
        if m is not None and data[b - 1:b] in (b")", b"}"):
            spans.append((m.end(), b))
    return spans


# An indented line holding only an all-caps name, after a statement or a brace and before another statement:
# a statement macro used without a semicolon (`ENTER_PYTHON`, `Py_BEGIN_ALLOW_THREADS`), often one that opens
# a block another closes. The grammar takes it for a type and loses the statement after it, and with an
# unbalanced pair the rest of the file; blanked like its partner, the braces stay balanced.
# The same for a macro call with arguments (`DEF_HELPEE_FUNC(Long, val_)` declaring members in a class body,
# `KERNEL(ADD_NS(conv1d), "conv1d", Tensor (const Tensor &), fp32)` registering in a block): the grammar reads
# the call as a declaration that never ends and loses the scopes around it, so the call is blanked.
# (RE2, as `_CANDIDATE`: `re` tried a pattern anchored at line starts at every byte.)
_CALL_LINE = re2.compile(rb"(?m)^[ \t]+([A-Z][A-Z0-9_]{2,})[ \t]*\(")
_STATEMENT_LINE = re2.compile(rb"(?m)^[ \t]+([A-Z][A-Z0-9_]{3,})[ \t]*\r?$")


# A raw string's delimiter may have 16 characters (`R"PT_METAL_SHADERS(...)PT_METAL_SHADERS"`); the grammar's
# scanner takes at most 15 and then loses the rest of the file, with function definitions read from the
# string's text (a Metal shader source). `shorten_raw_delimiters` drops the last character of such a
# delimiter at both ends and pads with a space inside the string, so lengths and lines stay the same.
_RAW_OPEN = re.compile(rb'(?<![A-Za-z0-9_])(?:u8|u|U|L)?R"([^()\\ \t\r\n"]{16})\(')


def shorten_raw_delimiters(data: bytes) -> bytes:
    """`data` with every 16-character raw-string delimiter cut to 15 characters (see `_RAW_OPEN`)."""
    if b'R"' not in data:
        return data
    buf: bytearray | None = None
    pos = 0
    while True:
        m = _RAW_OPEN.search(data, pos)
        if m is None:
            break
        delim = m.group(1)
        close = data.find(b")" + delim + b'"', m.end())
        if close < 0:
            break
        if buf is None:
            buf = bytearray(data)
        short = delim[:15]
        buf[m.start(1):m.end()] = short + b"( "  # same length: 16 + "(" -> 15 + "(" + " "
        buf[close:close + len(delim) + 2] = b" )" + short + b'"'
        pos = close + len(delim) + 2
    return bytes(buf) if buf is not None else data


_IF_WORDS = (b"if", b"ifdef", b"ifndef")
_ELSE_WORDS = (b"else", b"elif", b"elifdef", b"elifndef")


def blank_else_branches(data: bytes) -> bytes:
    """`data` with the code of every `#else`/`#elif` branch blanked, as ctags reads C: first branch only.

    `#if A  if (x) {  #else  if (y) {  #endif` opens two braces for one close, which no grammar can parse;
    keeping only the first branch balances them. Directive lines (nested `#if`, `#define`) stay, so
    macros defined in other branches are still found. Used only when a file fails to parse as it is.
    """
    return blank_branches(data, 0)[0]


Lines = list[tuple[int, int, bool, bytes]]


def _lines(data: bytes) -> Lines:
    """(start, end, is a directive or its continuation, the directive's word) per physical line. Blanking
    branches or conditionals keeps every directive line and turns other lines blank, so a text and its
    blanked variants share one table (`parse_variants` makes it once)."""
    out = []
    pos = 0
    n = len(data)
    continued = False
    while pos < n:
        end = data.find(b"\n", pos)
        if end < 0:
            end = n
        line = data[pos:end]
        stripped = line.lstrip(b" \t")
        word = b""
        if stripped.startswith(b"#") and not continued:
            parts = stripped[1:].lstrip(b" \t").split(None, 1)
            word = parts[0].split(b"(")[0] if parts else b""
        directive = continued or stripped.startswith(b"#")
        out.append((pos, end, directive, word))
        continued = directive and line.rstrip(b"\r").endswith(b"\\")
        pos = end + 1
    return out


def blank_branches(data: bytes, keep: int, inner: int | None = None, lines: Lines | None = None
                   ) -> tuple[bytes, int]:
    """`data` with one branch of every `#if` chain kept (the `keep`-th, or the first where a chain has fewer) and
    the code of the others blanked; and the most branches any chain has. Directive lines always stay.

    With `inner`, a chain nested in a later branch (`#elif`/`#else`) of a chain keeps its `inner`-th branch
    instead: `#if A … #else  #ifdef B  f() {…}  #endif  #endif` has `f` only in the first branch of a chain
    inside a second branch, which no single `keep` reaches. `lines`: `_lines(data)` when the caller has it."""
    if lines is None:
        lines = _lines(data)
    counts: dict[int, int] = {}  # line index of an `#if` -> its chain's number of branches
    opened: list[int] = []
    for i, (_s, _e, _d, word) in enumerate(lines):
        if word in _IF_WORDS:
            opened.append(i)
            counts[i] = 1
        elif word in _ELSE_WORDS and opened:
            counts[opened[-1]] += 1
        elif word == b"endif" and opened:
            opened.pop()
    out = bytearray(data)
    chains: list[list[int]] = []  # per open chain: [current branch, branch kept]
    for i, (start, end, directive, word) in enumerate(lines):
        if word in _IF_WORDS:
            want = keep if inner is None or not any(cur > 0 for cur, _ in chains) else inner
            chains.append([0, want if want < counts[i] else 0])
        elif word in _ELSE_WORDS and chains:
            chains[-1][0] += 1
        elif word == b"endif" and chains:
            chains.pop()
        elif not directive and any(cur != kept for cur, kept in chains):
            for j in range(start, end):
                if out[j] != 13:
                    out[j] = 32
    return bytes(out), max(counts.values(), default=0)


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
    root, parsed, _, _, _ = parse_variants(data, grammar)
    return root, parsed


MAX_VARIANTS = 4  # branches read per `#if` chain when the file parses only one branch at a time
_HAS_IF = re.compile(rb"^[ \t]*#[ \t]*if", re.MULTILINE)
_CONDITIONAL_WORDS = frozenset((*_IF_WORDS, *_ELSE_WORDS, b"endif"))


def blank_conditionals(data: bytes, lines: Lines | None = None) -> bytes:
    """`data` with every conditional directive (`#if`, `#ifdef`, `#elif`, `#else`, `#endif`, continuation lines
    included) blanked. A directive inside an initializer list (`{ #ifdef X  A, #endif  B }`) or a branch that
    opens a block it closes after `#endif` (`#ifdef X  if (a) {  #else  if (b) {  #endif  … }`) is what the
    grammar cannot parse even one branch at a time; without the directives the kept branch is plain code, as a
    compiler sees it. `line_conditions` gives the conditions back by line. `lines`: `_lines(data)`, or that of the
    text `data` was blanked from (`_lines`)."""
    out = bytearray(data)
    inside = False
    for start, end, directive, word in _lines(data) if lines is None else lines:
        if word or not directive:
            inside = word in _CONDITIONAL_WORDS
        if directive and inside:
            for j in range(start, end):
                if out[j] != 13:
                    out[j] = 32
    return bytes(out)


def _directive_text(data: bytes, start: int, end: int, continued: bool) -> str:
    """One directive line as `cbranches.branch_of` writes a condition: spaces squashed, a continued one marked cut."""
    text = data[start:end].decode("utf-8", "replace").rstrip()
    if continued and text.endswith("\\"):
        text = text[:-1].rstrip() + " …"
    return " ".join(text.split())[:120]


def _words(data: bytes, start: int, end: int) -> list[bytes]:
    """The words of a directive line after its `#` (`#  ifndef X` -> [ifndef, X]), else []."""
    text = data[start:end].lstrip(b" \t")
    return text[1:].split() if text.startswith(b"#") else []


def line_conditions(data: bytes) -> tuple[list[str], frozenset[int]]:
    """Per line (0-based), the preprocessor branches it is compiled in, outermost first, written as
    `cbranches.branch_of` writes them from a tree (`#ifdef X > #else of `#if Y``; include guards left out); and the
    lines of include guards' `#define`s. For a parse without directives (`blank_conditionals`)."""
    lines = _lines(data)
    out: list[str] = []
    guards: set[int] = set()
    chains: list[list[str]] = []  # per open chain: [opener, current branch, "" or "guard"]
    for i, (start, end, _directive, word) in enumerate(lines):
        continued = data[start:end].rstrip(b"\r").endswith(b"\\")
        if word in _IF_WORDS:
            text = _directive_text(data, start, end, continued)
            guard = ""
            if word == b"ifndef":
                nxt = next((j for j in range(i + 1, len(lines)) if data[lines[j][0]:lines[j][1]].strip()
                            and not data[lines[j][0]:lines[j][1]].lstrip().startswith((b"//", b"/*"))), None)
                name = _words(data, start, end)[1:2]
                if nxt is not None and name and _words(data, *lines[nxt][:2])[:2] == [b"define", *name]:
                    guard = "guard"
                    guards.add(nxt)
            chains.append([text, text, guard])
        elif word in _ELSE_WORDS and chains:
            chains[-1][1] = f"#else of `{chains[-1][0]}`" if word == b"else" else \
                _directive_text(data, start, end, continued)
        elif word == b"endif" and chains:
            chains.pop()
        out.append(" > ".join(c[1] for c in chains if not c[2]))
    return out, frozenset(guards)


def parse_variants(data: bytes, grammar: str) -> tuple[Node, bytes, list[tuple[Node, bytes]], bool, bytes]:
    """`parse_c_family`, plus, when only the first `#if` branches parsed well, the parses that keep the second,
    third ... branch of every chain instead (up to `MAX_VARIANTS` in all): definitions in `#elif`/`#else`
    branches are found in those, as ctags finds them. The last value says whether the parses are of text
    without conditional directives (`blank_conditionals`), used when that parses better still; the last, the text
    with macros blanked only (as the first parse saw it)."""
    blanked, _ = blank_macros(data)
    blanked = shorten_raw_delimiters(blanked)
    tree = ts.parse(grammar, blanked)
    if not tree.root_node.has_error or not _HAS_IF.search(blanked):
        return tree.root_node, blanked, [], False, blanked
    best, best_bytes, errors, branched, flat = tree.root_node, blanked, _error_bytes(tree.root_node), False, False
    most = 0
    lines = _lines(blanked)  # one table for every variant below (`_lines`)
    retry_bytes = blanked
    if b"#el" in blanked:
        retry_bytes, most = blank_branches(blanked, 0, lines=lines)
        retry = ts.parse(grammar, retry_bytes).root_node
        retry_errors = _error_bytes(retry)
        if retry_errors < errors:
            best, best_bytes, errors, branched = retry, retry_bytes, retry_errors, True
    flat_bytes = blank_conditionals(retry_bytes if most else blanked, lines)
    flat_root = ts.parse(grammar, flat_bytes).root_node
    if _error_bytes(flat_root) < errors:
        best, best_bytes, branched, flat = flat_root, flat_bytes, most > 1, True
    if not branched:
        return best, best_bytes, [], flat, blanked
    others = []
    seen = {best_bytes}
    wanted: list[tuple[int, int | None]] = [(keep, None) for keep in range(1, min(most, MAX_VARIANTS))]
    wanted += [(keep, 0) for keep in range(1, min(most, MAX_VARIANTS))]  # nested first branches
    for keep, inner in wanted:
        other_bytes, _ = blank_branches(blanked, keep, inner, lines)
        if flat:
            other_bytes = blank_conditionals(other_bytes, lines)
        if other_bytes not in seen:
            seen.add(other_bytes)
            others.append((ts.parse(grammar, other_bytes).root_node, other_bytes))
    return best, best_bytes, others, flat, blanked
