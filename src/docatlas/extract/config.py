"""Outlines of config and build files: YAML (GitHub Actions jobs and steps), TOML (pyproject dependencies),
JSON (package.json dependencies), CMake, Bazel, Dockerfile and requirements files (INI files: `runconfig`).

Their structure is their keys, targets, stages and dependencies; the symbols use the kinds `key`, `job`,
`step`, `target`, `option`, `dependency`, `stage`, `function` and `macro`, and declared dependencies are
also imports so that the Dependencies section lists them. YAML, TOML, JSON, CMake and Dockerfile go through
tree-sitter (exact line numbers); Bazel files are Python syntax, so the standard library's `ast` reads them.

What says how tests run is kept for `link.runners` as `extra` facts (JSON values): a CMake file keeps its
commands (`cmake-commands`, evaluated by `link.buildtests` against the repository's paths), a Bazel
`cc_test` its sources (`cc-test`), a `tox.ini` (or `legacy_tox_ini` in `pyproject.toml`) its environments
(`tox`).
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Callable
from pathlib import PurePosixPath
from typing import Any

from docatlas import diagnostics as dx
from docatlas.extract import tsadapter as ts
from docatlas.extract.base import Extraction, first_paragraph
from docatlas.extract.runconfig import tox_config
from docatlas.extract.tsadapter import Node
from docatlas.model import Import, Symbol

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def _squash(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def _sym(kind: str, name: str, node: Node, signature: str = "", parent: str = "", qualname: str = "",
         flags: tuple[str, ...] = ()) -> Symbol:
    return Symbol(kind=kind, name=name, qualname=qualname or (f"{parent}.{name}" if parent else name),
                  line=ts.line(node), end_line=ts.end_line(node), signature=signature, parent=parent, flags=flags)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] in "\"'" and text[-1] == text[0]:
        return text[1:-1]
    return text


def requirement_name(spec: str) -> str:
    """The distribution name of a PEP 508 requirement: `requests[socks]>=2 ; python_version<'3'` -> `requests`."""
    spec = spec.strip()
    if "#egg=" in spec:
        return spec.split("#egg=", 1)[1].split("&")[0].strip()
    out = []
    for ch in spec:
        if ch.isalnum() or ch in "._-":
            out.append(ch)
        else:
            break
    return "".join(out)


def _finish(out: Extraction, path: str, root: Node, size: int) -> Extraction:
    diag = ts.error_diagnostic(path, root, size)
    if diag is not None:
        out.diagnostics.append(diag)
    return out


# -- YAML ---------------------------------------------------------------------------------------
def _yaml_value(node: Node | None) -> Node | None:
    """The mapping / sequence / scalar inside block_node and flow_node wrappers."""
    while node is not None and node.type in ("block_node", "flow_node", "document"):
        inner = [c for c in node.named_children if c.type not in ("comment", "anchor", "tag")]
        node = inner[0] if inner else None
    return node


def _yaml_pairs(node: Node | None) -> list[tuple[str, Node, Node | None]]:
    """(key, pair node, value node) of a block or flow mapping."""
    node = _yaml_value(node)
    if node is None or node.type not in ("block_mapping", "flow_mapping"):
        return []
    pairs = []
    for pair in node.named_children:
        if pair.type not in ("block_mapping_pair", "flow_pair"):
            continue
        key = pair.child_by_field_name("key")
        if key is None:
            continue
        pairs.append((_unquote(ts.text(_DATA[0], key)), pair, pair.child_by_field_name("value")))
    return pairs


_DATA: list[bytes] = [b""]  # the bytes the YAML helpers read; set per file (one file at a time per process)


def _yaml_scalar(node: Node | None) -> str:
    node = _yaml_value(node)
    if node is None or node.type in ("block_mapping", "flow_mapping", "block_sequence", "flow_sequence"):
        return ""
    text = ts.text(_DATA[0], node)
    if text.startswith(("|", ">")):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    return _unquote(text.strip())


def _leading_comment(data: bytes, root: Node) -> str:
    """The first paragraph of prose in the `#` comments that open the file (a `# syntax=` directive, rules
    and licence lines skipped)."""
    lines = []
    for node in root.named_children:
        if node.type != "comment":
            break
        lines.append(ts.text(data, node).lstrip("#").strip())
    return first_paragraph("\n".join(lines))


def _extract_yaml(path: str, text: str) -> Extraction:
    out = Extraction()
    data = text.encode("utf-8", "surrogatepass")
    _DATA[0] = data
    root = ts.parse("yaml", data).root_node
    docs = [c for c in root.named_children if c.type == "document"]
    top = _yaml_pairs(docs[0]) if docs else []
    keys = {k for k, _, _ in top}
    workflow = "jobs" in keys and ("on" in keys or "true" in keys or ".github/workflows/" in path)
    out.docstring = _leading_comment(data, root)
    for key, pair, value in top:
        out.symbols.append(_sym("key", key, pair, signature=_squash(f"{key}: {_yaml_scalar(value)}".rstrip(": "))))
        if workflow and key == "jobs":
            for job, jpair, jvalue in _yaml_pairs(value):
                _workflow_job(out, job, jpair, jvalue)
    return _finish(out, path, root, len(data))


def _workflow_job(out: Extraction, job: str, pair: Node, value: Node | None) -> None:
    fields = {k: v for k, _, v in _yaml_pairs(value)}
    runs_on = _yaml_scalar(fields.get("runs-on"))
    title = _yaml_scalar(fields.get("name"))
    sig = ", ".join(p for p in (f"name: {title}" if title else "", f"runs-on: {runs_on}" if runs_on else "") if p)
    qual = f"jobs.{job}"
    out.symbols.append(_sym("job", job, pair, signature=_squash(sig), qualname=qual))
    if fields.get("uses") is not None:  # a reusable workflow
        out.imports.append(Import(module=_yaml_scalar(fields["uses"]), line=ts.line(pair)))
    steps = _yaml_value(fields.get("steps"))
    if steps is None or steps.type != "block_sequence":
        return
    for i, item in enumerate(c for c in steps.named_children if c.type == "block_sequence_item"):
        step = {k: v for k, _, v in _yaml_pairs(item.named_children[0] if item.named_child_count else None)}
        uses, run, name = (_yaml_scalar(step.get(k)) for k in ("uses", "run", "name"))
        label = name or uses or (run.strip().splitlines()[0] if run.strip() else f"step {i + 1}")
        sig = f"uses: {uses}" if uses else (f"run: {_squash(run, 120)}" if run else "")
        out.symbols.append(_sym("step", label, item, signature=sig, parent=qual, qualname=f"{qual}.steps[{i}]"))
        if uses:
            out.imports.append(Import(module=uses, line=ts.line(item)))


# -- TOML ---------------------------------------------------------------------------------------
def _toml_key(data: bytes, node: Node) -> str:
    key = next((c for c in node.named_children if c.type in ("bare_key", "quoted_key", "dotted_key")), None)
    return ".".join(_unquote(p.strip()) for p in ts.text(data, key).split(".")) if key is not None else ""


def _toml_pairs(data: bytes, node: Node) -> list[tuple[str, Node, Node | None]]:
    out = []
    for pair in node.named_children:
        if pair.type != "pair":
            continue
        kids = pair.named_children
        value = kids[-1] if len(kids) > 1 else None
        out.append((_toml_key(data, pair), pair, value))
    return out


def _toml_strings(node: Node | None) -> list[Node]:
    if node is None or node.type != "array":
        return []
    return [c for c in node.named_children if c.type == "string"]


def _extract_toml(path: str, text: str) -> Extraction:
    out = Extraction()
    data = text.encode("utf-8", "surrogatepass")
    root = ts.parse("toml", data).root_node
    pyproject = PurePosixPath(path).name == "pyproject.toml"
    for key, pair, _value in _toml_pairs(data, root):
        out.symbols.append(_sym("key", key, pair, signature=_squash(ts.text(data, pair))))
    for table in root.named_children:
        if table.type not in ("table", "table_array_element"):
            continue
        name = _toml_key(data, table)
        header = f"[[{name}]]" if table.type == "table_array_element" else f"[{name}]"
        out.symbols.append(Symbol(kind="key", name=name, qualname=name, line=ts.line(table),
                                  end_line=ts.end_line(table), signature=header))
        if pyproject:
            _pyproject_deps(out, data, name, table)
            if name == "tool.tox":
                _legacy_tox(out, data, table)
    if pyproject or PurePosixPath(path).name == "tox.toml":
        tox = _tox_toml(text, data, root, "tool.tox." if pyproject else "")
        if tox:
            out.extra.append(("tox", tox))
    return _finish(out, path, root, len(data))


def _tox_toml(text: str, data: bytes, root: Node, prefix: str) -> str:
    """tox 4's TOML configuration (`tox.toml`, or `[tool.tox]` in `pyproject.toml`): `env_list`, and the
    `env_run_base` and `env.NAME` tables' `change_dir` and `commands`, in `tox_config`'s JSON shape."""
    try:
        doc: Any = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return ""
    for key in filter(None, prefix.rstrip(".").split(".")):
        doc = doc.get(key, {}) if isinstance(doc, dict) else {}
    if not isinstance(doc, dict) or not ("env_run_base" in doc or isinstance(doc.get("env"), dict)):
        return ""
    tables = {"env_run_base": "testenv",
              **{f"env.{n}": f"testenv:{n}" for n in (doc.get("env") or {}) if isinstance(n, str)}}
    lines: dict[str, dict[str, int]] = {}
    for table in root.named_children:
        name = _toml_key(data, table) if table.type == "table" else ""
        if name.startswith(prefix) and name[len(prefix):] in tables:
            keys = {k: ts.line(pair) for k, pair, _v in _toml_pairs(data, table)}
            lines[name[len(prefix):]] = {"": ts.line(table), **keys}
    envs = []
    for key, section in tables.items():
        env = doc["env_run_base"] if key == "env_run_base" else doc["env"][key[4:]]
        at = lines.get(key, {})
        if not isinstance(env, dict) or not at:
            continue  # an inline table: no line to cite
        entry: dict[str, Any] = {"section": section, "line": at[""]}
        if isinstance(env.get("change_dir"), str):
            entry["changedir"] = [at.get("change_dir", at[""]), env["change_dir"]]
        commands = env.get("commands")
        if isinstance(commands, list):
            entry["commands"] = [at.get("commands", at[""]), "; ".join(  # one line: the `commands` key's
                " ".join(_tox_word(w) for w in c) for c in commands if isinstance(c, list))]
        envs.append(entry)
    env_list = [e for e in doc.get("env_list", []) if isinstance(e, str)]
    return json.dumps({"envlist": env_list, "envs": envs}, separators=(",", ":"))


def _tox_word(word: object) -> str:
    """One word of a tox TOML command: a string, or a replacement (`{replace = "posargs"}` -> `{posargs}`)."""
    if isinstance(word, dict):
        return "{posargs}" if word.get("replace") == "posargs" else "{…}"
    return str(word)


def _legacy_tox(out: Extraction, data: bytes, table: Node) -> None:
    """`legacy_tox_ini = \"\"\"...\"\"\"` in `[tool.tox]`: an INI text whose environments tox runs."""
    for key, _pair, value in _toml_pairs(data, table):
        if key == "legacy_tox_ini" and value is not None and value.type == "string":
            raw = ts.text(data, value)
            quote = raw[:3] if raw[:3] in ('"""', "'''") else raw[:1]
            body = raw[len(quote):-len(quote)] if len(raw) >= 2 * len(quote) else ""
            first = ts.line(value) + (1 if body.startswith("\n") else 0)
            tox = tox_config(body.removeprefix("\n"), first)
            if tox:
                out.extra.append(("tox", tox))


