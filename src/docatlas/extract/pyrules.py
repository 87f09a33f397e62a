"""Findings for Python from the syntax tree: security (bandit's rule ids and semantics), performance, patterns.

Calls are matched on their resolved dotted name (`import pickle as pk; pk.loads` is `pickle.loads`), so a
method `model.eval()` is not the builtin `eval`, and words in comments or strings never match. bandit is the
oracle in the tests; its own run costs ~65 ms a file, which is why the rules are evaluated here in the one
pass docatlas already makes.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from docatlas.extract.base import clean_text
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
    "B103": "`chmod` makes a file world-writable or group-executable",
    "B104": "binds to all network interfaces (`0.0.0.0`)",
    "B106": "hard-coded password passed as a keyword argument",
    "B107": "hard-coded password as a parameter default",
    "B108": "hard-coded temporary-directory path; use `tempfile`",
    "B110": "`except: pass` silently swallows errors",
    "B112": "`except: continue` silently swallows errors",
    "B113": "HTTP request without a timeout can hang forever",
    "B311": "`random` is not suitable for security or cryptography; use `secrets`",
    "B312": "Telnet sends data, passwords included, in clear text",
    "B321": "FTP sends data, passwords included, in clear text",
    "B323": "unverified SSL context: certificates are not checked",
    "B604": "function called with `shell=True`",
    "B606": "process started without a shell (check the executable and arguments)",
    "B701": "Jinja2 environment without autoescaping: XSS risk",
    "B403": "imports a pickle-style module: deserialising untrusted data runs code",
    "B404": "imports `subprocess`: check how commands and their arguments are built",
    "B411": "imports `xmlrpc`: XML-RPC parsing of untrusted data is open to XML attacks (use defusedxml)",
    "B316": "`xml.dom.expatbuilder` parses untrusted XML unsafely (use defusedxml)",
    "B607": "process started with a partial executable path (found through `PATH`)",
}

# bandit's import blacklist, in its order: it reports only the first entry an import statement matches, so
# the entries docatlas does not report (telnetlib, ftplib, xml ...) still decide whether B403/B404/B411 show.
_IMPORT_BLACKLIST: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("B401", ("telnetlib",)), ("B402", ("ftplib",)), ("B403", ("pickle", "cPickle", "dill", "shelve")),
    ("B404", ("subprocess",)), ("B405", ("xml.etree.cElementTree", "xml.etree.ElementTree")),
    ("B406", ("xml.sax",)), ("B407", ("xml.dom.expatbuilder",)), ("B408", ("xml.dom.minidom",)),
    ("B409", ("xml.dom.pulldom",)), ("B411", ("xmlrpc",)),
    ("B412", ("wsgiref.handlers.CGIHandler", "twisted.web.twcgi.CGIScript", "twisted.web.twcgi.CGIDirectory")),
    ("B413", tuple(f"Crypto.{m}" for m in ("Cipher", "Hash", "IO", "Protocol", "PublicKey", "Random",
                                           "Signature", "Util"))),
    ("B415", ("pyghmi",)),
)
_FULL_PATH = re.compile(r"^(?:[A-Za-z](?=:)|[\\/.])")  # bandit's: a drive, a separator or a dot first

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
_PASSWORD_NAME = re.compile("(^{0}$|_{0}_|^{0}_|_{0}$)".format("(pas+wo?r?d|pass(phrase)?|pwd|token|secrete?)"),
                            re.IGNORECASE)  # bandit's RE_CANDIDATES
_RANDOM = {f"random.{f}" for f in ("Random", "random", "randrange", "randint", "choice", "choices", "uniform",
                                   "triangular", "randbytes", "sample", "getrandbits")}
_HTTP_VERBS = {"get", "options", "head", "post", "put", "patch", "delete"}
_NO_SHELL = {f"os.{f}" for f in ("execl", "execle", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe",
                                 "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp",
                                 "spawnvpe", "startfile")}
_TMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")

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


@dataclass
class _Nodes:
    """What the rules look at, gathered in ONE walk: an `ast.walk` per rule cost ten times the parse."""

    calls: list[tuple[ast.Call, str, bool]] = field(default_factory=list)  # (call, resolved name, in a loop)
    defs: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef] = field(default_factory=list)
    imports: list[ast.Import | ast.ImportFrom] = field(default_factory=list)
    handlers: list[ast.ExceptHandler] = field(default_factory=list)
    strings: list[tuple[ast.AST, ast.Constant]] = field(default_factory=list)  # (parent, str constant)


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


# Nodes without children worth visiting: pushing them (and every Name's `ctx=Load()`) doubled the walk.
_LEAVES = frozenset({ast.Name, ast.Constant, ast.Load, ast.Store, ast.Del, ast.alias, ast.Pass, ast.Break,
                     ast.Continue, *ast.operator.__subclasses__(), *ast.cmpop.__subclasses__(),
                     *ast.unaryop.__subclasses__(), *ast.boolop.__subclasses__()})


def _collect(tree: ast.Module, aliases: dict[str, str]) -> _Nodes:
    nodes = _Nodes()
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    constant, call_type, expr_type, leaves = ast.Constant, ast.Call, ast.Expr, _LEAVES
    loops = (ast.For, ast.AsyncFor, ast.While)
    push = stack.append
    while stack:
        node, in_loop = stack.pop()
        kind = type(node)
        if kind is call_type:
            name = dotted(node.func)  # type: ignore[attr-defined]
            if name is not None:
                nodes.calls.append((node, resolve(name, aliases), in_loop))  # type: ignore[arg-type]
        elif kind in _DEFS:
            nodes.defs.append(node)  # type: ignore[arg-type]
        elif kind is ast.Import or kind is ast.ImportFrom:
            nodes.imports.append(node)  # type: ignore[arg-type]
        elif kind is ast.ExceptHandler:
            nodes.handlers.append(node)  # type: ignore[arg-type]
        body_in_loop = kind in loops
        keep_strings = kind is not expr_type  # docstrings and bare string statements are not data
        for field_name in node._fields:
            value = getattr(node, field_name, None)
            if value is None:
                continue
            child_loop = in_loop or (body_in_loop and field_name == "body")
            for child in value if type(value) is list else (value,):
                child_kind = type(child)
                if child_kind in leaves:
                    if keep_strings and child_kind is constant and type(child.value) is str:
                        nodes.strings.append((node, child))
                elif isinstance(child, ast.AST):
                    push((child, child_loop))
    nodes.calls.sort(key=lambda c: (c[0].lineno, c[0].col_offset))
    nodes.defs.sort(key=lambda d: (d.lineno, d.col_offset))
    nodes.imports.sort(key=lambda i: (i.lineno, i.col_offset))
    nodes.handlers.sort(key=lambda h: (h.lineno, h.col_offset))
    nodes.strings.sort(key=lambda ps: (ps[1].lineno, ps[1].col_offset))
    return nodes


def check(tree: ast.Module, text: str, aliases: dict[str, str]) -> list[Finding]:
    lines = text.splitlines()

    def evidence(line: int) -> str:
        return lines[line - 1].strip() if 0 < line <= len(lines) else ""

    def finding(category: str, rule: str, message: str, line: int) -> Finding:
        return Finding(category, rule, clean_text(message), line, evidence(line))  # quotes string constants

    nodes = _collect(tree, aliases)
    out: list[Finding] = []
    out.extend(_security(nodes, aliases, finding))
    out.extend(_performance(nodes, aliases, finding))
    out.extend(_patterns(nodes, aliases, finding))
    return out


def _security(nodes: _Nodes, aliases: dict[str, str], finding):  # type: ignore[no-untyped-def]
    shadowed = {n for n in aliases if n in ("eval", "exec")}
    for call, name, _ in nodes.calls:
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
        elif name in _RANDOM:
            yield finding("security", "B311", f"`{name}`: {SECURITY_RULES['B311']}", line)
        elif name.startswith("telnetlib."):
            yield finding("security", "B312", f"`{name}`: {SECURITY_RULES['B312']}", line)
        elif name.startswith("ftplib."):
            yield finding("security", "B321", f"`{name}`: {SECURITY_RULES['B321']}", line)
        elif name in ("xml.dom.expatbuilder.parse", "xml.dom.expatbuilder.parseString"):
            yield finding("security", "B316", f"`{name}`: {SECURITY_RULES['B316']}", line)
        elif name == "ssl._create_unverified_context":
            yield finding("security", "B323", SECURITY_RULES["B323"], line)
        elif name in _NO_SHELL:
            yield finding("security", "B606", f"`{name}`: {SECURITY_RULES['B606']}", line)
        elif name == "jinja2.Environment":
            auto = _kw(call, "autoescape")
            if auto is None or (isinstance(auto, ast.Constant) and auto.value is False):
                yield finding("security", "B701", SECURITY_RULES["B701"], line)
        elif name == "os.chmod":
            mode = _kw(call, "mode") or (call.args[1] if len(call.args) > 1 else None)
            if isinstance(mode, ast.Constant) and isinstance(mode.value, int) and mode.value & 0o012:
                yield finding("security", "B103", f"`os.chmod(..., {oct(mode.value)})`: {SECURITY_RULES['B103']}",
                              line)
        elif _is_true(_kw(call, "shell")) and name not in _SUBPROCESS:
            yield finding("security", "B604", f"`{name}`: {SECURITY_RULES['B604']}", line)
        if name in ("__import__", "importlib.import_module", "importlib.__import__"):
            target = call.args[0] if call.args else _kw(call, "name")
            module = target.value if isinstance(target, ast.Constant) and isinstance(target.value, str) else ""
            if module:  # bandit checks a literal module name against its import list, exactly
                hit = next((r for r, names in _IMPORT_BLACKLIST if module in names), None)
                if hit in SECURITY_RULES:
                    yield finding("security", hit, SECURITY_RULES[hit], line)
        if (name in _SUBPROCESS or name in _SHELL_CALLS or name in _NO_SHELL) and call.args:
            first = call.args[0]
            if isinstance(first, ast.List) and first.elts:
                first = first.elts[0]
            if _is_str(first) and not _FULL_PATH.match(first.value):  # type: ignore[attr-defined]
                yield finding("security", "B607", f"`{name}`: {SECURITY_RULES['B607']}", line)
        head, _, last = name.rpartition(".")
        if head == "requests" and last in _HTTP_VERBS:
            timeout = _kw(call, "timeout")
            if timeout is None or (isinstance(timeout, ast.Constant) and timeout.value is None):
                yield finding("security", "B113", f"`{name}`: {SECURITY_RULES['B113']}", line)
        for k in call.keywords:
            if k.arg and _is_str(k.value) and _PASSWORD_NAME.search(k.arg):
                yield finding("security", "B106", f"`{k.arg}=` string literal: {SECURITY_RULES['B106']}", line)
    yield from _strings(nodes, finding)
    yield from _imports(nodes, finding)
    for node in [*nodes.defs, *nodes.handlers]:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults, strict=True))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
            for arg, default in pairs:
                if _is_str(default) and _PASSWORD_NAME.search(arg.arg):
                    yield finding("security", "B107", f"`{arg.arg}` defaults to a string literal: "
                                                      f"{SECURITY_RULES['B107']}", node.lineno)
        elif isinstance(node, ast.ExceptHandler) and len(node.body) == 1:
            if node.type is not None and getattr(node.type, "id", None) != "Exception":
                continue
            if isinstance(node.body[0], ast.Pass):
                yield finding("security", "B110", SECURITY_RULES["B110"], node.lineno)
            elif isinstance(node.body[0], ast.Continue):
                yield finding("security", "B112", SECURITY_RULES["B112"], node.lineno)


def _imports(nodes: _Nodes, finding):  # type: ignore[no-untyped-def]
    """bandit's import blacklist: the first entry (in its order) that a name of the statement starts with."""
    for node in nodes.imports:
        prefix = f"{node.module}." if isinstance(node, ast.ImportFrom) and node.module else ""
        full = [prefix + a.name for a in node.names]
        hit = next((rule for rule, names in _IMPORT_BLACKLIST for f in full if f.startswith(names)), None)
        if hit in SECURITY_RULES:
            yield finding("security", hit, SECURITY_RULES[hit], node.lineno)


