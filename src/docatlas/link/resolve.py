"""Import and `#include` resolution: which repository file an import statement loads, or why none does.

Python follows the interpreter's rules over the file tree alone: relative imports are folder arithmetic, absolute
imports are looked up under the `sys.path`-style roots the repository implies (its root, `src/`, the parent of
every top-level package, the folder a script or test runs from). C/C++/CUDA includes are looked up next to the
including file first, then under include roots inferred from the includes themselves (a folder that many
`#include` paths are relative to, like PyTorch's `aten/src`). Everything is indexed by name, never compared
pairwise, so an 11,000-file repository costs a few dictionary look-ups per import.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from collections.abc import Mapping

from docatlas.model import FileFacts, Import, Record, record

STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}
# Compiled into the interpreter: the import system's first finder returns these before any file on sys.path,
# so `import gc` beside a `gc.py` still loads the interpreter's own `gc`.
BUILTIN = frozenset(sys.builtin_module_names)
PY_LANGS = ("python", "python-stub")
C_LANGS = ("c", "cpp", "c-header", "cuda", "objc", "objcpp")
_PY_SUFFIXES = (".py", ".pyi")
_STUB_SUFFIXES = (".pyi", ".pyi.in")


@record
class ResolvedImport(Record):
    imp: Import
    # repo, stdlib, third-party, compiled (a C extension: no Python source), system (C/C++ standard or OS
    # header), unresolved (looks like the repository's own, but no file matches)
    category: str
    target: str = ""  # repository path when category == "repo"
    reason: str = ""  # how it was resolved, or why it could not be


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _join(folder: str, rel: str) -> str:
    return f"{folder}/{rel}" if folder else rel


# -- Python -------------------------------------------------------------------------------------
def python_roots(paths: set[str]) -> list[str]:
    """Folders that act as `sys.path` entries: the repository root, `src/`, and the parent of every top-level
    package (a package whose own folder holds no `__init__.py`), like Django's `tests/`."""
    inits = {_parent(p) for p in paths if p.endswith(("/__init__.py", "/__init__.pyi")) or p in (
        "__init__.py", "__init__.pyi")}
    roots = {""}
    for pkg in inits:
        if not pkg:
            continue
        parent = _parent(pkg)
        if parent not in inits:
            roots.add(parent)
    return sorted(roots, key=lambda r: (r.count("/") if r else -1, r))