def _pyproject_deps(out: Extraction, data: bytes, table_name: str, table: Node) -> None:
    def add(spec_node: Node, group: str, spec: str | None = None) -> None:
        spec = spec if spec is not None else _unquote(ts.text(data, spec_node))
        name = requirement_name(spec)
        if not name:
            return
        out.symbols.append(_sym("dependency", name, spec_node, signature=_squash(spec), parent=group,
                                qualname=f"{group}.{name}"))
        out.imports.append(Import(module=name, line=ts.line(spec_node)))

    for key, pair, value in _toml_pairs(data, table):
        if table_name == "project" and key == "dependencies":
            for s in _toml_strings(value):
                add(s, "project.dependencies")
        elif table_name in ("project.optional-dependencies", "dependency-groups"):
            for s in _toml_strings(value):
                add(s, f"{table_name}.{key}")
        elif table_name == "build-system" and key == "requires":
            for s in _toml_strings(value):
                add(s, "build-system.requires")
        elif table_name.startswith("tool.poetry") and table_name.endswith("dependencies") and key != "python":
            add(pair, table_name, spec=f"{key} {ts.text(data, value) if value is not None else ''}".strip())


# -- JSON ---------------------------------------------------------------------------------------
_NPM_DEPS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")


def _extract_json(path: str, text: str) -> Extraction:
    out = Extraction()
    data = text.encode("utf-8", "surrogatepass")
    root = ts.parse("json", data).root_node
    obj = next((c for c in root.named_children if c.type == "object"), None)
    package_json = PurePosixPath(path).name == "package.json"
    for pair in obj.named_children if obj is not None else []:
        if pair.type != "pair":
            continue
        key_node, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
        if key_node is None:
            continue
        key = _unquote(ts.text(data, key_node))
        shown = _squash(ts.text(data, value), 80) if value is not None and value.type not in ("object", "array") \
            else ("{…}" if value is not None and value.type == "object" else "[…]")
        out.symbols.append(_sym("key", key, pair, signature=f"{key}: {shown}"))
        if package_json and key in _NPM_DEPS and value is not None and value.type == "object":
            for dep in value.named_children:
                dk = dep.child_by_field_name("key")
                if dep.type != "pair" or dk is None:
                    continue
                name = _unquote(ts.text(data, dk))
                out.symbols.append(_sym("dependency", name, dep, signature=_squash(ts.text(data, dep)), parent=key,
                                        qualname=f"{key}.{name}"))
                out.imports.append(Import(module=name, line=ts.line(dep)))
    return _finish(out, path, root, len(data))


