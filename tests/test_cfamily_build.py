"""Include folders from build files (CMake, setup.py, Makefiles) and the angle includes they resolve."""

from __future__ import annotations

import pytest

from docatlas.extract import extract_bytes
from docatlas.extract.cbuild import include_dirs
from docatlas.languages import language_for_name
from docatlas.link.stage import link, link_inputs

pytest.importorskip("tree_sitter_language_pack")


def _dirs(path: str, text: str, language: str) -> list[str]:
    return [d for _, d in include_dirs(path, language, text)]


def test_cmake_include_directories_relative_to_the_file_and_through_known_variables() -> None:
    text = """\
set(TORCH_ROOT ${CMAKE_CURRENT_SOURCE_DIR}/..)
include_directories(BEFORE include ${TORCH_ROOT}/aten/src)
target_include_directories(core PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/api> PRIVATE
    ${Python_INCLUDE_DIRS} /usr/include ../../../outside)
# include_directories(commented/out)
"""
    assert _dirs("lib/sub/CMakeLists.txt", text, "cmake") == ["lib/aten/src", "lib/sub/api", "lib/sub/include"]


def test_makefile_and_setup_py_include_folders() -> None:
    make = "CPPFLAGS = -I. -I$(srcdir)/Include \\\n  -I $(srcdir)/Include/internal $(OTHER) -I$(PREFIX)/x\n"
    assert _dirs("Makefile.pre.in", make, "text") == ["", "Include", "Include/internal"]
    setup = ('from setuptools import Extension\nimport os\n'
             'Extension("m", ["m.c"], include_dirs=["inc", os.path.join("third", "inc")],\n'
             '          extra_compile_args=["-Igen", "-O2 -Inot_a_flag_list"])\n')
    assert _dirs("pkg/setup.py", setup, "python") == ["pkg/gen", "pkg/inc", "pkg/third/inc"]
    assert _dirs("README.md", "-Ifoo", "markdown") == []


REPO = {
    "CMakeLists.txt": "include_directories(lib/include)\n",
    "lib/include/config.h": "int lib_config(void);\n",
    "tools/config.h": "int tools_config(void);\n",
    "tools/other.h": '#include "config.h"\n',
    "src/a.c": "#include <config.h>\nint a(void) { return lib_config(); }\n",
}


def test_an_angle_include_resolves_through_the_folder_a_build_file_names() -> None:
    facts = {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in REPO.items()}
    [r] = link("repo", facts).imports["src/a.c"]
    assert (r.category, r.target) == ("repo", "lib/include/config.h")
    assert r.reason == "include folder `lib/include/`, named by `CMakeLists.txt`"
    without = dict(facts)
    del without["CMakeLists.txt"]
    [r] = link("repo", without).imports["src/a.c"]
    assert "named by" not in r.reason
    # a build file's include folders are a link input: changing them links again
    other = extract_bytes("CMakeLists.txt", b"include_directories(tools)\n", "cmake")
    assert link_inputs(other) != link_inputs(facts["CMakeLists.txt"])


def test_the_build_file_nearest_the_root_is_the_evidence() -> None:
    from docatlas.link.stage import build_include_dirs

    files = {"Mac/Makefile.in": "CFLAGS = -I$(srcdir)/../Include\n",
             "Makefile.pre.in": "CFLAGS = -I$(srcdir)/Include\n"}
    facts = {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in files.items()}
    assert build_include_dirs(facts) == {"Include": ["Makefile.pre.in", "Mac/Makefile.in"]}


def test_a_build_file_names_include_folders_for_the_files_under_its_own_folder() -> None:
    files = {
        "lib/qnn/CMakeLists.txt": "include_directories(include)\n",
        "lib/qnn/include/pack.h": "int pack(void);\n",
        "lib/qnn/src/a.c": "#include <pack.h>\n",
        "other/b.c": "#include <pack.h>\n",
        "cmake/Deps.cmake": "include_directories(${CMAKE_CURRENT_LIST_DIR}/../third/inc)\n",
        "third/inc/dep.h": "int dep(void);\n",
        "other/c.c": "#include <dep.h>\n",
    }
    facts = {p: extract_bytes(p, t.encode(), language_for_name(p)) for p, t in files.items()}
    m = link("repo", facts)
    [a] = m.imports["lib/qnn/src/a.c"]
    assert a.reason == "include folder `lib/qnn/include/`, named by `lib/qnn/CMakeLists.txt`"
    [b] = m.imports["other/b.c"]
    assert "named by" not in b.reason  # outside the CMakeLists's folder
    [c] = m.imports["other/c.c"]  # a `cmake/` folder's file speaks for its parent: the whole repository
    assert (c.target, c.reason) == ("third/inc/dep.h", "include folder `third/inc/`, named by `cmake/Deps.cmake`")
