"""A Python module's name bindings and the names it uses, from the same `ast` tree the extractor parsed.

Per file only: which names each scope binds (imports of every form, definitions, assignments, each with the
condition it is bound under), and every load of a name or an attribute chain whose head is not a plain local
variable (`nn.Linear`, `torch.nn.functional.relu`, `self.forward`), with where each part of the chain starts,
how it is used and the enclosing definition. Resolving them needs the other files: `link.references`.

Records are tuples of interned strings and ints, since PyTorch has about a million of them:
- binding: (scope, name, kind, a, b, level, cond, line) with kind `def` (a = qualname), `import` (a = module
  bound), `from` (a = module, b = attribute), `star` (a = module), `alias` (a = dotted chain), `var`;
  scope "" is the module, else the qualname of the function or class whose body binds it.
- use: (chain, pos, kind, enclosing, scope) with chain dotted (head `<self>` for a method's first parameter,
  `<super>` for `super()`), pos the flattened (line, col) of each part (col 0-based, in characters of the
  UTF-8 line as `ast` counts bytes: ASCII lines agree), kind in call, subclass, decorator, annotation, read,
  import (for `from m import x`, chain is `m:x` with leading dots of a relative import); scope as above: where
  the head name is bound ("" = module level, builtins and unknown names included).
"""

from __future__ import annotations

import ast
import sys
from typing import Any

Binding = tuple[str, str, str, str, str, int, str, int]
Use = tuple[str, tuple[int, ...], str, str, str]

_intern = sys.intern
_FUNC = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_COMPREHENSION_TYPES = frozenset(_COMPREHENSIONS)
_ANNOTATION_GROUPS = frozenset((ast.Tuple, ast.BinOp, ast.List))  # `a | b`, `(a, b)`, `[a]` in an annotation
# fields of an expression that hold no expression (a context, an operator: `generic` finds nothing under
# them), left out of `Collector.expr`'s walk; per node type, the fields it walks, in `_fields` order
_NO_EXPRESSIONS = frozenset(("ctx", "op", "ops"))
_CHILD_FIELDS = {t: tuple(f for f in t._fields if f not in _NO_EXPRESSIONS) for t in ast.expr.__subclasses__()}


class _Scope:
    __slots__ = ("bindable", "cls", "kind", "locals", "qualname", "self_name")

    def __init__(self, kind: str, qualname: str, local: set[str], bindable: set[str], self_name: str = "",
                 cls: str = "") -> None:
        self.kind = kind  # module, class, function, lambda (comprehensions too)
        self.qualname = qualname
        self.locals = local
        self.bindable = bindable  # names bound by an import or a definition (recorded as bindings)
        self.self_name = self_name
        self.cls = cls


