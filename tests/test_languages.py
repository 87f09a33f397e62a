"""tree-sitter extraction: one fixture per language, a fuzz test, and a real-corpus check.

Each fixture under tests/fixtures/languages/ is described once in CASES by what must be found in it; the
one parametrised test checks them all, so a new language is a new fixture plus one CASES entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from docatlas import languages
from docatlas.extract import REGISTRY, extract_bytes
from docatlas.model import FileFacts

pytest.importorskip("tree_sitter_language_pack")

FIXTURES = Path(__file__).parent / "fixtures" / "languages"


@dataclass(frozen=True)
class Case:
    file: str
    language: str
    symbols: set[tuple[str, str]]  # (kind, qualname) that must be present
    imports: set[str] = field(default_factory=set)  # modules as written
    tests: set[str] = field(default_factory=set)
    flags: dict[str, set[str]] = field(default_factory=dict)  # qualname -> flags it must carry
    parents: dict[str, str] = field(default_factory=dict)  # qualname -> parent
    summaries: dict[str, str] = field(default_factory=dict)  # qualname -> summary
    conditional: set[str] = field(default_factory=set)  # imports marked conditional
    system: set[str] = field(default_factory=set)  # `#include <...>`


CASES = [
    Case("kernel.cu", "cuda",
         {("namespace", "at::native"), ("namespace", "at::native::detail"),
          ("function", "at::native::detail::scale_kernel"), ("function", "at::native::detail::square"),
          ("class", "at::native::Scaler"), ("method", "at::native::Scaler::run")},
         imports={"cuda_runtime.h", "ops/scale.h", "hip/hip_runtime.h"},
         flags={"at::native::detail::scale_kernel": {"kernel", "template"}, "at::native::detail::square": {"device"}},
         parents={"at::native::Scaler::run": "at::native::Scaler"},
         summaries={"at::native::detail::scale_kernel": "Scales every element by `alpha`.",
                    "at::native::Scaler::run": "Launches the kernel on the current stream."},
         conditional={"hip/hip_runtime.h"}, system={"cuda_runtime.h"}),
    Case("shapes.cpp", "cpp",
         {("namespace", "geo"), ("class", "geo::Shape"), ("struct", "geo::Circle"), ("enum", "geo::Color"),
          ("alias", "geo::ShapePtr"), ("alias", "geo::Area"), ("macro", "GEO_SQUARE"),
          ("method", "geo::Circle::operator=="), ("method", "geo::Shape::~Shape"),
          ("function", "geo::make_unit_circle"), ("test", "CircleTest.Area")},
         imports={"gtest/gtest.h", "memory", "shapes.h"}, tests={"CircleTest.Area", "ShapeFixture.Compare"},
         flags={"geo::make_unit_circle": {"declaration"}, "geo::Color": {"scoped"}, "geo::Shape::area": {"pure"}},
         summaries={"geo::Shape": "A shape that knows its area."}),
    Case("util.cuh", "c-header",
         {("namespace", "c10::cuda"), ("function", "c10::cuda::ceil_div"), ("struct", "c10::cuda::WarpConfig"),
          ("method", "c10::cuda::WarpConfig::lane")},
         imports={"c10/macros/Macros.h", "cuda_fp16.h"}, conditional={"cuda_fp16.h"},
         flags={"c10::cuda::ceil_div": {"device", "template"}}),
    Case("list.c", "c",
         {("struct", "node"), ("struct", "list_t"), ("alias", "node_t"), ("function", "list_push"),
          ("function", "list_free"), ("macro", "LIST_EMPTY")},
         imports={"stdlib.h", "list.h"}, flags={"list_free": {"declaration"}},
         summaries={"list_push": "Pushes a value at the front."}),
    Case("Greeter.m", "objc",
         {("class", "Greeter"), ("method", "Greeter::greet:"), ("function", "helper")},
         imports={"Foundation/Foundation.h", "Greeter.h"}),
    Case("app.js", "javascript",
         {("class", "Cart"), ("method", "Cart.total"), ("function", "add"), ("function", "double")},
         imports={"./format.js", "react", "fs"}, tests={"Cart", "Cart > adds items", "Cart > is empty"},
         summaries={"Cart.total": "Total price of all items.", "add": "Adds two numbers."}),
    Case("api.ts", "typescript",
         {("interface", "Fetchable"), ("alias", "UserId"), ("enum", "Role"), ("namespace", "Api"),
          ("function", "Api.version"), ("class", "UserClient"), ("method", "UserClient.fetch"), ("function", "get")},
         imports={"express", "./models/user"}, flags={"UserClient.fetch": {"async"}}),
    Case("view.tsx", "tsx", {("interface", "Props"), ("function", "Counter"), ("method", "Panel.render")},
         imports={"react"}),
    Case("calc_test.go", "go",
         {("struct", "Calculator"), ("interface", "Adder"), ("method", "Calculator.Add"), ("function", "Sum")},
         imports={"fmt", "strings", "testing"}, tests={"TestSum", "BenchmarkSum"},
         parents={"Calculator.Add": "Calculator"}, summaries={"Sum": "Sum returns the sum of xs."}),
    Case("lib.rs", "rust",
         {("struct", "Point"), ("trait", "Shape"), ("enum", "Kind"), ("method", "Point::norm"),
          ("module", "shapes"), ("macro", "square"), ("alias", "Map"), ("constant", "ORIGIN")},
         imports={"std::collections::HashMap", "crate::util"}, tests={"tests::norm_of_unit"},
         summaries={"Point": "A point in the plane.", "Point::norm": "Distance to the origin."}),
    Case("Shapes.java", "java",
         {("interface", "Shape"), ("class", "Circle"), ("method", "Circle.area"), ("enum", "Circle.Unit"),
          ("class", "Circle.Builder")},
         imports={"java.util.List", "org.junit.Test"}, tests={"CircleTest.areaOfUnitCircle"},
         summaries={"Circle": "A circle."}),
    Case("deploy.sh", "bash", {("function", "build"), ("function", "upload")}, imports={"./env.sh"},
         summaries={"build": "Builds the static files."}),
    Case("ci.yml", "github-actions",
         {("key", "jobs"), ("job", "jobs.test"), ("job", "jobs.lint"), ("step", "jobs.test.steps[0]")},
         imports={"actions/checkout@v4", "actions/setup-python@v5"}),
    Case("pyproject.toml", "toml",
         {("key", "project"), ("dependency", "project.dependencies.requests"),
          ("dependency", "project.optional-dependencies.test.pytest")},
         imports={"requests", "click", "pytest", "setuptools"}),
    Case("package.json", "json", {("key", "scripts"), ("dependency", "dependencies.react")},
         imports={"react", "zod", "vite"}),
    Case("CMakeLists.txt", "cmake",
         {("target", "shapes"), ("target", "shapes_demo"), ("option", "USE_CUDA"), ("dependency", "Threads"),
          ("function", "add_shape_test")},
         imports={"Threads", "CUDAToolkit", "cmake/Warnings.cmake", "tests"}),
    Case("BUILD.bazel", "bazel", {("target", "shapes"), ("target", "shapes_test")},
         imports={"@rules_cc//cc:defs.bzl"}),
    Case("tox.ini", "ini", {("key", "tox"), ("key", "testenv"), ("key", "testenv:lint")}),
    Case("Dockerfile", "dockerfile", {("stage", "build"), ("stage", "nginx:1.25")},
         imports={"python:3.11-slim", "nginx:1.25"}),
    Case("requirements-dev.txt", "requirements",
         {("dependency", "pytest"), ("dependency", "hypothesis"), ("dependency", "ruff"), ("dependency", "tool")},
         imports={"requirements.txt", "pytest"}),
]


def _facts(case: Case) -> FileFacts:
    path = f".github/workflows/{case.file}" if case.language == "github-actions" else case.file
    return extract_bytes(path, (FIXTURES / case.file).read_bytes(), case.language)


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_fixture(case: Case) -> None:
    path = f".github/workflows/{case.file}" if case.language == "github-actions" else case.file
    assert languages.language_for_name(path) == case.language
    assert case.language in REGISTRY
    facts = _facts(case)
    assert facts.parse_ok
    assert not [d for d in facts.diagnostics if d.code.startswith("DA2")], facts.diagnostics
    found = {(s.kind, s.qualname) for s in facts.symbols}
    assert case.symbols <= found, sorted(case.symbols - found)
    assert case.imports <= {i.module for i in facts.imports}
    assert case.tests <= {t.name for t in facts.tests}
    by_qual = {s.qualname: s for s in facts.symbols}
    for qual, flags in case.flags.items():
        assert flags <= set(by_qual[qual].flags), (qual, by_qual[qual].flags)
    for qual, parent in case.parents.items():
        assert by_qual[qual].parent == parent
    for qual, summary in case.summaries.items():
        assert by_qual[qual].summary == summary
    imports = {i.module: i for i in facts.imports}
    for module in case.conditional:
        assert imports[module].conditional
    for module in case.system:
        assert imports[module].system
    unconditional = case.imports - case.conditional
    if case.language in ("cpp", "cuda", "c-header", "c"):
        assert all(not imports[m].conditional for m in unconditional), "header guard is not a condition"
    assert all(s.line <= s.end_line for s in facts.symbols)
    assert languages.get(case.language).fence


def test_every_registered_tree_sitter_language_has_a_fixture() -> None:
    covered = {c.language for c in CASES} | {"python", "python-stub", "markdown", "rst", "metal", "objcpp", "yaml"}
    assert set(REGISTRY) <= covered


def test_cuda_launch_keeps_the_enclosing_function_and_macros_keep_offsets() -> None:
    from docatlas.extract.cfamily import blank_macros

    src = b"class TORCH_API Foo {\n  C10_HOST_DEVICE int f() const;\n};\nvoid go() { k<<<1, 2>>>(x); }\n"
    blanked, count = blank_macros(src)
    assert count == 2 and len(blanked) == len(src) and blanked.count(b"\n") == src.count(b"\n")
    assert b"TORCH_API" not in blanked and b"<<<" in blanked
    facts = extract_bytes("a.cu", src, "cuda")
    assert {(s.kind, s.qualname) for s in facts.symbols} >= {("class", "Foo"), ("method", "Foo::f"),
                                                              ("function", "go")}
    assert not facts.diagnostics


def test_broken_file_keeps_parsed_symbols_and_reports_once() -> None:
    src = b"int ok(int a) { return a; }\nclass {{{ ??? ;\nint also_ok() { return 1; }\n"
    facts = extract_bytes("broken.cpp", src, "cpp")
    names = {s.name for s in facts.symbols}
    assert "ok" in names
    diags = [d for d in facts.diagnostics if d.code == "DA204"]
    assert len(diags) == 1 and "%" in diags[0].message
    assert facts.parse_ok


# -- fuzz -------------------------------------------------------------------------------------------
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TS_LANGS = sorted(lang for lang, target in REGISTRY.items() if "python" not in target and "markup" not in target)
_SOURCES = {c.language: (FIXTURES / c.file).read_bytes() for c in CASES}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(language=st.sampled_from(_TS_LANGS), data=st.binary(max_size=300))
def test_random_bytes_never_crash(language: str, data: bytes) -> None:
    facts = extract_bytes("fuzz.src", data, language)
    assert all(d.code != "DA205" for d in facts.diagnostics), facts.diagnostics


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(language=st.sampled_from(sorted(_SOURCES)), cut=st.integers(0, 10_000), junk=st.binary(max_size=8),
       drop=st.integers(0, 40))
def test_mutated_fixtures_never_crash(language: str, cut: int, junk: bytes, drop: int) -> None:
    src = _SOURCES[language]
    cut %= len(src) + 1
    mutated = src[:cut] + junk + src[cut + drop:]
    facts = extract_bytes("fuzz.src", mutated, language)
    assert all(d.code != "DA205" for d in facts.diagnostics), facts.diagnostics
    assert all(s.line >= 1 and s.end_line >= s.line for s in facts.symbols)


# -- a real corpus ----------------------------------------------------------------------------------
def _corpus(name: str) -> Path:
    root = Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora")) / name
    if not root.is_dir():
        pytest.skip(f"corpus {name} not present under {root.parent}")
    return root


@pytest.mark.slow
def test_pytorch_c_family_corpus() -> None:
    root = _corpus("pytorch-1.13.1")
    irange = extract_bytes("c10/util/irange.h", (root / "c10/util/irange.h").read_bytes(), "c-header")
    assert any(s.name == "irange" and s.kind == "function" for s in irange.symbols)
    files = 0
    for path in sorted(root.rglob("*")):
        lang = languages.language_for_name(path.name)
        if lang not in ("c", "cpp", "c-header", "cuda", "objcpp") or not path.is_file():
            continue
        facts = extract_bytes(str(path.relative_to(root)), path.read_bytes(), lang)
        assert all(d.code not in ("DA203", "DA205") for d in facts.diagnostics), facts.diagnostics
        files += 1
    assert files > 5000
