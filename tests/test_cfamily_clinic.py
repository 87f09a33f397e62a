"""Argument Clinic: a binding in `clinic/x.c.h` linked to the `_impl` function of the `.c` that includes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from docatlas.extract import extract_bytes
from docatlas.languages import language_for_name
from docatlas.link.stage import link, link_inputs

pytest.importorskip("tree_sitter_language_pack")

CLINIC = """\
PyDoc_STRVAR(spam_format__doc__,
"format($module, value, /)\\n--\\n\\nFormat a value.");

#define SPAM_FORMAT_METHODDEF    \\
    {"format", _PyCFunction_CAST(spam_format), METH_FASTCALL, spam_format__doc__},

static PyObject *
spam_format_impl(PyObject *module, PyObject *value);

static PyObject *
spam_format(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return spam_format_impl(module, args[0]);
}

#define SPAM_ABS_METHODDEF    \\
    {"abs", (PyCFunction)spam_abs, METH_O, spam_abs__doc__},
"""
MODULE = """\
#include "Python.h"
#include "clinic/spammodule.c.h"

static PyObject *
spam_format_impl(PyObject *module, PyObject *value)
{
    return value;
}

static PyObject *
spam_abs(PyObject *module, PyObject *x)
{
    return x;
}

static PyMethodDef spam_methods[] = {
    SPAM_FORMAT_METHODDEF
    SPAM_ABS_METHODDEF
    {NULL, NULL}
};
"""
REPO = {"Modules/clinic/spammodule.c.h": CLINIC, "Modules/spammodule.c": MODULE, "Include/Python.h": "int x;\n"}


def _facts(files: dict[str, str]) -> dict:
    return {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in files.items()}


def test_a_clinic_binding_links_to_the_impl_function_of_the_including_file_and_back() -> None:
    m = link("repo", _facts(REPO))
    clinic, module = "Modules/clinic/spammodule.c.h", "Modules/spammodule.c"
    assert m.c_bridges[clinic] == {
        "SPAM_ABS_METHODDEF.abs": [(module, "spam_abs", "implementation")],
        "SPAM_FORMAT_METHODDEF.format": [(module, "spam_format_impl", "implementation")]}
    assert m.c_bridges[module] == {
        "spam_abs": [(clinic, "SPAM_ABS_METHODDEF.abs", "binding")],
        "spam_format_impl": [(clinic, "SPAM_FORMAT_METHODDEF.format", "binding")]}
    # the static prototype of the `_impl` function in the clinic file and its definition: one translation unit
    assert m.c_pairs[clinic]["spam_format_impl"] == [(module, "definition")]
    assert m.c_pairs[module]["spam_format_impl"] == [(clinic, "declaration")]
    # without the `#include`, the binding's file is not the module's: no link
    alone = link("repo", _facts({**REPO, module: MODULE.replace('#include "clinic/spammodule.c.h"\n', "")}))
    assert alone.c_bridges == {}


def test_a_clinic_binding_reads_its_docstring_and_its_function_through_the_cast_macro() -> None:
    bindings = {s.name: s for s in extract_bytes("clinic/x.c.h", CLINIC.encode(), "c-header").symbols
                if s.kind == "binding"}
    assert (bindings["format"].target, bindings["format"].summary) == ("spam_format", "Format a value.")
    assert (bindings["abs"].target, bindings["abs"].summary) == ("spam_abs", "")


def test_bindings_are_link_inputs() -> None:
    path = "Modules/clinic/spammodule.c.h"
    before = extract_bytes(path, CLINIC.encode(), "c-header")
    after = extract_bytes(path, CLINIC.replace("(PyCFunction)spam_abs", "(PyCFunction)spam_abs2").encode(),
                          "c-header")
    assert link_inputs(before) != link_inputs(after)


def test_both_pages_link_the_binding_and_its_implementation(tmp_path: Path) -> None:
    from docatlas.config import make_config
    from docatlas.pipeline import build

    repo = tmp_path / "repo"
    for path, text in REPO.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    out = tmp_path / "out"
    build(make_config(repo, output=out, jobs=1))
    clinic = (out / "Modules/clinic/spammodule.c.h_docs.md").read_text()
    module = (out / "Modules/spammodule.c_docs.md").read_text()
    assert ("implemented by [`spam_format_impl`](../spammodule.c_docs.md#sym-spam_format_impl) in "
            "`Modules/spammodule.c`") in clinic
    assert ("implements the binding [`format`](./clinic/spammodule.c.h_docs.md#sym-SPAM_FORMAT_METHODDEF.format) "
            "in `Modules/clinic/spammodule.c.h`") in module


def test_search_and_show_by_either_side_of_a_binding_and_by_macro_or_condition(tmp_path: Path) -> None:
    from docatlas.config import make_config
    from docatlas.pipeline import build
    from docatlas.store import queries, schema

    files = {**REPO, "Include/api.h": "#ifdef MS_WINDOWS\nPyAPI_FUNC(int) Py_WinOnly(void);\n#endif\n",
             "Modules/table.c": ("static PyObject *table_getx(PyObject *m) { return m; }\n"
                                 'static PyMethodDef methods[] = {{"getx", (PyCFunction)table_getx, METH_NOARGS, '
                                 "NULL}, {NULL, NULL}};\n")}
    repo = tmp_path / "repo"
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    out = tmp_path / "out"
    build(make_config(repo, output=out, jobs=1))
    conn = schema.open_index(out)

    def found(query: str) -> set[tuple[str, str]]:
        return {(h.kind, h.name) for h in queries.search(conn, query, limit=50)}

    assert ("binding", "getx") in found("table_getx")  # the C name finds the binding
    assert ("function", "table_getx") in found("getx")  # the Python name finds the C function
    assert ("binding", "format") in found("spam_format")
    assert ("function", "Py_WinOnly") in found("MS_WINDOWS")
    assert ("function", "Py_WinOnly") in found("PyAPI_FUNC")
    shown = queries.show(conn, "Py_WinOnly")
    assert shown is not None
    [sym] = shown["symbols"]
    assert (sym["macro"], sym["condition"]) == ("PyAPI_FUNC", "#ifdef MS_WINDOWS")
    shown = queries.show(conn, "methods.getx")
    assert shown is not None and shown["symbols"][0]["bridge"] == "table_getx"