# -- CMake --------------------------------------------------------------------------------------
_CMAKE_TARGETS = {"add_library", "add_executable", "add_custom_target", "cuda_add_library", "cuda_add_executable",
                  "add_test", "pybind11_add_module", "torch_add_library"}


def _cmake_args(data: bytes, command: Node) -> list[str]:
    args = next((c for c in command.named_children if c.type == "argument_list"), None)
    return [_unquote(ts.text(data, a)) for a in args.named_children if a.type == "argument"] if args else []


def _extract_cmake(path: str, text: str) -> Extraction:
    out = Extraction()
    data = text.encode("utf-8", "surrogatepass")
    root = ts.parse("cmake", data).root_node
    stack = [root]
    commands: list[Node] = []
    while stack:
        node = stack.pop()
        for c in node.named_children:
            if c.type in ("normal_command", "function_command", "macro_command"):
                commands.append(c)
            elif c.type not in ("argument_list", "argument", "comment", "line_comment", "bracket_comment"):
                stack.append(c)
    for cmd in sorted(commands, key=lambda n: n.start_byte):
        ident = next((c for c in cmd.named_children if c.type == "identifier"), None)
        word = ts.text(data, ident).lower() if ident is not None else cmd.type.split("_")[0]
        args = _cmake_args(data, cmd)
        if not args:
            continue
        sig = _squash(ts.text(data, cmd))
        cond = "if" if _inside(cmd, ("if_condition", "foreach_loop", "while_loop")) else ""
        if word in _CMAKE_TARGETS:
            out.symbols.append(_sym("target", args[0], cmd, signature=sig, flags=(word,)))
        elif word == "option":
            out.symbols.append(_sym("option", args[0], cmd, signature=sig))
        elif word == "find_package":
            out.symbols.append(_sym("dependency", args[0], cmd, signature=sig))
            out.imports.append(Import(module=args[0], line=ts.line(cmd), conditional=cond))
        elif word in ("include", "add_subdirectory"):
            out.imports.append(Import(module=args[0], line=ts.line(cmd), conditional=cond))
        elif cmd.type in ("function_command", "macro_command"):
            parent = cmd.parent if cmd.parent is not None else cmd
            kind = "function" if cmd.type == "function_command" else "macro"
            out.symbols.append(_sym(kind, args[0], parent, signature=sig))
        elif word == "project":
            out.extra.append(("project", args[0]))
    out.extra.append(("cmake-commands", json.dumps(_cmake_tree(data, root), separators=(",", ":"))))
    return _finish(out, path, root, len(data))


