"""C and C++ as a reader sees them: declared API, no statement macros as functions, bridges, #if branches."""

from __future__ import annotations

import pytest

from docatlas.extract import extract_bytes
from docatlas.model import Symbol

pytest.importorskip("tree_sitter_language_pack")


def _symbols(src: str, name: str = "x.h", language: str = "c-header") -> list[Symbol]:
    return list(extract_bytes(name, src.encode(), language).symbols)


def _by_name(symbols: list[Symbol]) -> dict[str, Symbol]:
    return {s.name: s for s in symbols}


HEADER = """\
#ifndef Py_ABSTRACT_H
#define Py_ABSTRACT_H
#ifdef __cplusplus
extern "C" {
#endif

/* Attributes */
PyAPI_FUNC(PyObject *) PyObject_GetAttr(PyObject *, PyObject *);
PyAPI_FUNC(void) Py_DEPRECATED(3.9) PyEval_InitThreads(void);
PyAPI_DATA(PyTypeObject) PyType_Type;
extern int Py_DebugFlag;
int plain(int x);
typedef int (*visitproc)(PyObject *, void *);
PyMODINIT_FUNC PyInit__abc(void);

#ifdef __cplusplus
}
#endif
#endif
"""


def test_prototypes_extern_variables_and_typedefs_of_a_header_with_their_export_macro() -> None:
    syms = _by_name(_symbols(HEADER))
    get = syms["PyObject_GetAttr"]
    assert (get.kind, get.line, get.macro) == ("function", 8, "PyAPI_FUNC")
    assert "declaration" in get.flags
    assert get.signature == "PyAPI_FUNC(PyObject *) PyObject_GetAttr(PyObject *, PyObject *)"
    assert syms["PyEval_InitThreads"].macro == "PyAPI_FUNC"
    assert (syms["PyType_Type"].kind, syms["PyType_Type"].macro) == ("variable", "PyAPI_DATA")
    assert (syms["Py_DebugFlag"].kind, syms["Py_DebugFlag"].macro) == ("variable", 'extern "C"')
    assert syms["plain"].macro == 'extern "C"'
    assert syms["visitproc"].kind == "alias"
    assert syms["PyInit__abc"].macro == "PyMODINIT_FUNC"
    # the `#ifdef __cplusplus` around `extern "C" {` and the include guard are not conditions
    assert all(s.condition == "" for s in syms.values())


def test_cpp_export_macros_are_recorded() -> None:
    src = "namespace at {\nTORCH_API Tensor add(const Tensor& a);\nC10_API int f();\nint g();\n}\n"
    syms = _by_name(_symbols(src, "a.h", "c-header"))
    assert (syms["add"].qualname, syms["add"].macro) == ("at::add", "TORCH_API")
    assert syms["f"].macro == "C10_API"
    assert syms["g"].macro == ""


BODY = """\
int eval(int x) {
  TARGET(NOP) {
    x++;
  }
  Py_BEGIN_ALLOW_THREADS
  if (x) { x = 2; }
  Py_END_ALLOW_THREADS
  switch (x) { case 1: break; }
  return x;
}
__global__ void kernel(int n, float* out) {
  CUDA_KERNEL_LOOP(index, n) {
    out[index] = 0;
  }
}
"""


@pytest.mark.parametrize("language,name", [("c", "a.c"), ("cuda", "a.cu")])
def test_statement_keywords_and_statement_macros_are_never_functions(language: str, name: str) -> None:
    functions = [s.name for s in _symbols(BODY, name, language) if s.kind in ("function", "method")]
    assert functions == ["eval", "kernel"]


def test_error_recovery_never_names_a_function_after_a_keyword() -> None:
    # `#if` branches that open two blocks for one close: the parser recovers, a keyword never becomes a name
    src = ("void f(int a) {\n#if A\n  if (a) {\n#else\n  if (!a) {\n#endif\n    g();\n  }\n}\n"
           "int h(void) { return 1; }\n")
    names = [s.name for s in _symbols(src, "a.c", "c") if s.kind == "function"]
    assert "if" not in names and "h" in names


def test_definitions_in_every_preprocessor_branch_with_their_condition() -> None:
    src = """\
#if defined(MS_WINDOWS)
static int win(void) { return 1; }
#elif defined(__APPLE__)
static int mac(void) { return 2; }
#else
static int posix(void) { return 3; }
#endif
#ifdef HAVE_X
#ifndef NO_Y
int both(void) { return 0; }
#endif
#endif
int always(void) { return 4; }
"""
    syms = _by_name(_symbols(src, "a.c", "c"))
    assert syms["win"].condition == "#if defined(MS_WINDOWS)"
    assert syms["mac"].condition == "#elif defined(__APPLE__)"
    assert syms["posix"].condition == "#else of `#if defined(MS_WINDOWS)`"
    assert syms["both"].condition == "#ifdef HAVE_X > #ifndef NO_Y"
    assert syms["always"].condition == ""


