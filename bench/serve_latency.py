"""`docatlas serve` latency on a built corpus: startup, search endpoint and page percentiles.

    python bench/serve_latency.py OUT [--repo REPO] [--requests 300] [--seed 1]
    (OUT: a folder `docatlas build` wrote, e.g. `docatlas build ~/.cache/docatlas-corpora/pytorch-1.13.1 -o OUT`)

Targets (issue 16, on pytorch-1.13.1): search p95 <= 50 ms, page p95 <= 100 ms, startup <= 1 s. Startup is
the wall time from starting `docatlas serve` to its first answered request (the front page). Queries are names
drawn from the index at random (whole names, 3-letter prefixes, two words) plus fixed ones; pages are file pages,
folder overviews and folder indexes drawn at random; sources are timed too, for information. Requests are
sequential, over one keep-alive connection, from this process to the server's.
"""

from __future__ import annotations

import argparse
import http.client
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

FIXED = ["recompile", "Module", "forward", "conv2d", "at::native::add", "TensorIterator", "linear transformation",
         "torch.nn.modules.module.Module", "test", "cuda kernel launch"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(out: Path, repo: Path | None, port: int) -> tuple[subprocess.Popen[bytes], float]:
    cmd = [sys.executable, "-m", "docatlas", "serve", "-o", str(out), "--port", str(port)]
    if repo:
        cmd += ["--repo", str(repo)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            if conn.getresponse().read() and proc.poll() is None:
                conn.close()
                return proc, time.perf_counter() - t0
        except OSError:
            if proc.poll() is not None or time.perf_counter() - t0 > 30:
                raise SystemExit("the server did not start") from None
            time.sleep(0.005)


def timed(conn: http.client.HTTPConnection, paths: list[str]) -> list[float]:
    out = []
    for p in paths:
        t0 = time.perf_counter()
        conn.request("GET", p)
        resp = conn.getresponse()
        resp.read()
        out.append((time.perf_counter() - t0) * 1000)
        if resp.status not in (200, 400):
            print(f"  {resp.status} {p}")
    return out


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, round(q * (len(values) - 1)))]


def report(name: str, values: list[float], target: float | None) -> None:
    p95 = pct(values, 0.95)
    verdict = "" if target is None else ("  ok" if p95 <= target else f"  OVER the {target:.0f} ms target")
    print(f"{name:<11} n={len(values):<4} median {statistics.median(values):7.1f} ms  p95 {p95:7.1f} ms  "
          f"max {max(values):7.1f} ms{verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--repo", type=Path, default=None)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    db = sqlite3.connect(f"file:{args.out / 'docatlas.sqlite'}?mode=ro", uri=True)
    names = [r[0] for r in db.execute("SELECT name FROM symbols WHERE length(name) > 3 ORDER BY random() LIMIT 2000")]
    names.sort()
    rnd.shuffle(names)
    queries = list(FIXED)
    kinds = ["fixed"] * len(FIXED)
    while len(queries) < args.requests:
        n = names[len(queries) % len(names)]
        kind = rnd.choice(["name", "prefix3", "two words"])
        kinds.append(kind)
        queries.append({"name": n, "prefix3": n[:3], "two words": f"{n} {rnd.choice(names)[:4]}"}[kind])
    files = [r[0] for r in db.execute("SELECT page FROM files WHERE page != '' ORDER BY path")]
    folders = [r[0] for r in db.execute("SELECT path FROM folders ORDER BY path")]
    sources = [r[0] for r in db.execute("SELECT path FROM files WHERE binary = 0 ORDER BY path")]
    pages = []
    for _ in range(args.requests):
        kind = rnd.random()
        if kind < 0.6:
            pages.append(rnd.choice(files))
        else:
            d = rnd.choice(folders)
            pages.append((d + "/" if d else "") + ("doc.md" if kind < 0.8 else "index.md"))
    srcs = [rnd.choice(sources) for _ in range(max(20, args.requests // 5))]
    db.close()

    port = free_port()
    proc, startup = start(args.out, args.repo, port)
    try:
        print(f"index {args.out}: {len(files):,} file pages, {len(folders):,} folders")
        print(f"startup  {startup * 1000:7.0f} ms to the first answered request  "
              f"{'ok' if startup <= 1 else 'OVER the 1 s target'}")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        search = timed(conn, [f"/api/search?q={quote(q)}&limit=20" for q in queries])
        page = timed(conn, ["/" + quote(p[:-3] + ".html") for p in pages])
        source = timed(conn, ["/_docatlas/src/" + quote(s) + ".html" for s in srcs])
        report("search", search, 50)
        for kind in ("fixed", "name", "prefix3", "two words"):
            report(f"  {kind}", [t for t, k in zip(search, kinds, strict=True) if k == kind], None)
        report("page", page, 100)
        report("source", source, None)
        conn.close()
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