class PythonIndex:
    """Module names under every root, and the root each file's own module name comes from."""

    def __init__(self, paths: list[str], roots: list[str]) -> None:
        self.paths = set(paths)
        self.roots = roots
        self.inits = {_parent(p) for p in paths if p.rsplit("/", 1)[-1] in ("__init__.py", "__init__.pyi")}
        # every folder that holds Python files: namespace packages resolve to folders
        self.py_dirs: set[str] = set()
        self.by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)  # module -> [(root, path)]
        self.module_of: dict[str, str] = {}
        self.root_of: dict[str, str] = {}
        self.stubs: dict[str, str] = {}  # module -> `.pyi`/`.pyi.in` stub path (compiled modules' evidence)
        by_depth = sorted(roots, key=lambda r: -len(r))
        for path in sorted(paths):
            is_py = path.endswith(_PY_SUFFIXES)
            is_stub = path.endswith(_STUB_SUFFIXES)
            if not (is_py or is_stub):
                continue
            folder = _parent(path)
            while folder and folder not in self.py_dirs:
                self.py_dirs.add(folder)
                folder = _parent(folder)
            for root in by_depth:
                if root and not path.startswith(root + "/"):
                    continue
                name = self._name(path[len(root) + 1:] if root else path)
                if name is None:
                    continue
                if is_stub:
                    self.stubs.setdefault(name, path)
                if is_py:
                    self.by_name[name].append((root, path))
                    if path not in self.module_of:  # the innermost root names the module
                        self.module_of[path] = name
                        self.root_of[path] = root
        for entries in self.by_name.values():  # `.py` before `.pyi`, then the innermost root
            entries.sort(key=lambda e: (e[1].endswith(".pyi"), -len(e[0]), e[1]))
        self.heads = {n.split(".")[0] for n in self.by_name}

    @staticmethod
    def _name(rel: str) -> str | None:
        for suffix in (".pyi.in", ".pyi", ".py"):
            if rel.endswith(suffix):
                rel = rel[: -len(suffix)]
                break
        parts = rel.split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or not all(p.isidentifier() for p in parts):
            return None
        return ".".join(parts)

    def modules(self) -> dict[str, str]:
        """module name -> the file it names first (the `.py` under the innermost root)."""
        return {name: entries[0][1] for name, entries in self.by_name.items()}

    def basedir(self, path: str) -> str:
        """Where `python path` or pytest's rootdir-less import puts the file: the first folder upwards that is
        not a package."""
        folder = _parent(path)
        while folder in self.inits:
            folder = _parent(folder)
        return folder

    def _under(self, root: str, name: str) -> str | None:
        """The file for `name` with `root` on `sys.path`, by looking at the tree directly."""
        base = _join(root, name.replace(".", "/"))
        for cand in (base + ".py", base + "/__init__.py", base + ".pyi", base + "/__init__.pyi"):
            if cand in self.paths:
                return cand
        return None

    def find(self, name: str, path: str) -> tuple[str, str] | None:
        """(file, reason) for absolute module `name` imported from `path`; the importer's own roots win when
        the name exists under several."""
        own_root = self.root_of.get(path)
        base = self.basedir(path)
        for root, why in ((base, "the importing file's folder"), (own_root, "its own import root")):
            if root is not None:
                hit = self._under(root, name)
                if hit:
                    return hit, why
        entries = self.by_name.get(name)
        if not entries:
            return None
        root, hit = entries[0]
        return hit, (f"import root `{root}/`" if root else "the repository root")

    def is_namespace(self, name: str, path: str) -> bool:
        own = self.root_of.get(path, "")
        return any(_join(r, name.replace(".", "/")) in self.py_dirs for r in {own, "", self.basedir(path)})

    def stub_for(self, name: str) -> str | None:
        """The stub (`.pyi`, `.pyi.in`) of `name` or of the nearest enclosing module that has one."""
        parts = name.split(".")
        while parts:
            stub = self.stubs.get(".".join(parts))
            if stub:
                return stub
            parts.pop()
        return None


def c_extension_modules(facts: Mapping[str, FileFacts]) -> dict[str, str]:
    """Extension modules the repository's C sources define (`PyModuleDef` -> module name) -> the defining file
    (the first by path when several define one name)."""
    out: dict[str, str] = {}
    pending: list[tuple[str, str]] = []  # (macro, path): `PyModuleDef m = {HEAD_INIT, PySocket_MODULE_NAME, ...}`
    for path in sorted(facts):
        f = facts[path]
        if f.language not in C_LANGS:
            continue
        for s in f.symbols:
            if s.kind == "module" and s.macro == "PyModuleDef":
                if "name-macro" in s.flags:
                    pending.append((s.name, path))
                else:
                    out.setdefault(s.name, path)
    if pending:  # a name macro defined in another file (`socketmodule.h`): used when all its definitions agree
        wanted = {m for m, _ in pending}
        values: dict[str, set[str]] = defaultdict(set)
        for path in sorted(facts):
            if facts[path].language in C_LANGS:
                for s in facts[path].symbols:
                    if s.kind == "macro" and s.name in wanted:
                        m = _STRING_MACRO.match(s.signature)
                        values[s.name].add(m.group(1) if m else "")
        for macro, path in pending:
            found = values.get(macro, set())
            if len(found) == 1 and "" not in found:
                out.setdefault(next(iter(found)), path)
    return out


_STRING_MACRO = re.compile(r'#\s*define\s+[A-Za-z_][A-Za-z0-9_]*\s+"([A-Za-z_][A-Za-z0-9_.]*)"\s*\Z')