TORCH = """\
namespace at { namespace native {
DEFINE_DISPATCH(add_stub);
REGISTER_DISPATCH(add_stub, &add_kernel);
REGISTER_DISPATCH(qadd_stub, &qadd_kernel<false>);
DECLARE_DISPATCH(add_fn, add_stub);
TORCH_IMPL_FUNC(softmax_cuda_out) (const Tensor& input, int64_t dim, const Tensor& output) {
  host_softmax(input, dim, output);
}
TORCH_META_FUNC2(add, Tensor) (const Tensor& self, const Tensor& other) {
}
TORCH_LIBRARY_IMPL(aten, CPU, m) {
  m.impl("add.Tensor", TORCH_FN(add_cpu));
}
}}
PYBIND11_MODULE(_C, m) {
  m.def("initialize", &torch::initialize, "docs");
  py::class_<Foo>(m, "Foo").def("bar", &Foo::bar);
}
"""


def test_registration_macros_name_the_functions_they_define_or_bind() -> None:
    syms = _symbols(TORCH, "a.cu", "cuda")
    by = {(s.kind, s.qualname): s for s in syms}
    impl = by[("function", "at::native::softmax_cuda_out")]
    assert (impl.macro, impl.line, impl.end_line) == ("TORCH_IMPL_FUNC", 6, 8)
    assert by[("binding", "at::native::qadd_stub")].target == "qadd_kernel"
    assert by[("function", "at::native::add_Tensor")].macro == "TORCH_META_FUNC2"
    assert by[("variable", "at::native::add_stub")].macro in ("DEFINE_DISPATCH", "DECLARE_DISPATCH")
    reg = by[("binding", "at::native::add_stub")]
    assert (reg.target, reg.macro) == ("add_kernel", "REGISTER_DISPATCH")
    op = next(s for s in syms if s.kind == "binding" and s.name == "add.Tensor")
    assert (op.target, op.macro) == ("add_cpu", "TORCH_LIBRARY_IMPL")
    init = next(s for s in syms if s.kind == "binding" and s.name == "initialize")
    assert (init.target, init.macro) == ("torch::initialize", "PYBIND11_MODULE")
    bar = next(s for s in syms if s.kind == "binding" and s.name == "bar")
    assert bar.target == "Foo::bar"
    assert not any(s.name in ("TORCH_IMPL_FUNC", "TORCH_META_FUNC2") for s in syms)


CPYTHON = """\
static PyObject *
builtin_abs(PyObject *module, PyObject *x)
{
    return PyNumber_Absolute(x);
}
#define BUILTIN_ABS_METHODDEF    \\
    {"abs", (PyCFunction)builtin_abs, METH_O, builtin_abs__doc__},
static PyMethodDef builtin_methods[] = {
    {"__build_class__", (PyCFunction)(void(*)(void))builtin___build_class__,
     METH_FASTCALL | METH_KEYWORDS, build_class_doc},
    {"getx", getx, METH_NOARGS, PyDoc_STR("Get x.")},
    {NULL, NULL}
};
static struct PyModuleDef _testcapimodule = {
    PyModuleDef_HEAD_INIT,
    "_testcapi",
    NULL,
    -1,
    builtin_methods,
};
static struct PyModuleDef other = {PyModuleDef_HEAD_INIT, .m_name = "_other"};
"""


def test_cpython_method_tables_and_module_definitions() -> None:
    syms = _symbols(CPYTHON, "m.c", "c")
    bindings = {s.name: s for s in syms if s.kind == "binding"}
    assert bindings["abs"].target == "builtin_abs"
    assert bindings["__build_class__"].target == "builtin___build_class__"
    assert (bindings["getx"].target, bindings["getx"].summary) == ("getx", "Get x.")
    assert bindings["getx"].qualname == "builtin_methods.getx"
    assert set(bindings) == {"abs", "__build_class__", "getx"}
    modules = {s.name: s for s in syms if s.kind == "module"}
    assert set(modules) == {"_testcapi", "_other"}
    assert modules["_testcapi"].macro == "PyModuleDef"


def test_every_branch_of_a_chain_that_parses_only_one_branch_at_a_time() -> None:
    # a directive inside an expression breaks the whole-file parse: each branch is then read on its own
    src = """\
#if defined(ANSI)
static inline int bsf(int a) { return a & 1; }
#elif defined(ASM)
static inline int bsf(int a)
{
    int r;
    __asm__ (
#ifdef CONFIG_64
        "bsfq %1, %0"
#else
        "bsf %1, %0"
#endif
        : "=r" (r) : "rm" (a) : "cc");
    return r;
}
#else
static inline int bsf(int a) { return _BitScanForward(a); }
#endif
int after(void) { return 0; }
"""
    found = [(s.name, s.line, s.condition) for s in _symbols(src, "bits.h") if s.kind == "function"]
    assert found == [("bsf", 2, "#if defined(ANSI)"), ("bsf", 4, "#elif defined(ASM)"),
                     ("bsf", 17, "#else of `#if defined(ANSI)`"), ("after", 19, "")]


