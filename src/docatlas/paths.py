"""Where each page lives in the output folder and how pages link to each other and to the sources."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from urllib.parse import quote

# Names docatlas itself uses at the top of the output folder, and the names of a folder's own pages: a
# repository folder of such a name gets its pages under the name with `~` appended (`index.md~/index.md`), so
# it never takes the front page, the index or the manifest.
OWN_NAMES = frozenset({"docatlas.sqlite", "docatlas.sqlite.tmp", "docatlas.sqlite-journal", "docatlas.sqlite-wal",
                       "docatlas.sqlite-shm", ".docatlas-manifest.json", ".docatlas-manifest.json.tmp",
                       ".docatlas.lock", ".docatlas-build", ".docatlas-stats.json", "keywords.md", "_keywords",
                       "comprehensive_book.md", "llms.txt", "llms-full.txt", ".docatlas-cache"})
_PAGE_NAMES = frozenset({"index.md", "doc.md", "sub.md"})
CACHE_DIR = ".docatlas-cache"  # inside the output folder, never published (its own .gitignore says `*`)
NAME_MAX = 255  # bytes in one file name, on every common file system
_HASHED = 10  # hex digits of the hash that keeps a shortened name unique


@functools.lru_cache(maxsize=1 << 16)
def out_folder(folder: str) -> str:
    """Where the pages of a repository folder live in the output folder (usually the same path)."""
    if not folder:
        return ""
    parts = folder.split("/")
    for i, part in enumerate(parts):
        if part in _PAGE_NAMES or (i == 0 and part in OWN_NAMES) or part.endswith(("_docs.md", "_kw.md")):
            parts[i] = part + "~"
    return "/".join(parts)


@functools.lru_cache(maxsize=1 << 16)
def _stem(name: str) -> str:
    """A file name that leaves room for the longest page suffix (`_docs.md`) within NAME_MAX bytes: the name
    itself, or a readable prefix plus a hash of the whole name (deterministic, and unique in practice)."""
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) + len("_docs.md") <= NAME_MAX:
        return name
    keep = raw[: NAME_MAX - len("_docs.md") - _HASHED - 1].decode("utf-8", "ignore")
    return f"{keep}~{hashlib.sha1(raw).hexdigest()[:_HASHED]}"


def _page(path: str, suffix: str) -> str:
    folder, _, name = path.rpartition("/")
    where = out_folder(folder)
    return f"{where}/{_stem(name)}{suffix}" if where else f"{_stem(name)}{suffix}"
MANIFEST_NAME = ".docatlas-manifest.json"  # docatlas's list of what it wrote, at the top of its output folder
# Folder names that hold code copied from elsewhere: files under them are `vendored` (scan) and their purpose
# says so (link).
VENDOR_DIRS = frozenset({"third_party", "third-party", "thirdparty", "3rdparty", "vendor", "vendored", "external",
                         "extern", "node_modules", "_vendor"})


def file_page(path: str) -> str:
    return _page(path, "_docs.md")


def kw_page(path: str) -> str:
    return _page(path, "_kw.md")


def folder_page(folder: str, name: str) -> str:
    """`index.md`, `doc.md` or `sub.md` of a folder ("" is the repository root)."""
    return f"{out_folder(folder)}/{name}" if folder else name


def folder_of(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def rel(from_page: str, to_page: str) -> str:
    """Relative link between two output pages: `./x.md`, `../index.md`.

    Both are normalised output-relative paths, so plain segment arithmetic does what `posixpath.relpath`
    does without its `abspath`/`getcwd` calls (a quarter of all render time on PyTorch).
    """
    start = from_page.split("/")[:-1]
    target = to_page.split("/")
    common = 0
    limit = min(len(start), len(target) - 1)
    while common < limit and start[common] == target[common]:
        common += 1
    up = len(start) - common
    rest = "/".join(target[common:])
    return "../" * up + rest if up else "./" + rest


def source_link(from_page: str, path: str, line: int = 0) -> str:
    """Link from a page to a repository file, valid when the output folder sits at the repository root."""
    depth = from_page.count("/")
    link = "../" * (depth + 1) + path
    return f"{link}#L{line}" if line else link


_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@functools.lru_cache(maxsize=1 << 16)  # a file's page, its keyword page and the keyword lists ask again
def anchor(qualname: str) -> str:
    return "sym-" + _ANCHOR_UNSAFE.sub("-", qualname).strip("-")


_SAFE_CHARS = "/-._~!$&'*+,;=:@"
_SAFE = re.compile(r"[A-Za-z0-9/\-._~!$&'*+,;=:@]*")  # what `quote` leaves as it is: most paths
_FRAGMENT = re.compile(r"L\d+|sym-[A-Za-z0-9_.-]*|[a-z0-9-]+")  # the fragments docatlas itself links to


def url_quote(link: str) -> str:
    """A link target that survives Markdown: the path percent-encoded (spaces, parentheses, `#`, `?`, `|`,
    backticks, newlines, non-ASCII), a fragment docatlas added (`#L12`, `#sym-...`) kept as it is."""
    path, hash_, fragment = link.rpartition("#")
    if not hash_ or not _FRAGMENT.fullmatch(fragment) or "/" in fragment:
        path, fragment = link, ""
    quoted = path if _SAFE.fullmatch(path) else quote(path, safe=_SAFE_CHARS)
    return f"{quoted}#{fragment}" if fragment else quoted


def make_cache_dir(output: Path) -> Path:
    """The output folder's private cache folder (the facts cache, the page state), with a `.gitignore` that
    keeps all of it out of Git (as pytest's and mypy's caches do): the published output is the pages and the
    index."""
    folder = output / CACHE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        ignore.write_text("# docatlas's private cache (facts, page state): not part of the published output\n*\n",
                          encoding="utf-8")
    return folder
