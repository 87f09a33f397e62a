"""The output folder: the only place docatlas writes, with a manifest of everything it wrote.

Pages are written only when their text changed (digest in the manifest) and atomically (temp file +
rename), so an interrupted run never leaves a half-written page. Pages that a rebuild no longer produces
are removed, but only when the manifest says docatlas wrote them, or when they are pages of a build that
was interrupted in this folder.

How a build keeps the folder recoverable whatever stops it (a kill, a full disk, Ctrl-C):
- one build at a time: an advisory `flock` on `.docatlas.lock` (the kernel drops it when its holder dies, so
  a lock is never stale; the file holds the holder's pid for the message);
- the folder is marked as docatlas's (`.docatlas-build`) before the first page is written, and the marker is
  removed only after the manifest is complete; a build that finds the marker resumes the interrupted one:
  stray temporary files are removed, every page is rewritten, and pages that no build produces any more are
  removed;
- the manifest lists the pages, and `.docatlas-cache/page-state.marshal` records each page's digest, input
  signature, size and mtime: a page edited or deleted by hand is found by a `stat` and rewritten. The state is private
  (build-to-build bookkeeping, not published: the cache folder's `.gitignore` keeps it out of Git) and names
  the manifest it goes with; without it, or beside another manifest, every page is rendered and written again.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import marshal
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docatlas import __version__
from docatlas.errors import OutputError
from docatlas.paths import CACHE_DIR, MANIFEST_NAME, make_cache_dir

# 2: the page names only (their digests and input signatures are in the private page state); 3: the same names
# grouped by folder, so that a folder's path is written once rather than once per page (PyTorch: 1.2 to 0.7 MB)
MANIFEST_VERSION = 3
LOCK_NAME = ".docatlas.lock"
MARKER_NAME = ".docatlas-build"
# In CACHE_DIR: each page's digest, signature, size and mtime. Read and written by every build, no-ops included:
# marshalled rather than JSON (PyTorch's 24,902 pages, medians of 7 and 5: the output folder's state read in 0.13-0.14 s
# and the page state saved in 0.13 s with JSON, 0.08-0.09 s and 0.08 s so), in a format of its own version
# (`_STATE_FORMAT`); what another format or version wrote is not trusted.
STATE_NAME = "page-state.marshal"
STATE_PATH = f"{CACHE_DIR}/{STATE_NAME}"
_STATE_FORMAT = "docatlas page state 1"
STATE_FILES = (LOCK_NAME, STATE_NAME)  # docatlas's files whose bytes differ from build to build (and the index)
TMP_SUFFIX = ".docatlas-tmp"
# docatlas's own files besides the pages (the index's name is store.index.INDEX_NAME; kept in step by a test)
_INDEX_FILES = ("docatlas.sqlite", "docatlas.sqlite-journal")
_OLD_STATS = ".docatlas-stats.json"  # where docatlas before schema 19's size work kept the page stats: removed
_OLD_STATE = f"{CACHE_DIR}/page-state.json"  # the page state as JSON, before `STATE_NAME`: removed
_STRAY = ("docatlas.sqlite.tmp", MANIFEST_NAME + ".tmp", STATE_PATH + ".tmp", _OLD_STATS)
_PAGE_NAMES = ("index.md", "doc.md", "sub.md", "keywords.md", "comprehensive_book.md", "llms.txt", "llms-full.txt")
_OWN = frozenset({MANIFEST_NAME, LOCK_NAME, MARKER_NAME, *_INDEX_FILES, *_STRAY})

log = logging.getLogger(__name__)

Stat = tuple[int, int]  # (size, mtime_ns) of a page as written


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def manifest_pages(data: dict[str, Any]) -> list[str]:
    """The page names a manifest lists: grouped by folder (3), a list (2) or the keys of a dict of digests (1)."""
    folders = data.get("folders")
    if folders is None:
        listed = data["pages"]
        if not isinstance(listed, (list, dict)):
            raise TypeError("pages is not a list")
        return [str(k) for k in listed]
    if not isinstance(folders, dict) or not all(isinstance(v, list) for v in folders.values()):
        raise TypeError("folders is not a mapping of folders to page names")
    return [f"{folder}/{name}" if folder else str(name) for folder, names in folders.items() for name in names]


def _grouped(pages: dict[str, str]) -> dict[str, list[str]]:
    """Page names by folder ("" the top), folders and names sorted: the body of a version 3 manifest."""
    folders: dict[str, list[str]] = {}
    for rel in sorted(pages):
        folder, _, name = rel.rpartition("/")
        folders.setdefault(folder, []).append(name)
    return dict(sorted(folders.items()))


def _is_page(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return name.endswith(("_docs.md", "_kw.md")) or name in _PAGE_NAMES or rel.startswith("_keywords/")


class OutputFolder:
    """The output folder of one build. `open` (in `pipeline.build`) takes the lock and marks the folder before
    anything is written; `finish` saves the manifest and removes the marker; `close` lets the lock go."""

    def __init__(self, output: Path, root: Path, force: bool = False) -> None:
        self.path = output
        self._prefix = str(output) + os.sep
        self.manifest_path = output / MANIFEST_NAME
        self.force = force
        resolved_root = root.resolve()
        if output == resolved_root or output in resolved_root.parents:
            raise OutputError(f"refusing to write into {output}: it is, or contains, the repository itself")
        self._made: set[str] = set()  # folders known to exist (a page write need not ask again)
        self.previous: dict[str, str] = {}  # page -> digest of its text, from the last complete build
        self.previous_inputs: dict[str, str] = {}  # page -> signature of everything its text was made from
        self.previous_stats: dict[str, Stat] = {}  # page -> (size, mtime_ns) as the last build left it
        self.resumed = False  # the last build in this folder was interrupted: this one repairs it
        self.known = True  # the private page state goes with the manifest: pages on disk can be checked
        self.notes: list[str] = []  # what the CLI should tell the user (a resumed build, a rebuilt manifest)
        self._lock_fd: int | None = None
        self._seen: tuple[tuple[int, int, int] | None, ...] | None = None  # (`_state_files`) as `_read_state` read them
        self._manifest_raw = b""  # the manifest read, when `finish` may keep it (`_load_manifest`)
        if output.exists() and not output.is_dir():
            raise OutputError(f"{output} exists and is not a folder")
        if (output / "docatlas.sqlite").exists() and not (output / "docatlas.sqlite").is_file():
            raise OutputError(f"{output / 'docatlas.sqlite'} is not a file: docatlas keeps its index there; "
                              f"remove it or choose another output folder")
        self._read_state()

    def _state_files(self) -> tuple[tuple[int, int, int] | None, ...]:
        """(inode, size, mtime_ns) of the files `_read_state` reads, None for a missing one: a build replaces the
        manifest and the page state by renames (new inodes), and makes and removes the marker."""
        found: list[tuple[int, int, int] | None] = []
        for path in (self.manifest_path, self.path / STATE_PATH, self.path / MARKER_NAME):
            try:
                st = os.stat(path)
            except OSError:
                found.append(None)
                continue
            found.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(found)

    def _read_state(self) -> None:
        output = self.path
        self._seen = None
        if not output.is_dir():
            return
        seen = self._state_files()
        marked = (output / MARKER_NAME).exists() or (output / LOCK_NAME).exists()
        if self.manifest_path.is_file():
            try:
                self.previous, self.previous_inputs, self.previous_stats = self._load_manifest()
            except OutputError:
                if not (self.force or marked):
                    raise
                self.notes.append(f"{self.manifest_path} was unreadable; every page is rewritten")
                self.resumed = True
        elif self.manifest_path.exists():
            raise OutputError(f"{self.manifest_path} is not a file: docatlas keeps its manifest there")
        elif not marked and not self.force and any(output.iterdir()):
            raise OutputError(f"{output} is not empty and was not written by docatlas "
                              f"(no {MANIFEST_NAME}); choose another folder or pass --force")
        if (output / MARKER_NAME).exists():
            self.resumed = True
        if not self.notes:  # (read without trouble: `open` need not read the same files again)
            self._seen = seen

    def _load_manifest(self) -> tuple[dict[str, str], dict[str, str], dict[str, Stat]]:
        try:
            with open(self.manifest_path, "rb") as fh:
                raw = fh.read()
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("generator") not in (None, "docatlas"):
                raise TypeError("not a docatlas manifest")
            pages = manifest_pages(data)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise OutputError(f"{self.manifest_path} is unreadable ({exc}); remove the folder or pass --force") \
                from exc
        state = self._load_state(digest(raw))
        if state is None:  # no private state for this manifest: no page is known to be as it was written
            self.known = False
            return dict.fromkeys(pages, ""), {}, {}
        # written by this version: `finish` may keep it when the pages are the same
        same_writer = (data.get("generator"), data.get("version"), data.get("manifest_version")) == (
            "docatlas", __version__, MANIFEST_VERSION)
        self._manifest_raw = raw if same_writer else b""
        digests, inputs, stats = state
        return {k: digests.get(k, "") for k in pages}, inputs, stats

    def _load_state(self, manifest_digest: str) -> tuple[dict[str, str], dict[str, str], dict[str, Stat]] | None:
        """Each page's digest, signature and (size, mtime_ns) as the build that wrote the manifest left them; None
        when the state is missing, unreadable, of another format, or written with another manifest (the cache
        folder was deleted, or a build stopped between the two)."""
        try:
            with open(self.path / STATE_PATH, "rb") as fh:
                tag, manifest, digests, inputs, stats = marshal.loads(fh.read())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        if tag != _STATE_FORMAT or manifest != manifest_digest:
            return None
        if not (_str_map(digests) and _str_map(inputs) and type(stats) is dict and all(
                type(k) is str and type(v) is tuple and len(v) == 2 and type(v[0]) is int and type(v[1]) is int
                for k, v in stats.items())):
            return None
        return digests, inputs, stats

    # -- the lock and the marker --------------------------------------------------------------------------
    def open(self, wait: bool = True, on_wait: Callable[[str], None] | None = None) -> None:
        """Create the folder, take the lock (waiting for another build unless `wait` is false: then
        OutputError), re-read the state the last build left, remove its stray temporary files, and mark the
        folder as a build in progress."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise OutputError(f"cannot write the output folder {self.path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            waited = False
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                raise OutputError(f"cannot lock {self.path / LOCK_NAME}: {exc.strerror or exc}") from exc
            holder = _holder(fd)
            who = f"pid {holder}" if holder else "another process"
            if holder and not _alive(holder):
                who += ", which has ended (its worker processes still hold the lock)"
            if not wait:
                os.close(fd)
                raise OutputError(f"another docatlas build ({who}) is writing {self.path}; "
                                  f"try again when it is done, or leave out --no-wait to wait for it") from None
            message = f"waiting for another docatlas build ({who}) writing {self.path} to finish"
            if on_wait is not None:
                on_wait(message)
            else:
                log.warning("docatlas: %s", message)
            fcntl.flock(fd, fcntl.LOCK_EX)
            waited = True
        self._lock_fd = fd
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        # the last build may have finished (or been interrupted) while this one waited: read its state again,
        # unless the lock was free and the files read are the very same (PyTorch: 4 MB of JSON, 0.1 s)
        if waited or self._seen is None or self._seen != self._state_files():
            self.previous, self.previous_inputs, self.previous_stats, self.resumed = {}, {}, {}, False
            self._manifest_raw = b""
            self.known = True
            self._read_state()
        if self.resumed:
            self.notes.append("the last build in this folder was interrupted; this one repairs it")
            self._sweep(set())
        for name in _STRAY:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                (self.path / name).unlink()
        marker = self.path / MARKER_NAME
        marker.write_text(f"{os.getpid()} {time.time():.0f}\n", encoding="utf-8")

    def close(self) -> None:
        """Let the lock go (the file stays: removing it would race with a build waiting on it)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _sweep(self, keep: set[str]) -> list[str]:
        """Remove temporary files of an interrupted build, and its pages that are not in `keep` (pass the
        pages of the build that is finishing; `set()` removes only temporary files)."""
        removed: list[str] = []
        for dirpath, _dirs, files in os.walk(self.path):
            rel_dir = os.path.relpath(dirpath, self.path)
            for name in files:
                rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
                if rel in _OWN:
                    continue
                is_tmp = name.endswith(TMP_SUFFIX)
                if is_tmp or (keep and _is_page(rel) and rel not in keep):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(dirpath, name))
                        if not is_tmp:
                            removed.append(rel)
        for rel in removed:
            self._prune(self.target(rel).parent)
        return sorted(removed)

    # -- pages ----------------------------------------------------------------------------------------------
    def target(self, rel: str) -> Path:
        full = Path(os.path.normpath(self.path / rel))
        if full != self.path and self.path not in full.parents:
            raise OutputError(f"page path {rel!r} would leave the output folder")
        return full

    def distrust(self) -> None:
        """The last build may have stopped after writing some pages: rewrite every page this time."""
        self.previous = dict.fromkeys(self.previous, "")
        self.previous_inputs = {}

    def _stat(self, rel: str) -> Stat | None:
        try:
            st = os.stat(f"{self._prefix}{rel}")
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def _as_left(self, rel: str) -> Stat | None:
        """The page's (size, mtime) when it is on disk as the last build left it (not edited or deleted by
        hand since), else None. A manifest without stats (older docatlas) trusts any file that is there."""
        now = self._stat(rel)
        if now is None:
            return None
        then = self.previous_stats.get(rel)
        return now if then is None or then == now else None

    def intact(self) -> bool:
        """Whether every page of the last build is still on disk as it left it (someone may have deleted or
        edited one); never known without the page state."""
        return self.known and all(self._as_left(rel) is not None for rel in self.previous)

    def unchanged(self, rel: str, signature: str) -> tuple[str, Stat] | None:
        """The page's digest and stat when it was made from the same inputs and is still on disk as written,
        else None."""
        if self.previous_inputs.get(rel) != signature or not self.previous.get(rel):
            return None
        st = self._as_left(rel)
        return (self.previous[rel], st) if st is not None else None

    def write(self, rel: str, text: str) -> tuple[str, int, Stat]:
        """Write a page unless the same text is already there; returns (digest, bytes written, stat).

        Plain strings and `os` calls: pathlib's parsing and `parents` walk cost more than the writes."""
        data = text.encode("utf-8", "backslashreplace")  # a lone surrogate (from a Python literal) as its escape
        d = digest(data)
        full = os.path.normpath(f"{self._prefix}{rel}")
        if not full.startswith(self._prefix):
            raise OutputError(f"page path {rel!r} would leave the output folder")
        then = self.previous.get(rel)
        st = self._as_left(rel) if then == d else self._holding(full, data) if then == "" else None
        if st is not None:  # (`then == ""`: digests distrusted, by `--full` or a resumed build)
            return d, 0, st
        folder = os.path.dirname(full)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        # one per process (pages are written by the render workers at once); short, because a page name may
        # be as long as the file system allows
        tmp = os.path.join(folder, f".{os.getpid()}{TMP_SUFFIX}")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, full)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        done = os.stat(full)
        return d, len(data), (done.st_size, done.st_mtime_ns)

    @staticmethod
    def _holding(full: str, data: bytes) -> Stat | None:
        """The file's stat when it holds exactly `data`, else None. Asked of a page the last build listed but
        whose digest is not trusted: reading it is cheaper than replacing it, which on ext4 flushes the new file
        first (`auto_da_alloc`: 0.9 ms a page against 0.13 ms for a new file on this project's VM)."""
        try:
            st = os.stat(full)
            if st.st_size != len(data):
                return None
            with open(full, "rb") as fh:
                return (st.st_size, st.st_mtime_ns) if fh.read() == data else None
        except OSError:
            return None

    def finish(self, pages: dict[str, str], inputs: dict[str, str] | None = None,
               stats: dict[str, Stat] | None = None) -> list[str]:
        """Remove the pages of the previous build that this one did not produce (and, after an interrupted
        build, any page it left that no build produces), then save the manifest and remove the marker."""
        removed = []
        for rel in sorted(set(self.previous) - set(pages)):
            full = self.target(rel)
            try:
                full.unlink()
                removed.append(rel)
            except FileNotFoundError:
                pass
            self._prune(full.parent)
        if self.resumed:
            removed += self._sweep(set(pages))
        self.path.mkdir(parents=True, exist_ok=True)
        # the same pages as the manifest read, still there as it was (most edits): the same bytes, not written again
        kept = bool(self._manifest_raw) and pages.keys() == self.previous.keys() and self._seen is not None \
            and self._seen[0] == self._state_files()[0]
        raw = self._manifest_raw if kept else b""
        if not kept:
            body = {"generator": "docatlas", "version": __version__, "manifest_version": MANIFEST_VERSION,
                    "folders": _grouped(pages)}
            raw = (json.dumps(body, indent=0, sort_keys=False, ensure_ascii=False) + "\n").encode(
                "utf-8", "backslashreplace")
        # the state first, naming the manifest it goes with: a build stopped between the two leaves a state
        # that names no manifest on disk, which the next build does not trust
        inputs, stats = inputs or {}, stats or {}
        keys = sorted({**inputs, **pages})  # (in the last build's order but for a few: a quick sort)
        make_cache_dir(self.path)
        _replace_bytes(self.path / STATE_PATH, marshal.dumps((
            _STATE_FORMAT, digest(raw), {k: pages[k] for k in keys if k in pages},
            {k: inputs.get(k, "") for k in keys}, {k: tuple(stats[k]) for k in keys if k in pages and k in stats})))
        if not kept:
            tmp = self.manifest_path.with_name(MANIFEST_NAME + ".tmp")
            tmp.write_bytes(raw)
            os.replace(tmp, self.manifest_path)
        for old in (_OLD_STATS, _OLD_STATE):
            with contextlib.suppress(FileNotFoundError):
                (self.path / old).unlink()
        return sorted(removed)

    def complete(self) -> None:
        """The build is done (pages, manifest and index): remove the marker."""
        with contextlib.suppress(FileNotFoundError):
            (self.path / MARKER_NAME).unlink()

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty by removed pages, never the output folder itself."""
        while folder != self.path and self.path in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


def _replace_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _str_map(found: object) -> bool:
    """Whether `found` maps strings to strings (a page state read back: marshal keeps any type it was given)."""
    return type(found) is dict and all(type(k) is str and type(v) is str for k, v in found.items())


def _holder(fd: int) -> int:
    try:
        return int(os.pread(fd, 32, 0).split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
