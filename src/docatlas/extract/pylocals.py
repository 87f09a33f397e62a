"""Which names a function body binds, for `extract.pyrefs`: a name a function binds is its local variable
(unless declared `global` or `nonlocal`), and a use of it is no reference to a definition. Each function's
body is read for them before it is walked, since a use may come before the binding."""

from __future__ import annotations

import ast
import bisect
from typing import Any

_NO_EXPRESSIONS = frozenset(("ctx", "op", "ops"))  # fields holding a context or an operator: no names bound
_Name, _Attribute, _Constant, _Load = ast.Name, ast.Attribute, ast.Constant, ast.Load
_AST = ast.AST


def _node_types(base: type[ast.AST]) -> list[type[ast.AST]]:
    return [base, *(t for sub in base.__subclasses__() for t in _node_types(sub))]


# per node type, the fields `stored_names` descends into (those of `ast.iter_child_nodes` but a context or
# an operator, under which no name is bound)
_WALK_FIELDS = {t: tuple(f for f in t._fields if f not in _NO_EXPRESSIONS) for t in _node_types(ast.AST)}
_SKIPPED_SCOPES = frozenset((ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
_BOUND_NAME = frozenset((ast.ExceptHandler, ast.MatchAs, ast.MatchStar))  # those whose `name` is bound


def _imported(node: ast.Import | ast.ImportFrom, out: set[str], bindable: set[str]) -> None:
    """The names an import statement binds (a star import binds none that can be told)."""
    for a in node.names:
        if a.name != "*":
            name = a.asname or a.name.split(".")[0]
            out.add(name)
            bindable.add(name)


def stored_names(stmts: list[Any], out: set[str], globals_: set[str], bindable: set[str] | None = None
                 ) -> None:
    """Names a function body binds, not looking into nested scopes (but taking their names); `bindable`
    gets those bound by an import or a definition."""
    stack = list(stmts)
    pop, push = stack.pop, stack.append
    bindable = set() if bindable is None else bindable
    while stack:
        node = pop()
        t = type(node)
        if t is _Name:
            if type(node.ctx) is not _Load:
                out.add(node.id)
            continue
        if t is _Constant:
            continue
        if t in _DEFS:
            out.add(node.name)
            bindable.add(node.name)
            stack.extend(node.decorator_list)
            if t is ast.ClassDef:
                stack.extend(node.bases)
            continue
        if t in _SKIPPED_SCOPES:
            continue
        if t is ast.Import or t is ast.ImportFrom:
            _imported(node, out, bindable)
        elif t is ast.Global or t is ast.Nonlocal:
            globals_.update(node.names)
        elif t in _BOUND_NAME:
            if node.name:
                out.add(node.name)
        elif t is ast.MatchMapping and node.rest:
            out.add(node.rest)
        for f in _WALK_FIELDS.get(t) or t._fields:  # (`ast.iter_child_nodes`, inline)
            child = getattr(node, f, None)
            if type(child) is list:
                for c in child:
                    if isinstance(c, _AST):
                        push(c)
            elif isinstance(child, _AST):
                push(child)


def target_names(target: ast.expr, out: set[str]) -> None:
    """The names an assignment target binds (`a`, `a, *b`, `[a, (b, c)]`; `a.x` and `a[i]` bind none)."""
    stack = [target]
    while stack:
        node = stack.pop()
        t = type(node)
        if t is _Name:
            out.add(node.id)  # type: ignore[attr-defined]
        elif t is ast.Tuple or t is ast.List:
            stack.extend(node.elts)  # type: ignore[attr-defined]
        elif t is ast.Starred:
            stack.append(node.value)  # type: ignore[attr-defined]
        elif t is not _Attribute and t is not ast.Subscript:
            stored_names([node], out, set())  # (not met in a target without `:=`)


def stored_names_plain(stmts: list[Any], out: set[str], globals_: set[str], bindable: set[str],
                       walrus_lines: list[int] | None = None) -> None:
    """`stored_names` of a module without `:=`: then only statements bind names (an expression binds one only
    through `:=`), so only statements and their targets are looked at, not every expression node (this was
    two thirds of the time references took in Python extraction). Statements of other kinds are walked
    whole, as `stored_names` does. With `walrus_lines`, the lines of a module's text that hold `:=` (in
    order), so are the statements whose lines (decorators included) take in one of them: the others hold no
    `:=` (a token never spans lines), and a module with a few need not have every function walked whole."""
    stack = list(stmts)
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        t = type(node)
        if walrus_lines:
            first = node.decorator_list[0].lineno if t in _DEFS and node.decorator_list else node.lineno
            i = bisect.bisect_left(walrus_lines, first)
            if i < len(walrus_lines) and walrus_lines[i] <= node.end_lineno:
                stored_names([node], out, globals_, bindable)
                continue
        if t in _BINDS_NOTHING:
            continue
        if t is ast.Assign:
            for target in node.targets:
                if type(target) is _Name:
                    out.add(target.id)
                else:
                    target_names(target, out)
        elif t in _DEFS:
            out.add(node.name)
            bindable.add(node.name)
        elif t is ast.If or t is ast.While:
            extend(node.body)
            extend(node.orelse)
        elif t is ast.For or t is ast.AsyncFor:
            target_names(node.target, out)
            extend(node.body)
            extend(node.orelse)
        elif t is ast.AugAssign or t is ast.AnnAssign or t is ast.Delete:
            for target in node.targets if t is ast.Delete else (node.target,):
                target_names(target, out)
        elif t is ast.With or t is ast.AsyncWith:
            for item in node.items:
                if item.optional_vars is not None:
                    target_names(item.optional_vars, out)
            extend(node.body)
        elif t in TRIES:
            extend(node.body)
            for handler in node.handlers:
                if handler.name:
                    out.add(handler.name)
                extend(handler.body)
            extend(node.orelse)
            extend(node.finalbody)
        elif t is ast.Import or t is ast.ImportFrom:
            _imported(node, out, bindable)
        elif t is ast.Global or t is ast.Nonlocal:
            globals_.update(node.names)
        elif t is ast.Match:
            for case in node.cases:
                stored_names([case.pattern], out, globals_, bindable)
                extend(case.body)
        else:
            stored_names([node], out, globals_, bindable)


def walrus_lines(text: str) -> list[int] | None:
    """The lines (1-based, in order) of `text` that hold `:=`; None when `ast` may count lines otherwise
    (a lone carriage return ends a line for it)."""
    if text.count("\r") != text.count("\r\n"):
        return None
    lines: list[int] = []
    at = text.find(":=")
    line, counted = 1, 0
    while at >= 0:
        line += text.count("\n", counted, at)
        counted = at
        if not lines or lines[-1] != line:
            lines.append(line)
        at = text.find(":=", at + 2)
    return lines


_DEFS = frozenset((ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
TRIES = frozenset(getattr(ast, n) for n in ("Try", "TryStar") if hasattr(ast, n))
# statements whose expressions bind no name without `:=`
_BINDS_NOTHING = frozenset((ast.Expr, ast.Return, ast.Pass, ast.Break, ast.Continue, ast.Raise, ast.Assert))
