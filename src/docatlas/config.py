"""Build options: command line over `[tool.docatlas]` (pyproject.toml) or docatlas.toml over defaults."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from docatlas.errors import ConfigError

DEFAULT_OUTPUT = "docatlas-docs"
EMBED_MODES = ("full", "head", "none")


@dataclass(frozen=True)
class Config:
    root: Path
    output: Path
    jobs: int = 0  # 0: all cores
    exclude: tuple[str, ...] = ()
    embed_source: str = "full"  # full | head | none
    max_embed_bytes: int = 3_000  # `full` mode: a larger file embeds its first `head_lines` (with a notice)
    head_lines: int = 30  # lines embedded in `head` mode, and of a file over `max_embed_bytes`
    max_file_bytes: int = 8_000_000  # larger files are listed, not read
    force: bool = False
    project_name: str = ""
    list_limit: int = 2000  # keyword lists longer than this are split into pages (never cut); a page option
    progress: bool = False
    full: bool = False  # ignore the facts cache and the previous index: extract and index everything
    llms_full: bool = False  # also write llms-full.txt: the repository guide and the key files' pages
    llms_full_bytes: int = 1_000_000  # the most llms-full.txt may hold
    no_wait: bool = False  # another build holds the output folder: fail (exit 2) instead of waiting
    strict: bool = False  # diagnostics make the exit code 1 (as Sphinx -W, mkdocs --strict)

    @property
    def workers(self) -> int:
        return self.jobs if self.jobs > 0 else (os.cpu_count() or 1)

    @property
    def name(self) -> str:
        return self.project_name or self.root.name


_FILE_KEYS = {"output", "exclude", "embed_source", "max_embed_bytes", "head_lines", "max_file_bytes",
              "project_name", "jobs", "list_limit", "llms_full_bytes"}


def file_settings(root: Path) -> dict[str, Any]:
    """`[tool.docatlas]` from the documented repository's pyproject.toml, and docatlas.toml (its top level or its
    `[tool.docatlas]` table)."""
    settings: dict[str, Any] = {}
    for name, table in (("pyproject.toml", ("tool", "docatlas")), ("docatlas.toml", ())):
        path = root / name
        if not path.is_file():
            continue
        try:
            data: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        for key in table:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        if not table and isinstance(data, dict) and isinstance(data.get("tool"), dict) \
                and set(data["tool"]) == {"docatlas"}:
            # docatlas.toml may use pyproject.toml's `[tool.docatlas]` header too (settings copied across)
            inner = data["tool"]["docatlas"]
            if not isinstance(inner, dict):
                raise ConfigError(f"{path}: `tool.docatlas` must be a table")
            data = {**{k: v for k, v in data.items() if k != "tool"}, **inner}
        if isinstance(data, dict):
            settings.update({k.replace("-", "_"): v for k, v in data.items()})
    unknown = set(settings) - _FILE_KEYS
    if unknown:
        raise ConfigError(f"unknown docatlas settings in {root}: {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(_FILE_KEYS))})")
    return _checked(settings, root)


_INT_KEYS = {"jobs": 0, "max_embed_bytes": 1, "head_lines": 1, "max_file_bytes": 1, "list_limit": 1,
             "llms_full_bytes": 1}


def _checked(settings: dict[str, Any], root: Path) -> dict[str, Any]:
    """Settings of the right types: a string `exclude` is one pattern, not one pattern per character."""
    out = dict(settings)
    if isinstance(out.get("exclude"), str):
        out["exclude"] = [out["exclude"]]
    for key, value in out.items():
        if key == "exclude":
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            want = "a list of gitignore-style patterns"
        elif key in _INT_KEYS:
            ok = isinstance(value, int) and not isinstance(value, bool) and value >= _INT_KEYS[key]
            want = f"an integer >= {_INT_KEYS[key]}"
        else:
            ok, want = isinstance(value, str), "a string"
        if not ok:
            raise ConfigError(f"docatlas setting `{key}` in {root} must be {want}, not {value!r}")
    return out


def _declared_name(root: Path) -> str:
    """`[project] name` of the documented repository's pyproject.toml, when it has one."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    name = data.get("project", {}).get("name", "")
    return name if isinstance(name, str) else ""


def _check_patterns(patterns: tuple[str, ...]) -> None:
    """A bad exclude pattern (`\\` alone) is a usage error, said in one line, not a crash of the scan."""
    import pathspec

    for pattern in patterns:
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except Exception as exc:  # pathspec raises several kinds
            raise ConfigError(f"bad exclude pattern {pattern!r}: {exc}") from exc


def make_config(root: str | Path, output: str | Path | None = None, **options: Any) -> Config:
    """Merge defaults, the repository's settings and explicit options (None means: not given)."""
    root_path = Path(root).resolve()
    if not root_path.is_dir():
        raise ConfigError(f"not a folder: {root}")
    settings = file_settings(root_path)
    given = {k: v for k, v in options.items() if v is not None and v != ()}
    merged: dict[str, Any] = {**settings, **given}
    if "exclude" in settings and "exclude" in given:
        merged["exclude"] = tuple(settings["exclude"]) + tuple(given["exclude"])
    if "exclude" in merged:
        merged["exclude"] = tuple(merged["exclude"])
    out = output if output is not None else merged.pop("output", None)
    merged.pop("output", None)
    out_path = Path(out) if out is not None else root_path / DEFAULT_OUTPUT
    if not out_path.is_absolute():
        out_path = (Path.cwd() / out_path) if output is not None else (root_path / out_path)
    known = {f.name for f in fields(Config)}
    bad = set(merged) - known
    if bad:
        raise ConfigError(f"unknown options: {', '.join(sorted(bad))}")
    if not merged.get("project_name"):
        merged["project_name"] = _declared_name(root_path) or root_path.name
    from docatlas.safetext import visible

    merged["project_name"] = visible(merged["project_name"], keep_newlines=False)  # a name is one line
    _check_patterns(merged.get("exclude", ()))
    cfg = Config(root=root_path, output=out_path.resolve(), **merged)
    if cfg.embed_source not in EMBED_MODES:
        raise ConfigError(f"embed_source must be one of {', '.join(EMBED_MODES)}, not {cfg.embed_source!r}")
    return cfg
