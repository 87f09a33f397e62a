"""Findings for Python from the syntax tree: security (bandit's rule ids and semantics), performance, patterns.

Calls are matched on their resolved dotted name (`import pickle as pk; pk.loads` is `pickle.loads`), so a
method `model.eval()` is not the builtin `eval`, and words in comments or strings never match. bandit is the
oracle in the tests; its own run costs ~65 ms a file, which is why the rules are evaluated here in the one
pass docatlas already makes.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from docatlas.model import Finding

SECURITY_RULES: dict[str, str] = {
    "B102": "`exec` builtin runs arbitrary code",
    "B105": "hard-coded password-like string",
    "B301": "pickle-style deserialisation of possibly untrusted data",
    "B302": "marshal deserialisation of possibly untrusted data",
    "B306": "`tempfile.mktemp` is race-prone; use `mkstemp`/`NamedTemporaryFile`",
    "B307": "`eval` builtin evaluates arbitrary code",
    "B324": "weak hash (MD5/SHA1) without `usedforsecurity=False`",
    "B501": "HTTP request with certificate validation disabled (`verify=False`)",
    "B506": "`yaml.load` without a safe loader",
    "B602": "subprocess call with `shell=True`",
    "B605": "process started through a shell",
    "B614": "`torch.load` without `weights_only=True` unpickles arbitrary objects",
}

_PICKLE_CALLS = {
    "pickle.loads", "pickle.load", "pickle.Unpickler", "cPickle.loads", "cPickle.load", "cPickle.Unpickler",
    "dill.loads", "dill.load", "dill.Unpickler", "shelve.open", "shelve.DbfilenameShelf",
    "jsonpickle.decode", "jsonpickle.unpickler.decode", "jsonpickle.unpickler.Unpickler",
    "pandas.read_pickle",
}
_MARSHAL_CALLS = {"marshal.load", "marshal.loads"}
_SUBPROCESS = {"subprocess.Popen", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
               "subprocess.run"}
_SHELL_CALLS = {"os.system", "os.popen", "os.popen2", "os.popen3", "os.popen4", "popen2.popen2",
                "popen2.popen3", "popen2.popen4", "popen2.Popen3", "popen2.Popen4", "commands.getoutput",
                "commands.getstatusoutput", "subprocess.getoutput", "subprocess.getstatusoutput"}
_SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}
_REQUESTS = {f"requests.{m}" for m in ("get", "post", "put", "delete", "patch", "head", "options", "request")}
_PASSWORD_NAME = re.compile(r"(^|_)(pas+wo?r?d|pass(phrase)?|pwd|token|secrete?)($|_)", re.IGNORECASE)

_CONCURRENCY = {"threading": "threads", "multiprocessing": "processes", "concurrent.futures": "executor pools",
                "asyncio": "asyncio"}
_JIT = {"torch.compile", "torch.jit.script", "torch.jit.trace", "torch.jit.script_method", "numba.jit",
        "numba.njit", "numba.cuda.jit", "jax.jit", "torch._dynamo.optimize"}
_CACHE_DECORATORS = {"functools.lru_cache", "functools.cache", "functools.cached_property", "lru_cache",
                     "cache", "cached_property"}
_SYNC_METHODS = {"item", "cpu", "numpy", "tolist"}


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def resolve(name: str, aliases: dict[str, str]) -> str:
    head, _, rest = name.partition(".")
    origin = aliases.get(head)
    if origin is None:
        return name
    return f"{origin}.{rest}" if rest else origin


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    for k in call.keywords:
        if k.arg == name:
            return k.value
    return None


def _is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def check(tree: ast.Module, text: str, aliases: dict[str, str]) -> list[Finding]:
    lines = text.splitlines()

    def evidence(line: int) -> str:
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def finding(category: str, rule: str, message: str, line: int) -> Finding:
        return Finding(category, rule, message, line, evidence(line))

    out: list[Finding] = []
    out.extend(_security(tree, aliases, finding))
    out.extend(_performance(tree, aliases, finding))
    out.extend(_patterns(tree, aliases, finding))
    return out


def _calls(tree: ast.AST, aliases: dict[str, str]) -> Iterator[tuple[ast.Call, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = dotted(node.func)
            if name is not None:
                yield node, resolve(name, aliases)


def _security(tree: ast.Module, aliases: dict[str, str], finding):  # type: ignore[no-untyped-def]
    shadowed = {n for n in aliases if n in ("eval", "exec")}
    for call, name in _calls(tree, aliases):
        line = call.lineno
        if name in ("eval", "exec") and isinstance(call.func, ast.Name) and name not in shadowed:
            rule = "B307" if name == "eval" else "B102"
            yield finding("security", rule, SECURITY_RULES[rule], line)
        elif name in _PICKLE_CALLS:
            yield finding("security", "B301", f"`{name}`: {SECURITY_RULES['B301']}", line)
        elif name in _MARSHAL_CALLS:
            yield finding("security", "B302", f"`{name}`: {SECURITY_RULES['B302']}", line)
        elif name == "torch.load" and not _is_true(_kw(call, "weights_only")):
            yield finding("security", "B614", SECURITY_RULES["B614"], line)
        elif name == "yaml.load":
            loader = _kw(call, "Loader") or (call.args[1] if len(call.args) > 1 else None)
            loader_name = dotted(loader) if loader is not None else None
            if not loader_name or loader_name.rsplit(".", 1)[-1] not in _SAFE_YAML_LOADERS:
                yield finding("security", "B506", SECURITY_RULES["B506"], line)
        elif name in _SUBPROCESS and _is_true(_kw(call, "shell")):
            yield finding("security", "B602", f"`{name}`: {SECURITY_RULES['B602']}", line)
        elif name in _SHELL_CALLS:
            yield finding("security", "B605", f"`{name}`: {SECURITY_RULES['B605']}", line)
        elif name == "tempfile.mktemp":
            yield finding("security", "B306", SECURITY_RULES["B306"], line)
        elif name in ("hashlib.md5", "hashlib.sha1") or (
            name == "hashlib.new" and call.args and isinstance(call.args[0], ast.Constant)
            and str(call.args[0].value).lower() in ("md5", "sha1")
        ):
            use = _kw(call, "usedforsecurity")
            if not (isinstance(use, ast.Constant) and use.value is False):
                yield finding("security", "B324", f"`{name}`: {SECURITY_RULES['B324']}", line)
        elif name in _REQUESTS:
            verify = _kw(call, "verify")
            if isinstance(verify, ast.Constant) and verify.value is False:
                yield finding("security", "B501", SECURITY_RULES["B501"], line)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) \
                and isinstance(node.value.value, str):
            for target in node.targets:
                tname = target.id if isinstance(target, ast.Name) else (
                    target.attr if isinstance(target, ast.Attribute) else None)
                if tname and _PASSWORD_NAME.search(tname):
                    yield finding("security", "B105",
                                  f"`{tname}` = string literal: {SECURITY_RULES['B105']}", node.lineno)


def _performance(tree: ast.Module, aliases: dict[str, str], finding):  # type: ignore[no-untyped-def]
    seen_conc: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in mods:
                for prefix, what in _CONCURRENCY.items():
                    if (mod == prefix or mod.startswith(prefix + ".")) and prefix not in seen_conc:
                        seen_conc.add(prefix)
                        yield finding("performance", "PERF-CONCURRENCY", f"uses {what} (`{mod}`)", node.lineno)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                name = dotted(target)
                if name is None:
                    continue
                full = resolve(name, aliases)
                if full in _CACHE_DECORATORS:
                    yield finding("performance", "PERF-CACHE", f"`{node.name}` memoised with `{full}`",
                                  dec.lineno)
                elif full in _JIT:
                    yield finding("performance", "PERF-JIT", f"`{node.name}` compiled with `{full}`", dec.lineno)
    decorator_calls = {id(d) for n in ast.walk(tree)
                       if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                       for d in n.decorator_list if isinstance(d, ast.Call)}
    cuda: dict[str, list[int]] = {}
    for call, name in _calls(tree, aliases):
        if name in _JIT and id(call) not in decorator_calls:
            yield finding("performance", "PERF-JIT", f"compiles with `{name}`", call.lineno)
        elif name.startswith("torch.cuda.") or name == "torch.cuda":
            cuda.setdefault(name, []).append(call.lineno)
    for name in sorted(cuda):
        where = cuda[name]
        extra = f" ({len(where)} calls)" if len(where) > 1 else ""
        yield finding("performance", "PERF-CUDA", f"GPU runtime call `{name}`{extra}", where[0])
    yield from _sync_in_loops(tree, finding)


def _sync_in_loops(tree: ast.Module, finding):  # type: ignore[no-untyped-def]
    reported: set[int] = set()
    for loop in ast.walk(tree):
        if not isinstance(loop, (ast.For, ast.AsyncFor, ast.While)):
            continue
        for stmt in loop.body:
            for node in ast.walk(stmt):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in _SYNC_METHODS and not node.args and node.lineno not in reported):
                    reported.add(node.lineno)
                    yield finding("performance", "PERF-SYNC-IN-LOOP",
                                  f"`.{node.func.attr}()` inside a loop: a device-to-host copy/sync per "
                                  f"iteration if the value lives on a GPU", node.lineno)


def _patterns(tree: ast.Module, aliases: dict[str, str], finding):  # type: ignore[no-untyped-def]
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {resolve(n, aliases) for b in node.bases if (n := dotted(b))}
            meta = next((resolve(n, aliases) for k in node.keywords if k.arg == "metaclass"
                         if (n := dotted(k.value))), "")
            methods = {s.name for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))}
            abstract = [s.name for s in node.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and any((dotted(d.func if isinstance(d, ast.Call) else d) or "").endswith("abstractmethod")
                                for d in s.decorator_list)]
            if bases & {"abc.ABC"} or meta == "abc.ABCMeta" or abstract:
                detail = f" with abstract {', '.join(f'`{a}`' for a in abstract)}" if abstract else ""
                yield finding("pattern", "PAT-ABC", f"`{node.name}` is an abstract base class{detail}", node.lineno)
            if bases & {"typing.Protocol", "typing_extensions.Protocol"}:
                yield finding("pattern", "PAT-PROTOCOL", f"`{node.name}` is a structural `Protocol`", node.lineno)
            if {"__enter__", "__exit__"} <= methods or {"__aenter__", "__aexit__"} <= methods:
                yield finding("pattern", "PAT-CONTEXT-MANAGER", f"`{node.name}` is a context manager",
                              node.lineno)
            for dec in node.decorator_list:
                name = dotted(dec.func if isinstance(dec, ast.Call) else dec)
                full = resolve(name, aliases) if name else ""
                if full in ("dataclasses.dataclass", "attr.s", "attrs.define", "attr.define", "attrs.frozen"):
                    yield finding("pattern", "PAT-DATACLASS", f"`{node.name}` is a `{full}` record", dec.lineno)
            if bases & {"enum.Enum", "enum.IntEnum", "enum.Flag", "enum.IntFlag", "enum.StrEnum"}:
                yield finding("pattern", "PAT-ENUM", f"`{node.name}` is an enumeration", node.lineno)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for dec in node.decorator_list:
                name = dotted(dec.func if isinstance(dec, ast.Call) else dec)
                full = resolve(name, aliases) if name else ""
                if full in ("contextlib.contextmanager", "contextlib.asynccontextmanager"):
                    yield finding("pattern", "PAT-CONTEXT-MANAGER",
                                  f"`{node.name}` is a generator-based context manager", dec.lineno)
                elif full in ("functools.singledispatch", "functools.singledispatchmethod"):
                    yield finding("pattern", "PAT-DISPATCH", f"`{node.name}` dispatches on argument type",
                                  dec.lineno)
