"""Findings for C, C++, CUDA and Objective-C from the tree-sitter tree: security, performance, patterns.

Calls are matched on the called name as the tree gives it: `strcpy(...)` and `std::system(...)` match, a method
`obj.system()` or `ns::system()` does not, and words in comments or strings never do. `check` takes the tree the
C-family extractor already built, so the rules cost one extra walk and no second parse.
"""

from __future__ import annotations

import functools
from typing import Any

from docatlas.extract import tsadapter as ts
from docatlas.model import Finding

Node = Any  # tree_sitter.Node

SECURITY: dict[str, tuple[frozenset[str], str]] = {
    "C-SHELL": (frozenset({"system", "popen", "_popen", "_wsystem"}), "runs a command through the shell "
                                                                       "(CWE-78 if any part is untrusted)"),
    "C-EXEC": (frozenset({"execl", "execlp", "execle", "execv", "execvp", "execvpe", "execve"}),
               "replaces the process with another program: check the path and arguments"),
    "C-STRCPY": (frozenset({"strcpy", "strcat", "wcscpy", "wcscat", "_mbscpy", "lstrcpy", "lstrcat", "StrCpy"}),
                 "unbounded string copy: buffer overflow if the source is longer than the destination (CWE-120)"),
    "C-SPRINTF": (frozenset({"sprintf", "vsprintf", "swprintf", "vswprintf"}),
                  "unbounded formatted write: prefer `snprintf` (CWE-120)"),
    "C-GETS": (frozenset({"gets", "_getws"}), "`gets` cannot limit its input: always a buffer overflow risk"),
    "C-TMPFILE": (frozenset({"mktemp", "tmpnam", "tempnam", "_mktemp"}),
                  "race-prone temporary file name: use `mkstemp` (CWE-377)"),
}
_CALL_RULE = {name: rule for rule, (names, _) in SECURITY.items() for name in names}
_SCANF = {"scanf": 0, "sscanf": 1, "fscanf": 1}
_PRINTF = {"printf": 0, "fprintf": 1, "sprintf": 1, "snprintf": 2, "syslog": 1}
_SYNC = {"cudaDeviceSynchronize", "cudaStreamSynchronize", "cudaEventSynchronize", "hipDeviceSynchronize",
         "hipStreamSynchronize"}
_THREADS = {"thread", "async", "jthread", "mutex", "shared_mutex", "condition_variable", "atomic"}


def _text(data: bytes, node: Node) -> str:
    return data[node.start_byte:node.end_byte].decode("utf-8", "replace")


def _callee(data: bytes, fn: Node) -> str | None:
    """`strcpy` for `strcpy(...)`/`::strcpy(...)`/`std::strcpy(...)`; None for methods and other scopes."""
    if fn.type == "identifier":
        return _text(data, fn)
    if fn.type == "qualified_identifier":
        scope = fn.child_by_field_name("scope")
        name = fn.child_by_field_name("name")
        if name is not None and name.type == "identifier" and (scope is None or _text(data, scope) == "std"):
            return _text(data, name)
    return None


# One pattern per rule family. A query visits the tree in C; walking every node in Python cost a third of
# all C/C++ extraction time, and so did looking at every call: calls are matched by name in the query
# (`#any-of?`), and Python sees only those it has a rule for. Patterns whose node types a grammar lacks (C has
# no qualified_identifier or kernel launch) are dropped for that grammar.
def _quoted(names: Any) -> str:
    return " ".join(f'"{n}"' for n in sorted(names))


_CALLED = _quoted({*_CALL_RULE, *_SCANF, *_PRINTF, *_SYNC})
_PATTERNS = (
    f"(call_expression function: (identifier) @rule.name (#any-of? @rule.name {_CALLED})) @rule.call",
    "(call_expression function: (qualified_identifier name: (identifier) @rule.name "
    f"(#any-of? @rule.name {_CALLED}))) @rule.call",
    "(call_expression (kernel_call_syntax)) @rule.launch",
    "(function_definition) @rule.function",  # a kernel by the `__global__` before its declarator (`_kernel`)
    "(preproc_call) @rule.pragma",
    '(qualified_identifier scope: (namespace_identifier) @rule.scope name: (_) @rule.member (#eq? @rule.scope "std") '
    f"(#any-of? @rule.member {_quoted(_THREADS)})) @rule.std",
)


PREFIX = "rule."  # the capture names of the patterns below


@functools.cache
def patterns(grammar: str) -> str:
    """The rules' query patterns that this grammar can compile. The C-family extractor appends them to its own
    query, so that one walk of the tree serves both: the walk, not the rules, was most of their cost. All of them
    compiled at once first (one compilation instead of one per pattern: 0.08 s per grammar and process)."""
    try:
        ts.compile_query(grammar, "\n".join(_PATTERNS))
    except Exception:
        pass
    else:
        return "\n".join(_PATTERNS)
    usable = []
    for pattern in _PATTERNS:
        try:
            ts.compile_query(grammar, pattern)
        except Exception:
            continue
        usable.append(pattern)
    return "\n".join(usable)