def resolve_python(path: str, imp: Import, index: PythonIndex, compiled: dict[str, str] | None = None,
                   c_modules: Mapping[str, str] | None = None) -> list[ResolvedImport]:
    """The repository files an import statement loads (`from pkg import sub` loads `pkg/sub.py` too), or one
    entry saying where the module lives instead. `c_modules` (from `c_extension_modules`) are the extension
    modules built from this repository's C sources: an import of one resolves to its C file."""
    compiled = compiled or {}
    names = [n.split(" as ")[0] for n in imp.names]
    tail = imp.module.lstrip(".")
    if imp.level:
        folder = _parent(path)
        for _ in range(imp.level - 1):
            if not folder:
                return [ResolvedImport(imp, "unresolved", reason="relative import climbs above the repository")]
            folder = _parent(folder)
        base = _join(folder, tail.replace(".", "/")) if tail else folder

        def lookup(rel: str) -> tuple[str, str] | None:
            target = _join(base, rel.replace(".", "/")) if rel else base
            for cand in (target + ".py", target + "/__init__.py", target + ".pyi", target + "/__init__.pyi"):
                if cand in index.paths:
                    return cand, "relative import"
            return None
        dotted = ""
        own = index.module_of.get(path)
        if own is not None:
            pkg = own if path.endswith(("/__init__.py", "/__init__.pyi")) else own.rpartition(".")[0]
            parts = pkg.split(".") if pkg else []
            parts = parts[: max(0, len(parts) - (imp.level - 1))]
            dotted = ".".join([*parts, tail] if tail else parts)
    else:
        dotted = tail
        if dotted in BUILTIN:
            return [ResolvedImport(imp, "stdlib", reason=f"built-in module `{dotted}` (compiled into the "
                                                          f"interpreter, found before any file)")]

        def lookup(rel: str) -> tuple[str, str] | None:
            return index.find(f"{dotted}.{rel}" if rel else dotted, path)

    found: list[ResolvedImport] = []
    for n in names:
        if n == "*":
            continue
        hit = lookup(n)
        if hit:
            found.append(ResolvedImport(imp, "repo", hit[0], f"submodule `{n}` via {hit[1]}"))
    module_hit = lookup("")
    if module_hit and (len(found) < len([n for n in names if n != "*"]) or not names or "*" in names):
        # the names not found as submodules come from the module itself
        found.insert(0, ResolvedImport(imp, "repo", module_hit[0], f"via {module_hit[1]}"))
    if found:
        return found
    if module_hit is None and dotted and not imp.level and index.is_namespace(dotted, path):
        return [ResolvedImport(imp, "namespace", reason=f"namespace package `{dotted}` (a folder without "
                                                              f"`__init__.py`)")]
    if c_modules and dotted and not imp.level and dotted in c_modules:
        return [ResolvedImport(imp, "repo", c_modules[dotted], f"extension module `{dotted}` built from this "
                                                                 f"repository's C source (its `PyModuleDef`)")]
    stub = index.stub_for(dotted) if dotted else None
    head = dotted.split(".")[0] if dotted else ""
    if dotted and dotted in compiled:
        return [ResolvedImport(imp, "compiled", reason=compiled[dotted])]
    if stub and (head in index.heads or imp.level):
        kind = "stub template" if stub.endswith(".in") else "type stub"
        return [ResolvedImport(imp, "compiled", reason=f"compiled extension module: no Python source, only the "
                                                        f"{kind} `{stub}`")]
    if imp.level or (head in index.heads and head not in STDLIB):
        why = "relative import" if imp.level else f"package `{head}` is in this repository"
        extra = f"; optional import ({imp.conditional})" if imp.conditional in ("try", "if") else ""
        return [ResolvedImport(imp, "unresolved", reason=f"{why}, but no file defines `{dotted or tail}`{extra}")]
    if head in STDLIB:
        return [ResolvedImport(imp, "stdlib")]
    return [ResolvedImport(imp, "third-party")]