_CMAKE_BLOCKS = {"foreach_loop": "foreach", "function_def": "function", "macro_def": "macro",
                 "while_loop": "while"}


def _cmake_tree(data: bytes, node: Node) -> list[list[object]]:
    """The commands of a CMake block as `[line, word, [args]]`, and loops and definitions as `[line, word,
    [args], [body]]`: `if` branches are flattened (every branch's commands, in order), arguments kept as
    written (quotes and `${}` included) for `link.cmaketests` to evaluate."""
    out: list[list[object]] = []
    for c in node.named_children:
        if c.type == "normal_command":
            ident = next((k for k in c.named_children if k.type == "identifier"), None)
            if ident is not None:
                out.append([ts.line(c), ts.text(data, ident).lower(), _cmake_raw_args(data, c)])
        elif c.type in _CMAKE_BLOCKS:
            head = c.named_children[0] if c.named_children else None
            body = next((k for k in c.named_children if k.type == "body"), None)
            out.append([ts.line(c), _CMAKE_BLOCKS[c.type], _cmake_raw_args(data, head) if head is not None else [],
                        _cmake_tree(data, body) if body is not None else []])
        elif c.type in ("if_condition", "body", "block_def"):
            out += _cmake_tree(data, c)
    return out


def _cmake_raw_args(data: bytes, command: Node) -> list[str]:
    args = next((c for c in command.named_children if c.type == "argument_list"), None)
    return [ts.text(data, a) for a in args.named_children if a.type == "argument"] if args else []


