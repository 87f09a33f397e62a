"""Findings rules: a labelled fixture set (each rule fires where marked, look-alikes stay silent) and bandit as the
oracle: on the same files, docatlas reports the same (rule id, line) pairs for every rule it implements."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from docatlas.extract.pyrules import SECURITY_RULES
from docatlas.extract.python import extract

FIXTURES = Path(__file__).parent / "fixtures" / "findings"
_EXPECT = re.compile(r"# expect: (B\d{3})")


def _ours(path: Path) -> set[tuple[str, int]]:
    out = extract(path.name, path.read_text(encoding="utf-8"))
    return {(f.rule, f.line) for f in out.findings if f.category == "security"}


def test_each_rule_fires_where_marked() -> None:
    path = FIXTURES / "fires.py"
    expected = {(m.group(1), i) for i, line in enumerate(path.read_text().splitlines(), 1)
                for m in _EXPECT.finditer(line)}
    assert _ours(path) == expected
    assert {r for r, _ in expected} == set(SECURITY_RULES), "every implemented rule has a labelled case"


def test_look_alikes_stay_silent() -> None:
    assert _ours(FIXTURES / "silent.py") == set()


def test_findings_carry_evidence_line() -> None:
    out = extract("x.py", "import os\nos.system('ls')  # run\n")
    (f,) = [f for f in out.findings if f.rule == "B605"]
    assert (f.line, f.evidence) == (2, "os.system('ls')  # run")


def _bandit(paths: list[Path]) -> dict[str, set[tuple[str, int]]]:
    from bandit.core import config, manager

    mgr = manager.BanditManager(config.BanditConfig(), "file", ignore_nosec=True, quiet=True)
    mgr.discover_files([str(p) for p in paths])
    mgr.run_tests()
    out: dict[str, set[tuple[str, int]]] = {str(p): set() for p in paths}
    for issue in mgr.get_issue_list():
        if issue.test_id in SECURITY_RULES:
            out.setdefault(issue.fname, set()).add((issue.test_id, issue.lineno))
    return out


def _oracle(paths: list[Path]) -> None:
    theirs = _bandit(paths)
    mismatches = {}
    for p in paths:
        ours, want = _ours(p), theirs.get(str(p), set())
        if ours != want:
            mismatches[str(p)] = {"only docatlas": sorted(ours - want), "only bandit": sorted(want - ours)}
    assert not mismatches


def test_bandit_oracle_on_fixtures() -> None:
    pytest.importorskip("bandit")
    _oracle(sorted(FIXTURES.glob("*.py")))


@pytest.mark.parametrize("package", ["jinja2", pytest.param("bandit", marks=pytest.mark.slow)])
def test_bandit_oracle_on_installed_package(package: str) -> None:
    pytest.importorskip("bandit")
    mod = pytest.importorskip(package)
    _oracle(sorted(Path(mod.__file__).parent.rglob("*.py")))


# -- C / C++ / CUDA -------------------------------------------------------------------------------
C_SOURCE = b"""// strcpy(a, b) in a comment is not a finding; neither is "system(x)" in a string
#include <cstdio>
#pragma omp parallel for
__global__ void scale(float* x) { x[0] = 1; }
void f(char* dst, const char* src, char* fmt) {
    strcpy(dst, src);
    sprintf(dst, "%d", 1);
    gets(dst);
    std::system("ls");
    obj.system("ls");
    util::system("ls");
    snprintf(dst, 4, "%d", 1);
    printf(fmt);
    printf("%s", fmt);
    scanf("%s", dst);
    scale<<<1, 32>>>(nullptr);
    cudaDeviceSynchronize();
    std::thread t(worker);
    puts("strcpy(dst, src)");
}
"""


def test_c_rules_fire_and_skip_look_alikes() -> None:
    pytest.importorskip("tree_sitter_language_pack")
    from docatlas.extract import crules, tsadapter

    tree = tsadapter.parse("cuda", C_SOURCE)
    got = {(f.rule, f.line) for f in crules.check(tree.root_node, C_SOURCE)}
    assert got == {
        ("PERF-OPENMP", 3), ("PERF-CUDA-KERNEL", 4), ("C-STRCPY", 6), ("C-SPRINTF", 7), ("C-GETS", 8),
        ("C-SHELL", 9), ("C-FORMAT", 13), ("C-SCANF", 15), ("PERF-CUDA-LAUNCH", 16), ("PERF-CUDA-SYNC", 17),
        ("PERF-CONCURRENCY", 18),
    }


def test_cuda_kernels_found_after_the_extractor_blanks_global() -> None:
    """The C-family extractor blanks `__global__` before parsing (`cmacros.blank_macros`), so the kernel rule reads
    the words before each definition's declarator from the file's text: every kernel, and no device function."""
    pytest.importorskip("tree_sitter_language_pack")
    from docatlas.extract import extract_bytes

    source = b"""__global__ void kern(float* x) { x[0] = 1; }
void host(float* p) { kern<<<1, 1>>>(p); }
template <typename T>
__global__ void __launch_bounds__(256) scale_kernel(T* out) {}
__device__ __forceinline__ float square(float x) { return x * x; }
static __global__ void s() {}
__global__
void split() {}
void plain() {}  // __global__ in a comment
"""
    facts = extract_bytes("k.cu", source, "cuda")
    kernels = [(f.line, f.message) for f in facts.findings if f.rule == "PERF-CUDA-KERNEL"]
    assert [line for line, _ in kernels] == [1, 4, 6, 8]
    assert kernels[1][1] == "CUDA kernel `scale_kernel` (`__global__`) runs on the GPU"
    assert {s.qualname for s in facts.symbols if "kernel" in s.flags} == {"kern", "scale_kernel", "s", "split"}
