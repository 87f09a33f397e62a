"""Where the bytes of a built index go, and how its readers' queries are planned, in one run.

    python bench/index_size.py OUTPUT_FOLDER [--plans]

Prints the file size, then every table and index with its bytes (SQLite's `dbstat`), largest first, and the
row counts of the big tables; with --plans, the `EXPLAIN QUERY PLAN` of the queries that `search`, `show`,
`refs`, `export` and the servers run on `symbols` and `refs` (a SCAN of a big table there is a regression).
A Git host refuses a file over 100 MB (issue 15): the index of PyTorch 1.13.1 must stay under it.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from pathlib import Path

from docatlas.store import schema

# Queries of store/queries.py, store/refs.py, serve/export.py and agent/tools.py, reduced to their WHERE
# and joins (the select lists do not change a plan); `?` are bound to placeholders.
PLANS = {
    "search exact": "SELECT s.path FROM symbols s JOIN files f ON f.path = s.path "
                    f"WHERE s.id IN ({schema.NAME_IDS} "
                    f"UNION ALL {schema.QUALNAME_IDS} UNION ALL SELECT id FROM symbols WHERE "
                    f"{schema.fqname_is('a.b.c')[0]}) ORDER BY s.definition DESC LIMIT 5",
    "search prefix (name)": "SELECT s.path FROM symbols s JOIN files f ON f.path = s.path WHERE s.id IN "
                            "(SELECT id FROM symbols WHERE id IN (SELECT y.id FROM strings n "
                            "CROSS JOIN symbol_rows y ON y.name = n.id "
                            "WHERE n.text >= ? COLLATE NOCASE AND n.text < ? COLLATE NOCASE) "
                            "ORDER BY length(name), name, id LIMIT 9)",
    "search prefix (fqname)": f"SELECT id FROM symbols WHERE {schema.fqname_prefix('a.b', 'a.b~')[0]} "
                              "ORDER BY length(fqname)",
    "search exact (file)": f"SELECT path FROM files WHERE (name = ? OR path = ? OR {schema.MODULE_IS}) LIMIT 5",
    "show: file by module": f"SELECT path FROM files WHERE {schema.MODULE_IS} ORDER BY path LIKE '%.pyi', path",
    "search row by rowid": "SELECT s.path FROM symbols s JOIN files f ON f.path = s.path WHERE s.id = ?",
    "uses of a symbol": schema.USE_COUNT,
    "show: file symbols": "SELECT kind, name FROM symbols WHERE path = ? ORDER BY line, id",
    "show: symbol by fqname": f"SELECT id FROM symbols WHERE {schema.fqname_is('a.b.c')[0]} "
                              "ORDER BY definition DESC, path, line",
    "show: symbol by qualname": f"SELECT id FROM symbols WHERE {schema.qualname_is()}",
    "show: symbol by name": f"SELECT id FROM symbols WHERE {schema.name_is()}",
    "show: children": "SELECT qualname FROM symbols WHERE path = ? AND parent = ? ORDER BY line",
    "show: re-export": "SELECT id FROM symbols WHERE path = ? AND qualname = ? ORDER BY line",
    "refs: sites": "SELECT path, line, col, kind, enclosing, name, test FROM refs WHERE target_path = ? AND "
                   "target = ? AND kind = ? ORDER BY path, line, col",
    "refs: use counts": "SELECT target, count(DISTINCT path), count(*) FROM refs WHERE target_path = ? "
                        "GROUP BY target",
    "refs: candidate sites": "SELECT path, line, col, kind, enclosing, name, candidates, test FROM ref_candidates "
                             "WHERE target_path = ? AND target = ? ORDER BY path, line, col",
    "export: outgoing": "SELECT line, col, name, kind, target FROM refs WHERE path = ? ORDER BY line, col",
    "show: tests of a file": "SELECT name, line, framework, kind FROM tests WHERE path = ? ORDER BY line, name",
    "show: findings of a file": "SELECT category, rule, line FROM findings WHERE path = ? ORDER BY line, rule",
    "writer: delete search rows": ("SELECT id, name, fqname, qualname, path, summary, bases, macro, condition, "
                                  "bridge FROM symbols WHERE path = ?"),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", type=Path)
    ap.add_argument("--plans", action="store_true")
    args = ap.parse_args()
    path = schema.index_path(args.output)
    if not path.is_file():
        print(f"no index at {path}", file=sys.stderr)
        return 1
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB, schema {conn.execute('PRAGMA user_version').fetchone()[0]}")
    rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC, 1").fetchall()
    for name, size in rows:
        if size >= 100_000:
            print(f"  {name:32s} {size / 1e6:7.1f} MB")
    print(f"  {'(smaller ones)':32s} {sum(s for _, s in rows if s < 100_000) / 1e6:7.1f} MB")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    for table in ("files", "symbols", "refs", "ref_candidates", "cand_sites", "imports", "strings", "tests"):
        if table in tables:
            print(f"  rows of {table}: {conn.execute(f'SELECT count(*) FROM {table}').fetchone()[0]:,}")
    if args.plans:
        for label, sql in PLANS.items():
            numbered = [int(k) for k in re.findall(r"\?(\d+)", sql)]  # `?` binds the next number after them
            n = max(sql.count("?") - len(numbered), max(numbered, default=0))
            plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, ["x"] * n))
            print(f"{label}: {plan}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
