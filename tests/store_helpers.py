"""Index helpers for the tests: write an index in one call, dump one as comparable rows, and read an output
folder's published files."""

from __future__ import annotations

import marshal
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from docatlas.config import Config
from docatlas.link.stage import RepoModel
from docatlas.model import Diagnostic
from docatlas.output import STATE_FILES
from docatlas.store import schema
from docatlas.store.cache import FactsCache
from docatlas.store.schema import cache_path
from docatlas.store.writer import IndexWrite


def write_index(cfg: Config, model: RepoModel, cache: FactsCache, extracted: Iterable[str],
                scan_diagnostics: list[Diagnostic], pages: dict[str, str], render_diagnostics: list[Diagnostic],
                link_state: dict[str, Any], link_reused: bool = False,
                blobs: dict[str, bytes] | None = None) -> str:
    """Store the build in the index in one go (`IndexWrite` in two steps). Returns "incremental" or "full"."""
    writer = IndexWrite(cfg, model, cache, extracted, scan_diagnostics, link_state, link_reused, blobs)
    writer.write()
    return writer.commit(pages, render_diagnostics)



def page_tree(out: Path) -> dict[str, bytes]:
    """Every file of an output folder by its path, but the index, the facts cache and the private page state:
    what two builds of the same input must write alike."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in (schema.INDEX_NAME, schema.CACHE_NAME, *STATE_FILES)}


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows without build-specific ids and stats, sorted: two indexes of the same input compare
    equal whether they were built in one go or incrementally (used by the tests). The facts cache beside the
    index is dumped too, and the contentless search table by its terms (`fts5vocab`: term, column, rows). Tables
    that point at rows by build-specific ids (`symbol_rows`, `ref_sites`, `strings`, `import_rows`) are dumped
    through the views that read them (`symbols`, `refs`, `imports`)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    skip = {"files": {"id"}, "folders": {"id"}, "symbols": {"id"}, "facts_cache": {"mtime_ns", "facts", "summary"},
            "link_state": {"state"}, "link_parts": {"data"}, "imports": {"rowid"}}
    by_view = {"symbol_rows", "symbol_shapes", "texts", "ref_sites", "ref_uses", "strings",
               "import_rows", "cand_sites", "cand_uses", "cand_sets", "test_rows", "finding_rows",
               "test_link_rows"}
    main = Path(conn.execute("PRAGMA database_list").fetchone()[2])
    schemas = ["main"]
    if cache_path(main.parent).is_file() and "cache" not in {r[1] for r in conn.execute("PRAGMA database_list")}:
        conn.execute("ATTACH DATABASE ? AS cache", (str(cache_path(main.parent)),))
        schemas.append("cache")
    for db in schemas:
        for (table,) in conn.execute(f"SELECT name FROM {db}.sqlite_master WHERE type IN ('table', 'view') "
                                     "AND name NOT LIKE 'search%' AND name != 'meta' ORDER BY name").fetchall():
            if table in by_view or table in ("sqlite_stat1", "scan_listing", "compiled_templates", "guide_views",
                                             "keyword_views", "guide_counts"):
                continue  # the query planner's statistics, the folders' mtimes the last walk saw (`scan.Listing`),
                # the templates compiled by whichever process rendered first (`tasks.use_compiled_templates`), the
                # guide's views and the keyword entries of the files read in any build, each valid for its digest,
                # and what the analysis counted, valid for the build that counted it (`store.guide`): not content
            cols = [r[1] for r in conn.execute(f"PRAGMA {db}.table_info({table})")
                    if r[1] not in skip.get(table, set())]
            rows = conn.execute(f"SELECT {', '.join(cols)} FROM {db}.{table}").fetchall()
            if table == "link_rows":  # marshalled values: equal values may differ in bytes (interned strings)
                rows = [(*r[:-1], marshal.loads(r[-1])) for r in rows]
            out[table] = sorted(rows, key=repr)
    conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_terms USING fts5vocab(main, search, 'col')")
    out["search"] = sorted(conn.execute("SELECT term, col, doc, cnt FROM temp.search_terms"))
    return out