@functools.cache
def _query(grammar: str) -> Any:
    return ts.compile_query(grammar, patterns(grammar))


def check(root: Node, data: bytes, grammar: str = "cuda", caps: ts.Captures | None = None,
          parsed: bytes | None = None) -> list[Finding]:
    """All findings for one parsed C-family file; `data` is the file's text, `parsed` the text the tree was
    parsed from when it is not `data` (the C-family extractor blanks macros first, `__global__` among them),
    `caps` the captures of `patterns` when the caller already ran them."""
    lines: list[str] | None = None
    out: list[Finding] = []
    seen: set[tuple[str, int]] = set()
    threads_seen: set[str] = set()

    def add(category: str, rule: str, message: str, node: Node) -> None:
        nonlocal lines
        line = node.start_point[0] + 1
        if (rule, line) in seen:
            return
        seen.add((rule, line))
        if lines is None:
            lines = data.decode("utf-8", "replace").splitlines()
        evidence = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        out.append(Finding(category, rule, message, line, evidence))

    if caps is None:
        caps = ts.captures(_query(grammar), root)
    for node in caps.get("rule.launch", ()):
        fn = node.child_by_field_name("function")
        name = _callee(data, fn) if fn is not None else None
        add("performance", "PERF-CUDA-LAUNCH", f"CUDA kernel launch `{name or _text(data, fn)}<<<…>>>`", node)
    for node in caps.get("rule.call", ()):
        fn = node.child_by_field_name("function")
        name = _callee(data, fn) if fn is not None else None
        if name is None:
            continue
        rule = _CALL_RULE.get(name)
        if rule:
            add("security", rule, f"`{name}`: {SECURITY[rule][1]}", node)
        if name in _SCANF or name in _PRINTF:
            args = node.child_by_field_name("arguments")
            arg_list = [c for c in args.named_children if c.type != "comment"] if args is not None else []
            if name in _SCANF and len(arg_list) > _SCANF[name]:
                fmt = arg_list[_SCANF[name]]
                if fmt.type == "string_literal" and "%s" in _text(data, fmt):
                    add("security", "C-SCANF", f"`{name}` with an unbounded `%s`: buffer overflow risk "
                                               f"(give a width, e.g. `%63s`)", node)
            if name in _PRINTF and len(arg_list) == _PRINTF[name] + 1:
                fmt = arg_list[_PRINTF[name]]
                if fmt.type == "identifier":
                    add("security", "C-FORMAT", f"`{name}` with a variable as its format string "
                                                f"(CWE-134): pass `\"%s\"` and the value", node)
        if name in _SYNC:
            add("performance", "PERF-CUDA-SYNC", f"`{name}` blocks the host until the device is done", node)
    for node in caps.get("rule.function", ()):
        decl = node.child_by_field_name("declarator")
        if not _kernel(data, data if parsed is None else parsed, node, decl):
            continue
        add("performance", "PERF-CUDA-KERNEL", f"CUDA kernel `{_kernel_name(data, decl)}` (`__global__`) runs on "
                                               "the GPU", node)
    for node in caps.get("rule.pragma", ()):
        text = _text(data, node)
        if text.startswith("#pragma") and " omp " in f" {text[7:].strip()} ":
            add("performance", "PERF-OPENMP", f"OpenMP parallelism: `{text.strip()[:60]}`", node)
    for node in caps.get("rule.std", ()):
        name_node = node.child_by_field_name("name")
        member = _text(data, name_node) if name_node is not None else ""
        if member in _THREADS and member not in threads_seen:
            threads_seen.add(member)
            add("performance", "PERF-CONCURRENCY", f"uses `std::{member}`", node)
    out.sort(key=lambda f: (f.line, f.category, f.rule))
    return out


def _kernel(data: bytes, parsed: bytes, node: Node, decl: Node | None) -> bool:
    """Whether `__global__` is among the words before the definition's declarator, the blanked ones right before
    the definition included (`__global__ void k()` parses as `void k()` once `__global__` is blanked), as
    `cdecls` reads its `kernel` flag."""
    start = node.start_byte
    while start > 0 and parsed[start - 1] in b" \t\r\n":
        start -= 1
    end = decl.start_byte if decl is not None else node.end_byte
    return b"__global__" in data[start:end].replace(b"(", b" ").replace(b")", b" ").split()


def _kernel_name(data: bytes, decl: Node | None) -> str:
    while decl is not None and decl.type not in ("identifier", "field_identifier", "qualified_identifier"):
        decl = decl.child_by_field_name("declarator")
    return _text(data, decl) if decl is not None else "?"
