"""The scan stage: which files exist, from `git ls-files` or a walk honouring .gitignore files.

Only names and `stat` are used here; content is read once, later, by the extract stage.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from docatlas import diagnostics as dx
from docatlas import languages
from docatlas.model import Diagnostic, ScannedFile
from docatlas.paths import MANIFEST_NAME, VENDOR_DIRS

if TYPE_CHECKING:  # imported where a pattern is parsed: a rebuild that reuses every folder's listing parses none
    import pathspec

_VCS_DIRS = {".git", ".hg", ".svn", ".bzr"}


# Seconds of a folder's mtime before the scan's start within which the folder may still change unseen in the
# same clock tick: such a folder's listing is not kept for the next scan.
RACY_NS = 2_000_000_000


@dataclass
class Listing:
    """What a walk found in each folder, for the next scan: folder ("" = root) -> (its mtime, the stats of the
    `.gitignore` files that apply to it, the subfolders it descends into, the files it keeps). A folder whose
    mtime and ignore files are unchanged holds the same names (adding, removing or renaming an entry changes
    its folder's mtime), so its listing is reused rather than read and matched against the ignore patterns
    again (on PyTorch those matches were a third of the scan). `key` names the code that made it."""

    key: str = ""
    folders: dict[str, tuple[int, tuple[tuple[int, int], ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] \
        = field(default_factory=dict)  # ... and the language of each file kept (`languages.language_for_name`)


@dataclass
class ScanResult:
    files: list[ScannedFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: str = "walk"  # "git" or "walk"
    listing: Listing | None = None  # what this walk found, for the next scan (None after `git ls-files`)


def is_vendored(path: str) -> bool:
    return any(part in VENDOR_DIRS for part in path.split("/")[:-1])


def _spec(lines: list[str] | tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def scan(root: Path, output: Path, exclude: tuple[str, ...] = (), listing: Listing | None = None) -> ScanResult:
    """The files to document, sorted. `listing`: the last walk's (`ScanResult.listing`), whose folders are
    reused where nothing changed them."""
    result = ScanResult()
    excluded = _spec(exclude) if exclude else None
    try:
        out_rel = output.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        out_rel = None  # output lies outside the repository: nothing to skip
    names = _git_files(root)
    langs: dict[str, str] = {}  # a walk's names are valid, and their languages known (`Listing`)
    if names is not None:
        result.source = "git"
    else:
        result.listing = Listing(listing.key if listing is not None else "")
        names = _walk(root, result.diagnostics, out_rel, listing, result.listing, langs)
    vendored: dict[str, bool] = {}  # folder -> whether its files are vendored
    foreign_outputs = _docatlas_outputs(root, names)
    for name in names:
        if out_rel is not None and (name == out_rel or name.startswith(out_rel + "/")):
            continue
        if any(name.startswith(p + "/") for p in foreign_outputs):
            continue
        if excluded is not None and excluded.match_file(name):
            continue
        entry = _stat(root, name, result.diagnostics, name not in langs)
        if entry is None:
            continue
        size, mtime = entry
        folder = name.rpartition("/")[0]
        v = vendored.get(folder)
        if v is None:
            v = vendored[folder] = is_vendored(name)
        result.files.append(ScannedFile(path=name, size=size, mtime_ns=mtime,
                                        language=langs.get(name) or languages.language_for_name(name), vendored=v))
    result.files.sort(key=lambda f: f.path)
    result.diagnostics.sort(key=lambda d: d.path)
    return result


def _docatlas_outputs(root: Path, names: list[str]) -> list[str]:
    """Folders holding another docatlas output (its manifest): never documented, wherever they are."""
    return sorted(n.rsplit("/", 1)[0] if "/" in n else "" for n in names
                  if n == MANIFEST_NAME or n.endswith("/" + MANIFEST_NAME))


def _valid_name(name: str, diagnostics: list[Diagnostic]) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "backslashreplace").decode("ascii", "replace")
        diagnostics.append(dx.BAD_FILE_NAME.at(shown))
        return False
    return True


def _git_files(root: Path) -> list[str] | None:
    """Tracked plus untracked-but-not-ignored files, or None outside a git work tree."""
    try:
        inside = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=root,
                                capture_output=True, text=True, check=False)
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                              cwd=root, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    names = {os.fsdecode(n) for n in proc.stdout.split(b"\0") if n}
    return sorted(names)


def _walk(root: Path, diagnostics: list[Diagnostic], out_rel: str | None = None, listing: Listing | None = None,
          fresh: Listing | None = None, langs: dict[str, str] | None = None) -> list[str]:
    """All files under `root`, honouring every .gitignore on the way; never follows directory links, and never
    enters the output folder `out_rel`. Folders unchanged since `listing` are not read again; what each folder
    holds goes into `fresh`, and each file's language into `langs`."""
    names: list[str] = []
    old = listing.folders if listing is not None else {}
    racy_after = time.time_ns() - RACY_NS
    specs: dict[str, pathspec.GitIgnoreSpec | None] = {}  # folder prefix -> its parsed .gitignore, on demand

    def spec(prefix: str) -> pathspec.GitIgnoreSpec | None:
        if prefix not in specs:
            specs[prefix] = None
            try:
                lines = Path(root, prefix, ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
                specs[prefix] = _spec(lines)
            except OSError as exc:
                diagnostics.append(dx.UNREADABLE.at(prefix + ".gitignore", action="read", reason=exc))
        return specs[prefix]

    def ignored(ignores: list[str], rel_path: str) -> bool:
        """Whether any enclosing .gitignore matches (folders are probed with a trailing slash)."""
        for prefix in ignores:
            s = spec(prefix)
            if s is not None and s.match_file(rel_path[len(prefix):]):
                return True
        return False

    todo: list[tuple[str, list[str], tuple[tuple[int, int], ...]]] = [("", [], ())]  # (prefix, ignores, stats)
    while todo:
        prefix, ignores, stats = todo.pop()
        folder = prefix[:-1]
        where = os.path.join(root, folder) if folder else str(root)
        try:
            mtime = os.stat(where).st_mtime_ns
        except OSError as exc:
            diagnostics.append(dx.UNREADABLE.at((folder or ".") + "/", action="list this folder",
                                                reason=f"{exc.strerror or exc}; its files are not documented"))
            continue
        gi = old.get(folder)
        own = _gitignore_stat(where)
        if own is not None:
            ignores = [*ignores, prefix]
            stats = (*stats, own)
        said = len(diagnostics)
        if gi is not None and gi[0] == mtime and gi[1] == stats:
            dirs, files, file_langs = gi[2], gi[3], gi[4]
        else:
            if own is not None:
                spec(prefix)  # read now: an unreadable one is said on every walk (its folder is never kept)
            found = _list(where, prefix, diagnostics, ignores, ignored, out_rel)
            if found is None:
                continue
            dirs, files = found
            file_langs = tuple(languages.language_for_name(prefix + f) for f in files)
        if fresh is not None and mtime < racy_after and len(diagnostics) == said:
            fresh.folders[folder] = (mtime, stats, dirs, files, file_langs)
        names.extend(prefix + f for f in files)
        if langs is not None:
            langs.update(zip((prefix + f for f in files), file_langs, strict=True))
        todo.extend((prefix + d + "/", ignores, stats) for d in reversed(dirs))
    names.sort()
    return names


def _gitignore_stat(where: str) -> tuple[int, int] | None:
    try:
        st = os.stat(os.path.join(where, ".gitignore"))
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns) if stat.S_ISREG(st.st_mode) else None


def _list(where: str, prefix: str, diagnostics: list[Diagnostic], ignores: list[str],
          ignored: Callable[[list[str], str], bool], out_rel: str | None) -> tuple[tuple[str, ...], ...] | None:
    """(subfolders to enter, files to keep) of one folder, sorted; None when it cannot be listed (said)."""
    try:
        entries = list(os.scandir(where))
    except OSError as exc:  # a folder the user cannot list: said, never skipped silently
        diagnostics.append(dx.UNREADABLE.at((prefix or "./"), action="list this folder",
                                            reason=f"{exc.strerror or exc}; its files are not documented"))
        return None
    dirs, files = [], []
    for e in sorted(entries, key=lambda e: e.name):
        try:
            is_dir = e.is_dir()  # follows links, as `os.walk` does: a link to a folder is a folder, never entered
        except OSError:
            is_dir = False
        rel = prefix + e.name
        if is_dir:
            if e.name in _VCS_DIRS or not _valid_name(rel, diagnostics) or e.is_symlink() or rel == out_rel:
                continue
            if not ignored(ignores, rel + "/"):
                dirs.append(e.name)
        elif _valid_name(rel, diagnostics) and not ignored(ignores, rel):
            files.append(e.name)
    return tuple(dirs), tuple(files)


def _stat(root: Path, name: str, diagnostics: list[Diagnostic], check: bool = True) -> tuple[int, int] | None:
    if check and not _valid_name(name, diagnostics):
        return None
    try:
        st = os.lstat(f"{root}/{name}")  # plain strings: Path objects for every file cost more than the stat
    except FileNotFoundError:
        return None  # tracked but deleted in the work tree
    except OSError as exc:
        diagnostics.append(dx.UNREADABLE.at(name, action="stat", reason=exc.strerror))
        return None
    if stat.S_ISLNK(st.st_mode):
        full = root / name
        try:
            target = full.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            reason = "symlink loop" if "loop" in str(exc).lower() or isinstance(exc, RuntimeError) \
                else "broken symlink"
            diagnostics.append(dx.BAD_SYMLINK.at(name, reason=reason))
            return None
        try:
            target.relative_to(root.resolve())
        except ValueError:
            diagnostics.append(dx.SYMLINK_OUTSIDE.at(name))
            return None
        if target.is_dir():
            return None  # a link to a folder of the repository: its files are documented where they live
        st = target.stat()
    if not stat.S_ISREG(st.st_mode):
        return None  # sockets, fifos, devices: not documents
    return st.st_size, st.st_mtime_ns