# -- C, C++, CUDA -------------------------------------------------------------------------------
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_C_STD = _words("""
assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h locale.h math.h setjmp.h signal.h
stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h stdnoreturn.h string.h tgmath.h
threads.h time.h uchar.h wchar.h wctype.h
""")
_CPP_STD = _words("""
algorithm any array atomic barrier bit bitset cassert ccomplex cctype cerrno cfenv cfloat charconv chrono cinttypes
ciso646 climits clocale cmath codecvt compare complex concepts condition_variable coroutine csetjmp csignal
cstdalign cstdarg cstdbool cstddef cstdint cstdio cstdlib cstring ctgmath ctime cuchar cwchar cwctype deque
exception execution expected filesystem format forward_list fstream functional future initializer_list iomanip
ios iosfwd iostream istream iterator latch limits list locale map memory memory_resource mutex new numbers
numeric optional ostream queue random ranges ratio regex scoped_allocator semaphore set shared_mutex source_location
span sstream stack stdexcept stop_token streambuf string string_view strstream syncstream system_error thread
tuple type_traits typeindex typeinfo unordered_map unordered_set utility valarray variant vector version
""")
_OS_PREFIXES = ("sys/", "arpa/", "netinet/", "net/", "linux/", "asm/", "bits/", "mach/", "mach-o/", "machine/",
                "libkern/", "os/", "CoreFoundation/", "Foundation/", "Metal/", "MetalPerformanceShaders/",
                "Accelerate/", "TargetConditionals", "UIKit/", "AppKit/", "objc/", "dispatch/", "android/",
                "emscripten/", "xlocale/")
_OS_HEADERS = _words("""
unistd.h pthread.h dlfcn.h fcntl.h dirent.h sched.h semaphore.h poll.h netdb.h pwd.h grp.h termios.h syslog.h
spawn.h execinfo.h cxxabi.h malloc.h alloca.h getopt.h glob.h libgen.h strings.h endian.h byteswap.h elf.h link.h
ucontext.h utime.h ifaddrs.h regex.h fnmatch.h err.h error.h features.h immintrin.h emmintrin.h xmmintrin.h
pmmintrin.h smmintrin.h tmmintrin.h nmmintrin.h wmmintrin.h x86intrin.h intrin.h arm_neon.h arm_sve.h
cpuid.h windows.h Windows.h winsock2.h ws2tcpip.h io.h process.h direct.h shlobj.h psapi.h tlhelp32.h
dbghelp.h objbase.h comdef.h ntstatus.h winternl.h omp.h mm_malloc.h
""")
_TOOLKIT_PREFIXES = ("cuda", "cu", "cublas", "cudnn", "cufft", "curand", "cusparse", "cusolver", "nvrtc", "nvToolsExt",
                     "thrust/", "cub/", "hip/", "hipblas", "miopen", "rocblas", "mkl", "omp")


def system_header(header: str) -> str:
    """Why `header` belongs to the compiler, OS or a toolkit rather than the repository; "" when it does not."""
    if header in _CPP_STD:
        return "C++ standard library header"
    if header in _C_STD:
        return "C standard library header"
    if header in _OS_HEADERS or header.startswith(_OS_PREFIXES):
        return "operating-system / compiler header"
    if header.startswith(_TOOLKIT_PREFIXES):
        return "GPU / math toolkit header (CUDA, ROCm, MKL, OpenMP)"
    return ""


