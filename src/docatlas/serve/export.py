"""`docatlas site -o SITE/`: the served site as static files, with a sharded search index.

The search index is split by word prefix: an entry is written to the shard of each word of its name (a file's:
its name and module; CamelCase and `_` split, as the index's `words`), keyed by the word's first two letters or
digits, or more where a shard would pass SHARD_MAX entries (`_docatlas/search/keys.json` lists the keys). A
query loads one shard per term (the longest key starting it) and keeps the entries whose words all its terms
start, so at least one term must start a word of the name. Entries carry their place in the index's tie order
(definitions first, files outside tests first, link rank); the browser ranks exact names, then prefixes, then
word matches, in that order. Unlike the server it has no full-text "mention" tier (summaries are not shipped).
"""

from __future__ import annotations

import json
import multiprocessing
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docatlas.errors import DocatlasError
from docatlas.paths import anchor
from docatlas.serve.app import STATIC_FILES, App, static_asset
from docatlas.serve.html import PREFIX, html_page, source_page
from docatlas.serve.site import NotFound, Site
from docatlas.store.schema import identifier_words

MARKER = ".docatlas-site"
_WORD = re.compile(r"[A-Za-z0-9]+")


@dataclass(frozen=True)
class SiteReport:
    pages: int
    sources: int
    shards: int
    shard_bytes_max: int
    entries: int


def _words(*texts: str) -> list[str]:
    seen: dict[str, None] = {}
    for t in texts:
        for w in _WORD.findall(t):
            seen.setdefault(w.lower(), None)
    for w in identifier_words(*texts).split():
        seen.setdefault(w, None)
    return list(seen)


def search_entries(site: Site) -> list[list[Any]]:
    """[kind, name, qualname, path, line, page, words, keys] for every folder, file and symbol, in the index's
    order: `words` (of the name and qualified name) filter a query's terms, `keys` (of the name alone; of the
    name and module for a file) choose the shards an entry is written to."""
    conn = site.conn()
    out: list[list[Any]] = []
    for (path,) in conn.execute("SELECT path FROM folders WHERE path != '' ORDER BY path"):
        name = path.rsplit("/", 1)[-1]
        words = _words(name)
        out.append(["folder", name, path, path, 0, f"{path}/index.md", words, words])
    for path, name, module, page in conn.execute(
            "SELECT path, name, module, page FROM files ORDER BY purpose = 'test', rank DESC, path"):
        words = _words(name, module)
        out.append(["file", name, module, path, 0, page, words, words])
    rows = conn.execute(
        "SELECT s.kind, s.name, s.qualname, s.fqname, s.path, s.line, f.page FROM symbols s "
        "JOIN files f ON f.path = s.path ORDER BY s.definition DESC, f.purpose = 'test', f.rank DESC, "
        "length(s.fqname), s.path, s.line, s.id")
    for kind, name, qualname, fqname, path, line, page in rows:
        link = f"{page}#{anchor(qualname)}" if page else ""
        out.append([kind, name, fqname, path, line, link, _words(name, qualname), _words(name)])
    return out


def shard_json(rows: list[list[Any]], order: dict[int, int]) -> bytes:
    """A shard as the browser reads it: `files` ([path, page]) once, `rows` ([kind, name, qualname, file,
    line, fragment, words, ordinal]) pointing into it; the ordinal is the entry's place in the index's order."""
    files: dict[tuple[str, str], int] = {}
    out = []
    for e in rows:
        page, _, frag = e[5].partition("#")
        fid = files.setdefault((e[3], page), len(files))
        out.append([e[0], e[1], e[2], fid, e[4], frag, e[6], order[id(e)]])
    return json.dumps({"files": [list(f) for f in files], "rows": out}, ensure_ascii=False,
                      separators=(",", ":")).encode()


SHARD_MAX = 1500  # entries; a larger shard is split by one more character
SHARD_TOP = 200  # what a split shard keeps: its first entries in order, and those with the word itself


