"""Python references resolved across files on small repositories written here."""

from __future__ import annotations

import marshal
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from docatlas.extract import extract_bytes
from docatlas.link.references import python_refs
from docatlas.link.resolve import PythonIndex, python_roots


def _refs(files: dict[str, str]):
    facts = {p: extract_bytes(p, t.encode(), "python") for p, t in sorted(files.items())}
    paths = sorted(facts)
    index = PythonIndex(paths, python_roots(set(paths)))
    return python_refs(facts, index, paths)


def _targets(result, path):
    return [(r[1], r[2], r[3], r[5], r[6], r[8]) for r in result.outgoing.get(path, [])]


TORCHLIKE = {
    "torch/__init__.py": "from torch import nn as nn\nfrom torch._tensor import Tensor\n",
    "torch/_tensor.py": "class Tensor:\n    def add(self, o):\n        return self\n",
    "torch/nn/__init__.py": "from .modules import *\nfrom . import functional\n"
                            "from torch.nn.parameter import Parameter\n",
    "torch/nn/parameter.py": "class Parameter:\n    pass\n",
    "torch/nn/functional.py": "def relu(x):\n    return x\n\n\ndef _private():\n    pass\n",
    "torch/nn/modules/__init__.py": "from .module import Module\nfrom .linear import Linear, Bilinear\n"
                                    "__all__ = ['Module', 'Linear']\n",
    "torch/nn/modules/module.py": "class Module:\n    def forward(self):\n        pass\n\n"
                                  "    def __call__(self):\n        return self.forward()\n",
    "torch/nn/modules/linear.py": "from .module import Module\n\n\nclass Linear(Module):\n"
                                  "    def reset(self):\n        self.forward()\n        super().forward()\n\n\n"
                                  "class Bilinear(Module):\n    pass\n",
    "test/test_nn.py": (
        "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.nn import Parameter\n"
        "\n\nclass TestNN:\n    def test_a(self):\n        m = nn.Linear(3)\n        F.relu(m)\n"
        "        torch.nn.functional.relu(m)\n        m.reset()\n        nn.Bilinear\n        x = Parameter()\n"
        "        torch.Tensor.add(x, x)\n        nn.Module.forward(m)\n"),
}


def test_attribute_chains_follow_aliases_star_imports_and_reexports() -> None:
    result = _refs(TORCHLIKE)
    got = _targets(result, "test/test_nn.py")
    assert (9, 16, "call", "torch/nn/modules/linear.py", "Linear", "nn.Linear") in got
    assert (10, 11, "call", "torch/nn/functional.py", "relu", "F.relu") in got
    assert (11, 29, "call", "torch/nn/functional.py", "relu", "torch.nn.functional.relu") in got
    assert (4, 22, "import", "torch/nn/parameter.py", "Parameter", "Parameter") in got
    assert (14, 13, "call", "torch/nn/parameter.py", "Parameter", "Parameter") in got
    assert (15, 15, "read", "torch/_tensor.py", "Tensor", "torch.Tensor") in got
    assert (15, 22, "call", "torch/_tensor.py", "Tensor.add", "torch.Tensor.add") in got
    assert (16, 12, "read", "torch/nn/modules/module.py", "Module", "nn.Module") in got
    # `Bilinear` is not in `modules.__all__`, so the star import does not bring it into torch.nn
    assert not any(t[4] == "Bilinear" for t in got)
    # a method of a local variable is not claimed
    assert not any(t[4] == "Linear.reset" for t in got)
    resolved, _, unresolved = result.counts["test/test_nn.py"]
    assert unresolved >= 1 and resolved >= 7


def test_self_and_super_resolve_through_repository_bases() -> None:
    got = _targets(_refs(TORCHLIKE), "torch/nn/modules/linear.py")
    assert (6, 14, "call", "torch/nn/modules/module.py", "Module.forward", "self.forward") in got
    assert (7, 17, "call", "torch/nn/modules/module.py", "Module.forward", "super().forward") in got
    assert (4, 14, "subclass", "torch/nn/modules/module.py", "Module", "Module") in got


def test_incoming_lists_users_of_each_definition() -> None:
    result = _refs(TORCHLIKE)
    users = result.users("torch/nn/modules/linear.py", "Linear")
    assert [(r[0], r[1]) for r in users] == [("test/test_nn.py", 9), ("torch/nn/modules/__init__.py", 2)]


def test_star_import_cycles_terminate_and_conditional_bindings_keep_candidates() -> None:
    files = {
        "a.py": "from b import *\n\n\ndef fa():\n    pass\n",
        "b.py": "from a import *\n\n\ndef fb():\n    pass\n",
        "c.py": "from a import *\ntry:\n    from fast import impl\nexcept ImportError:\n    from slow import impl\n"
                "fb()\nfa()\nimpl()\nnothing()\n",
        "slow.py": "def impl():\n    pass\n",
    }
    result = _refs(files)
    got = _targets(result, "c.py")
    assert (6, 1, "call", "b.py", "fb", "fb") in got
    assert (7, 1, "call", "a.py", "fa", "fa") in got
    assert (8, 1, "call", "slow.py", "impl", "impl") in got
    facts = extract_bytes("c.py", files["c.py"].encode(), "python")
    conds = sorted(b[6] for b in facts.references.bindings if b[1] == "impl")
    assert conds == ["except", "try"]
    assert result.counts["c.py"][2] >= 1  # `nothing` is counted unresolved, never guessed


