"""What a file is, from its name or first line: language id, the page's `Type` and the fence tag."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Language:
    id: str
    type_name: str  # FORMAT.md's **Type**
    fence: str  # the tag of the `Original Source` fence
    family: str  # python, c, markup, config, build, script, data, text: groups timings and purposes


_LANGS = [
    Language("python", "Python Source Code", "python", "python"),
    Language("c", "C Source Code", "c", "c"),
    Language("cpp", "C++ Source Code", "cpp", "c"),
    Language("c-header", "C/C++ Header File", "cpp", "c"),
    Language("cuda", "CUDA Source Code", "cuda", "c"),
    Language("objc", "Objective-C Source Code", "objectivec", "c"),
    Language("objcpp", "Objective-C++ Source Code", "objectivec", "c"),
    Language("javascript", "JavaScript Source Code", "javascript", "script"),
    Language("typescript", "TypeScript Source Code", "typescript", "script"),
    Language("tsx", "TypeScript JSX Source Code", "tsx", "script"),
    Language("go", "Go Source Code", "go", "other"),
    Language("rust", "Rust Source Code", "rust", "other"),
    Language("java", "Java Source Code", "java", "other"),
    Language("kotlin", "Kotlin Source Code", "kotlin", "other"),
    Language("swift", "Swift Source Code", "swift", "other"),
    Language("csharp", "C# Source Code", "csharp", "other"),
    Language("ruby", "Ruby Script", "ruby", "script"),
    Language("perl", "Perl Script", "perl", "script"),
    Language("lua", "Lua Script", "lua", "script"),
    Language("php", "PHP Script", "php", "script"),
    Language("bash", "Shell Script", "bash", "script"),
    Language("powershell", "PowerShell Script", "powershell", "script"),
    Language("batch", "Windows Batch Script", "bat", "script"),
    Language("cython", "Cython Source Code", "cython", "python"),
    Language("python-stub", "Python Type Stub", "python", "python"),
    Language("metal", "Metal Shader Source Code", "cpp", "c"),
    Language("glsl", "GLSL Shader Source Code", "glsl", "c"),
    Language("asm", "Assembly Source Code", "asm", "c"),
    Language("markdown", "Markdown Documentation", "markdown", "markup"),
    Language("rst", "reStructuredText Documentation", "rst", "markup"),
    Language("html", "HTML Document", "html", "markup"),
    Language("css", "CSS Stylesheet", "css", "markup"),
    Language("tex", "LaTeX Document", "latex", "markup"),
    Language("yaml", "YAML Configuration", "yaml", "config"),
    Language("github-actions", "GitHub Actions Workflow", "yaml", "config"),
    Language("toml", "TOML Configuration", "toml", "config"),
    Language("json", "JSON Data", "json", "config"),
    Language("ini", "INI Configuration", "ini", "config"),
    Language("xml", "XML Document", "xml", "config"),
    Language("cmake", "CMake Build Script", "cmake", "build"),
    Language("make", "Makefile", "makefile", "build"),
    Language("bazel", "Bazel Build File", "python", "build"),
    Language("dockerfile", "Dockerfile", "dockerfile", "build"),
    Language("protobuf", "Protocol Buffers Definition", "protobuf", "other"),
    Language("sql", "SQL Script", "sql", "other"),
    Language("diff", "Patch File", "diff", "text"),
    Language("csv", "CSV Data", "csv", "text"),
    Language("requirements", "Python Requirements File", "text", "config"),
    Language("text", "Text File", "text", "text"),
]
LANGUAGES: dict[str, Language] = {lang.id: lang for lang in _LANGS}

_EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyw": "python", ".pyi": "python-stub", ".pyx": "cython", ".pxd": "cython",
    ".pxi": "cython",
    ".c": "c", ".h": "c-header", ".hpp": "c-header", ".hh": "c-header", ".hxx": "c-header", ".cuh": "c-header",
    ".inl": "c-header", ".ipp": "c-header", ".tcc": "c-header", ".tpp": "c-header", ".txx": "c-header",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".cu": "cuda", ".hip": "cuda",
    ".m": "objc", ".mm": "objcpp", ".metal": "metal",
    ".glsl": "glsl", ".vert": "glsl", ".frag": "glsl", ".comp": "glsl",
    ".s": "asm", ".S": "asm", ".asm": "asm",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".java": "java", ".kt": "kotlin", ".kts": "kotlin", ".swift": "swift",
    ".cs": "csharp", ".rb": "ruby", ".pl": "perl", ".pm": "perl", ".lua": "lua", ".php": "php",
    ".sh": "bash", ".bash": "bash", ".zsh": "bash", ".ps1": "powershell", ".bat": "batch", ".cmd": "batch",
    ".md": "markdown", ".markdown": "markdown", ".rst": "rst", ".html": "html", ".htm": "html", ".css": "css",
    ".tex": "tex",
    ".yml": "yaml", ".yaml": "yaml", ".toml": "toml", ".json": "json", ".ini": "ini", ".cfg": "ini",
    ".xml": "xml",
    ".cmake": "cmake", ".mk": "make", ".bzl": "bazel", ".bazel": "bazel",
    ".proto": "protobuf", ".sql": "sql", ".patch": "diff", ".diff": "diff", ".csv": "csv",
    ".txt": "text",
}
_FILENAMES: dict[str, str] = {
    "CMakeLists.txt": "cmake", "Makefile": "make", "makefile": "make", "GNUmakefile": "make",
    "BUILD": "bazel", "WORKSPACE": "bazel", "Dockerfile": "dockerfile", "Containerfile": "dockerfile",
    "setup.cfg": "ini", "tox.ini": "ini", ".flake8": "ini", ".coveragerc": "ini", ".editorconfig": "ini",
    "Pipfile": "toml", "Gemfile": "ruby", "Rakefile": "ruby", ".bashrc": "bash",
}
_SHEBANG = re.compile(rb"^#!\s*(?:/usr/bin/env\s+(?:-S\s+)?)?\S*?([A-Za-z]+)[\d.]*(?:\s|$)")
_SHEBANG_LANG = {"python": "python", "bash": "bash", "sh": "bash", "zsh": "bash", "ksh": "bash",
                 "dash": "bash", "node": "javascript", "perl": "perl", "ruby": "ruby", "lua": "lua"}


def language_for_name(path: str) -> str:
    """The language a file's name implies ("text" when the name says nothing)."""
    parts = path.rsplit("/", 3)  # string splitting: pathlib's parsing cost 0.2 s per 10k files in the scan
    name = parts[-1]
    parent = parts[-2] if len(parts) > 1 else ""
    grandparent = parts[-3] if len(parts) > 2 else ""
    if name in _FILENAMES:
        return _FILENAMES[name]
    if name.startswith("Dockerfile") or name.endswith(".Dockerfile") or name.endswith(".dockerfile"):
        return "dockerfile"
    stem, dot, ext = name.rpartition(".")
    suffix = f".{ext}" if dot and stem.strip(".") else ""  # as PurePosixPath.suffix: ".bashrc" has none
    if (name.startswith(("requirements", "constraints")) or parent == "requirements") \
            and name.endswith((".txt", ".in")):
        return "requirements"
    if parent == "workflows" and grandparent == ".github" and suffix in (".yml", ".yaml"):
        return "github-actions"
    if name.endswith(".BUILD") or name.startswith("BUILD."):
        return "bazel"
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    lower = suffix.lower()
    if lower in _EXTENSIONS and lower not in (".s",):
        return _EXTENSIONS[lower]
    return "text"


def language_from_shebang(first_line: bytes) -> str | None:
    """The interpreter named by a `#!` line, for extension-less scripts."""
    m = _SHEBANG.match(first_line)
    if not m:
        return None
    return _SHEBANG_LANG.get(m.group(1).decode("ascii", "replace"))


def get(lang_id: str) -> Language:
    return LANGUAGES.get(lang_id, LANGUAGES["text"])
