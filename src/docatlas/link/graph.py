"""The file dependency graph: centrality ranking, transitive reach, folder-level dependencies.

Plain dictionaries and Python integers used as bit sets, so the result pickles small for the render workers and
the whole thing is linear in the number of edges (PyTorch: ~11k files). PageRank is a short power iteration; no
graph library (and its SciPy dependency) is needed for that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterable, Iterator, Mapping


def pagerank(nodes: list[str], edges: dict[str, set[str]], damping: float = 0.85, iterations: int = 50,
             tol: float = 1e-10) -> dict[str, float]:
    """PageRank over `edges` (importer -> imported): a file many central files import ranks high. Scores are
    rounded so that the ordering they give is the same on every platform."""
    n = len(nodes)
    if not n:
        return {}
    index = {p: i for i, p in enumerate(nodes)}
    out = [[index[t] for t in sorted(edges.get(p, ())) if t in index and t != p] for p in nodes]
    rank = [1.0 / n] * n
    for _ in range(iterations):
        new = [(1.0 - damping) / n] * n
        dangling = 0.0
        for i, targets in enumerate(out):
            if targets:
                share = damping * rank[i] / len(targets)
                for t in targets:
                    new[t] += share
            else:
                dangling += rank[i]
        spread = damping * dangling / n
        new = [v + spread for v in new]
        delta = sum(abs(a - b) for a, b in zip(new, rank, strict=True))
        rank = new
        if delta < tol:
            break
    return {p: round(rank[i] * n, 6) for p, i in index.items()}


def include_closure(path: str, includes: Mapping[str, Iterable[str]]) -> set[str]:
    """`path` and every file it reaches through `includes` (a file -> the files it includes), safe on cycles."""
    seen = {path}
    stack = [path]
    while stack:
        for target in includes.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def components(starts: Iterable[str], edges: Mapping[str, Iterable[str]],
               closed: Container[str] = ()) -> Iterator[list[str]]:
    """Strongly connected components reached from `starts`, iterative Tarjan, each yielded as it closes: in
    reverse topological order, so every component a yielded one leads to was yielded before it or is in
    `closed` (nodes a caller finished in an earlier walk: not entered again)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    counter = 0
    for start in starts:
        if start in index or start in closed:
            continue
        work: list[tuple[str, list[str], int]] = [(start, sorted(edges.get(start, ())), 0)]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, succ, i = work[-1]
            if i < len(succ):
                work[-1] = (node, succ, i + 1)
                nxt = succ[i]
                if nxt in closed:
                    continue
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges.get(nxt, ())), 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                yield comp


def _sccs(nodes: list[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of the whole graph, in reverse topological order."""
    return list(components(nodes, edges))


def transitive_counts(nodes: list[str], edges: dict[str, set[str]]) -> dict[str, int]:
    """How many files each file reaches through `edges`, itself excluded (cycles included once)."""
    bit = {p: 1 << i for i, p in enumerate(nodes)}
    comps = _sccs(nodes, edges)
    comp_of: dict[str, int] = {}
    for ci, comp in enumerate(comps):
        for p in comp:
            comp_of[p] = ci
    reach: list[int] = []
    for ci, comp in enumerate(comps):  # successors' components come earlier in Tarjan's order
        members = 0
        acc = 0
        for p in comp:
            members |= bit[p]
            for t in edges.get(p, ()):
                cj = comp_of.get(t)
                if cj is not None and cj != ci:
                    acc |= reach[cj]
        reach.append(acc | members)
    return {p: reach[comp_of[p]].bit_count() - 1 for p in nodes}


def folder_dependencies(edges: dict[str, set[str]], folders: list[str]
                        ) -> tuple[dict[str, list[tuple[str, int]]], dict[str, list[tuple[str, int]]]]:
    """For each folder (its whole subtree): the folders outside it that its files import, and the folders
    outside it whose files import it, with edge counts, most used first."""
    uses: dict[str, Counter[str]] = {f: Counter() for f in folders}
    used_by: dict[str, Counter[str]] = {f: Counter() for f in folders}
    for src, targets in edges.items():
        src_dir = src.rsplit("/", 1)[0] if "/" in src else ""
        for t in targets:
            t_dir = t.rsplit("/", 1)[0] if "/" in t else ""
            if t_dir == src_dir:
                continue
            for anc in _ancestors(src_dir):
                if anc and not _inside(t, anc):
                    uses[anc][t_dir or "(root)"] += 1
            for anc in _ancestors(t_dir):
                if anc and not _inside(src, anc):
                    used_by[anc][src_dir or "(root)"] += 1

    def order(c: Counter[str]) -> list[tuple[str, int]]:
        return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))

    return ({f: order(c) for f, c in uses.items() if c}, {f: order(c) for f, c in used_by.items() if c})


def _ancestors(folder: str) -> list[str]:
    out = [folder]
    while folder:
        folder = folder.rsplit("/", 1)[0] if "/" in folder else ""
        out.append(folder)
    return out


def _inside(path: str, folder: str) -> bool:
    return path.startswith(folder + "/")
