"""What symbol references cost in CPU, part by part, without a profiler (run by hand).

    python bench/refs_parts.py OUTPUT [--repeat 3]

OUTPUT is a folder a complete build wrote: its facts cache (each file's facts, the link stage's state and
per-file reference rows) and index are read, never written (the index rows are written into a copy, in a
transaction rolled back). In this one process each part runs `--repeat` times on that build's own facts and
references, and its median CPU seconds (`time.process_time`) are reported:

- facts: pickling and unpickling `FileFacts.references`, what the extract workers send the build process;
- link: `link.references.python_refs` and `link.cresolve.c_refs` (each with the per-file fingerprints
  `refdeps.face` and `refdeps.mask` that incremental builds read, also reported alone), `possible_users`,
  `_fill_incoming`;
- store: `store.cache.store_link_state` of the references' per-file rows, with `RefIndex.pack` as the build
  runs them (into an in-memory database);
- index: `store.refs.write_rows`, all rows (a fresh `strings` table: every text is new);
- render: `render.usage.usage_link_context` for every file page and `snippets` for every page's examples.

The parts are what references add to a build; what they share with the rest (extracting, the tree-sitter
walk the C-family patterns ride on, page writes, forks of render workers past their memory bound) is not
here: `bench/build.py --refs-off` gives the whole, `bench/refs_profile.py` the same parts under cProfile,
which inflates parts made of many small calls (PyTorch's `write_rows`: 8.7 s profiled, 3.0 to 4.9 s here on
the loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docatlas.link import cresolve, refdeps
from docatlas.link import references as R
from docatlas.link.resolve import C_LANGS, PY_LANGS, PythonIndex
from docatlas.render import usage
from docatlas.store import refs as store_refs
from docatlas.store.cache import _unsharded, store_link_state
from docatlas.store.intern import Strings
from docatlas.store.schema import cache_path, index_path


def _median(repeat: int, part: Callable[[], Any]) -> tuple[float, Any]:
    """(median CPU seconds, the last result) of `repeat` runs."""
    spent, result = [], None
    for _ in range(repeat):
        start = time.process_time()
        result = part()
        spent.append(time.process_time() - start)
    return statistics.median(spent), result


def _load(output: Path) -> tuple[types.SimpleNamespace, dict[str, Any]]:
    """The build's facts and the parts of its link state the measured code reads, as a stand-in model."""
    conn = sqlite3.connect(cache_path(output))
    try:
        files = {p: pickle.loads(b) for p, b in conn.execute("SELECT path, facts FROM facts_cache ORDER BY path")}
        parts = {n: pickle.loads(d) for n, d in conn.execute(
            "SELECT name, data FROM link_parts WHERE name LIKE 'imports#%' OR name IN "
            "('python_roots', 'purposes', 'tested_by')")}
    finally:
        conn.close()
    summaries = {p: types.SimpleNamespace(language=f.language) for p, f in files.items()}
    model = types.SimpleNamespace(files=files, imports=_unsharded(parts)["imports"], summary=summaries.__getitem__,
                                  python_roots=parts["python_roots"], purposes=parts["purposes"],
                                  tested_by=parts["tested_by"])
    return model, files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("output", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.repeat
    meta = dict(sqlite3.connect(index_path(args.output)).execute("SELECT key, value FROM meta").fetchall())
    model, files = _load(args.output)
    rows: list[tuple[str, float, str]] = []

    refs = [f.references for f in files.values() if f.references is not None]
    dumped: list[bytes] = []
    cpu, dumped = _median(n, lambda: [pickle.dumps(r, protocol=5) for r in refs])
    rows.append(("facts: pickle references", cpu, f"{sum(map(len, dumped)) / 1e6:.1f} MB"))
    cpu, _ = _median(n, lambda: [pickle.loads(b) for b in dumped])
    rows.append(("facts: unpickle references", cpu, f"{len(refs):,} files"))

    index = PythonIndex(list(files), model.python_roots)
    py = [p for p in files if files[p].language in PY_LANGS]
    cfiles = [p for p in files if files[p].language in C_LANGS]
    cpu, _ = _median(n, lambda: [(refdeps.face(files[p]), refdeps.mask(refdeps.mentioned(files[p])))
                                 for p in py + cfiles])
    rows.append(("link: fingerprints (face, mask)", cpu, "(also inside the next two)"))
    cpu, index_refs = _median(n, lambda: R.python_refs(files, index, py, fill=False))
    rows.append(("link: python_refs", cpu, f"{sum(map(len, index_refs.outgoing.values())):,} references"))

    def c_part() -> R.RefIndex:
        done = dataclasses.replace(index_refs, **{f.name: dict(getattr(index_refs, f.name))  # (Python's as they are)
                                                  for f in dataclasses.fields(index_refs)})
        cresolve.c_refs(model, done)
        return done

    cpu, linked = _median(n, c_part)
    c_uses = sum(len(files[p].references.uses) for p in cfiles if files[p].references is not None)
    rows.append(("link: c_refs", cpu, f"{c_uses:,} uses"))
    cpu, linked.possible = _median(n, lambda: cresolve.possible_users(linked.candidates))
    rows.append(("link: possible_users", cpu, ""))
    cpu, _ = _median(n, lambda: R._fill_incoming(linked))
    rows.append(("link: _fill_incoming", cpu, f"{sum(map(len, linked.incoming.values())):,} into files"))

    def store() -> None:
        packed = dataclasses.replace(linked, incoming=dict(linked.incoming))
        conn = sqlite3.connect(":memory:")
        conn.execute("ATTACH ':memory:' AS cache")
        conn.execute("CREATE TABLE cache.link_state(id INTEGER PRIMARY KEY, state BLOB NOT NULL)")
        packed.pack(("incoming",))  # (as `pipeline` does around the index write)
        store_link_state(conn, {"refs": packed}, True)
        packed.pack()
        conn.close()

    cpu, _ = _median(n, store)
    rows.append(("store: link rows + pack", cpu, "outgoing, incoming, candidates"))

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "index.sqlite"
        shutil.copy(index_path(args.output), copy)

        def write() -> None:
            conn = sqlite3.connect(copy, isolation_level=None)
            conn.execute("BEGIN")
            conn.execute("DELETE FROM strings")
            sid = Strings(conn)
            store_refs.write_rows(conn, types.SimpleNamespace(files=files, refs=linked), None, sid)
            sid.flush(conn)
            conn.execute("ROLLBACK")
            conn.close()

        cpu, _ = _median(n, write)
    rows.append(("index: write_rows", cpu, "into a copy, rolled back"))

    linked.pack()
    model.refs = linked
    paths = sorted(files)
    cpu, _ = _median(n, lambda: [usage.usage_link_context(model, p) for p in paths])
    rows.append(("render: usage_link_context", cpu, f"{len(paths):,} file pages"))
    sites = [s for s in (usage.usage_link_context(model, p)["example_sites"] for p in paths) if s]
    cpu, _ = _median(n, lambda: [usage.snippets(meta["root"], s) for s in sites])
    rows.append(("render: snippets", cpu, f"{sum(map(len, sites)):,} examples"))

    print(f"{meta.get('project', args.output)}: CPU seconds, median of {n} (this process)")
    for name, spent, note in rows:
        print(f"  {name:34} {spent:7.3f}  {note}")
    counted = sum(s for name, s, _ in rows if not name.startswith("link: fingerprints"))
    print(f"  {'total of the parts':34} {counted:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