def shard_entries(entries: list[list[Any]], most: int = SHARD_MAX, top: int = SHARD_TOP
                  ) -> tuple[dict[str, list[list[Any]]], list[str]]:
    """Shards keyed by name-word prefix (two characters, longer where a shard would pass `most` entries) and the
    keys of the split ones, which hold only their `top` first entries plus those whose word is the key itself."""
    by2: dict[str, list[list[Any]]] = defaultdict(list)
    for e in entries:
        for key in sorted({w[:2] for w in e[7] if len(w) >= 2}):
            by2[key].append(e)
    shards: dict[str, list[list[Any]]] = {}
    partial: list[str] = []
    todo = sorted(by2.items())
    while todo:
        key, rows = todo.pop()
        if len(rows) <= most or len(key) >= 12:
            shards[key] = rows
            continue
        partial.append(key)
        n = len(key)
        shards[key] = [e for i, e in enumerate(rows) if i < top or key in e[7]][: top + most]
        children: dict[str, list[list[Any]]] = defaultdict(list)
        for e in rows:
            for k in sorted({w[: n + 1] for w in e[7] if len(w) > n and w.startswith(key)}):
                children[k].append(e)
        todo.extend(sorted(children.items()))
    return shards, sorted(partial)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


CHUNK = 200  # pages or sources per task of the worker pool


@dataclass(frozen=True)
class _Chunk:
    """Pages or sources for one worker task: plain paths, so a task pickles small; the worker opens the index."""

    output: Path
    repo: Path
    dest: Path
    kind: str
    items: tuple[str, ...]


def _write_chunk(chunk: _Chunk) -> int:
    app = App(Site(chunk.output, chunk.repo), mode="static")
    written = 0
    for item in chunk.items:
        try:
            if chunk.kind == "page":
                _write(chunk.dest / html_page(item), app.page_html(item))
            else:
                _write(chunk.dest / source_page(item), app.source_html(item))
        except (OSError, NotFound):  # vanished since the build (or now a link out of the tree): left out
            continue
        written += 1
    app.site.conn().close()
    return written


def export_site(site: Site, dest: Path, force: bool = False, jobs: int = 1) -> SiteReport:
    """Write the site into `dest`: a new or empty folder, or one an earlier export made (its marker file);
    pages and sources in `jobs` worker processes."""
    dest = dest.resolve()
    if dest in (site.output, site.repo) or dest in site.output.parents:
        raise DocatlasError(f"{dest}: refusing to write the site over the output or the repository")
    if dest.exists() and any(dest.iterdir()):
        if not (dest / MARKER).is_file() and not force:
            raise DocatlasError(f"{dest} is not empty and no earlier `docatlas site` made it (use --force)")
        if (dest / MARKER).is_file():
            shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / MARKER).write_text("written by docatlas site; removed and rewritten by the next export\n")
    app = App(site, mode="static")
    pages, sources = site.pages(), site.sources()
    chunks = [_Chunk(site.output, site.repo, dest, "page", tuple(pages[i: i + CHUNK]))
              for i in range(0, len(pages), CHUNK)]
    chunks += [_Chunk(site.output, site.repo, dest, "source", tuple(sources[i: i + CHUNK]))
               for i in range(0, len(sources), CHUNK)]
    if jobs <= 1 or len(chunks) < 2:
        for chunk in chunks:
            _write_chunk(chunk)
    else:
        ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        with ctx.Pool(jobs) as pool:
            for _ in pool.imap_unordered(_write_chunk, chunks):
                pass
    for folder, n in app.tree_ids().items():
        _write(dest / f"{PREFIX}tree/{n}.json", app.tree_json(folder))
    for name in STATIC_FILES:
        _write(dest / f"{PREFIX}static/{name}", static_asset(name)[0])
    entries = search_entries(site)
    shards, partial = shard_entries(entries)
    keys = {"keys": sorted(shards), "partial": partial, "top": SHARD_TOP}
    _write(dest / f"{PREFIX}search/keys.json", json.dumps(keys, separators=(",", ":")).encode())
    order = {id(e): i for i, e in enumerate(entries)}
    biggest = 0
    for key, rows in shards.items():
        data = shard_json(rows, order)
        biggest = max(biggest, len(data))
        _write(dest / f"{PREFIX}search/{key}.json", data)
    return SiteReport(len(pages), len(sources), len(shards), biggest, len(entries))