def _inside(node: Node, types: tuple[str, ...]) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in types:
            return True
        parent = parent.parent
    return False


# -- Dockerfile ---------------------------------------------------------------------------------
def _extract_dockerfile(path: str, text: str) -> Extraction:
    out = Extraction()
    data = text.encode("utf-8", "surrogatepass")
    root = ts.parse("dockerfile", data).root_node
    froms = [c for c in root.named_children if c.type == "from_instruction"]
    for i, node in enumerate(froms):
        image = next((c for c in node.named_children if c.type == "image_spec"), None)
        alias = node.child_by_field_name("as")
        image_text = ts.text(data, image) if image is not None else ""
        name = ts.text(data, alias) if alias is not None else (image_text or f"stage {i}")
        end = froms[i + 1].start_byte if i + 1 < len(froms) else root.end_byte
        sym = _sym("stage", name, node, signature=_squash(ts.text(data, node)))
        end_line = data.count(b"\n", 0, max(node.start_byte, end - 1)) + 1
        out.symbols.append(Symbol(kind=sym.kind, name=sym.name, qualname=sym.qualname, line=sym.line,
                                  end_line=max(sym.line, end_line), signature=sym.signature))
        if image_text and not image_text.startswith("$"):
            out.imports.append(Import(module=image_text, line=ts.line(node)))
    out.docstring = _leading_comment(data, root)
    return _finish(out, path, root, len(data))


