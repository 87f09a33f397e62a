"""The scan stage: which files exist, from `git ls-files` or a walk honouring .gitignore files.

Only names and `stat` are used here; content is read once, later, by the extract stage.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from docatlas import diagnostics as dx
from docatlas import languages
from docatlas.model import Diagnostic, ScannedFile
from docatlas.paths import MANIFEST_NAME, VENDOR_DIRS

_VCS_DIRS = {".git", ".hg", ".svn", ".bzr"}


@dataclass
class ScanResult:
    files: list[ScannedFile] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    source: str = "walk"  # "git" or "walk"


def is_vendored(path: str) -> bool:
    return any(part in VENDOR_DIRS for part in path.split("/")[:-1])


def scan(root: Path, output: Path, exclude: tuple[str, ...] = ()) -> ScanResult:
    result = ScanResult()
    excluded = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None
    try:
        out_rel = output.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        out_rel = None  # output lies outside the repository: nothing to skip
    names = _git_files(root)
    if names is not None:
        result.source = "git"
    else:
        names = _walk(root, result.diagnostics)
    foreign_outputs = _docatlas_outputs(root, names)
    for name in names:
        if out_rel is not None and (name == out_rel or name.startswith(out_rel + "/")):
            continue
        if any(name.startswith(p + "/") for p in foreign_outputs):
            continue
        if excluded is not None and excluded.match_file(name):
            continue
        entry = _stat(root, name, result.diagnostics)
        if entry is None:
            continue
        size, mtime = entry
        result.files.append(ScannedFile(path=name, size=size, mtime_ns=mtime,
                                        language=languages.language_for_name(name), vendored=is_vendored(name)))
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


def _walk(root: Path, diagnostics: list[Diagnostic]) -> list[str]:
    """All files under `root`, honouring every .gitignore on the way; never follows directory links."""
    names: list[str] = []
    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []  # (folder prefix, spec) of enclosing folders
    def unlistable(exc: OSError) -> None:  # a folder the user cannot list: said, never skipped silently
        where = os.path.relpath(exc.filename or root, root).replace(os.sep, "/")
        diagnostics.append(dx.UNREADABLE.at(where + "/", action="list this folder",
                                            reason=f"{exc.strerror or exc}; its files are not documented"))

    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unlistable):
        rel = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        specs = [(p, s) for p, s in specs if prefix.startswith(p)]
        gi = Path(dirpath, ".gitignore")
        if gi.is_file():
            try:
                lines = gi.read_text(encoding="utf-8", errors="replace").splitlines()
                specs.append((prefix, pathspec.GitIgnoreSpec.from_lines(lines)))
            except OSError as exc:
                diagnostics.append(dx.UNREADABLE.at(prefix + ".gitignore", action="read", reason=exc))

        keep = []
        for d in sorted(dirnames):
            if d in _VCS_DIRS or not _valid_name(prefix + d, diagnostics):
                continue
            if os.path.islink(os.path.join(dirpath, d)):
                continue  # directory links are not followed: no loops, no escape from the repository
            if not _ignored(specs, prefix + d + "/"):
                keep.append(d)
        dirnames[:] = keep
        for f in sorted(filenames):
            if _valid_name(prefix + f, diagnostics) and not _ignored(specs, prefix + f):
                names.append(prefix + f)
    return names


def _ignored(specs: list[tuple[str, pathspec.GitIgnoreSpec]], rel_path: str) -> bool:
    """Whether any enclosing .gitignore matches (folders are probed with a trailing slash)."""
    return any(spec.match_file(rel_path[len(prefix):]) for prefix, spec in specs)


def _stat(root: Path, name: str, diagnostics: list[Diagnostic]) -> tuple[int, int] | None:
    if not _valid_name(name, diagnostics):
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