def test_locals_shadow_module_names_and_function_imports_bind_locally() -> None:
    files = {
        "m.py": "def f():\n    pass\n",
        "u.py": "from m import f\n\n\ndef g(f):\n    f()\n\n\ndef h():\n    from m import f as k\n    k()\n"
                "    f()\n",
    }
    got = _targets(_refs(files), "u.py")
    assert (5, 5, "call", "m.py", "f", "f") not in got  # the parameter, not the import
    assert (10, 5, "call", "m.py", "f", "k") in got
    assert (11, 5, "call", "m.py", "f", "f") in got


def test_files_that_do_not_parse_contribute_nothing() -> None:
    facts = extract_bytes("bad.py", b"def (:\n", "python")
    assert facts.references is None and not facts.parse_ok


def test_build_writes_refs_table_cli_lists_sites_and_export_carries_them(make_repo, tmp_path, capsys) -> None:
    import json

    from docatlas.cli import main

    repo = make_repo(TORCHLIKE)
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["refs", "torch.nn.modules.linear.Linear", "-o", str(out), "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(s["path"], s["line"], s["col"], s["kind"], s["test"]) for s in found[0]["sites"]] == [
        ("test/test_nn.py", 9, 16, "call", True), ("torch/nn/modules/__init__.py", 2, 21, "import", False)]
    assert main(["refs", "Module", "-o", str(out), "--kind", "subclass"]) == 0
    text = capsys.readouterr().out
    assert "torch/nn/modules/module.py  Module: 2 uses in 1 file (subclass)" in text
    assert main(["refs", "Module.forward", "-o", str(out), "--tests-only", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["files"] == 1  # nn.Module.forward(m) in the test
    assert main(["export", "-o", str(out)]) == 0
    records = {r["path"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    refs = records["test/test_nn.py"]["references"]
    assert {"line": 9, "col": 16, "name": "nn.Linear", "kind": "call", "target": "Linear",
            "target_path": "torch/nn/modules/linear.py", "target_line": 4} in refs
    linear = next(s for s in records["torch/nn/modules/linear.py"]["symbols"] if s["qualname"] == "Linear")
    assert (linear["used_by_files"], linear["uses"]) == (2, 2)
    assert main(["show", "torch.nn.modules.linear.Linear", "-o", str(out)]) == 0
    assert "used 2 times in 2 other files, most by: test/test_nn.py (1), torch/nn/modules/__init__.py (1)" in (
        capsys.readouterr().out)


def test_c_names_resolve_through_the_include_closure_and_ambiguity_is_counted() -> None:
    from docatlas.link.stage import link

    files = {
        "a/util.h": "#pragma once\nint helper(int x);\nstruct Box { int v; };\n",
        "a/util.cpp": '#include "util.h"\nint helper(int x) { return x + 1; }\n',
        "b/util.h": "#pragma once\nint helper(int x);\n",
        "b/util.cpp": '#include "util.h"\nint helper(int x) { return x; }\n',
        "a/util_test.cpp": '#include "util.h"\n#include <gtest/gtest.h>\n\nTEST(Util, Helper) {\n'
                           "  Box b;\n  EXPECT_EQ(helper(1), 2);\n  EXPECT_EQ(helper(2), 3);\n}\n",
        "c/k.cu": "__global__ void kern(int *x) {}\nvoid run(int *p) { kern<<<1, 2>>>(p); }\n",
        "d/other.cpp": "int g() { return helper(3); }\n",
    }
    langs = {"h": "c-header", "cpp": "cpp", "cu": "cuda"}
    facts = {p: extract_bytes(p, t.encode(), langs[p.rsplit(".", 1)[1]]) for p, t in sorted(files.items())}
    model = link("repo", facts)
    got = [(r[1], r[2], r[3], r[4], r[5], r[6]) for r in model.refs.outgoing["a/util_test.cpp"]]
    assert (5, 3, "annotation", "Util.Helper", "a/util.h", "Box") in got
    assert [g[4:] for g in got if g[5] == "helper"] == [("a/util.h", "helper")] * 2  # its closure, not b/util.h
    assert [(r[1], r[2], r[3], r[5]) for r in model.refs.outgoing["c/k.cu"]] == [(2, 20, "call", "c/k.cu")]
    assert model.refs.ambiguous["d/other.cpp"] == 1  # two `helper`s defined, neither included nor beside it
    assert [(tl.test, tl.uses) for tl in model.tested_by["a/util.h"]] == [("a/util_test.cpp", 3)]
    # the ambiguous use keeps its candidates (the two definitions; the prototypes are not definitions)
    assert model.refs.candidates["d/other.cpp"] == [
        (1, 18, "call", "g", "helper", (("a/util.cpp", "helper", 2), ("b/util.cpp", "helper", 2)))]


def test_c_functions_used_as_values_are_references_and_other_names_are_not() -> None:
    from docatlas.link.stage import link

    files = {
        "lib.h": "#pragma once\nint cb(int x);\nint size;\nstruct S { int v; };\n",
        "lib.cpp": '#include "lib.h"\nint cb(int x) { return x; }\nnamespace ns { int f(int y) { return y; } }\n',
        "use.cpp": '#include "lib.h"\nint apply(int (*g)(int), int v);\n'
                   "void run(int size) {\n  apply(cb, size);\n  int (*p)(int) = &ns::f;\n  p = cb;\n}\n",
    }
    langs = {"h": "c-header", "cpp": "cpp"}
    facts = {p: extract_bytes(p, t.encode(), langs[p.rsplit(".", 1)[1]]) for p, t in sorted(files.items())}
    model = link("repo", facts)
    got = [(r[1], r[3], r[6]) for r in model.refs.outgoing["use.cpp"]]
    assert (4, "read", "cb") in got and (6, "read", "cb") in got  # passed as an argument, assigned
    assert (5, "read", "ns::f") in got or (5, "read", "f") in got  # address of a qualified name
    assert not [g for g in got if g[2] == "size"]  # a parameter named like a variable: values match functions only


def test_c_functions_in_designated_initializers_are_references() -> None:
    """`{.run = kernel}` (C99, C++20): a table of function pointers, as QNNPACK's `init.c` fills them."""
    from docatlas.link.stage import link

    files = {
        "k.h": "#pragma once\nvoid kernel(int x);\nstruct ops { void (*run)(int); void (*other)(int); };\n",
        "k.c": '#include "k.h"\nvoid kernel(int x) {}\n',
        "init.c": '#include "k.h"\nstatic struct ops table = {\n  .run = kernel,\n  .other = &kernel,\n};\n',
        "init.cpp": '#include "k.h"\nstatic ops table = {.run = kernel};\n',
    }
    langs = {"h": "c-header", "c": "c", "cpp": "cpp"}
    facts = {p: extract_bytes(p, t.encode(), langs[p.rsplit(".", 1)[1]]) for p, t in sorted(files.items())}
    model = link("repo", facts)
    assert [(r[1], r[2], r[3], r[6]) for r in model.refs.outgoing["init.c"] if r[6] == "kernel"] == [
        (3, 10, "read", "kernel"), (4, 13, "read", "kernel")]
    assert [(r[1], r[3], r[6]) for r in model.refs.outgoing["init.cpp"] if r[6] == "kernel"] == [
        (2, "read", "kernel")]


def test_search_puts_the_most_used_definition_first(make_repo, tmp_path, capsys) -> None:
    import json

    from docatlas.cli import main

    repo = make_repo({**TORCHLIKE,
                      "torch/ao/quantized/linear.py": "class Linear:\n    pass\n",
                      "torch/ao/quantized/__init__.py": "",
                      # more central (imported by three files) but never used
                      **{f"torch/ao/user{i}.py": "import torch.ao.quantized.linear\n" for i in range(3)}})
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["search", "Linear", "-o", str(out), "--kind", "class", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["path"] for h in hits][:2] == ["torch/nn/modules/linear.py", "torch/ao/quantized/linear.py"]


def test_package_api_follows_star_imports_and_their_all() -> None:
    api = _refs(TORCHLIKE).package_api["torch/nn/__init__.py"]
    assert {"Linear", "Module", "Parameter"} <= set(api)
    assert "Bilinear" not in api  # not in `modules.__all__`


def test_a_test_named_after_its_target_comes_first() -> None:
    from docatlas.link.reftests import named_after

    assert named_after("c10/test/util/irange_test.cpp", "c10/util/irange.h")
    assert named_after("test/nn/test_linear.py", "torch/nn/modules/linear.py")
    assert not named_after("test/test_nn.py", "torch/nn/modules/linear.py")


def test_a_name_bound_twice_in_a_body_resolves_to_the_binding_before_the_use() -> None:
    files = {"m.py": "def f():\n    class A:\n        pass\n    A()\n    class A:\n        pass\n    A()\n"}
    got = [(r[1], r[7]) for r in _refs(files).outgoing["m.py"]]
    assert got == [(4, 2), (7, 5)]


def test_public_api_says_when_all_is_computed() -> None:
    from docatlas.link.stage import link
    from docatlas.link.views import public_api

    files = {"pkg/__init__.py": "from .a import *\nfrom . import a\n__all__ = ['One']\n__all__ += a.__all__\n",
             "pkg/a.py": "__all__ = ['Two']\n\n\nclass Two:\n    pass\n"}
    facts = {p: extract_bytes(p, t.encode(), "python") for p, t in sorted(files.items())}
    model = link("repo", facts)
    names, source = public_api(model, "pkg/__init__.py")
    assert names == ["One"] and "only the names it lists literally" in source and "computed" in source
    names, source = public_api(model, "pkg/a.py")
    assert names == ["Two"] and source == "`__all__`"


def _c_model(files: dict[str, str]):
    from docatlas.link.stage import link

    langs = {"h": "c-header", "cpp": "cpp", "cu": "cuda", "c": "c"}
    facts = {p: extract_bytes(p, t.encode(), langs[p.rsplit(".", 1)[1]]) for p, t in sorted(files.items())}
    return link("repo", facts)


def test_c_qualifiers_and_member_calls_narrow_the_candidates() -> None:
    model = _c_model({
        "c10/irange.h": "#pragma once\nnamespace c10 {\nint irange(int n) { return n; }\n}\n",
        "dim/py.h": "#pragma once\nstruct irange { irange(int n) {} };\n",
        "dim/max.h": "#pragma once\nint max(int a, int b) { return a; }\n",
        "core/storage.h": "#pragma once\nnamespace c10 {\nstruct Storage { void* data() { return 0; } };\n}\n",
        "core/buf.h": "#pragma once\nvoid* data(int x) { return 0; }\n",
        "app/use.cpp": '#include "../c10/irange.h"\n#include "../dim/py.h"\n#include "../dim/max.h"\n'
                       '#include "../core/storage.h"\n#include "../core/buf.h"\n'
                       "void run(c10::Storage s) {\n  c10::irange(3);\n  std::max(1, 2);\n  s.data();\n"
                       "  data(1);\n}\n",
    })
    got = {(r[1], r[8]): (r[5], r[6]) for r in model.refs.outgoing["app/use.cpp"]}
    # `c10::irange` can only be the function in namespace c10, not the struct `irange` the closure also reaches
    assert got[(7, "c10::irange")] == ("c10/irange.h", "c10::irange")
    # `std::max` names a namespace the repository never defines `max` in: not the repository's `max`
    assert not [k for k in got if k[0] == 8]
    assert not [c for c in model.refs.candidates.get("app/use.cpp", []) if c[0] == 8]
    # `s.data()` is a member: only the method, never the free function `data`; `data(1)` the free function
    assert got[(9, ".data")] == ("core/storage.h", "c10::Storage::data")
    assert got[(10, "data")] == ("core/buf.h", "data")


def test_c_ambiguous_uses_are_possible_users_of_each_candidate_on_the_page() -> None:
    from docatlas.render.usage import usage_link_context

    model = _c_model({
        "a/util.cpp": "int helper(int x) { return x + 1; }\n",
        "b/util.cpp": "int helper(int x) { return x; }\n",
        "d/other.cpp": "int g() { return helper(3) + helper(4); }\n",
        "d/third.cpp": "int h() { return helper(5); }\n",
    })
    assert model.refs.possible["a/util.cpp"]["helper"] == [("d/other.cpp", 2, 2, 1), ("d/third.cpp", 1, 2, 1)]
    assert model.refs.possible["b/util.cpp"]["helper"] == [("d/other.cpp", 2, 2, 1), ("d/third.cpp", 1, 2, 1)]
    assert "a/util.cpp" not in model.refs.incoming  # possible, never resolved
    ctx = usage_link_context(model, "a/util.cpp")
    assert (ctx["used_by_total"], ctx["possibly_used_total"]) == (0, 1)
    d = ctx["used_by"][0]
    assert (d["name"], d["line"], d["files"], d["possible_files"], d["possible_sites"]) == ("helper", 1, 0, 2, 3)
    assert [(f["path"], f["uses"], f["candidates"]) for f in d["possible"]] == [("d/other.cpp", 2, 2),
                                                                               ("d/third.cpp", 1, 2)]


def test_c_uses_in_an_if_branch_only_another_parse_sees_are_recorded() -> None:
    # a directive inside an expression breaks the whole-file parse: each branch is read on its own
    src = ("#if defined(ANSI)\nstatic inline int bsf(int a) { return lowbit(a); }\n#elif defined(ASM)\n"
           "static inline int bsf(int a)\n{\n    int r;\n    __asm__ (\n#ifdef CONFIG_64\n        \"bsfq %1, %0\"\n"
           "#else\n        \"bsf %1, %0\"\n#endif\n        : \"=r\" (r) : \"rm\" (a) : \"cc\");\n    return r;\n}\n"
           "#else\nstatic inline int bsf(int a) { return scan_forward(a); }\n#endif\n")
    uses = extract_bytes("bits.c", src.encode(), "c").references.uses
    assert [(u[0], u[1]) for u in uses if u[3] == "call"] == [("lowbit", 2), ("scan_forward", 17)]


def test_c_page_says_possibly_used_by_apart_from_used_by(make_repo, tmp_path) -> None:
    from docatlas.cli import main

    repo = make_repo({"a/util.cpp": "int helper(int x) { return x + 1; }\nint solo(int x) { return x; }\n",
                      "b/util.cpp": "int helper(int x) { return x; }\n",
                      "d/other.cpp": "int solo(int);\nint g() { return helper(3) + helper(4) + solo(1); }\n"})
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    page = (out / "a" / "util.cpp_docs.md").read_text()
    assert "1 of its definitions is used from 1 other file (1 resolved reference; most used first). 1 is " \
           "possibly used: other files use its name where several definitions could be meant" in page
    assert "- `helper` (line 1): possibly used by 1 file (2 sites): [`d/other.cpp`](../../d/other.cpp#L2) " \
           "(2 uses, 2 candidates)" in page
    assert "- `solo` (line 2): used by 1 file (1 site); other files: [`d/other.cpp`]" in page


def test_c_uses_in_macro_bodies_are_the_macros_and_keep_their_place() -> None:
    src = ("#define CHECK(x) helper(x)\n#define MULTI(a, b) \\\n  do { at::foo(a); obj->bar(b); } while (0)\n"
           "#define ONE 1\nint g() { return CHECK(3); }\n#define LAST(t) Tensor t = make(t)\n")
    uses = extract_bytes("m.cpp", src.encode(), "cpp").references.uses
    assert [u for u in uses] == [("helper", 1, 18, "call", "CHECK"), ("at::foo", 3, 12, "call", "MULTI"),
                                 (".bar", 3, 25, "call", "MULTI"), ("CHECK", 5, 18, "call", "g"),
                                 ("Tensor", 6, 17, "annotation", "LAST"), ("make", 6, 28, "call", "LAST")]
    # the macro's parameters, used as values in its body, are not taken for functions
    assert not [u for u in uses if u[0] in ("x", "a", "b", "t")]


def test_c_macro_bodies_with_crlf_continuations_keep_their_places() -> None:
    # a `\\` + CRLF continuation is blanked to the same length: later uses keep their line and column
    src = ("#define MULTI(a, b) \\\n  at::foo(a); \\\n  obj->bar(b)\n"
           "#define TWO(a) \\\n  helper(a)\nint g() { return TWO(1); }\n")
    lf = extract_bytes("m.cpp", src.encode(), "cpp").references.uses
    crlf = extract_bytes("m.cpp", src.replace("\n", "\r\n").encode(), "cpp").references.uses
    assert crlf == lf
    assert ("helper", 5, 3, "call", "TWO") in lf and ("TWO", 6, 18, "call", "g") in lf


def test_c_types_macros_and_static_functions_of_a_source_file_are_seen_only_where_included() -> None:
    model = _c_model({
        "Include/pyport.h": "#pragma once\ntypedef long Py_ssize_t;\nint helper(int x);\n",
        "Misc/model.c": "typedef int Py_ssize_t;\nstatic int helper(int x) { return x; }\n",
        "Python/impl.c": '#include "../Include/pyport.h"\nint helper(int x) { return x + 1; }\n',
        "Include/cpython/list.h": "Py_ssize_t size(void);\nstatic inline int twice(int x) { return helper(x); }\n",
    })
    got = {(r[1], r[8]): (r[5], r[6]) for r in model.refs.outgoing["Include/cpython/list.h"]}
    # the header includes nothing: of the two typedefs only the header's can be meant, of the two `helper`s
    # only the one with external linkage
    assert got[(1, "Py_ssize_t")] == ("Include/pyport.h", "Py_ssize_t")
    assert got[(2, "helper")] == ("Python/impl.c", "helper")  # neither included: the definition
    assert "Include/cpython/list.h" not in model.refs.candidates


def test_c_a_header_that_includes_nothing_sees_what_its_includer_sees() -> None:
    model = _c_model({
        "Include/object.h": "#pragma once\nstatic inline void Py_DECREF(int *o) { }\n",
        "Python/ceval.c": "void Py_DECREF(int *o) { }\n",
        "Modules/_ssl.c": '#include "../Include/object.h"\nstatic void seterr(void) { }\n'
                          '#include "clinic/_ssl.c.h"\n',
        "Modules/clinic/_ssl.c.h": "static void wrap(int *o) { Py_DECREF(o); seterr(); }\n",
    })
    got = [(r[1], r[5], r[6]) for r in model.refs.outgoing["Modules/clinic/_ssl.c.h"]]
    # its includer reaches object.h: not ambiguous; and it sees its includer's static function
    assert got == [(1, "Include/object.h", "Py_DECREF"), (1, "Modules/_ssl.c", "seterr")]
    assert "Modules/clinic/_ssl.c.h" not in model.refs.candidates


def test_c_possible_users_after_an_edit_equal_a_full_build(make_repo) -> None:
    from docatlas.cli import main

    repo = make_repo({"a/util.cpp": "int helper(int x) { return x + 1; }\n",
                      "b/util.cpp": "int helper(int x) { return x; }\n",
                      "d/other.cpp": "int g() { return helper(3); }\n",
                      "d/third.cpp": "int h() { return 0; }\n"})
    out_a, out_b = repo.parent / "out_a", repo.parent / "out_b"
    assert main(["build", str(repo), "-o", str(out_a), "-j", "1", "-q"]) == 0
    (repo / "d/third.cpp").write_text("int h() {\n  return helper(5) + helper(6);\n}\n")  # a body edit
    assert main(["build", str(repo), "-o", str(out_a), "-j", "1", "-q"]) == 0
    assert main(["build", str(repo), "-o", str(out_b), "-j", "1", "-q", "--full"]) == 0
    page_a = (out_a / "a" / "util.cpp_docs.md").read_text()
    assert "possibly used by 2 files (3 sites)" in page_a
    assert page_a == (out_b / "a" / "util.cpp_docs.md").read_text()
    assert (out_a / "b" / "util.cpp_docs.md").read_text() == (out_b / "b" / "util.cpp_docs.md").read_text()


def test_ambiguous_c_uses_are_listed_for_each_candidate_and_survive_an_edit(make_repo, tmp_path, capsys) -> None:
    """A C name defined in two files is ambiguous in a third that includes neither: `refs` lists the use under
    both definitions with its candidate count (one stored candidate set), and editing the using file keeps
    the other files' rows."""
    import json

    from docatlas.cli import main

    repo = make_repo({
        "a/one.c": "int helper(int x) { return x; }\n",
        "b/two.c": "int helper(int x) { return x + 1; }\n",
        "c/use.c": "int f(void) { return helper(1); }\n",
        "c/more.c": "int g(void) {\n  return helper(2) + helper(3);\n}\n",
    })
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0

    def ambiguous() -> dict[str, list[tuple[str, int, int, str, int]]]:
        capsys.readouterr()
        assert main(["refs", "helper", "-o", str(out), "--json"]) == 0
        return {r["path"]: [(s["path"], s["line"], s["col"], s["enclosing"], s["candidates"])
                            for s in r["ambiguous_sites"]] for r in json.loads(capsys.readouterr().out)}

    sites = [("c/more.c", 2, 10, "g", 2), ("c/more.c", 2, 22, "g", 2), ("c/use.c", 1, 22, "f", 2)]
    assert ambiguous() == {"a/one.c": sites, "b/two.c": sites}
    (repo / "c/use.c").write_text("int f(void) {\n  return 0;\n}\n\nint h(void) { return helper(4); }\n")
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    sites = [("c/more.c", 2, 10, "g", 2), ("c/more.c", 2, 22, "g", 2), ("c/use.c", 5, 22, "h", 2)]
    assert ambiguous() == {"a/one.c": sites, "b/two.c": sites}


SCOPES = '''
import os
from typing import List as L

G = 1


def f(a, *args, b=None, **kw):
    global G
    x = y = 1
    (p, [q, *r]), s.t, u[0] = v = 1, 2
    w: int = 3
    z += 1
    del d, e.f
    for i, (j, k) in []:
        pass
    else:
        loop_else = 1
    while False:
        in_while = 1
    with open(a) as (h1, h2), open(b) as h3:
        import json
        from os import path as pth, sep
    try:
        t1 = 1
    except (OSError, ValueError) as err:
        t2 = 1
    else:
        t3 = 1
    finally:
        t4 = 1
    match a:
        case {"k": m1, **rest}:
            m2 = 1
        case [m3, *m4] if m3:
            pass
        case C(m5) | m6:
            pass
    if a:
        class Inner(os.PathLike):
            attr = 1

        async def inner():
            nonlocal_name = 1
    lam = lambda lv: lv
    comp = [cv for cv in G]
    return G, x, y, p, q, r, v, w, z, d, i, j, k, h1, h3, json, pth, sep, err, m1, rest, m3, m4, m5, m6, Inner
'''


def test_function_locals_without_walrus_match_the_full_walk():
    """A module without `:=` finds each function's local names from its statements alone
    (`pylocals.stored_names_plain`): the same as walking every node (`stored_names`)."""
    import ast

    from docatlas.extract import pylocals, pyrefs

    tree = ast.parse(SCOPES)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    full: set[str] = set()
    full_globals: set[str] = set()
    full_bindable: set[str] = set()
    pylocals.stored_names(fn.body, full, full_globals, full_bindable)
    plain: set[str] = set()
    plain_globals: set[str] = set()
    plain_bindable: set[str] = set()
    pylocals.stored_names_plain(fn.body, plain, plain_globals, plain_bindable)
    assert plain == full and plain_globals == full_globals and plain_bindable == full_bindable
    assert {"x", "p", "q", "r", "v", "w", "z", "d", "i", "k", "loop_else", "in_while", "h2", "h3", "json",
            "pth", "sep", "err", "t2", "t4", "m1", "rest", "m4", "m6", "Inner", "inner", "lam"} <= plain
    assert not {"s", "u", "e", "a", "lv", "cv", "attr", "nonlocal_name"} & plain
    assert plain_globals == {"G"} and plain_bindable == {"json", "pth", "sep", "Inner", "inner"}
    assert pyrefs.collect(tree, SCOPES) == pyrefs.collect(tree)


def test_walrus_modules_take_the_full_walk():
    """`:=` binds a name inside an expression: a module whose text holds it is walked whole."""
    import ast

    from docatlas.extract import pyrefs

    text = "import os\n\n\ndef f():\n    if (os := 1):\n        return os\n    return os.sep\n"
    _, uses = pyrefs.collect(ast.parse(text), text)
    assert not [u for u in uses if u[0].startswith("os")]  # `os` is f's local: no reference to the module
    plain = pyrefs.Collector(walrus=False)
    plain.module(ast.parse(text))
    assert [u for u in plain.uses if u[0].startswith("os")]  # what the plain walk would have got wrong


def test_walrus_lines_walk_whole_only_the_statements_over_them():
    """In a module with `:=`, only the statements whose lines (a decorator's included) hold it are walked
    whole (`pylocals.walrus_lines`): the same locals as walking every function whole."""
    import ast

    from docatlas.extract import pyrefs

    text = (SCOPES + "\n\ndef g(a):\n    @deco(k := 1)\n    def h():\n        return k, os\n    if a:\n"
            "        for i in range(3):\n            print(\n                (os := i))\n    return os, k, h\n"
            "\n\ndef u(path, ns):\n    return f'{path:=>10}', ns\n")
    tree = ast.parse(text)
    full = pyrefs.Collector(walrus=True)  # (no lines: every function walked whole)
    full.module(tree)
    assert pyrefs.collect(tree, text) == (tuple(full.bindings), tuple(full.uses))
    assert not [u for u in full.uses if u[3] == "g" and u[0].startswith(("os", "k"))]  # g's locals
    crlf = text.replace("\n", "\r\n")
    assert pyrefs.collect(ast.parse(crlf), crlf) == pyrefs.collect(tree, text)


def test_show_states_use_counts_only_for_kinds_code_references(make_repo, tmp_path, capsys) -> None:
    """A Markdown heading or a config key is never the target of a code reference: no "used 0 times" for it."""
    from docatlas.cli import main

    repo = make_repo({"guide.md": "# Quickstart\n\nText.\n", "setup.cfg": "[metadata]\nname = x\n",
                      "m.py": "def Quickstart():\n    pass\n", "u.py": "from m import Quickstart\nQuickstart()\n"})
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["show", "Quickstart", "-o", str(out)]) == 0
    heading = capsys.readouterr().out
    assert "(heading, h1)" in heading and "used " not in heading
    assert "guide.md  (markdown, docs)" in heading
    assert main(["show", "m.Quickstart", "-o", str(out)]) == 0
    function = capsys.readouterr().out
    assert "used 2 times in 1 other file, most by: u.py (2)" in function and "imported by 1 file\n" in function
    assert main(["refs", "Quickstart", "-o", str(out)]) != 0  # only the heading has that full name
    assert "names only a heading, which no code reference resolves to" in capsys.readouterr().err


def test_c_include_closures_as_bit_sets_equal_the_walk() -> None:
    """`cresolve._Reach` (closures per strongly connected component, as bits, the walk resumed across calls)
    gives every file the closure `graph.include_closure` walks, on graphs with cycles, self-includes and
    targets that include nothing, whatever order the files are asked in."""
    import random

    from docatlas.link.cresolve import _Reach
    from docatlas.link.graph import include_closure

    rng = random.Random(12)
    for trial in range(60):
        n = rng.randint(1, 40)
        nodes = [f"f{i}.h" for i in range(n)]
        includes = {p: [rng.choice([*nodes, "ext.inc"]) for _ in range(rng.randint(0, 4))]
                    for p in nodes if rng.random() < 0.9}
        reach = _Reach(includes)
        order = nodes[:]
        rng.shuffle(order)
        for p in order:
            bits = reach.closure(p)
            want = include_closure(p, includes)
            got = {q for q in [*nodes, "ext.inc"] if reach.has(bits, q)}
            assert got == want, (trial, p)
        users = {p: [q for q in nodes if p in includes.get(q, ())] for p in nodes}
        for p in nodes:
            ctx = reach.context(p, users)
            want_ctx: set[str] = set()
            if len(users[p]) <= 8:
                for u in users[p]:
                    want_ctx |= include_closure(u, includes)
            assert {q for q in nodes if reach.has(ctx, q)} == want_ctx & set(nodes)


def test_packed_references_read_as_the_lists_they_hold() -> None:
    from docatlas.link.references import Packed

    rows = {"b.py": [("a.py", 3, 5, "call", "f", "b.py", "g", 1, "g")], "c.h": {"helper": [("d.cpp", 2, 2, 1)]}}
    packed = Packed(rows)
    assert list(packed) == ["b.py", "c.h"] and len(packed) == 2 and "b.py" in packed and "x" not in packed
    assert packed["b.py"] == rows["b.py"] and packed.get("c.h") == rows["c.h"] and packed.get("x", []) == []
    assert packed["b.py"] is not packed["b.py"]  # made again on each read, never kept
    packed["x"] = [("y", 1)]
    del packed["b.py"]
    assert dict(packed) == {"c.h": rows["c.h"], "x": [("y", 1)]}


def _link_rows(output: Path, kind: str) -> dict[str, Any]:
    """One kind of the facts cache's per-file link rows, unmarshalled."""
    from docatlas.store.schema import cache_path

    conn = sqlite3.connect(cache_path(output))
    try:
        return {p: marshal.loads(d) for p, d in conn.execute("SELECT path, data FROM link_rows WHERE kind = ?",
                                                              (kind,))}
    finally:
        conn.close()


def test_pages_from_packed_references_equal_pages_from_the_lists(make_repo, tmp_path, monkeypatch) -> None:
    """The render workers read the references into each file marshalled (`RefIndex.pack`): every page is as
    it was from the lists themselves, used-by lists, possible users and usage examples included."""
    from docatlas.cli import main
    from docatlas.link.references import Packed, RefIndex

    files = {**TORCHLIKE, "a/util.cpp": "int helper(int x) { return x + 1; }\nint solo(int x) { return x; }\n",
             "b/util.cpp": "int helper(int x) { return x; }\n",
             "d/other.cpp": "int solo(int);\nint g() { return helper(3) + helper(4) + solo(1); }\n"}
    repo = make_repo(files)
    packed_refs: list[RefIndex] = []
    real_pack = RefIndex.pack

    def pack(self: RefIndex, *parts: Any) -> None:
        real_pack(self, *parts)
        packed_refs.append(self)

    monkeypatch.setattr(RefIndex, "pack", pack)
    assert main(["build", str(repo), "-o", str(tmp_path / "packed"), "-j", "2", "-q"]) == 0
    assert packed_refs and isinstance(packed_refs[-1].incoming, Packed) and isinstance(packed_refs[-1].possible, Packed)
    monkeypatch.setattr(RefIndex, "pack", lambda self, *parts: None)
    assert main(["build", str(repo), "-o", str(tmp_path / "lists"), "-j", "2", "-q"]) == 0
    # the facts cache stored the packed bytes of the references into each file (`Packed.blobs`): the same rows
    stored = [_link_rows(tmp_path / name, "incoming") for name in ("packed", "lists")]
    assert stored[0] and stored[0] == stored[1]
    pages = sorted(p.relative_to(tmp_path / "packed") for p in (tmp_path / "packed").rglob("*.md"))
    assert pages == sorted(p.relative_to(tmp_path / "lists") for p in (tmp_path / "lists").rglob("*.md"))
    assert "possibly used by 1 file" in (tmp_path / "packed" / "a" / "util.cpp_docs.md").read_text()
    for page in pages:
        assert (tmp_path / "packed" / page).read_bytes() == (tmp_path / "lists" / page).read_bytes(), page


def test_example_lines_are_the_first_lines_splitlines_gives(tmp_path, monkeypatch) -> None:
    """`snippets` reads a file only up to the lines it shows, in small chunks here, and splits only those from
    the chunk holding the first: the lines are those a whole read and `splitlines` give (universal newlines,
    form feeds and other breaks, undecodable bytes)."""
    import random

    from docatlas.render import usage

    monkeypatch.setattr(usage, "_CHUNK", 7)
    rng = random.Random(12)
    alphabet = ["a", "\u00e9", " ", "\n", "\n", "\r\n", "\r", "\x0c", "\x85", "\u2028", "\x1e"]
    file = tmp_path / "f.py"
    for _ in range(3000):
        raw = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))).encode()
        if rng.random() < 0.3:
            cut = rng.randint(0, len(raw))
            raw = raw[:cut] + b"\xff\xc3" + raw[cut:]
        file.write_bytes(raw)
        n = rng.randint(1, 10)
        first = rng.randint(1, n)
        with open(file, encoding="utf-8", errors="replace") as fh:
            want = fh.read().splitlines()[:n]
        assert usage._window(str(file), first, n) == (len(want), want[first - 1:]), (raw, first, n)