def test_statement_macros_without_semicolon_do_not_swallow_the_rest_of_the_file() -> None:
    src = """\
#define ENTER_PYTHON { PyThreadState *t = get(); release();
#define LEAVE_PYTHON acquire(); }
static void
cmd_delete(void *data)
{
    ENTER_PYTHON
    Py_XDECREF(data);
    PyMem_Free(data);
    LEAVE_PYTHON
}

TCL_DECLARE_MUTEX(command_mutex)

typedef struct CommandEvent {
    int create;
} CommandEvent;

static int
command_proc(CommandEvent *ev, int flags)
{
    return 1;
}
"""
    syms = _symbols(src, "tk.c", "c")
    functions = [(s.name, s.line) for s in syms if s.kind == "function" and "declaration" not in s.flags]
    assert ("cmd_delete", 3) in functions and ("command_proc", 18) in functions
    assert not any(s.name in ("Py_XDECREF", "PyMem_Free") for s in syms)


def test_macro_calls_in_class_bodies_are_not_prototypes() -> None:
    src = ("class Foo : public Op {\n public:\n  USE_OPERATOR_FUNCTIONS(CPUContext);\n  INPUT_TAGS(A, B);\n  Foo();\n"
           "  int run();\n};\n_Py_IDENTIFIER(foo);\nint f(void);\n")
    names = [s.qualname for s in _symbols(src, "a.h") if "declaration" in s.flags]
    assert names == ["Foo::Foo", "Foo::run", "f"]


def test_a_loop_macro_left_at_file_scope_is_not_a_function() -> None:
    # the kernel around it did not parse (a macro type in its parameters): the loop is still no function
    src = "CUDA_1D_KERNEL_LOOP(i, N) {\n  C[i] = A[i];\n}\nTORCH_LIBRARY_IMPL(aten, CPU, m) {\n}\n"
    names = [s.name for s in _symbols(src, "a.cu", "cuda") if s.kind == "function"]
    assert names == ["TORCH_LIBRARY_IMPL"]


def test_a_definition_in_the_first_branch_of_a_chain_nested_in_a_later_branch() -> None:
    src = """\
#if defined(ANSI)
static inline int bsf(int a) { return a & 1; }
#else
#ifdef HAVE_ASM
static inline int bsf(int a)
{
    int r;
    __asm__ (
#ifdef CONFIG_64
        "bsfq %1, %0"
#else
        "bsf %1, %0"
#endif
        : "=r" (r) : "rm" (a) : "cc");
    return r;
}
#else
static inline int bsf(int a) { return _BitScanForward(a); }
#endif
#endif
int after(void) { return 0; }
"""
    found = [(s.name, s.line, s.condition) for s in _symbols(src, "bits.h") if s.kind == "function"]
    assert found == [("bsf", 2, "#if defined(ANSI)"),
                     ("bsf", 5, "#else of `#if defined(ANSI)` > #ifdef HAVE_ASM"),
                     ("bsf", 18, "#else of `#if defined(ANSI)` > #else of `#ifdef HAVE_ASM`"), ("after", 21, "")]


def test_a_raw_string_with_a_sixteen_character_delimiter_is_text_not_code() -> None:
    src = ('static const char* SHADERS = R"PT_METAL_SHADERS(\nkernel void add(texture2d<half> in) {\n}\n'
           ')PT_METAL_SHADERS";\nint after(int a) { return a; }\n')
    found = [(s.kind, s.name, s.line) for s in _symbols(src, "s.h")]
    assert found == [("function", "after", 5)]


def test_statements_glued_to_a_block_by_error_recovery_are_not_a_function() -> None:
    # a body's tail without its head: recovery reads `SMALL_INDEX(...); } else if (...) {` as one definition
    src = """\
      if (a == 1 && b) {
        SMALL_INDEX(scalar_t, index_t, unsigned int, 1, 1, -2);
      } else if (a == 2 && b) {
        SMALL_INDEX(scalar_t, index_t, unsigned int, 2, 2, -2);
      }
    });
  }
#undef SMALL_INDEX
}
"""
    assert [s.name for s in _symbols(src, "i.cu", "cuda") if s.kind == "function"] == []


def test_a_constructor_with_braced_member_initializers_is_still_a_definition() -> None:
    src = "namespace at {\nGen::Gen(int seed) : engine_{seed}, next_{} {\n  reset();\n}\n}\n"
    assert [(s.kind, s.qualname) for s in _symbols(src, "g.cpp", "cpp") if s.kind in ("function", "method")] == \
        [("method", "at::Gen::Gen")]


def test_a_macro_call_in_a_class_body_is_not_a_method_but_a_constructor_is() -> None:
    src = ("struct LossOptions {\n  LossOptions() {}\n  TORCH_ARG(Tensor, weight) = {};\n"
           "  C10_MPARK_DESTRUCTOR(Trait::Available, ~destructor() { destroy(); });\n"
           "  int size() const { return 1; }\n};\n")
    methods = [s.name for s in _symbols(src, "o.h") if s.kind in ("function", "method")]
    assert methods == ["LossOptions", "size"]
