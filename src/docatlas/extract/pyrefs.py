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

from docatlas.extract.pylocals import TRIES, stored_names, stored_names_plain, walrus_lines

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
# the types the walks test most, compared by identity (`ast.parse` makes no subclasses of its node types)
_Name, _Attribute, _Constant, _Call, _Load = ast.Name, ast.Attribute, ast.Constant, ast.Call, ast.Load
_AST = ast.AST
_UNSEEN = ("", "")  # (a `_Scope.seen` look-up's default: not a value it holds)





class _Scope:
    __slots__ = ("bindable", "cls", "kind", "locals", "qualname", "seen", "self_name", "up")

    def __init__(self, kind: str, qualname: str, local: set[str], bindable: set[str], self_name: str = "",
                 cls: str = "", up: _Scope | None = None) -> None:
        self.kind = kind  # module, class, function, lambda (comprehensions too)
        self.qualname = qualname
        self.locals = local
        self.bindable = bindable  # names bound by an import or a definition (recorded as bindings)
        self.self_name = self_name
        self.cls = cls
        self.up = up  # the nearest enclosing scope that is not a class (None for the module)
        # name -> where a use of it resolves from here, for a scope that is not a class (`Collector.where`):
        # its locals and those of the scopes it sits in are settled when it is entered
        self.seen: dict[str, tuple[str, str] | None] = {}

    def where(self, name: str) -> tuple[str, str] | None:
        """`Collector.where` from this scope, which is not a class (classes only count when innermost)."""
        seen = self.seen
        found = seen.get(name, seen)
        if found is not seen:
            return found  # type: ignore[return-value]
        if self.kind == "module":
            found = _intern(name), _intern("")
        elif name in self.locals:
            if self.self_name == name:
                found = _intern("<self>"), _intern(self.cls)
            else:
                found = (_intern(name), _intern(self.qualname)) if name in self.bindable else None
        else:
            found = self.up.where(name)  # type: ignore[union-attr]
        seen[name] = found
        return found


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
    def __init__(self, walrus: bool = True, walrus_lines: list[int] | None = None) -> None:
        self.walrus = walrus  # whether the module may hold `:=` (`pylocals.stored_names_plain` when not)
        self.walrus_lines = walrus_lines  # with `walrus`: the lines that hold it, when known (`pylocals.walrus_lines`)
        self.bindings: list[Binding] = []
        self.uses: list[Use] = []
        self.scopes: list[_Scope] = []
        self.enclosing: list[str] = []
        # statement type -> its visit (`stmt`; `generic` for the others): one look-up, not a chain of tests
        self.visits: dict[type, Any] = {
            ast.FunctionDef: self.function, ast.AsyncFunctionDef: self.function, ast.ClassDef: self.klass,
            ast.Import: self.import_, ast.ImportFrom: self.import_from, ast.If: self.if_, ast.For: self.loop,
            ast.AsyncFor: self.loop, ast.While: self.loop, ast.With: self.with_, ast.AsyncWith: self.with_,
            ast.Match: self.match, ast.Assign: self.assign, ast.AnnAssign: self.ann_assign,
            ast.AugAssign: self.aug_assign, ast.Return: self.values, ast.Raise: self.values,
            ast.Assert: self.values, ast.Delete: self.values, ast.Pass: self.nothing, ast.Break: self.nothing,
            ast.Continue: self.nothing, ast.Global: self.nothing, ast.Nonlocal: self.nothing,
            **{t: self.try_ for t in TRIES}}

    # -- scopes ----------------------------------------------------------------------------------
    def module(self, tree: ast.Module) -> None:
        self.scopes.append(_Scope("module", "", set(), set()))
        self.enclosing.append("")
        self.body(tree.body, "")

    def _push(self, kind: str, qualname: str, local: set[str], bindable: set[str], self_name: str = "",
              cls: str = "") -> None:
        outer = self.scopes[-1]
        self.scopes.append(_Scope(kind, qualname, local, bindable, self_name, cls,
                                  outer.up if outer.kind == "class" else outer))

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
        if scope.kind == "lambda":
            return
        if scope.kind == "class":
            scope.bindable.add(name)
        self.bindings.append((_intern(scope.qualname), _intern(name), kind, _intern(a), _intern(b), level, cond,
                              line))

    def body(self, stmts: list[ast.stmt], cond: str) -> None:
        visits = self.visits
        for node in stmts:
            t = type(node)
            if t is ast.Expr:  # (the most common statement)
                self.expr(node.value, "read")  # type: ignore[attr-defined]
            else:
                visit = visits.get(t)
                if visit is None:
                    self.generic(node)
                else:
                    visit(node, cond)

    def stmt(self, node: ast.stmt, cond: str) -> None:
        visit = self.visits.get(type(node))
        if visit is None:
            self.generic(node)  # (`Expr` too)
        else:
            visit(node, cond)

    def import_(self, node: ast.Import, cond: str) -> None:
        for a in node.names:
            if a.asname:
                self.bind(a.asname, "import", a.name, cond=cond, line=node.lineno)
            else:
                head = a.name.split(".")[0]
                self.bind(head, "import", head, cond=cond, line=node.lineno)

    def import_from(self, node: ast.ImportFrom, cond: str) -> None:
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

    def if_(self, node: ast.If, cond: str) -> None:
        self.expr(node.test, "read")
        inner = "TYPE_CHECKING" if _is_type_checking(node.test) else (cond or "if")
        self.body(node.body, inner)
        self.body(node.orelse, "else" if inner == "TYPE_CHECKING" else (cond or "if"))

    def try_(self, node: Any, cond: str) -> None:
        self.body(node.body, cond or "try")
        for handler in node.handlers:
            if handler.type is not None:
                self.expr(handler.type, "read")
            self.body(handler.body, cond or "except")
        self.body(node.orelse, cond or "try")
        self.body(node.finalbody, cond)

    def loop(self, node: ast.For | ast.AsyncFor | ast.While, cond: str) -> None:
        if type(node) is ast.While:
            self.expr(node.test, "read")
        else:
            self.expr(node.iter, "read")  # type: ignore[union-attr]
            self.targets(node.target, None, cond or "loop", node.lineno)  # type: ignore[union-attr]
        self.body(node.body, cond or "loop")
        self.body(node.orelse, cond or "loop")

    def with_(self, node: ast.With | ast.AsyncWith, cond: str) -> None:
        for item in node.items:
            self.expr(item.context_expr, "read")
            if item.optional_vars is not None:
                self.targets(item.optional_vars, None, cond, node.lineno)
        self.body(node.body, cond)

    def match(self, node: ast.Match, cond: str) -> None:
        self.expr(node.subject, "read")
        for case in node.cases:
            self.generic(case.pattern)
            if case.guard is not None:
                self.expr(case.guard, "read")
            self.body(case.body, cond or "match")

    def assign(self, node: ast.Assign, cond: str) -> None:
        self.expr(node.value, "read")
        for t in node.targets:
            self.targets(t, node.value, cond, node.lineno)

    def ann_assign(self, node: ast.AnnAssign, cond: str) -> None:
        self.expr(node.annotation, "annotation")
        if node.value is not None:
            self.expr(node.value, "read")
        self.targets(node.target, node.value, cond, node.lineno)

    def aug_assign(self, node: ast.AugAssign, cond: str) -> None:
        self.expr(node.value, "read")
        if type(node.target) is not _Name:
            self.expr(node.target, "read")

    def values(self, node: ast.stmt, cond: str) -> None:
        """A statement whose children are expressions and lists of them, each read (`generic`, inline)."""
        for f in node._fields:
            child = getattr(node, f, None)
            if type(child) is list:
                for c in child:
                    self.expr(c, "read")
            elif child is not None:
                self.expr(child, "read")

    def nothing(self, node: ast.stmt, cond: str) -> None:
        """A statement without expressions (`pass`, `global x`)."""

    def targets(self, target: ast.expr, value: ast.expr | None, cond: str, line: int) -> None:
        """Bindings of an assignment at module or class level (`X = nn.Linear` is an alias); subscripts and
        attributes assigned to are loads of their base."""
        t = type(target)
        if t is _Name:
            if self.scopes[-1].kind in ("module", "class"):
                chain = _chain_text(value) if value is not None else None
                if chain:
                    self.bind(target.id, "alias", chain, cond=cond, line=line)  # type: ignore[attr-defined]
                else:
                    self.bind(target.id, "var", cond=cond, line=line)  # type: ignore[attr-defined]
        elif t is ast.Tuple or t is ast.List:
            for e in target.elts:  # type: ignore[attr-defined]
                self.targets(e, None, cond, line)
        elif t is ast.Starred:
            self.targets(target.value, None, cond, line)  # type: ignore[attr-defined]
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
        if self.walrus and self.walrus_lines is None:
            stored_names(node.body, local, globals_, bindable)
        else:
            stored_names_plain(node.body, local, globals_, bindable, self.walrus_lines if self.walrus else None)
        local -= globals_
        self_name = ""
        cls = ""
        if outer.kind == "class":
            decos = {_chain_text(d) or "" for d in node.decorator_list}
            positional = [*node.args.posonlyargs, *node.args.args]
            if positional and "staticmethod" not in decos:
                self_name = positional[0].arg
                cls = outer.qualname
        self._push("function", qual, local, bindable - set(_params(node.args)), self_name, cls)
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
        self._push("class", qual, set(), set())
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
        t = type(node)
        if t is _Name:
            if type(node.ctx) is _Load:  # type: ignore[attr-defined]
                self.name(node, kind)  # type: ignore[arg-type]
            return
        if t is _Constant:
            return  # (nothing under it)
        if t is _Attribute:
            if type(node.ctx) is _Load:  # type: ignore[attr-defined]
                self.chain(node, kind)  # type: ignore[arg-type]
            else:
                self.expr(node.value, "read")  # type: ignore[attr-defined]
            return
        if t is _Call:
            func = node.func  # type: ignore[attr-defined]
            tf = type(func)
            if tf is _Attribute and type(func.ctx) is _Load:  # (`expr`'s first steps, inline)
                self.chain(func, "decorator" if kind == "decorator" else "call")
            elif tf is _Name and type(func.ctx) is _Load:
                self.name(func, "decorator" if kind == "decorator" else "call")
            else:
                self.expr(func, "decorator" if kind == "decorator" else "call")
            for a in (*node.args, *[k.value for k in node.keywords]):  # type: ignore[attr-defined]
                ta = type(a)
                if ta is _Name:
                    if type(a.ctx) is _Load:
                        self.name(a, "read")
                elif ta is _Attribute and type(a.ctx) is _Load:
                    self.chain(a, "read")
                elif ta is not _Constant:
                    self.expr(a, "read")
            return
        if t is ast.Lambda:
            self.arguments(node.args)  # type: ignore[attr-defined]
            self._push("lambda", "", set(_params(node.args)), set())  # type: ignore[attr-defined]
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
                    tc = type(c)
                    if tc is _Name:
                        if type(c.ctx) is _Load:
                            self.name(c, inner)
                    elif tc is _Attribute and type(c.ctx) is _Load:
                        self.chain(c, inner)
                    elif tc is _Constant or c is None:
                        continue
                    elif isinstance(c, ast.expr):
                        self.expr(c, inner)
                    elif isinstance(c, _AST):
                        self.generic(c)
            elif child is None:
                continue
            elif type(child) is _Name:
                if type(child.ctx) is _Load:
                    self.name(child, inner)
            elif isinstance(child, ast.expr):
                self.expr(child, inner)
            elif isinstance(child, _AST):
                self.generic(child)

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) -> None:
        names: set[str] = set()
        for gen in node.generators:
            if type(gen.target) is _Name:
                names.add(gen.target.id)
            else:
                stored_names([gen.target], names, set())
        first = node.generators[0]
        self.expr(first.iter, "read")  # evaluated in the enclosing scope
        self._push("lambda", "", names, set())
        for i, gen in enumerate(node.generators):
            if i:
                self.expr(gen.iter, "read")
            for cond in gen.ifs:
                self.expr(cond, "read")
        if type(node) is ast.DictComp:
            self.expr(node.key, "read")
            self.expr(node.value, "read")
        else:
            self.expr(node.elt, "read")  # type: ignore[union-attr]
        self.scopes.pop()

    def name(self, node: ast.Name, kind: str) -> None:
        """Record a load of a name alone (most uses)."""
        found = self.scopes[-1].seen.get(node.id, _UNSEEN)  # (a class's is empty: `where` then)
        if found is _UNSEEN:
            found = self.where(node.id)
        if found is not None:
            self.uses.append((found[0], (node.lineno, node.col_offset), kind, self.enclosing[-1], found[1]))

    def chain(self, node: ast.Name | ast.Attribute, kind: str) -> bool:
        """Record a load of a dotted chain; when its base is not a name (`f().x`) the base is visited
        instead. (True: kept for callers that test it.)"""
        if type(node) is _Name:
            self.name(node, kind)
            return True
        cur = node.value  # type: ignore[union-attr]
        if type(cur) is _Name:  # (most chains: `a.b`, as the general path below makes it)
            found = self.scopes[-1].seen.get(cur.id, _UNSEEN)
            if found is _UNSEEN:
                found = self.where(cur.id)
            if found is not None:  # (else a local variable: not a reference to a definition)
                attr, end_col = node.attr, node.end_col_offset  # type: ignore[union-attr]
                self.uses.append((_intern(found[0] + "." + attr), (
                    cur.lineno, cur.col_offset, node.end_lineno or node.lineno,
                    end_col - len(attr) if end_col is not None else 0), kind, self.enclosing[-1], found[1]))
            return True
        attrs: list[ast.Attribute] = [node]  # type: ignore[list-item]
        while type(cur) is _Attribute:
            attrs.append(cur)
            cur = cur.value
        if type(cur) is _Name:
            found = self.where(cur.id)
            if found is None:
                return True  # a local variable: not a reference to a definition
            head, scope_q = found
        elif (type(cur) is _Call and type(cur.func) is _Name and cur.func.id == "super"
              and not cur.args):
            head = "<super>"
            scope_q = next((s.cls for s in reversed(self.scopes) if s.cls), "")
            if not scope_q:
                return True
            scope_q = _intern(scope_q)
        else:
            self.expr(cur, "read")
            return True
        pos = [cur.lineno, cur.col_offset]
        parts = [head]
        for a in reversed(attrs):
            end_col = a.end_col_offset
            pos += (a.end_lineno or a.lineno, end_col - len(a.attr) if end_col is not None else 0)
            parts.append(a.attr)
        self.uses.append((_intern(".".join(parts)), tuple(pos), kind, self.enclosing[-1], scope_q))
        return True

    def where(self, name: str) -> tuple[str, str] | None:
        """(head, scope) of a use of `name` seen from the current scope: the head is the name, or `<self>`
        for a method's first parameter (then the scope is its class); the scope is the qualname of the scope
        whose bindings resolve it ("" = module level); None for a local. Both interned."""
        scope = self.scopes[-1]
        if scope.kind == "class":
            if name in scope.bindable:  # (grows as the class body binds: not kept in `seen`)
                return _intern(name), _intern(scope.qualname)
            scope = scope.up  # type: ignore[assignment]
        return scope.where(name)

    def head_scope(self, name: str) -> str | None:
        """Where `name` is bound, seen from the current scope: the qualname of the scope whose bindings
        resolve it ("" = module level), `<self>CLASS` for a method's first parameter, None for a local."""
        if name == "<super>":
            return ""
        found = self.where(name)
        if found is None:
            return None
        return "<self>" + found[1] if found[0] == "<self>" else found[1]


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
    walrus = text is None or ":=" in text
    c = Collector(walrus, walrus_lines(text) if walrus and text is not None else None)
    c.module(tree)
    return tuple(c.bindings), tuple(c.uses)