def test_used_by_lists_the_three_test_files_and_three_other_files_using_a_definition_most(make_repo,
                                                                                         tmp_path) -> None:
    """Per definition, Used By names at most 3 test files and 3 other files, most uses first, and counts the
    rest: `docatlas refs` lists them all."""
    from docatlas.cli import main

    files = {"lib.py": "def helper():\n    return 1\n"}
    for i in range(5):  # file i imports helper and calls it i + 1 times: the last files use it most
        calls = "".join("    helper()\n" for _ in range(i + 1))
        files[f"tests/test_u{i}.py"] = f"from lib import helper\n\n\ndef test_it():\n{calls}"
        files[f"app/m{i}.py"] = f"from lib import helper\n\n\ndef run():\n{calls}"
    out = tmp_path / "out"
    assert main(["build", str(make_repo(files)), "-o", str(out), "-j", "1", "-q"]) == 0
    page = (out / "lib.py_docs.md").read_text()
    assert "Per definition, the files using it, most uses first: at most 3 test files and 3 other files, " \
           "the rest counted (each link opens its first use; `docatlas refs NAME` lists every file and site):" \
           in page
    line = next(x for x in page.splitlines() if x.startswith("- `helper` (line 1): "))
    assert line.startswith("- `helper` (line 1): used by 10 files (40 sites); tests: [`tests/test_u4.py`]")
    assert [int(n) for n in re.findall(r"\.py#L\d+\) \((\d)\)", line)] == [6, 5, 4, 6, 5, 4]
    assert line.count(" and 2 more") == 2 and "m1.py" not in line and "test_u0.py" not in line


