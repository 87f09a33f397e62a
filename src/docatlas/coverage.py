"""What docatlas analyses, by language: which files get an extractor, and which findings rules run on them.

Pages read this to say exactly what was checked ("32 security rules checked (B102, ...): none matched") and
never "no extractor" or "no rules" where there are some. `tests/test_claims.py` keeps it equal to the
extractor registry (`extract.REGISTRY`), to the rule ids the rule modules emit (`extract/pyrules.py`,
`extract/crules.py`) and to the lists in the README.
"""

from __future__ import annotations

CATEGORIES = ("security", "performance", "pattern")

EXTRACTED = frozenset({
    "bash", "bazel", "c", "c-header", "cmake", "cpp", "cuda", "dockerfile", "github-actions", "go", "java",
    "ini", "javascript", "json", "markdown", "metal", "objc", "objcpp", "python", "python-stub", "requirements",
    "rst", "rust", "toml", "tsx", "typescript", "yaml",
})

# Languages whose extractor reads import statements (includes for the C family): "No imports." is a finding
# only for these; for the others the page says imports were not analysed.
IMPORTS_EXTRACTED = frozenset({"python", "python-stub", "c", "cpp", "c-header", "cuda", "metal", "objc", "objcpp",
                               "go", "java", "javascript", "typescript", "tsx", "rust"})

PYTHON_RULES: dict[str, tuple[str, ...]] = {
    "security": ("B102", "B103", "B104", "B105", "B106", "B107", "B108", "B110", "B112", "B113", "B301", "B302",
                 "B306", "B307", "B311", "B312", "B316", "B321", "B323", "B324", "B403", "B404", "B411", "B501",
                 "B506", "B602", "B604", "B605", "B606", "B607", "B614", "B701"),
    "performance": ("PERF-CACHE", "PERF-CONCURRENCY", "PERF-CUDA", "PERF-JIT", "PERF-SYNC-IN-LOOP"),
    "pattern": ("PAT-ABC", "PAT-CONTEXT-MANAGER", "PAT-DATACLASS", "PAT-DISPATCH", "PAT-ENUM", "PAT-PROTOCOL"),
}
C_RULES: dict[str, tuple[str, ...]] = {
    "security": ("C-EXEC", "C-FORMAT", "C-GETS", "C-SCANF", "C-SHELL", "C-SPRINTF", "C-STRCPY", "C-TMPFILE"),
    "performance": ("PERF-CONCURRENCY", "PERF-CUDA-KERNEL", "PERF-CUDA-LAUNCH", "PERF-CUDA-SYNC", "PERF-OPENMP"),
    "pattern": (),
}
C_LANGUAGES = frozenset({"c", "cpp", "c-header", "cuda", "metal", "objc", "objcpp"})
_NONE: dict[str, tuple[str, ...]] = dict.fromkeys(CATEGORIES, ())


def rules_for(language: str) -> dict[str, tuple[str, ...]]:
    """category -> the ids of the rules that run on files of `language` (empty tuples when none do)."""
    if language in ("python", "python-stub"):
        return PYTHON_RULES
    return C_RULES if language in C_LANGUAGES else _NONE