def _stored_names(stmts: list[Any], out: set[str], globals_: set[str], bindable: set[str] | None = None
                  ) -> None:
    """Names a function body binds, not looking into nested scopes (but taking their names); `bindable`
    gets those bound by an import or a definition."""
    stack = list(stmts)
    bindable = set() if bindable is None else bindable
    while stack:
        node = stack.pop()
        if isinstance(node, (*_FUNC, ast.ClassDef)):
            out.add(node.name)
            bindable.add(node.name)
            stack.extend(node.decorator_list)
            if isinstance(node, ast.ClassDef):
                stack.extend(node.bases)
            continue
        if isinstance(node, (ast.Lambda, *_COMPREHENSIONS)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            out.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                if a.name != "*":
                    out.add(a.asname or a.name.split(".")[0])
                    bindable.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            globals_.update(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            out.add(node.rest)
        stack.extend(ast.iter_child_nodes(node))


def _target_names(target: ast.expr, out: set[str]) -> None:
    """The names an assignment target binds (`a`, `a, *b`, `[a, (b, c)]`; `a.x` and `a[i]` bind none)."""
    stack = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, (ast.Tuple, ast.List)):
            stack.extend(node.elts)
        elif isinstance(node, ast.Starred):
            stack.append(node.value)
        elif not isinstance(node, (ast.Attribute, ast.Subscript)):
            _stored_names([node], out, set())  # (not met in a target without `:=`)


def _stored_names_plain(stmts: list[Any], out: set[str], globals_: set[str], bindable: set[str]) -> None:
    """`_stored_names` of a module without `:=`: then only statements bind names (an expression binds one only
    through `:=`), so only statements and their targets are looked at, not every expression node (this was
    two thirds of the time references took in Python extraction). Statements of other kinds are walked
    whole, as `_stored_names` does."""
    stack = list(stmts)
    while stack:
        node = stack.pop()
        t = type(node)
        if t in _DEFS:
            out.add(node.name)
            bindable.add(node.name)
        elif t is ast.Assign or t is ast.Delete:
            for target in node.targets:
                _target_names(target, out)
        elif t in (ast.AugAssign, ast.AnnAssign):
            _target_names(node.target, out)
        elif t in (ast.For, ast.AsyncFor):
            _target_names(node.target, out)
            stack.extend(node.body)
            stack.extend(node.orelse)
        elif t in (ast.If, ast.While):
            stack.extend(node.body)
            stack.extend(node.orelse)
        elif t in (ast.With, ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None:
                    _target_names(item.optional_vars, out)
            stack.extend(node.body)
        elif t in _TRIES:
            stack.extend(node.body)
            for handler in node.handlers:
                if handler.name:
                    out.add(handler.name)
                stack.extend(handler.body)
            stack.extend(node.orelse)
            stack.extend(node.finalbody)
        elif t in (ast.Import, ast.ImportFrom):
            for a in node.names:
                if a.name != "*":
                    out.add(a.asname or a.name.split(".")[0])
                    bindable.add(a.asname or a.name.split(".")[0])
        elif t in (ast.Global, ast.Nonlocal):
            globals_.update(node.names)
        elif t is ast.Match:
            for case in node.cases:
                _stored_names([case.pattern], out, globals_, bindable)
                stack.extend(case.body)
        elif t not in _BINDS_NOTHING:
            _stored_names([node], out, globals_, bindable)


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_TRIES = tuple(getattr(ast, n) for n in ("Try", "TryStar") if hasattr(ast, n))
# statements whose expressions bind no name without `:=`
_BINDS_NOTHING = (ast.Expr, ast.Return, ast.Pass, ast.Break, ast.Continue, ast.Raise, ast.Assert)


def _params(args: ast.arguments) -> list[str]:
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    if args.vararg:
        names.append(args.vararg.arg)
    if args.kwarg:
        names.append(args.kwarg.arg)
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


class Collector:
    def __init__(self, walrus: bool = True) -> None:
        self.walrus = walrus  # whether the module may hold `:=` (`_stored_names_plain` when not)
        self.bindings: list[Binding] = []
        self.uses: list[Use] = []
        self.scopes: list[_Scope] = []
        self.enclosing: list[str] = []

    # -- scopes ----------------------------------------------------------------------------------
    def module(self, tree: ast.Module) -> None:
        self.scopes.append(_Scope("module", "", set(), set()))
        self.enclosing.append("")
        self.body(tree.body, "")

    def _qual(self, name: str) -> str:
        scope = self.scopes[-1]
        if scope.kind == "module":
            return name
        if scope.kind == "class":
            return f"{scope.qualname}.{name}"
        return f"{self.enclosing[-1]}.<locals>.{name}" if self.enclosing[-1] else name

    def bind(self, name: str, kind: str, a: str = "", b: str = "", level: int = 0, cond: str = "",
             line: int = 0) -> None:
        scope = self.scopes[-1]
        if scope.kind in ("lambda",):
            return
        if scope.kind == "class":
            scope.bindable.add(name)
        self.bindings.append((_intern(scope.qualname), _intern(name), kind, _intern(a), _intern(b), level, cond,
                              line))

    def body(self, stmts: list[ast.stmt], cond: str) -> None:
        for stmt in stmts:
            self.stmt(stmt, cond)

    def stmt(self, node: ast.stmt, cond: str) -> None:
        if isinstance(node, _FUNC):
            self.function(node, cond)
        elif isinstance(node, ast.ClassDef):
            self.klass(node, cond)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    self.bind(a.asname, "import", a.name, cond=cond, line=node.lineno)
                else:
                    head = a.name.split(".")[0]
                    self.bind(head, "import", head, cond=cond, line=node.lineno)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            for a in node.names:
                if a.name == "*":
                    self.bind("*", "star", module, level=node.level, cond=cond, line=node.lineno)
                    continue
                self.bind(a.asname or a.name, "from", module, a.name, node.level, cond, node.lineno)
                col = getattr(a, "col_offset", None)
                if col is not None:
                    chain = f"{'.' * node.level}{module}:{a.name}"
                    self.uses.append((_intern(chain), (a.lineno, col), "import", self.enclosing[-1],
                                      self.scopes[-1].qualname if self.scopes[-1].kind != "lambda" else ""))
        elif isinstance(node, ast.If):
            self.expr(node.test, "read")
            inner = "TYPE_CHECKING" if _is_type_checking(node.test) else (cond or "if")
            self.body(node.body, inner)
            self.body(node.orelse, "else" if inner == "TYPE_CHECKING" else (cond or "if"))
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.body(node.body, cond or "try")  # type: ignore[attr-defined]
            for handler in node.handlers:  # type: ignore[attr-defined]
                if handler.type is not None:
                    self.expr(handler.type, "read")
                self.body(handler.body, cond or "except")
            self.body(node.orelse, cond or "try")  # type: ignore[attr-defined]
            self.body(node.finalbody, cond)  # type: ignore[attr-defined]
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            for child in ("iter", "test"):
                if hasattr(node, child):
                    self.expr(getattr(node, child), "read")
            if isinstance(node, (ast.For, ast.AsyncFor)):
                self.targets(node.target, None, cond or "loop", node.lineno)
            self.body(node.body, cond or "loop")
            self.body(node.orelse, cond or "loop")
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                self.expr(item.context_expr, "read")
                if item.optional_vars is not None:
                    self.targets(item.optional_vars, None, cond, node.lineno)
            self.body(node.body, cond)
        elif isinstance(node, ast.Match):
            self.expr(node.subject, "read")
            for case in node.cases:
                self.generic(case.pattern)
                if case.guard is not None:
                    self.expr(case.guard, "read")
                self.body(case.body, cond or "match")
        elif isinstance(node, ast.Assign):
            self.expr(node.value, "read")
            for t in node.targets:
                self.targets(t, node.value, cond, node.lineno)
        elif isinstance(node, ast.AnnAssign):
            self.expr(node.annotation, "annotation")
            if node.value is not None:
                self.expr(node.value, "read")
            self.targets(node.target, node.value, cond, node.lineno)
        elif isinstance(node, ast.AugAssign):
            self.expr(node.value, "read")
            if not isinstance(node.target, ast.Name):
                self.expr(node.target, "read")
        else:
            self.generic(node)

    def targets(self, target: ast.expr, value: ast.expr | None, cond: str, line: int) -> None:
        """Bindings of an assignment at module or class level (`X = nn.Linear` is an alias); subscripts and
        attributes assigned to are loads of their base."""
        if isinstance(target, ast.Name):
            if self.scopes[-1].kind in ("module", "class"):
                chain = _chain_text(value) if value is not None else None
                if chain:
                    self.bind(target.id, "alias", chain, cond=cond, line=line)
                else:
                    self.bind(target.id, "var", cond=cond, line=line)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for e in target.elts:
                self.targets(e, None, cond, line)
        elif isinstance(target, ast.Starred):
            self.targets(target.value, None, cond, line)
        else:
            self.expr(target, "read")

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, cond: str) -> None:
        for d in node.decorator_list:
            self.expr(d, "decorator")
        self.arguments(node.args)
        if node.returns is not None:
            self.expr(node.returns, "annotation")
        outer = self.scopes[-1]
        qual = self._qual(node.name)
        self.bind(node.name, "def", qual, cond=cond, line=node.lineno)
        local: set[str] = set(_params(node.args))
        globals_: set[str] = set()
        bindable: set[str] = set()
        if self.walrus:
            _stored_names(node.body, local, globals_, bindable)
        else:
            _stored_names_plain(node.body, local, globals_, bindable)
        local -= globals_
        self_name = ""
        cls = ""
        if outer.kind == "class":
            decos = {_chain_text(d) or "" for d in node.decorator_list}
            positional = [*node.args.posonlyargs, *node.args.args]
            if positional and "staticmethod" not in decos:
                self_name = positional[0].arg
                cls = outer.qualname
        self.scopes.append(_Scope("function", qual, local, bindable - set(_params(node.args)), self_name, cls))
        self.enclosing.append(qual)
        self.body(node.body, "")
        self.enclosing.pop()
        self.scopes.pop()

    def arguments(self, args: ast.arguments) -> None:
        for d in (*args.defaults, *(d for d in args.kw_defaults if d is not None)):
            self.expr(d, "read")
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
            if a is not None and a.annotation is not None:
                self.expr(a.annotation, "annotation")

    def klass(self, node: ast.ClassDef, cond: str) -> None:
        for d in node.decorator_list:
            self.expr(d, "decorator")
        for b in node.bases:
            self.expr(b, "subclass")
        for k in node.keywords:
            self.expr(k.value, "read")
        qual = self._qual(node.name)
        self.bind(node.name, "def", qual, cond=cond, line=node.lineno)
        self.scopes.append(_Scope("class", qual, set(), set()))
        self.enclosing.append(qual)
        self.body(node.body, "")
        self.enclosing.pop()
        self.scopes.pop()

    # -- expressions -----------------------------------------------------------------------------
    def generic(self, node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child, "read")
            elif isinstance(child, ast.stmt):
                self.stmt(child, "")
            else:
                self.generic(child)

    def expr(self, node: ast.expr, kind: str) -> None:
        t = type(node)  # (`ast.parse` makes no subclasses of its node types: `is` is `isinstance`)
        if t is ast.Constant:
            return  # (the most common node: nothing under it)
        if t is ast.Name or t is ast.Attribute:
            if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                if self.chain(node, kind):  # type: ignore[arg-type]
                    return
            elif t is ast.Attribute:
                self.expr(node.value, "read")  # type: ignore[attr-defined]
            return
        if t is ast.Call:
            self.expr(node.func, "decorator" if kind == "decorator" else "call")  # type: ignore[attr-defined]
            for a in node.args:  # type: ignore[attr-defined]
                self.expr(a, "read")
            for k in node.keywords:  # type: ignore[attr-defined]
                self.expr(k.value, "read")
            return
        if t is ast.Lambda:
            self.arguments(node.args)  # type: ignore[attr-defined]
            self.scopes.append(_Scope("lambda", "", set(_params(node.args)), set()))  # type: ignore[attr-defined]
            self.expr(node.body, "read")  # type: ignore[attr-defined]
            self.scopes.pop()
            return
        if t in _COMPREHENSION_TYPES:
            self.comprehension(node)  # type: ignore[arg-type]
            return
        if t is ast.Subscript and kind == "annotation":
            self.expr(node.value, "annotation")  # type: ignore[attr-defined]
            self.expr(node.slice, "annotation")  # type: ignore[attr-defined]
            return
        if t is ast.NamedExpr:
            self.expr(node.value, "read")  # type: ignore[attr-defined]
            return
        inner = "annotation" if kind == "annotation" and t in _ANNOTATION_GROUPS else "read"
        for f in _CHILD_FIELDS.get(t) or t._fields:  # each child in `ast.iter_child_nodes` order
            child = getattr(node, f, None)
            if type(child) is list:
                for c in child:
                    if isinstance(c, ast.expr):
                        self.expr(c, inner)
                    elif isinstance(c, ast.AST):
                        self.generic(c)
            elif isinstance(child, ast.expr):
                self.expr(child, inner)
            elif isinstance(child, ast.AST):
                self.generic(child)

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) -> None:
        names: set[str] = set()
        for gen in node.generators:
            _stored_names([gen.target], names, set())
        first = node.generators[0]
        self.expr(first.iter, "read")  # evaluated in the enclosing scope
        self.scopes.append(_Scope("lambda", "", names, set()))
        for i, gen in enumerate(node.generators):
            if i:
                self.expr(gen.iter, "read")
            for cond in gen.ifs:
                self.expr(cond, "read")
        if isinstance(node, ast.DictComp):
            self.expr(node.key, "read")
            self.expr(node.value, "read")
        else:
            self.expr(node.elt, "read")
        self.scopes.pop()

    def chain(self, node: ast.Name | ast.Attribute, kind: str) -> bool:
        """Record a load of a dotted chain; False when its base is not a name (`f().x`): then the caller
        visits the base."""
        if type(node) is ast.Name:  # (most chains: a name alone, as the general path below makes it)
            head = node.id
            scope_q = self.head_scope(head)
            if scope_q is None:
                return True
            if scope_q.startswith("<self>"):
                head, scope_q = "<self>", scope_q[6:]
            self.uses.append((_intern(head), (node.lineno, node.col_offset), kind, self.enclosing[-1],
                              _intern(scope_q)))
            return True
        parts: list[str] = []
        pos: list[int] = []
        cur: ast.expr = node
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            end_line = cur.end_lineno or cur.lineno
            pos += [cur.end_col_offset - len(cur.attr) if cur.end_col_offset is not None else 0, end_line]
            cur = cur.value
        if isinstance(cur, ast.Name):
            head = cur.id
            pos += [cur.col_offset, cur.lineno]
        elif (isinstance(cur, ast.Call) and isinstance(cur.func, ast.Name) and cur.func.id == "super"
              and not cur.args and parts):
            head = "<super>"
            pos += [cur.col_offset, cur.lineno]
        else:
            self.expr(cur, "read")
            return True
        scope_q = self.head_scope(head)
        if scope_q is None:
            return True  # a local variable: not a reference to a definition
        if scope_q.startswith("<self>"):
            head, scope_q = "<self>", scope_q[6:]
        elif head == "<super>":
            cls = next((s.cls for s in reversed(self.scopes) if s.cls), "")
            if not cls:
                return True
            scope_q = cls
        parts.append(head)
        parts.reverse()
        pos.reverse()
        self.uses.append((_intern(".".join(parts)), tuple(pos), kind, self.enclosing[-1], _intern(scope_q)))
        return True

    def head_scope(self, name: str) -> str | None:
        """Where `name` is bound, seen from the current scope: the qualname of the scope whose bindings
        resolve it ("" = module level), `<self>CLASS` for a method's first parameter, None for a local."""
        if name == "<super>":
            return ""
        innermost = True
        for scope in reversed(self.scopes):
            if scope.kind == "class":
                if innermost and name in scope.bindable:
                    return scope.qualname
                innermost = False
                continue
            innermost = False
            if scope.kind == "module":
                return ""
            if name in scope.locals:
                if scope.self_name == name:
                    return "<self>" + scope.cls
                if name in scope.bindable:
                    return scope.qualname
                return None
        return ""


def _chain_text(node: ast.expr | None) -> str:
    parts = []
    cur = node
    while isinstance(cur, ast.Attribute):
        parts.append(cur.attr)
        cur = cur.value
    if not isinstance(cur, ast.Name):
        return ""
    parts.append(cur.id)
    return ".".join(reversed(parts))


def collect(tree: ast.Module, text: str | None = None) -> tuple[tuple[Binding, ...], tuple[Use, ...]]:
    """The module's bindings and uses; `text`, its source, when given, says whether it can hold `:=`."""
    c = Collector(walrus=text is None or ":=" in text)
    c.module(tree)
    return tuple(c.bindings), tuple(c.uses)
