"""Page size bounds: Git hosts do not render a Markdown file over about 512 KB, so no page may grow past it.

Which pages exist must be known before any page is rendered (a page whose inputs did not change is never
rendered), and on a rebuild only the files' summaries are at hand, not their facts. So long lists are planned
from an upper bound of their bytes computed from summaries (`FileSummary`: keyword names, repeats, group
names), never from the rendered text: the bound is never below what the list really takes, so a list planned
to fit does fit. The budgets leave room for the page's header and footer.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from docatlas import paths as P
from docatlas.summary import FileSummary

PAGE_LIMIT = 512 * 1024  # what a Git host still renders
LIST_BUDGET = 384 * 1024  # a keyword page's list, as bounded here
KEYWORD_BUDGET = 128 * 1024  # one keyword's line: past it, its definitions are cut with a notice

_ENTRY_SYNTAX = len("[ in ``](#), ")  # around a letter page entry's kind, path, link and anchor
_LINE_SYNTAX = len("- ****: \n")


@functools.lru_cache(maxsize=1 << 16)
def entry_base(path: str, depth: int) -> int:
    """Bytes of one definition of a file on a keyword page `depth` folders below the output root, without its
    kind and anchor: the path shown and the link to the file page."""
    link = P.url_quote("../" * depth + P.file_page(path))
    link += "-99999"  # a continuation page of a long Code Structure (`render.structure.part_page`)
    return _ENTRY_SYNTAX + len(path.encode("utf-8", "surrogatepass")) + len(link.encode("utf-8", "surrogatepass"))


def kind_bound(summary: FileSummary) -> int:
    """No kind of the file is longer than its longest group name (`summary.plural` only lengthens a kind)."""
    return max((len(g) for g, _ in summary.groups), default=0)


def suffix_bound(summary: FileSummary) -> int:
    """Anchors that repeat get `-2`, `-3` ...: at most one dash and the digits of the file's symbol count."""
    return 1 + len(str(sum(n for _, n in summary.groups)))


def text_bound(text: str) -> int:
    """UTF-8 bytes of `text`, from above (exact for ASCII)."""
    return len(text) if text.isascii() else 4 * len(text)


def file_entry_bound(path: str, summary: FileSummary, depth: int) -> int:
    """One definition of the file on a keyword page `depth` folders deep, without its keyword's anchor."""
    return entry_base(path, depth) + kind_bound(summary) + suffix_bound(summary)


def anchor_bound(keyword: str) -> int:
    """`paths.anchor` only replaces runs of characters by one `-` and strips: never longer than this."""
    return len("sym-") + len(keyword)


def line_start(keyword: str) -> int:
    """A keyword line's bytes before its first definition (a code span adds at most the name's length in
    backticks, and two spaces)."""
    return _LINE_SYNTAX + 3 * text_bound(keyword) + 4


CUT_NOTICE = 400  # the bound of the notice a cut line ends with


def cut_count(keyword: str, entries: Iterable[int], budget: int = KEYWORD_BUDGET) -> int:
    """How many definitions (each bounded by `entries`, in listing order) fit on one keyword's line."""
    used, shown = line_start(keyword) + CUT_NOTICE, 0
    for n in entries:
        if used + n > budget:
            break
        used += n
        shown += 1
    return max(shown, 1)


_NOT_NAME = re.compile(r"[^a-z0-9]")


def _norm(key: str) -> str:
    """A keyword as a page-name prefix: ASCII letters and digits lower-cased (no two pages differ only in case,
    which some file systems cannot hold), anything else `_`."""
    return _NOT_NAME.sub("_", key.encode("ascii", "replace").decode("ascii").lower())


def plan_pages(keys: list[str], size: Callable[[str], int], budget: int = LIST_BUDGET) -> list[tuple[str, list[str]]]:
    """Split `keys` into pages of at most `budget` bytes by a longer and longer common prefix (`_norm`):
    [(page name, its keys)], in prefix order. Keys whose prefixes cannot be told apart are cut into numbered
    pages (`-2`, `-3` ...) in listing order (`listing_order`). One page named "" when everything fits. Only
    those keys are sorted here: a page sorts its own when it is rendered (a rebuild often renders none)."""
    sizes = {k: size(k) for k in keys}
    if sum(sizes.values()) <= budget:
        return [("", keys)]
    out: list[tuple[str, list[str]]] = []
    _split(keys, {k: _norm(k) for k in keys}, 1, sizes, budget, out)
    return out


def _split(keys: list[str], norms: dict[str, str], depth: int, sizes: dict[str, int], budget: int,
           out: list[tuple[str, list[str]]]) -> None:
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(norms[k][:depth], []).append(k)
    for prefix in sorted(groups):
        group = groups[prefix]
        if sum(sizes[k] for k in group) <= budget:
            out.append((prefix, group))
        elif len(prefix) < depth:  # these keys' prefixes are all of them: nothing longer tells them apart
            _chunks(prefix, group, sizes, budget, out)
        else:
            _split(group, norms, depth + 1, sizes, budget, out)


def listing_order(key: str) -> tuple[str, str]:
    """The order of keyword lists: case-insensitive, then exact."""
    return key.lower(), key


def _chunks(prefix: str, keys: list[str], sizes: dict[str, int], budget: int,
            out: list[tuple[str, list[str]]]) -> None:
    pages: list[list[str]] = [[]]
    used = 0
    for k in sorted(keys, key=listing_order):
        n = sizes[k]
        if pages[-1] and used + n > budget:
            pages.append([])
            used = 0
        pages[-1].append(k)
        used += n
    if len(pages) == 1:
        out.append((prefix, pages[0]))
    else:
        out.extend((f"{prefix}-{i}", page) for i, page in enumerate(pages, 1))
