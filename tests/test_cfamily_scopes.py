"""C++ definitions keep their namespace where the grammar cannot parse the text as written (issue 13)."""

from __future__ import annotations

import pytest

from docatlas.extract import extract_bytes

pytest.importorskip("tree_sitter_language_pack")


def _defs(src: str, name: str = "a.cpp", language: str = "cpp") -> dict[str, tuple[str, str]]:
    facts = extract_bytes(name, src.encode(), language)
    return {s.qualname: (s.kind, s.condition) for s in facts.symbols if s.kind in ("function", "method", "macro")}


def test_a_block_opened_in_one_branch_and_closed_after_endif_keeps_the_namespace() -> None:
    pool = """\
void pool%d(int w) {
#if defined(AVX2) || defined(AVX512)
#ifdef AVX2
  if (w == 8) {
#else
  if (w == 16) {
#endif
    for (int c = 0; c < w; c++) {
      w += 1;
    }
  }
#endif
}
"""
    src = "namespace at {\nnamespace native {\n" + pool % 0 + pool % 1 + """\
#ifdef USE_FBGEMM
void quantize(int x) { }
#else
C10_HOST_DEVICE
void quantize_arm(int x) { }
#endif
int after(void) { return 0; }
}  // namespace native
}  // namespace at
"""
    found = _defs(src)
    assert found["at::native::pool0"] == found["at::native::pool1"] == ("function", "")
    assert found["at::native::quantize"] == ("function", "#ifdef USE_FBGEMM")
    assert found["at::native::quantize_arm"] == ("function", "#else of `#ifdef USE_FBGEMM`")
    assert found["at::native::after"] == ("function", "")
    # signatures and lines from the definition's own text: never a directive or another branch's code above it
    facts = extract_bytes("a.cpp", src.encode(), "cpp")
    got = [(s.name, s.line, s.signature, s.flags) for s in facts.symbols if s.kind == "function"]
    assert got[2:] == [("quantize", 30, "void quantize(int x)", ()),
                       ("quantize_arm", 32, "C10_HOST_DEVICE void quantize_arm(int x)", ("device",)),
                       ("after", 35, "int after(void)", ())]


def test_a_directive_inside_an_initializer_list_keeps_the_namespace_and_guards_stay_guards() -> None:
    src = """\
#ifndef PASSES_H
#define PASSES_H
namespace torch {
namespace jit {
void replace(int g) {
  const Map supported = {
#ifdef FBCODE
      OP_PAIR("aten::permute", "permute_copy"),
#endif
  };
}
void later(int g) { }
}  // namespace jit
}  // namespace torch
#endif
"""
    facts = extract_bytes("passes.h", src.encode(), "c-header")
    found = {s.qualname: s for s in facts.symbols}
    assert "torch::jit::replace" in found and "torch::jit::later" in found
    assert found["torch::jit::later"].condition == ""  # the include guard is no condition
    assert found["PASSES_H"].flags == ("guard",)


def test_lambda_init_captures_in_parentheses_or_braces_are_blanked_to_their_names() -> None:
    from docatlas.extract import tsadapter as ts
    from docatlas.extract.cmacros import blank_macros

    src = b"void f(Future f) {\n  f.then([pf(std::move(f)), fn{std::move(f)}, &g](int e) mutable { return e; });\n" \
          b"  int y = a[i](2) + h([x = 1](int e) { return e; });\n}\n"
    assert ts.parse("cpp", src).root_node.has_error
    blanked, _ = blank_macros(src)
    assert not ts.parse("cpp", blanked).root_node.has_error
    assert b"[pf              , fn              , &g](int e)" in blanked
    assert b"a[i](2) + h([x = 1](int e)" in blanked  # a subscript and a plain init capture stay
    commented = (b"void g() {\n  f.then(\n" + b"      // a comment line longer than it need be, twelve times\n" * 12
                 + b"      [pyFut(this->getPtr()),\n       pf(std::move(pf))](int e) { return e; });\n}\n")
    assert not ts.parse("cpp", blank_macros(commented)[0]).root_node.has_error


def test_macro_calls_without_semicolon_on_their_own_lines_keep_scopes() -> None:
    src = """\
namespace torch { namespace fuser {
struct LongArg : public ArgAbstract {
  int64_t val_;
  explicit LongArg(int64_t v) : val_(v) {}
  DEF_HELPEE_FUNC(Long, val_)
  DEF_PRINT_FUNC
};
TORCH_LIBRARY_IMPL(aten, Autocast, m) {
  // lower_precision_fp
  KERNEL(ADD_NS(conv1d), "conv1d", Tensor (const Tensor &, const Tensor &, int64_t), fp)
  KERNEL(ADD_NS(bmm), "bmm", Tensor (const Tensor &, const Tensor &), fp)
}
void after(void) { }
}}
"""
    found = _defs(src)
    assert found["torch::fuser::LongArg::LongArg"][0] == "method"
    assert "torch::fuser::after" in found


def test_a_friend_defined_in_its_class_is_a_function_of_the_namespace() -> None:
    src = "namespace c10 { class Sig { friend bool operator==(const Sig& a, const Sig& b) { return true; }\n" \
          "  void m() {} }; }\n"
    facts = extract_bytes("s.h", src.encode(), "c-header")
    by = {s.qualname: s for s in facts.symbols}
    assert by["c10::operator=="].kind == "function" and "friend" in by["c10::operator=="].flags
    assert by["c10::operator=="].parent == "c10"
    assert by["c10::Sig::m"].kind == "method"


def test_torchs_try_catch_macros_and_brace_arguments_are_blanked_for_the_grammar() -> None:
    from docatlas.extract import tsadapter as ts
    from docatlas.extract.cmacros import blank_macros

    src = (b"PyObject* f(PyObject* self) {\n  HANDLE_TH_ERRORS {\n    g();\n  }\n  END_HANDLE_TH_ERRORS\n}\n"
           b"struct M : Module {\n protected:\n  FORWARD_HAS_DEFAULT_ARGS({1, AnyValue(c10::nullopt)})\n};\n")
    src += b"struct L {\n  DEF_HELPEE_FUNC(Long, val_)\n  DEF_PRINT_FUNC\n};\n"
    blanked, _ = blank_macros(src)
    assert b"HANDLE" not in blanked and b"FORWARD_HAS" not in blanked and b"DEF_" not in blanked
    assert not ts.parse("cpp", blanked).root_node.has_error


def test_a_binding_in_a_chain_of_defs_is_at_its_own_def_with_its_own_call_as_signature() -> None:
    src = ('void init(py::module m) {\n  m.def("_jit_init", loadPythonClasses)\n'
           '      .def("_jit_pass_lower", LowerAllTuples)\n      .def(\n          "_jit_pass_lint",\n'
           "          LintGraph);\n}\n")
    facts = extract_bytes("init.cpp", src.encode(), "cpp")
    got = [(s.name, s.line, s.end_line, s.signature) for s in facts.symbols if s.kind == "binding"]
    assert got == [("_jit_init", 2, 2, 'm.def("_jit_init", loadPythonClasses)'),
                   ("_jit_pass_lower", 3, 3, '.def("_jit_pass_lower", LowerAllTuples)'),
                   ("_jit_pass_lint", 4, 6, '.def( "_jit_pass_lint", LintGraph)')]