class IncludeIndex:
    """Headers indexed by every path suffix, and the include roots the repository's own includes imply."""

    def __init__(self, paths: list[str], includes: dict[str, tuple[Import, ...]],
                 build_dirs: Mapping[str, list[str]] | None = None) -> None:
        self.paths = set(paths)
        self.by_suffix: dict[str, list[str]] = defaultdict(list)
        self.templates: dict[str, str] = {}  # header name -> a template the build generates it from
        self.dirs: set[str] = set()
        for p in sorted(paths):
            parts = p.split("/")
            for i in range(len(parts)):
                self.by_suffix["/".join(parts[i:])].append(p)
            for i in range(1, len(parts)):
                self.dirs.add("/".join(parts[:i]))
            if len(parts) > 1 and parts[-2] == "templates":
                self.templates.setdefault(parts[-1], p)
            elif p.endswith(".in"):
                self.templates.setdefault(parts[-1][:-3], p)
        # a root gets a vote from each distinct include that is found under it and nowhere relative to the
        # includer; roots with a few votes are the repository's include directories
        pairs: set[tuple[str, str]] = set()
        self.missing: dict[str, set[str]] = defaultdict(set)  # include folder -> absent headers included from it
        looked: set[tuple[str, str]] = set()  # what follows depends on the folder and header alone: once each
        for path, imps in includes.items():
            folder = _parent(path)
            for imp in imps:
                h = imp.module
                if (folder, h) in looked:  # (PyTorch: 12,231 of 34,093 includes)
                    continue
                looked.add((folder, h))
                if _join(folder, h) in self.paths:
                    continue
                if h not in self.by_suffix and "/" in h:
                    self.missing[_parent(h)].add(h)
                for cand in self.by_suffix.get(h, ()):
                    pairs.add((cand[: len(cand) - len(h) - 1] if len(cand) > len(h) else "", h))
        votes = Counter(root for root, _ in pairs)
        self.votes = votes
        self.roots = [r for r, n in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])) if n >= 2]
        # for `#include <...>`: the voted roots, then the folders the tree names as include folders (`Include/`)
        self.root_rank = {r: i for i, r in enumerate(self.roots)}
        self.angle_rank = dict(self.root_rank)
        for d in sorted(d for d in self.dirs if d.rsplit("/", 1)[-1].lower() == "include"):
            self.angle_rank.setdefault(d, len(self.angle_rank))
        # include folders the build files name (`-I`, `include_directories`, `include_dirs=`: `extract.cbuild`)
        # and the tree has: folder -> the build files naming it, nearest the root first
        self.build_dirs = {d: f for d, f in sorted((build_dirs or {}).items()) if d == "" or d in self.dirs}
        # first components of include paths under the roots: `#include "c10/…"` looks like this repository's
        # (the folders under each root name them: each holds a file; 1,010 folders against 10,770 paths on PyTorch)
        self.top_dirs = {d[len(r) + 1:].split("/", 1)[0] if r else d.split("/", 1)[0]
                         for r in self.roots for d in self.dirs if not r or d.startswith(r + "/")} \
            if len(self.roots) < 200 else set()

    def generated(self, header: str, conditional: str) -> str:
        """Why `header` is written by the build rather than kept in the checkout; "" without such evidence."""
        if "generated" in header.split("/")[:-1]:
            return "in a `generated/` folder: written by the build"
        if header.endswith(".pb.h") and self.by_suffix.get(header[:-5] + ".proto"):
            return f"generated by protoc from `{self.by_suffix[header[:-5] + '.proto'][0]}`"
        if "hip" in header.split("/")[:-1]:
            twin = header.replace("/hip/", "/cuda/").replace("HIP", "CUDA").replace("hip", "cuda")
            found = self.by_suffix.get(twin) or self.by_suffix.get(twin.rsplit("/", 1)[0] + "/" +
                                                                   header.rsplit("/", 1)[-1])
            if found:
                return f"generated by hipify (ROCm build) from `{found[0]}`"
        name = header.rsplit("/", 1)[-1]
        for key in (header, name):
            tpl = self.templates.get(key)
            if tpl and (key == header or self.by_suffix.get(header + ".in") or "/templates/" in "/" + tpl):
                return f"generated by the build from the template `{tpl}`"
        folder = _parent(header)
        absent = self.missing.get(folder, ())
        if len(absent) >= 10:
            for r in self.roots[:20]:
                for near in (folder, _parent(folder)):
                    tdir = _join(_join(r, near), "templates") if near else _join(r, "templates")
                    if tdir in self.dirs:
                        return (f"one of {len(absent)} headers of `{folder}/` that are included but absent from the "
                                f"checkout, beside the code templates in `{tdir}/`: generated by the build")
        return ""

    def find_built(self, path: str, header: str) -> tuple[str, str] | None:
        """`header` under an include folder that a build file names for `path` (the first such folder by path),
        else None. A build file names folders for the files under its own folder (a CMake `include_directories`
        holds for its directory and below; a Makefile builds what is beside it); one in a `cmake/` folder, which
        the top-level CMakeLists includes, for the files under that folder's parent."""
        h = header.lstrip("./")
        for root, build_files in self.build_dirs.items():
            cand = _join(root, h)
            if cand not in self.paths:
                continue
            for build_file in build_files:
                scope = _parent(build_file)
                if scope.rsplit("/", 1)[-1].lower() == "cmake":
                    scope = _parent(scope)
                if not scope or path.startswith(scope + "/"):
                    where = f"`{root}/`" if root else "the repository root"
                    return cand, f"include folder {where}, named by `{build_file}`"
        return None

    def find_rooted(self, header: str) -> tuple[str, str] | None:
        """`header` under one of the include roots (the best-ranked root first), else None."""
        h = header.lstrip("./")
        best: tuple[int, str, str] | None = None
        for c in self.by_suffix.get(h, ()):
            if len(c) > len(h) and c[len(c) - len(h) - 1] != "/":
                continue
            root = c[: len(c) - len(h) - 1] if len(c) > len(h) else ""
            rank = self.angle_rank.get(root)
            if rank is not None and (best is None or (rank, c) < best[:2]):
                best = (rank, c, root)
        if best is None:
            return None
        return best[1], f"include root `{best[2]}/`" if best[2] else "include root: the repository root"

    def find(self, path: str, header: str) -> tuple[str, str] | None:
        folder = _parent(path)
        local = _join(folder, header)
        if local in self.paths:
            return local, "relative to the including file"
        norm = _normalise(local)
        if norm and norm in self.paths:
            return norm, "relative to the including file"
        cands = [c for c in self.by_suffix.get(header.lstrip("./"), ())
                 if len(c) == len(header.lstrip("./")) or c[len(c) - len(header.lstrip("./")) - 1] == "/"]
        if not cands:
            return None
        h = header.lstrip("./")

        def root_of(c: str) -> str:
            return c[: len(c) - len(h) - 1] if len(c) > len(h) else ""

        rooted = [c for c in cands if root_of(c) in self.root_rank]
        if rooted:
            best = min(rooted, key=lambda c: (self.root_rank[root_of(c)], -_common(c, path), c))
            r = root_of(best)
            return best, f"include root `{r}/`" if r else "include root: the repository root"
        if len(cands) == 1:
            return cands[0], "the only file with this path suffix"
        best = max(cands, key=lambda c: (_common(c, path), c))
        return best, f"nearest of {len(cands)} files with this path suffix"


