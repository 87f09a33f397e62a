"""What `docatlas.pool.Pool` costs per item against `multiprocessing.Pool` (run by hand; prints figures).

The pool survives dead and hung workers (see its docstring); this checks that it does not pay for that on
every item: both map a trivial function over N items with the same workers and chunk size.

    python bench/pool_overhead.py [N] [JOBS]
"""

from __future__ import annotations

import multiprocessing
import sys
import time

from docatlas.pool import Pool


def double(x: int) -> int:
    return x * 2


def instead(x: int, why: str) -> int:
    return -x


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    items = list(range(n))
    chunk = max(1, min(64, n // (jobs * 8) or 1))
    for _ in range(3):
        t = time.perf_counter()
        ours = sorted(Pool(double, jobs, instead).run(items))
        a = time.perf_counter() - t
        t = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            theirs = list(pool.imap(double, items, chunksize=chunk))
        b = time.perf_counter() - t
        assert ours == theirs
        print(f"{n:,} items, {jobs} workers: docatlas.pool {a:.3f} s ({a / n * 1e6:.1f} µs/item), "
              f"multiprocessing.Pool {b:.3f} s ({b / n * 1e6:.1f} µs/item)")


if __name__ == "__main__":
    main()