def test_parsing_only_some_lines_keeps_the_places_a_parse_of_the_blanked_text_gives() -> None:
    from docatlas.extract import tsadapter as ts

    text = b"int a = 1;\r\n\n  void f() { g(x); }\nint b;\n\tstruct S { T t; };\nno newline at end"
    lines = text.splitlines(keepends=True)
    starts = [sum(map(len, lines[:i])) for i in range(len(lines) + 1)]
    spans = [(starts[2], starts[3]), (starts[4], starts[5])]
    blank = bytearray(c if c in b"\r\n" else 32 for c in text)
    for a, b in spans:
        blank[a:b] = text[a:b]

    def nodes(tree: Any) -> list[tuple[str, int, int, tuple[int, int], tuple[int, int]]]:
        out, stack = [], [tree.root_node]
        while stack:
            n = stack.pop()
            if n.type != "translation_unit":  # (the root spans the ranges, not the whole text)
                out.append((n.type, n.start_byte, n.end_byte, tuple(n.start_point), tuple(n.end_point)))
            stack.extend(n.children)
        return sorted(out)

    ranged = nodes(ts.parse_ranges("cpp", text, spans))
    assert ranged == nodes(ts.parse("cpp", bytes(blank)))
    assert ("identifier", starts[2] + 15, starts[2] + 16, (2, 15), (2, 16)) in ranged  # `x`, past "\r\n\n"
    assert ("type_identifier", starts[4] + 12, starts[4] + 13, (4, 12), (4, 13)) in ranged  # `T`