def _normalise(path: str) -> str:
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not out:
                return ""
            out.pop()
        else:
            out.append(part)
    return "/".join(out)


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        n += 1
    return n


def resolve_include(path: str, imp: Import, index: IncludeIndex) -> ResolvedImport:
    header = imp.module
    why_system = system_header(header)
    if imp.system and why_system.startswith(("C ", "C++ ")):
        return ResolvedImport(imp, "system", reason=why_system)
    if imp.system:  # `#include <Python.h>` through an include folder the build names: this repository's own
        built = index.find_built(path, header)
        if built is not None:
            return ResolvedImport(imp, "repo", built[0], built[1])
    if imp.system and why_system:
        # an OS or toolkit name the repository itself ships in one of its include folders is its own
        rooted = index.find_rooted(header)
        if rooted is None:
            return ResolvedImport(imp, "system", reason=why_system)
        return ResolvedImport(imp, "repo", rooted[0], rooted[1])
    hit = index.find(path, header)
    if hit:
        return ResolvedImport(imp, "repo", hit[0], hit[1])
    if why_system:
        return ResolvedImport(imp, "system", reason=why_system)
    first = header.split("/", 1)[0] if "/" in header else ""
    generated = index.generated(header, imp.conditional)
    if generated:
        return ResolvedImport(imp, "generated", reason=generated)
    if first and first in index.top_dirs:
        return ResolvedImport(imp, "unresolved", reason=f"`{first}/` is one of this repository's include folders, "
                                                         f"but no file matches (generated at build time?)")
    if not imp.system and "/" not in header:
        return ResolvedImport(imp, "unresolved", reason="quoted include with no matching file in the repository")
    return ResolvedImport(imp, "third-party", reason="external library header (not in this repository)")
