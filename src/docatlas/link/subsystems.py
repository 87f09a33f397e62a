"""Subsystems of a repository, how they depend on each other, and where a reader enters: what the repository
guide (`comprehensive_book.md`), the front page and `llms.txt` are made from.

A subsystem is a top-level folder that holds a real share of the code or of the centrality (PageRank summed
over its files); a large one is split into its own large subfolders, recursively. Dependencies between them
are file edges aggregated by subsystem: resolved imports and includes, and the resolved symbol references of
Python files, one edge each (`DEFAULT_EDGES`; the sources are a parameter, `EdgeSource`). Layers come from the condensed
dependency graph (cycles merged), counted from its leaves: the reading order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docatlas import languages
from docatlas.link.graph import _sccs
from docatlas.link.resolve import ResolvedImport
from docatlas.link.stage import RepoModel

CODE_FAMILIES = frozenset({"python", "c", "script", "other"})
MIN_SHARE = 0.005  # a top-level folder below this share of code lines ...
MIN_RANK_SHARE = 0.02  # ... and this share of the centrality gets no chapter
CHILD_SHARE = 0.10  # a large subsystem's subfolder needs this share of its code lines for a chapter
LARGE_SHARE = 0.10  # a subsystem with this share of the repository's code (and enough files) is split
LARGE_FILES = 150
MAX_DEPTH = 2  # top-level chapters, their sections and one more level
MAX_TOP = 16
LIGHT_EDGE = 0.01  # for the layering, a dependency carrying less than this share of its user's edges is ignored
MAX_CHILDREN = 8

EdgeSource = Callable[[RepoModel], Iterable[tuple[str, str, int]]]  # (from file, to file, weight)


def import_edges(model: RepoModel) -> Iterator[tuple[str, str, int]]:
    """One per resolved import or `#include` between two repository files."""
    for src, resolved in model.imports.items():
        for r in resolved:
            if r.category == "repo" and r.target and r.target != src:
                yield src, r.target, 1


def file_import_edges(src: str, resolved: Iterable[ResolvedImport]) -> Counter[str]:
    """The `import_edges` of one file, by target."""
    return Counter(r.target for r in resolved if r.category == "repo" and r.target and r.target != src)


def reference_edges(model: RepoModel) -> Iterator[tuple[str, str, int]]:
    """Per pair of files, the resolved symbol references from a Python file to definitions in the other, as
    the weight (`link.references`). C-family references are matched by name, not through a binding, so the
    includes stand for C-family dependencies instead."""
    for src, edges in model.refs.py_edges.items():  # (target, references), aggregated per file
        for target, n in edges:
            yield src, target, n


DEFAULT_EDGES: tuple[EdgeSource, ...] = (import_edges, reference_edges)


@dataclass
class Subsystem:
    path: str
    depth: int
    files: int
    code_files: int
    code_lines: int
    rank: float  # PageRank summed over its files
    core: str  # where its code really lives: the folder itself, or a lone subfolder holding almost all of it
    children: list[str] = field(default_factory=list)
    parent: str = ""


@dataclass
class Analysis:
    subsystems: dict[str, Subsystem]  # every chapter, keyed by folder
    top: list[str]  # the top-level ones, by code lines
    skipped: list[tuple[str, str]]  # top-level folders without a chapter, and why
    edges: dict[tuple[str, str], int]  # between top-level subsystems (weights)
    uses: dict[str, list[tuple[str, int]]]  # chapter -> owners of what its files use, heaviest first
    used_by: dict[str, list[tuple[str, int]]]
    layers: list[list[str]]  # top-level subsystems, layer 0 (depends on no other) first
    cycles: list[list[str]]  # groups of top-level subsystems that depend on each other
    reading_order: list[str]
    code_lines: int
    languages: list[tuple[str, int, int]]  # (type name, files, lines) of code, most lines first
    rank_total: float
    lines_of: dict[str, int] = field(default_factory=dict)  # lines of code per code file (`code_lines`)
    # each folder's `folder_purpose`, made once: the guide, its map, `llms.txt` and the front page ask for the same
    purposes: dict[str, tuple[str, str]] = field(default_factory=dict, compare=False, repr=False)
    counts: Counts | None = field(default=None, compare=False, repr=False)  # for the next build (`Reuse`)

    def purpose(self, model: RepoModel, folder: str) -> tuple[str, str]:
        """`folder_purpose` of `folder`, from what this analysis counted (the model it was made from)."""
        found = self.purposes.get(folder)
        if found is None:
            found = self.purposes[folder] = folder_purpose(model, folder, self.lines_of)
        return found


def code_lines(model: RepoModel, path: str) -> int:
    """Lines of code of a file (0 for documents, data, binaries, vendored or generated files)."""
    s = model.summary(path)
    if s.binary or languages.get(s.language).family not in CODE_FAMILIES:
        return 0
    if model.purposes[path].label in ("vendored", "generated"):
        return 0
    return s.lines


def _stats(model: RepoModel, folder: str, lines_of: dict[str, int]) -> tuple[int, int, int, float]:
    files = model.subtree_files(folder)
    lines = [lines_of.get(p, 0) for p in files]
    return len(files), sum(1 for n in lines if n), sum(lines), sum(model.rank.get(p, 0.0) for p in files)


def _core(model: RepoModel, folder: str, lines_of: Callable[[str], int]) -> str:
    """Follow a chain of lone subfolders that hold almost all the code (`aten` -> `aten/src/ATen`)."""
    cur = folder
    while True:
        total = lines_of(cur)
        subs = model.folders[cur].subfolders
        best = max(subs, key=lambda s: (lines_of(s), s), default="")
        if not best or not total or lines_of(best) < 0.9 * total:
            return cur
        cur = best


@dataclass
class Counts:
    """What `analyse` counted file by file (each code file's lines and language, the lines per folder) and the
    dependencies it aggregated over its chapters (`_dependencies`): kept for the next build (`Reuse`)."""

    lines_of: dict[str, int]
    names: dict[str, str]  # code file -> its language's type name
    folder_lines: dict[str, int]
    chapters: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # every chapter, the top-level ones
    deps: tuple[Any, ...] = ()  # `_dependencies` over those chapters


@dataclass(frozen=True)
class Reuse:
    """The last build's `Counts` of a model that differs from this one only in the `changed` files' facts and own
    entries (`link.relink`): only those files are counted again, and the dependencies are taken as they were over
    the same chapters when `same_edges` (no file edge of `edge_sources` changed)."""

    counts: Counts
    changed: tuple[str, ...]
    same_edges: bool


def analyse(model: RepoModel, edge_sources: tuple[EdgeSource, ...] = DEFAULT_EDGES,
            previous: Reuse | None = None) -> Analysis:
    """Subsystems, their dependencies and layers (see the module docstring); `edge_sources` give the weighted
    file edges between them; `previous`: what the last build counted, when it can be reused."""
    return _analyse(model, edge_sources, previous)


def _count(model: RepoModel, previous: Reuse | None) -> Counts:
    """Each code file's lines and language, and the lines per folder: from `previous`, but for its changed files."""
    if previous is not None:
        per_file, names = dict(previous.counts.lines_of), dict(previous.counts.names)
        folder_lines = Counter(previous.counts.folder_lines)
        todo: Iterable[str] = sorted(set(previous.changed))
    else:
        per_file, names, folder_lines, todo = {}, {}, Counter(), model.files
    for p in todo:
        n = code_lines(model, p) if p in model.files else 0
        delta = n - per_file.pop(p, 0)
        names.pop(p, None)
        if n:
            per_file[p] = n
            names[p] = languages.get(model.summary(p).language).type_name
        if delta:
            cut = p.find("/")
            while cut != -1:
                folder_lines[p[:cut]] += delta
                cut = p.find("/", cut + 1)
    folder_lines[""] = sum(per_file.values())
    return Counts(per_file, names, folder_lines)


def _analyse(model: RepoModel, edge_sources: tuple[EdgeSource, ...], previous: Reuse | None = None) -> Analysis:
    counts = _count(model, previous)
    per_file, folder_lines = counts.lines_of, Counter(counts.folder_lines)
    total = folder_lines[""]
    lang_files: Counter[str] = Counter()
    lang_lines: Counter[str] = Counter()
    for p, name in counts.names.items():
        lang_files[name] += 1
        lang_lines[name] += per_file[p]
    rank_total = sum(model.rank.values()) or 1.0
    lines_of = folder_lines.__getitem__

    subsystems: dict[str, Subsystem] = {}
    skipped: list[tuple[str, str]] = []
    candidates = []
    for top in model.folders[""].subfolders:
        files = model.subtree_files(top)
        n_files, n_code, lines, rank = _stats(model, top, per_file)
        vendored = sum(1 for p in files if model.purposes[p].label == "vendored")
        if vendored and vendored >= n_files / 2:
            skipped.append((top, f"vendored third-party code ({vendored:,} of {n_files:,} files)"))
            continue
        if not lines:
            skipped.append((top, f"no code files ({n_files:,} file{'s' if n_files != 1 else ''}: "
                                 f"{_kinds(model, files)})"))
            continue
        share, rshare = lines / total if total else 0.0, rank / rank_total
        if share < MIN_SHARE and rshare < MIN_RANK_SHARE:
            skipped.append((top, f"{pct(share)} of the code lines (under {pct(MIN_SHARE)}) and {pct(rshare)} of "
                                 f"the centrality (under {pct(MIN_RANK_SHARE)})"))
            continue
        candidates.append((top, n_files, n_code, lines, rank))
    candidates.sort(key=lambda c: (-c[3], c[0]))
    for top, *_ in candidates[MAX_TOP:]:
        skipped.append((top, f"not among the {MAX_TOP} top-level folders with the most code lines"))
    for top, n_files, n_code, lines, rank in candidates[:MAX_TOP]:
        subsystems[top] = Subsystem(top, 0, n_files, n_code, lines, rank, _core(model, top, lines_of))
    tops = [c[0] for c in candidates[:MAX_TOP]]
    queue = list(tops)
    while queue:
        sub = subsystems[queue.pop(0)]
        if sub.depth >= MAX_DEPTH or sub.code_files < LARGE_FILES or sub.code_lines < LARGE_SHARE * total / (
                1 + 2 * sub.depth):
            continue
        kids = [s for s in model.folders[sub.core].subfolders if lines_of(s) >= CHILD_SHARE * sub.code_lines]
        kids.sort(key=lambda s: (-lines_of(s), s))
        for k in kids[:MAX_CHILDREN]:
            n_files, n_code, lines, rank = _stats(model, k, per_file)
            subsystems[k] = Subsystem(k, sub.depth + 1, n_files, n_code, lines, rank, _core(model, k, lines_of),
                                      parent=sub.path)
            sub.children.append(k)
            queue.append(k)

    counts.chapters = (tuple(sorted(subsystems)), tuple(sorted(tops)))
    if previous is not None and previous.same_edges and previous.counts.chapters == counts.chapters \
            and previous.counts.deps:
        counts.deps = previous.counts.deps
    else:
        counts.deps = _dependencies(model, subsystems, tops, edge_sources)
    uses, used_by, edges = counts.deps
    layers, cycles = _layers(tops, edges, lines_of)
    reading = [t for layer in layers for t in layer]
    langs = sorted(((name, lang_files[name], n) for name, n in lang_lines.items()), key=lambda t: (-t[2], t[0]))
    return Analysis(subsystems, tops, sorted(skipped), edges, uses, used_by, layers, cycles, reading, total, langs,
                    rank_total, per_file, counts=counts)


def pct(x: float) -> str:
    """A share as a percentage: two decimals under 1%, one under 10% (so that 0.49% is not shown as the 0.5%
    it falls under)."""
    if 0 < x < 0.00005:
        return "<0.01%"
    return f"{x * 100:.2f}%" if x < 0.01 else f"{x * 100:.1f}%" if x < 0.1 else f"{x * 100:.0f}%"


def _kinds(model: RepoModel, files: list[str]) -> str:
    c = Counter(model.purposes[p].label for p in files)
    return ", ".join(f"{label} {n:,}" for label, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:4])


def _dependencies(model: RepoModel, subsystems: dict[str, Subsystem], tops: list[str],
                  edge_sources: tuple[EdgeSource, ...]) -> tuple[dict[str, list[tuple[str, int]]],
                                                                 dict[str, list[tuple[str, int]]],
                                                                 dict[tuple[str, str], int]]:
    """File edges aggregated: for each chapter, the chapters (or top-level folders) its files use and those
    whose files use it; and the edges between top-level subsystems."""
    chains: dict[str, tuple[str, ...]] = {}  # folder -> chapters containing it, outermost first

    def chain(folder: str) -> tuple[str, ...]:
        found = chains.get(folder)
        if found is None:
            parent = folder.rsplit("/", 1)[0] if "/" in folder else ""
            found = (chain(parent) if parent else ()) + ((folder,) if folder in subsystems else ())
            chains[folder] = found
        return found

    owners: dict[str, tuple[tuple[str, ...], str]] = {}  # file -> (its chapters, its top-level folder)

    def owner(path: str) -> tuple[tuple[str, ...], str]:  # (a file has many edges: found once per file)
        found = owners.get(path)
        if found is None:
            found = owners[path] = ((chain(path.rsplit("/", 1)[0]) if "/" in path else ()), _top(path))
        return found

    uses: dict[str, Counter[str]] = defaultdict(Counter)
    used_by: dict[str, Counter[str]] = defaultdict(Counter)
    top_edges: Counter[tuple[str, str]] = Counter()
    top_set = set(tops)
    pairs: Counter[tuple[str, str]] = Counter()  # summed per pair of files first: the owners are found once a pair
    for source in edge_sources:
        for src, dst, w in source(model):
            pairs[(src, dst)] += w
    for (src, dst), w in pairs.items():
        (a, ta), (b, tb) = owner(src), owner(dst)
        if a == b:
            continue
        # the other side is named by its top-level folder, or, inside the same one, by its deepest chapter
        src_owner = a[-1] if a and ta == tb else ta
        dst_owner = b[-1] if b and ta == tb else tb
        for c in a:
            if c not in b:
                uses[c][dst_owner] += w
        for c in b:
            if c not in a:
                used_by[c][src_owner] += w
        if ta != tb and ta in top_set and tb in top_set:
            top_edges[(ta, tb)] += w

    def order(c: Counter[str]) -> list[tuple[str, int]]:
        return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))

    return ({k: order(v) for k, v in uses.items()}, {k: order(v) for k, v in used_by.items()},
            dict(sorted(top_edges.items())))


def _top(path: str) -> str:
    return path.split("/", 1)[0] if "/" in path else "(root)"


def _layers(tops: list[str], edges: dict[tuple[str, str], int], lines_of: Callable[[str], int]
            ) -> tuple[list[list[str]], list[list[str]]]:
    """Layer 0: the subsystems that use no other; layer k: those whose dependencies all sit below k. Of two
    subsystems that use each other only the heavier direction counts, and an edge carrying under `LIGHT_EDGE`
    of its user's imports, includes and references does not count (such edges are usually a few includes of shared
    headers); cycles left after that are condensed (their members share a layer)."""
    succ: dict[str, set[str]] = defaultdict(set)
    out_total: Counter[str] = Counter()
    for (a, _), w in edges.items():
        out_total[a] += w
    for (a, b), w in edges.items():
        if w >= edges.get((b, a), 0) and w >= LIGHT_EDGE * out_total[a]:
            succ[a].add(b)
    comps = _sccs(sorted(tops), succ)  # successors' components come first
    comp_of = {p: i for i, comp in enumerate(comps) for p in comp}
    level: list[int] = []
    for i, comp in enumerate(comps):
        deps = {comp_of[t] for p in comp for t in succ.get(p, ()) if comp_of[t] != i}
        level.append(1 + max((level[j] for j in deps), default=-1))
    layers: list[list[str]] = [[] for _ in range(max(level, default=-1) + 1)]
    for i, comp in enumerate(comps):
        layers[level[i]].extend(comp)
    key = lambda t: (-lines_of(t), t)  # noqa: E731
    cycles = sorted(sorted(c, key=key) for c in comps if len(c) > 1)
    return [sorted(layer, key=key) for layer in layers], cycles


def folder_purpose(model: RepoModel, folder: str, lines_of: Mapping[str, int] | None = None) -> tuple[str, str]:
    """A folder's one-line purpose and the file it comes from ("" when it is a count of its contents): the
    first sentence of a README directly in it, else of its package docstring, else what its files are.
    `lines_of`: each code file's `code_lines`, when counted already (`Analysis.lines_of`)."""
    found: tuple[str, str]
    prefix = folder + "/" if folder else ""
    candidates = sorted((p for p in model.folders[folder].files
                         if p[len(prefix):].upper().startswith("README")), key=lambda p: (len(p), p))
    candidates.append(prefix + "__init__.py")
    for p in candidates:
        f = model.files.get(p)
        if f is None or f.binary:
            continue
        if f.docstring and _prose(f.docstring):
            found = (first_sentence(f.docstring), p)
            break
        title = next((s.name for s in f.symbols if s.kind == "heading" and "h1" in s.flags), "")
        if title and title.lower().strip("/ ") != folder.rsplit("/", 1)[-1].lower():
            found = (first_sentence(title), p)  # a README whose first paragraph is an instruction: its title
            break
    else:
        found = (contents_line(model, folder, lines_of), "")
    return found


_INSTRUCTIONS = ("first,", "first ", "please ", "see ", "run ", "note:", "note ", "install", "to ", "use ", "for ")


def _prose(text: str) -> bool:
    """A sentence that says what something is: a few words, not a navigation bar (`**A** | **B**`), a bare
    name, or an instruction (`First, create a new test file`, `Please see ...`)."""
    return text.count("|") < 2 and len(text.split()) >= 3 and not text.lower().startswith(_INSTRUCTIONS)


_NOUNS = {"test": "tests", "test-support": "test helpers", "library": "library modules", "source": "source files",
          "script": "scripts", "build": "build files", "config": "configuration files", "docs": "documents",
          "example": "examples", "data": "data files", "binary": "binary files", "program": "programs",
          "package-init": "package initialisers", "ci": "CI configuration files", "generated": "generated files",
          "vendored": "vendored files"}


def contents_line(model: RepoModel, folder: str, lines_of: Mapping[str, int] | None = None) -> str:
    """What a folder's files are, counted: `tests (40 of 52 files), Python`. `lines_of`: each code file's
    `code_lines` (absent: none), when counted already."""
    files = model.subtree_files(folder)
    if not files:
        return "empty"
    # what the code is, when there is any; else everything
    code = [p for p in files if lines_of.get(p)] if lines_of is not None else [p for p in files if code_lines(model, p)]
    labels = Counter(model.purposes[p].label for p in code or files)
    langs = Counter(languages.get(model.summary(p).language).type_name for p in code or files
                    if not model.summary(p).binary)
    top = sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    lang = " and ".join(name for name, _ in sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))[:2])
    noun = _NOUNS.get(top[0][0], top[0][0])
    noun = noun[0].upper() + noun[1:]
    if len(top) == 1:
        text = noun if len(files) == 1 else f"{noun}: all {len(files):,} files"
    else:
        text = f"{noun} ({top[0][1]:,} of {len(files):,} files) and {_NOUNS.get(top[1][0], top[1][0])} ({top[1][1]:,})"
    return f"{text}; {lang}" if lang else text


def first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of a docstring or paragraph, cut at a word with `…` past `limit` characters. A lone
    surrogate (a Python string literal may hold one) is written as its escape: pages are UTF-8."""
    text = " ".join(text.split())
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    for end in (". ", "! ", "? "):
        cut = text.find(end)
        if cut > 0:
            text = text[: cut + 1]
    text = text.strip()
    if len(text) > limit:
        text = text[: limit - 2].rsplit(" ", 1)[0] + " …"
    return text


_NOT_PROSE = ("#", "<", "!", "[!", "|", "```", "~~~", ">", "=", "-", "*", "+", ":", "..", "[![")


def _readme_prose(block: list[str]) -> bool:
    """A README paragraph worth quoting: prose of some length, not a copyright line or an instruction."""
    text = " ".join(block)
    return len(text) >= 40 and any(c.isalpha() for c in block[0]) and _prose(text) and not text.endswith("::") \
        and not text.lower().startswith(("copyright", "©", "(c)", "all rights reserved"))


def readme_title(model: RepoModel, readme: str) -> str:
    """The README's first top-level heading when it says something (two words or more), else ""."""
    f = model.files.get(readme)
    title = next((s.name for s in f.symbols if s.kind == "heading" and "h1" in s.flags), "") if f else ""
    return title if len(title.split()) >= 2 else ""


def readme_paragraphs(root: Path, model: RepoModel, n: int = 2, limit: int = 1200) -> tuple[str, list[str]]:
    """The first `n` prose paragraphs of the root README (Markdown, reStructuredText or text): headings,
    badges, images, HTML, lists, tables, rules, directives, code blocks, copyright lines and instructions
    (`See ...`, `Please ...`) are passed over; a list a paragraph opens (`...features:`) is joined to it."""
    readme = next((p for p in sorted(model.folders[""].files, key=lambda p: (len(p), p))
                   if p.upper().startswith("README") and not model.summary(p).binary), "")
    if not readme:
        return "", []
    try:
        text = (root / readme).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "", []
    paras: list[str] = []
    block: list[str] = []
    fence = ""
    in_list = pending = False
    lines = [*text.splitlines(), ""]
    for i, line in enumerate(lines):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
            continue
        if stripped.startswith(("```", "~~~")):
            fence, block = stripped[:3], []
            continue
        underline = i + 1 < len(lines) and lines[i + 1].strip() and set(lines[i + 1].strip()) <= set("=-~^*+#")
        if block and stripped.startswith(("- ", "* ", "+ ")) and (in_list or block[-1].endswith(":")):
            block.append(("; " if in_list else "") + stripped[2:].strip())  # the list the paragraph opens
            in_list, pending = True, False
            continue
        in_list = False
        if pending and not stripped:
            continue
        if pending and not stripped.startswith(("- ", "* ", "+ ")):
            pending = False
            if _readme_prose(block):
                paras.append(" ".join(block).replace(" ; ", "; "))
                if len(paras) >= n:
                    break
            block = []
        if not stripped and block and block[-1].endswith(":") and not in_list:
            pending = True  # a list may follow the blank line
            continue
        if not stripped or underline or stripped.startswith(_NOT_PROSE) or line.startswith(("    ", "\t")):
            if block and _readme_prose(block):
                paras.append(" ".join(block).replace(" ; ", "; "))
                if len(paras) >= n:
                    break
            block = []
            continue
        block.append(stripped)
    out: list[str] = []
    size = 0
    for p in paras:
        if size + len(p) > limit and out:
            break
        out.append(p if len(p) <= limit else p[: limit - 2].rsplit(" ", 1)[0] + " …")
        size += len(p)
    return readme, out