def test_references_keep_uses_pickled() -> None:
    """A file's uses cross processes and sit in the facts as one bytes object, made into tuples only where they
    are read: unpickling the facts builds no use tuple, and the values survive the round trip."""
    import pickle
    import pickletools

    from docatlas.model import References

    src = "import os\n\n\ndef f(x):\n    return os.path.join(x, 'a')\n"
    refs = extract_bytes("m.py", src.encode(), "python").references
    assert refs is not None and refs.uses
    blob = pickle.dumps(refs, protocol=5)
    carried = [arg for op, arg, _ in pickletools.genops(blob) if "BYTES" in op.name]
    assert carried == [refs._packed]  # the uses: one bytes object, no tuple of theirs in the stream
    back = pickle.loads(blob)
    assert back == refs and back.uses == refs.uses and back.bindings == refs.bindings
    assert isinstance(back._packed, bytes) and back.uses is not back.uses  # made again on each read
    assert References((), refs.uses) == References((), list(refs.uses))  # equal by value, however built
    assert References((), refs.uses) != References((), refs.uses[:-1])
    with pytest.raises(AttributeError):
        refs.bindings = ()  # type: ignore[misc]


def test_python_references_resolved_in_a_child_beside_the_c_family_equal_those_resolved_here(monkeypatch) -> None:
    """`attach(beside=True)` forks a child for the Python files while this process resolves the C family: the
    joined index is the one resolving both in turn gives, part by part and in the same key order (pages and
    index rows follow that order), and a child that dies is made up for here."""
    import dataclasses

    from docatlas import pool
    from docatlas.link.stage import link

    files = {**TORCHLIKE,
             "csrc/util.h": "#pragma once\nint helper(int x);\nstruct Box { int v; };\n",
             "csrc/util.cpp": '#include "util.h"\nint helper(int x) { return x + 1; }\n',
             "csrc/other.cpp": '#include "util.h"\nint g() { Box b; return helper(3); }\n',
             "csrc/more.cpp": "int helper(int x) { return x; }\nint h() { return helper(1); }\n"}
    langs = {"h": "c-header", "cpp": "cpp", "py": "python"}
    facts = {p: extract_bytes(p, t.encode(), langs[p.rsplit(".", 1)[1]]) for p, t in sorted(files.items())}

    def parts(beside: bool) -> list[tuple[str, list[Any]]]:
        model = link("repo", facts, beside=beside)
        got = [(f.name, list(getattr(model.refs, f.name).items())) for f in dataclasses.fields(model.refs)]
        return [*got, ("tested_by", sorted(model.tested_by.items()))]

    here = parts(False)
    assert dict(here)["outgoing"] and any(p.endswith(".cpp") for p, _ in dict(here)["outgoing"])
    assert any(p.endswith(".py") for p, _ in dict(here)["outgoing"])
    forked = []
    real = pool.Aside.__init__

    def counted(self: Any, fn: Any) -> None:
        forked.append(fn)
        real(self, fn)

    monkeypatch.setattr(pool.Aside, "__init__", counted)
    assert parts(True) == here
    assert len(forked) == 1  # the Python half was resolved in a child
    monkeypatch.setattr(pool, "_aside", lambda conn, fn, parent: pool.os._exit(1))  # the child dies: done here
    assert parts(True) == here