# -- Bazel --------------------------------------------------------------------------------------
def _extract_bazel(path: str, text: str) -> Extraction:
    out = Extraction()
    try:
        tree = ast.parse(text, filename=path)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        out.diagnostics.append(dx.SYNTAX_ERROR.at(path, line, detail=exc, what="targets"))
        out.parse_ok = False
        return out
    for call in ast.walk(tree):
        test = _cc_test(call)
        if test:
            out.extra.append(("cc-test", json.dumps(test, separators=(",", ":"))))
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef):
            out.symbols.append(Symbol(kind="function", name=stmt.name, qualname=stmt.name, line=stmt.lineno,
                                      end_line=stmt.end_lineno or stmt.lineno,
                                      signature=f"def {stmt.name}({ast.unparse(stmt.args)})",
                                      summary=(ast.get_docstring(stmt) or "").split("\n\n")[0].strip()))
            continue
        if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
            continue
        call = stmt.value
        rule = ast.unparse(call.func)
        if rule == "load":
            strs = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if strs:
                out.imports.append(Import(module=strs[0], names=tuple(strs[1:]), line=stmt.lineno))
            continue
        name = next((k.value.value for k in call.keywords if k.arg == "name" and isinstance(k.value, ast.Constant)
                     and isinstance(k.value.value, str)), None)
        if name:
            out.symbols.append(Symbol(kind="target", name=name, qualname=name, line=stmt.lineno,
                                      end_line=stmt.end_lineno or stmt.lineno,
                                      signature=f'{rule}(name = "{name}")', flags=(rule,)))
    return out


def _strings(node: ast.expr | None) -> list[str] | None:
    """A list of string literals, None when it is anything else (a variable, a concatenation)."""
    if isinstance(node, ast.List) and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                                          for e in node.elts):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return None


def _cc_test(node: ast.AST) -> dict[str, object] | None:
    """A `cc_test(name = "...", srcs = [...] or glob([...], exclude = [...]))` call (also `rules.cc_test`, as a
    macro's body writes it) with a literal name; its sources as written."""
    if not (isinstance(node, ast.Call) and ast.unparse(node.func).rsplit(".", 1)[-1] == "cc_test"):
        return None
    kw = {k.arg: k.value for k in node.keywords if k.arg}
    name = kw.get("name")
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return None
    srcs, include, exclude = _strings(kw.get("srcs")), None, None
    value = kw.get("srcs")
    if srcs is None and isinstance(value, ast.Call) and ast.unparse(value.func).rsplit(".", 1)[-1] == "glob":
        include = _strings(value.args[0]) if value.args else None
        gkw = {k.arg: k.value for k in value.keywords if k.arg}
        include = include if include is not None else _strings(gkw.get("include"))
        exclude = _strings(gkw.get("exclude")) or []
    if srcs is None and include is None:
        return None
    deps = _strings(kw.get("deps")) or []
    return {"name": name.value, "line": node.lineno, "srcs": srcs or [], "glob": include or [],
            "exclude": exclude or [], "deps": deps}


# -- requirements*.txt --------------------------------------------------------------------------
def _extract_requirements(path: str, text: str) -> Extraction:
    out = Extraction()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        if line.startswith(("-r ", "-c ", "--requirement ", "--constraint ")):
            out.imports.append(Import(module=line.split(None, 1)[1].strip(), line=lineno))
            continue
        if line.startswith("-e ") or line.startswith("--editable "):
            line = line.split(None, 1)[1].strip()
            if "#egg=" not in line:
                continue
        elif line.startswith("-"):
            continue  # --index-url and other options
        name = requirement_name(line)
        if not name or name in (".", ".."):
            continue
        out.symbols.append(Symbol(kind="dependency", name=name, qualname=name, line=lineno, end_line=lineno,
                                  signature=_squash(line)))
        out.imports.append(Import(module=name, line=lineno))
    return out


def _safe(language: str, fn: Callable[[str, str], Extraction]) -> Callable[[str, str], Extraction]:
    return ts.safe(language)(fn)


extract_yaml = _safe("yaml", _extract_yaml)
extract_toml = _safe("toml", _extract_toml)
extract_json = _safe("json", _extract_json)
extract_cmake = _safe("cmake", _extract_cmake)
extract_dockerfile = _safe("dockerfile", _extract_dockerfile)
extract_bazel = _safe("bazel", _extract_bazel)
extract_requirements = _safe("requirements", _extract_requirements)