def _is_str(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _strings(nodes: _Nodes, finding):  # type: ignore[no-untyped-def]
    """String-literal rules (B104, B105, B108), skipping docstrings and bare string statements like bandit."""
    for parent, child in nodes.strings:
        value, line = str(child.value), child.lineno
        if value == "0.0.0.0":
            yield finding("security", "B104", SECURITY_RULES["B104"], line)
        if value.startswith(_TMP_DIRS):
            yield finding("security", "B108", f"`{value[:40]}`: {SECURITY_RULES['B108']}", line)
        reported = _password_string(parent, child)
        if reported is not None:
            yield finding("security", "B105", f"{reported}: {SECURITY_RULES['B105']}", line)


def _password_string(parent: ast.AST, node: ast.expr) -> str | None:
    """bandit's B105 cases: assigned to, a dict value under, or compared with a password-like name."""
    if isinstance(parent, ast.Assign) and node is parent.value:
        for target in parent.targets:
            name = target.id if isinstance(target, ast.Name) else (
                target.attr if isinstance(target, ast.Attribute) else None)
            if name and _PASSWORD_NAME.search(name):
                return f"`{name}` = string literal"
    elif isinstance(parent, ast.Dict) and node in parent.keys:
        key = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else ""
        if _PASSWORD_NAME.search(key):
            value = parent.values[parent.keys.index(node)]
            if isinstance(value, ast.Constant):
                return f"dict key `{key}` with a literal value"
    elif isinstance(parent, ast.Compare) and parent.comparators and node is parent.comparators[0]:
        left = parent.left
        name = left.id if isinstance(left, ast.Name) else (left.attr if isinstance(left, ast.Attribute) else None)
        if name and _PASSWORD_NAME.search(name):
            return f"`{name}` compared with a string literal"
    return None


def _performance(nodes: _Nodes, aliases: dict[str, str], finding):  # type: ignore[no-untyped-def]
    seen_conc: set[str] = set()
    for node in [*nodes.imports, *nodes.defs]:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in mods:
                for prefix, what in _CONCURRENCY.items():
                    if (mod == prefix or mod.startswith(prefix + ".")) and prefix not in seen_conc:
                        seen_conc.add(prefix)
                        yield finding("performance", "PERF-CONCURRENCY", f"uses {what} (`{mod}`)", node.lineno)
        else:
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
    decorator_calls = {id(d) for n in nodes.defs for d in n.decorator_list if isinstance(d, ast.Call)}
    cuda: dict[str, list[int]] = {}
    for call, name, _ in nodes.calls:
        if name in _JIT and id(call) not in decorator_calls:
            yield finding("performance", "PERF-JIT", f"compiles with `{name}`", call.lineno)
        elif name.startswith("torch.cuda.") or name == "torch.cuda":
            cuda.setdefault(name, []).append(call.lineno)
    for name in sorted(cuda):
        where = cuda[name]
        extra = f" ({len(where)} calls)" if len(where) > 1 else ""
        yield finding("performance", "PERF-CUDA", f"GPU runtime call `{name}`{extra}", where[0])
    reported: set[int] = set()
    for call, _, in_loop in nodes.calls:
        func = call.func
        if (in_loop and isinstance(func, ast.Attribute) and func.attr in _SYNC_METHODS and not call.args
                and call.lineno not in reported):
            reported.add(call.lineno)
            yield finding("performance", "PERF-SYNC-IN-LOOP",
                          f"`.{func.attr}()` inside a loop: a device-to-host copy/sync per "
                          f"iteration if the value lives on a GPU", call.lineno)


def _patterns(nodes: _Nodes, aliases: dict[str, str], finding):  # type: ignore[no-untyped-def]
    for node in nodes.defs:
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
        else:
            for dec in node.decorator_list:
                name = dotted(dec.func if isinstance(dec, ast.Call) else dec)
                full = resolve(name, aliases) if name else ""
                if full in ("contextlib.contextmanager", "contextlib.asynccontextmanager"):
                    yield finding("pattern", "PAT-CONTEXT-MANAGER",
                                  f"`{node.name}` is a generator-based context manager", dec.lineno)
                elif full in ("functools.singledispatch", "functools.singledispatchmethod"):
                    yield finding("pattern", "PAT-DISPATCH", f"`{node.name}` dispatches on argument type",
                                  dec.lineno)
