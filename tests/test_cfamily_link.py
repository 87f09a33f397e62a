"""C-family facts in the link stage: angle includes of the repository's own headers, C extension modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from docatlas.extract import extract_bytes
from docatlas.languages import language_for_name
from docatlas.link.stage import RepoModel, link, link_inputs

pytest.importorskip("tree_sitter_language_pack")

REPO = {
    "Include/Python.h": '#include "object.h"\n#include "abstract.h"\n',
    "Include/object.h": "PyAPI_FUNC(PyObject *) PyObject_GetAttr(PyObject *, PyObject *);\n",
    "Include/abstract.h": '#include "object.h"\n',
    "Include/windows.h": "int win(void);\n",
    "Modules/_testcapimodule.c": (
        "#include <Python.h>\n#include <stdio.h>\n#include <windows.h>\n#include <unistd.h>\n"
        "static PyObject *f(PyObject *m, PyObject *a) { return NULL; }\n"
        'static PyMethodDef methods[] = {{"f", f, METH_O, NULL}, {NULL, NULL}};\n'
        'static struct PyModuleDef _testcapimodule = {PyModuleDef_HEAD_INIT, "_testcapi", NULL, -1, methods};\n'
        "PyMODINIT_FUNC PyInit__testcapi(void) { return PyModule_Create(&_testcapimodule); }\n"),
    "Objects/object.c": '#include "Python.h"\nPyObject *PyObject_GetAttr(PyObject *v, PyObject *name) { return v; }\n',
    "Lib/test/test_capi.py": "import _testcapi\nfrom _testcapi import f\nimport json\nimport numpy\n",
}


def _model(files: dict[str, str]) -> RepoModel:
    facts = {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in files.items()}
    return link("repo", facts)


def test_angle_includes_of_the_repositorys_own_headers_are_first_party() -> None:
    m = _model(REPO)
    got = {r.imp.module: (r.category, r.target) for r in m.imports["Modules/_testcapimodule.c"]}
    assert got["Python.h"] == ("repo", "Include/Python.h")
    assert got["stdio.h"] == ("system", "")  # the standard library is never the repository's
    assert got["windows.h"] == ("repo", "Include/windows.h")  # an OS name the repository ships in `Include/`
    assert got["unistd.h"] == ("system", "")


def test_an_angle_include_the_repository_lacks_stays_external() -> None:
    m = _model({"src/a.c": "#include <Python.h>\nint a(void) { return 0; }\n"})
    assert [r.category for r in m.imports["src/a.c"]] == ["third-party"]


def test_extension_modules_from_pymoduledef_resolve_to_their_c_file() -> None:
    m = _model(REPO)
    got = [(r.imp.module, r.category, r.target) for r in m.imports["Lib/test/test_capi.py"]]
    assert got[:2] == [("_testcapi", "repo", "Modules/_testcapimodule.c")] * 2
    assert got[2][1] == "stdlib" and got[3][1] == "third-party"
    assert "PyModuleDef" in m.imports["Lib/test/test_capi.py"][0].reason


def test_link_inputs_change_when_a_module_name_changes() -> None:
    path = "Modules/_testcapimodule.c"
    before = extract_bytes(path, REPO[path].encode(), "c")
    after = extract_bytes(path, REPO[path].replace('"_testcapi"', '"_testcapi2"').encode(), "c")
    assert link_inputs(before) != link_inputs(after)


def test_declarations_pair_with_definitions_through_the_include_closure() -> None:
    files = {
        **REPO,
        "Include/other.h": "PyAPI_FUNC(int) Other_Thing(void);\nPyAPI_FUNC(int) PyObject_Unused(void);\n",
        "Objects/stray.c": "int Other_Thing(void) { return 1; }\nstatic int PyObject_GetAttr(int x) { return x; }\n",
    }
    m = _model(files)
    assert m.c_pairs["Include/object.h"]["PyObject_GetAttr"] == [("Objects/object.c", "definition")]
    assert m.c_pairs["Objects/object.c"]["PyObject_GetAttr"] == [("Include/object.h", "declaration")]
    # `stray.c` defines `Other_Thing` but includes nothing: no include path, no pair, `static` or not
    assert "Include/other.h" not in m.c_pairs
    assert "Objects/stray.c" not in m.c_pairs


def test_header_sections_are_headings_in_source_order() -> None:
    src = ("#ifndef X_H\n#define X_H\n\n/* === Object Protocol === */\n\nPyAPI_FUNC(int) a(void);\n\n"
           "/* Sequence protocol */\n\n/* the doc comment of b */\nPyAPI_FUNC(int) b(void);\n"
           "int c(void); /* trailing */\n#endif\n")
    facts = extract_bytes("x.h", src.encode(), "c-header")
    assert [(s.kind, s.name) for s in facts.symbols] == [
        ("macro", "X_H"), ("heading", "Object Protocol"), ("function", "a"), ("heading", "Sequence protocol"),
        ("function", "b"), ("function", "c")]
    assert facts.symbols[4].summary == "the doc comment of b"
    block = extract_bytes("y.h", b"int a(void);\n\n/*\n * Sequence protocol\n */\n\nint b(void);\n", "c-header")
    assert [(s.kind, s.line) for s in block.symbols if s.kind == "heading"] == [("heading", 4)]  # the text's line


def test_pages_link_a_declaration_and_its_definition_both_ways(tmp_path: Path) -> None:
    from docatlas.config import make_config
    from docatlas.pipeline import build

    repo = tmp_path / "repo"
    for path, text in REPO.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    out = tmp_path / "out"
    build(make_config(repo, output=out, jobs=1))
    header = (out / "Include/object.h_docs.md").read_text()
    source = (out / "Objects/object.c_docs.md").read_text()
    module = (out / "Modules/_testcapimodule.c_docs.md").read_text()
    assert "defined in [`Objects/object.c`](../Objects/object.c_docs.md#sym-PyObject_GetAttr)" in header
    assert "declared in [`Include/object.h`](../Include/object.h_docs.md#sym-PyObject_GetAttr)" in source
    assert "bound as `f`" in module and "→ `f`" in module


def test_module_names_from_pymoduledef_macros_positions_and_concatenations() -> None:
    files = {
        "Modules/socketmodule.h": '#define PySocket_MODULE_NAME "_socket"\n',
        "Modules/socketmodule.c": ('#include "socketmodule.h"\nstatic struct PyModuleDef socketmodule = {\n'
                                   "    PyModuleDef_HEAD_INIT,\n    PySocket_MODULE_NAME,\n    NULL,\n};\n"),
        "Modules/posixmodule.c": ('#ifdef MS_WINDOWS\n#  define MODNAME "nt"\n#else\n#  define MODNAME "posix"\n'
                                  "#endif\nstatic struct PyModuleDef posixmodule = {\n    PyModuleDef_HEAD_INIT,\n"
                                  "    .m_name = MODNAME,\n};\n"),
        "Modules/sre.c": ('#ifndef SRE_MODULE\n#define SRE_MODULE "sre"\n#endif\n'
                          'static struct PyModuleDef sremodule = {\n    .m_name = "_" SRE_MODULE,\n};\n'),
        "Lib/user.py": "import _socket\nimport posix\nimport nt\nimport _sre\n",
    }
    facts = {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in files.items()}
    posix = [(s.name, s.condition) for s in facts["Modules/posixmodule.c"].symbols if s.kind == "module"]
    assert posix == [("nt", "#ifdef MS_WINDOWS"), ("posix", "#else of `#ifdef MS_WINDOWS`")]
    assert [s.name for s in facts["Modules/sre.c"].symbols if s.kind == "module"] == ["_sre"]
    from docatlas.link.resolve import c_extension_modules

    assert c_extension_modules(facts) == {"_socket": "Modules/socketmodule.c", "_sre": "Modules/sre.c",
                                          "nt": "Modules/posixmodule.c", "posix": "Modules/posixmodule.c"}
    m = link("repo", facts)
    assert (m.imports["Lib/user.py"][0].category, m.imports["Lib/user.py"][0].target) == \
        ("repo", "Modules/socketmodule.c")


def test_a_header_page_leads_its_analysis_with_the_declared_api_grouped_by_its_sections(tmp_path: Path) -> None:
    from docatlas.config import make_config
    from docatlas.pipeline import build

    header = ("#ifndef Py_SPAM_H\n#define Py_SPAM_H\n\n#define SPAM_MAX 10\n\n/* === Object Protocol === */\n\n"
              "PyAPI_FUNC(int) Spam_Get(PyObject *o);\ntypedef struct { int x; } SpamObject;\n\n"
              "/* Number Protocol */\n\nPyAPI_FUNC(int) Spam_Add(int a, int b);\nPyAPI_DATA(int) Spam_Flag;\n"
              "#define Spam_Check(o) (o != 0)\n#endif\n")
    repo = tmp_path / "repo"
    (repo / "Include").mkdir(parents=True)
    (repo / "Include/spam.h").write_text(header)
    out = tmp_path / "out"
    build(make_config(repo, output=out, jobs=1))
    page = (out / "Include/spam.h_docs.md").read_text()
    analysis = page.split("## Detailed Analysis", 1)[1]
    assert analysis.index("### Declared API") < analysis.index("### Code Structure")
    api = analysis.split("### Declared API", 1)[1].split("### Code Structure", 1)[0]
    assert api.index("#### Before the first section comment") < api.index("- macros (1): [`SPAM_MAX`](#sym-SPAM_MAX)")
    assert api.index("#### Object Protocol") < api.index("- functions (1): [`Spam_Get`](#sym-Spam_Get)")
    assert "- types (1): [`SpamObject`](#sym-SpamObject)" in api
    assert api.index("#### Number Protocol") < api.index("[`Spam_Add`]") < api.index("[`Spam_Flag`]") \
        < api.index("[`Spam_Check`]")
    assert "Py_SPAM_H" not in api  # the include guard is not API
    assert "macro (guard) **`Py_SPAM_H`**" in analysis
    overview = page.split("## High-Level Overview", 1)[1].split("## Detailed Analysis", 1)[0]
    assert "Defines 1 struct, 3 macros.\nDeclares 2 functions, 1 variable (declarations" in overview
    assert "heading" not in overview


def test_a_binding_reaches_a_function_defined_in_another_translation_unit_through_its_declaration(
        tmp_path: Path) -> None:
    files = {
        "torch/csrc/jit/passes/lint.h": "namespace torch { namespace jit {\nTORCH_API void LintGraph(int g);\n"
                                        "TORCH_API void Other(int g);\n}}\n",
        "torch/csrc/jit/passes/lint.cpp": '#include "torch/csrc/jit/passes/lint.h"\nnamespace torch { namespace jit {\n'
                                          "void LintGraph(int g) { }\n}}\n",
        "torch/csrc/jit/python/other.cpp": ('#include "torch/csrc/jit/passes/lint.h"\n'
                                            "namespace torch { namespace jit {\nvoid Other(int g) { }\n}}\n"),
        "torch/csrc/jit/python/init.cpp": (
            '#include "torch/csrc/jit/passes/lint.h"\nnamespace torch { namespace jit {\n'
            "void initJITBindings(PyObject* module) {\n  auto m = py::handle(module).cast<py::module>();\n"
            '  m.def("_jit_pass_lint", &LintGraph);\n  m.def("_jit_other", torch::jit::Other);\n'
            '  m.def("_jit_unknown", &Unknown);\n}\n}}\n'),
        "torch/csrc/jit/python/stray.cpp": ('namespace torch { namespace jit {\nvoid f(py::module m) {\n'
                                            '  m.def("_stray", &LintGraph);\n}\n}}\n'),
    }
    m = _model(files)
    init = "torch/csrc/jit/python/init.cpp"
    assert m.c_bridges[init]["torch::jit::_jit_pass_lint"] == [
        ("torch/csrc/jit/passes/lint.cpp", "torch::jit::LintGraph", "implementation")]
    assert m.c_bridges[init]["torch::jit::_jit_other"] == [
        ("torch/csrc/jit/python/other.cpp", "torch::jit::Other", "implementation")]
    assert m.c_bridges["torch/csrc/jit/passes/lint.cpp"]["torch::jit::LintGraph"] == [
        (init, "torch::jit::_jit_pass_lint", "binding")]
    assert "torch::jit::_jit_unknown" not in m.c_bridges[init]
    # `stray.cpp` includes no declaration of `LintGraph`: its binding reaches nothing
    assert "torch/csrc/jit/python/stray.cpp" not in m.c_bridges
    from docatlas.config import make_config
    from docatlas.pipeline import build

    repo = tmp_path / "repo"
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    out = tmp_path / "out"
    build(make_config(repo, output=out, jobs=1))
    page = (out / "torch/csrc/jit/passes/lint.cpp_docs.md").read_text()
    assert "implements the binding [`_jit_pass_lint`](../python/init.cpp_docs.md#sym-torch-jit-_jit_pass_lint) " \
        "in `torch/csrc/jit/python/init.cpp`" in page


def test_show_finds_a_module_named_by_a_macro_of_an_included_header_and_a_bindings_implementation(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from docatlas.cli import main

    files = {
        "Modules/socketmodule.h": '#define PySocket_MODULE_NAME "_socket"\n',
        "Modules/socketmodule.c": ('#include "socketmodule.h"\nstatic struct PyModuleDef socketmodule = {\n'
                                   "    PyModuleDef_HEAD_INIT,\n    PySocket_MODULE_NAME,\n    NULL,\n};\n"),
        # the same macro name defined as "_socket" too, but in a header `other.c` does not include
        "Modules/elsewhere.h": '#define OTHER_NAME "_socket"\n',
        "Modules/other.c": ('static struct PyModuleDef othermodule = {\n    PyModuleDef_HEAD_INIT,\n    OTHER_NAME,\n'
                            "};\n"),
        "Tools/freeze/extensions.ini": "[_socket]\ndsp=socket.dsp\n",  # a key of that name: shown after
        "torch/lint.h": "namespace torch { namespace jit {\nTORCH_API void LintGraph(int g);\n}}\n",
        "torch/lint.cpp": '#include "lint.h"\nnamespace torch { namespace jit {\nvoid LintGraph(int g) { }\n}}\n',
        "torch/init.cpp": ('#include "lint.h"\nnamespace torch { namespace jit {\nvoid init(py::module m) {\n'
                           '  m.def("_jit_pass_lint", &LintGraph);\n}\n}}\n'),
    }
    repo = tmp_path / "repo"
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    out = tmp_path / "out"
    assert main(["build", str(repo), "-o", str(out), "-j", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["show", "_socket", "-o", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "Modules/socketmodule.c:2" in shown
    assert shown.index("Modules/socketmodule.c:2") < shown.index("Tools/freeze/extensions.ini")
    assert 'module name: _socket (`PySocket_MODULE_NAME` is "_socket" in Modules/socketmodule.h)' in shown
    assert "Modules/other.c" not in shown
    assert main(["show", "_jit_pass_lint", "-o", str(out)]) == 0
    shown = capsys.readouterr().out
    assert "implemented by: torch::jit::LintGraph  (function, torch/lint.cpp:3)" in shown


def test_a_binding_reaches_a_method_defined_in_its_class_in_an_included_header() -> None:
    files = {
        "torch/module.h": "namespace torch {\nstruct Module {\n  int forward(int x) { return x; }\n};\n}\n",
        "torch/python/init.cpp": ('#include "torch/module.h"\nnamespace torch { namespace python {\n'
                                  'void bind(py::module m) {\n  m.def("forward", &Module::forward);\n}\n}}\n'),
        "torch/other.cpp": ('namespace torch { namespace python {\nvoid bind2(py::module m) {\n'
                            '  m.def("forward2", &Module::forward);\n}\n}}\n'),
    }
    m = _model(files)
    assert m.c_bridges["torch/python/init.cpp"]["torch::python::forward"] == [
        ("torch/module.h", "torch::Module::forward", "implementation")]
    assert m.c_bridges["torch/module.h"]["torch::Module::forward"] == [
        ("torch/python/init.cpp", "torch::python::forward", "binding")]
    assert "torch/other.cpp" not in m.c_bridges  # it includes nothing


def test_a_rebuild_after_defining_a_bound_method_in_a_header_links_the_binding(tmp_path: Path) -> None:
    import os

    from docatlas.config import make_config
    from docatlas.pipeline import build

    files = {
        "torch/module.h": "namespace torch {\nstruct Module {\n  int other(int x) { return x; }\n};\n}\n",
        "torch/python/init.cpp": ('#include "torch/module.h"\nnamespace torch { namespace python {\n'
                                  'void bind(py::module m) {\n  m.def("forward", &Module::forward);\n}\n}}\n'),
    }
    repo = tmp_path / "repo"
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
        os.utime(repo / path, ns=(10**18, 10**18))
    out = tmp_path / "out"
    build(make_config(repo, output=out, jobs=1))
    (repo / "torch/module.h").write_text("namespace torch {\nstruct Module {\n  int other(int x) { return x; }\n"
                                         "  int forward(int x) { return x; }\n};\n}\n")
    again = build(make_config(repo, output=out, jobs=1))
    assert not again.link_reused  # a definition a binding elsewhere names: linked again
    assert "implements the binding [`forward`]" in (out / "torch/module.h_docs.md").read_text()
