"""The output folder: the only place docatlas writes, with a manifest of everything it wrote.

Pages are written only when their text changed (digest in the manifest) and atomically (temp file +
rename), so an interrupted run never leaves a half-written page. Pages that a rebuild no longer produces
are removed, but only when the manifest says docatlas wrote them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from docatlas import __version__
from docatlas.errors import OutputError
from docatlas.paths import MANIFEST_NAME

MANIFEST_VERSION = 1


def digest(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


class OutputFolder:
    def __init__(self, output: Path, root: Path, force: bool = False) -> None:
        self.path = output
        self._prefix = str(output) + os.sep
        self.manifest_path = output / MANIFEST_NAME
        resolved_root = root.resolve()
        if output == resolved_root or output in resolved_root.parents:
            raise OutputError(f"refusing to write into {output}: it is, or contains, the repository itself")
        self._made: set[str] = set()  # folders known to exist (a page write need not ask again)
        self.previous: dict[str, str] = {}  # page -> digest of its text, from the last complete build
        self.previous_inputs: dict[str, str] = {}  # page -> signature of everything its text was made from
        if output.exists():
            if not output.is_dir():
                raise OutputError(f"{output} exists and is not a folder")
            if self.manifest_path.is_file():
                self.previous, self.previous_inputs = self._load_manifest()
            elif any(output.iterdir()) and not force:
                raise OutputError(f"{output} is not empty and was not written by docatlas "
                                  f"(no {MANIFEST_NAME}); choose another folder or pass --force")

    def _load_manifest(self) -> tuple[dict[str, str], dict[str, str]]:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            pages = data["pages"]
            inputs = data.get("inputs", {})
            if not isinstance(pages, dict) or not isinstance(inputs, dict):
                raise TypeError("pages is not an object")
            return {str(k): str(v) for k, v in pages.items()}, {str(k): str(v) for k, v in inputs.items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(f"{self.manifest_path} is unreadable ({exc}); remove the folder or pass --force") \
                from exc

    def target(self, rel: str) -> Path:
        full = Path(os.path.normpath(self.path / rel))
        if full != self.path and self.path not in full.parents:
            raise OutputError(f"page path {rel!r} would leave the output folder")
        return full

    def distrust(self) -> None:
        """The last build may have stopped after writing some pages: rewrite every page this time."""
        self.previous = dict.fromkeys(self.previous, "")
        self.previous_inputs = {}

    def intact(self) -> bool:
        """Whether every page of the last build is still on disk (someone may have deleted one)."""
        return all(os.path.isfile(f"{self._prefix}{rel}") for rel in self.previous)

    def unchanged(self, rel: str, signature: str) -> str | None:
        """The page's digest when it was made from the same inputs and is still on disk, else None."""
        if self.previous_inputs.get(rel) != signature or not self.previous.get(rel):
            return None
        # `rel` comes from our own manifest and page names, so plain string joining is safe (and pathlib's
        # parsing cost more than the check itself, 20k times per rebuild)
        return self.previous[rel] if os.path.isfile(f"{self._prefix}{rel}") else None

    def write(self, rel: str, text: str) -> tuple[str, int]:
        """Write a page unless the same text is already there; returns (digest, bytes written).

        Plain strings and `os` calls: pathlib's parsing and `parents` walk cost more than the writes."""
        data = text.encode("utf-8", "backslashreplace")  # a lone surrogate (from a Python literal) as its escape
        d = digest(data)
        full = os.path.normpath(f"{self._prefix}{rel}")
        if not full.startswith(self._prefix):
            raise OutputError(f"page path {rel!r} would leave the output folder")
        if self.previous.get(rel) == d and os.path.isfile(full):
            return d, 0
        folder = os.path.dirname(full)
        if folder not in self._made:
            os.makedirs(folder, exist_ok=True)
            self._made.add(folder)
        tmp = full + ".docatlas-tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, full)
        return d, len(data)

    def finish(self, pages: dict[str, str], inputs: dict[str, str] | None = None) -> list[str]:
        """Remove the pages of the previous build that this one did not produce, then save the manifest."""
        removed = []
        for rel in sorted(set(self.previous) - set(pages)):
            full = self.target(rel)
            try:
                full.unlink()
                removed.append(rel)
            except FileNotFoundError:
                pass
            self._prune(full.parent)
        self.path.mkdir(parents=True, exist_ok=True)
        body = {"generator": "docatlas", "version": __version__, "manifest_version": MANIFEST_VERSION,
                "pages": dict(sorted(pages.items())), "inputs": dict(sorted((inputs or {}).items()))}
        tmp = self.manifest_path.with_name(MANIFEST_NAME + ".tmp")
        tmp.write_text(json.dumps(body, indent=0, sort_keys=False) + "\n", encoding="utf-8")
        os.replace(tmp, self.manifest_path)
        return removed

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty by removed pages, never the output folder itself."""
        while folder != self.path and self.path in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent
