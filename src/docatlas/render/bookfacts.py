"""What the repository guide reads of a file's facts (`GuideFile`), kept between builds.

The guide reads the docstring, the line count and the top-level definitions of some 500 files (key files, key
types, the glossary, `llms.txt`); unpickling their whole facts was a quarter of the guide's time after an edit
on PyTorch (0.09-0.2 s of 0.38 s). Each file's `view` is a pure function of its facts, in plain tuples that
`marshal` reads back in microseconds; the build keeps them in the facts cache with the file's digest
(`store.guide.read_guide_views`) and hands the valid ones, none of an edited file, to the renderer's memo
(`STORED`): a file whose view is there is not unpickled for the guide."""

from __future__ import annotations

import heapq
import marshal
from collections.abc import Callable
from typing import Any, NamedTuple

from docatlas.link.stage import RepoModel
from docatlas.model import FileFacts
from docatlas.render.format import Memo, symbol_anchors

TYPE_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "protocol", "union"})
GLOSSARY_KINDS = TYPE_KINDS | {"function"}
STORED = "stored_views"  # `Memo.book` key: path -> (digest, marshalled view) kept from the last build
NEW = "new_views"  # `Memo.book` key: path -> (digest, marshalled view) made by this process (to be kept)
REUSE = "reuse"  # `Memo.book` key: what the last build's analysis counted (`link.subsystems.Reuse`)
COUNTS = "counts"  # `Memo.book` key: what a worker's analysis counted, handed back (`take_back`)
_FILES = "guide_files"


class GuideSymbol(NamedTuple):
    """A top-level definition of a kind the guide lists (`GLOSSARY_KINDS`), with its anchor on the file page."""

    anchor: str
    kind: str
    name: str
    qualname: str
    flags: tuple[str, ...]
    summary: str
    line: int


class GuideFile(NamedTuple):
    docstring: str
    lines: int
    symbols: tuple[GuideSymbol, ...]  # in file order


def view(facts: FileFacts) -> tuple[Any, ...]:
    """The guide's view of a file's facts as plain values (`marshal`): `GuideFile` without its names. The
    anchors are those of the file page (`render.format.symbol_anchors` over every symbol)."""
    anchors = symbol_anchors(facts.symbols)
    symbols = tuple((anchors[i], s.kind, s.name, s.qualname, tuple(s.flags), s.summary, s.line)
                    for i, s in enumerate(facts.symbols) if not s.parent and s.kind in GLOSSARY_KINDS)
    return (facts.docstring or "", facts.lines, symbols)


def guide_file(memo: Memo, model: RepoModel, path: str) -> GuideFile:
    """What the guide reads of `path`: from the view kept by the last build when there is one (`STORED`),
    else made from its facts and kept for the next build (`NEW`)."""
    files: dict[str, GuideFile] = memo.book.setdefault(_FILES, {})
    found = files.get(path)
    if found is None:
        stored = memo.book.get(STORED, {}).get(path)
        if stored is not None:
            raw = marshal.loads(stored[1])
        else:
            facts = model.files[path]
            raw = view(facts)
            memo.book.setdefault(NEW, {})[path] = (facts.digest, marshal.dumps(raw))
        docstring, lines, symbols = raw
        found = files[path] = GuideFile(docstring, lines, tuple(GuideSymbol(*s) for s in symbols))
    return found


def keep_views(memo: Memo, stored: dict[str, tuple[str, bytes]]) -> None:
    """Hand the renderer the views the last build kept (`store.guide.read_guide_views`), none of a file this
    build extracted."""
    memo.book[STORED] = stored


def keep_counts(memo: Memo, reuse: Any) -> None:
    """Hand the guide's analysis what the last build's counted (`link.subsystems.Reuse`)."""
    memo.book[REUSE] = reuse


def made_counts(memo: Memo) -> Any | None:
    """What this process's analysis counted (`link.subsystems.Counts`), if it made one or a worker's guide task
    handed one back (`take_back`): for the next build."""
    found = memo.book.get("analysis")
    return found[0].counts if found is not None else memo.book.get(COUNTS)


def handed_back(memo: Memo) -> tuple[dict[str, tuple[str, bytes]], Any] | None:
    """What the guide's task made in this process that the next build keeps (`made_views`, `made_counts`), for
    a worker to send to the build process, which saves it (`take_back`); None when it made nothing."""
    views, counts = made_views(memo), made_counts(memo)
    return (views, counts) if views or counts is not None else None


def take_back(memo: Memo, made: tuple[dict[str, tuple[str, bytes]], Any]) -> None:
    """Keep in the build process's `memo` what a guide task made in a worker (`handed_back`)."""
    views, counts = made
    mine = memo.book.setdefault(NEW, {})
    if views is not mine:  # (the build process's own guide task hands back its own memo's)
        mine.update(views)
    if counts is not None and "analysis" not in memo.book:
        memo.book[COUNTS] = counts


def made_views(memo: Memo) -> dict[str, tuple[str, bytes]]:
    """The views this process made (path -> (digest, marshalled view)): for the next build to keep."""
    made: dict[str, tuple[str, bytes]] = memo.book.get(NEW, {})
    return made


def first_by_rank(model: RepoModel, paths: list[str], n: int, key: Callable[[str], Any]) -> list[str]:
    """`sorted(paths, key=key)[:n]` for a `key` whose first item is the file's rank, negated: only the files
    ranked at least as high as the n-th are sorted (a chapter's key files, of thousands in its subtree)."""
    if len(paths) > n:
        rank = model.rank
        cut = heapq.nlargest(n, [rank.get(p, 0.0) for p in paths])[-1]
        paths = [p for p in paths if rank.get(p, 0.0) >= cut]
    return sorted(paths, key=key)[:n]
