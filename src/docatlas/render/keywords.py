"""Keyword pages: each folder's `sub.md`, the repository's `keywords.md` and its `_keywords/<letter>.md` pages."""

from __future__ import annotations

import functools
import hashlib
import marshal
from collections import defaultdict
from collections.abc import Container, Iterable, Mapping
from pathlib import PurePosixPath
from typing import Any

from docatlas import paths as P
from docatlas.config import Config
from docatlas.link.stage import RepoModel
from docatlas.render import bounds as B
from docatlas.render.format import KeptPage, Memo, Page, file_anchors, lazy_page
from docatlas.render.structure import part_page, symbol_parts
from docatlas.summary import is_keyword


def file_keywords(memo: Memo, model: RepoModel, path: str) -> list[tuple[str, str, int, str, int]]:
    """(qualname, kind, line, anchor, part) of a file's keyword-worthy symbols; nested locals and headings
    excluded; `part` is the page of the file's Code Structure that holds the anchor (`render.structure`).

    Memoised: every folder above a file asks for them again. Kept between builds (`Memo.kept_keywords`, read
    without the file's facts), and made here for the next build to keep (`Memo.made_keywords`).
    """
    found = memo.keywords.get(path)
    if found is None:
        kept = memo.kept_keywords.get(path)
        if not model.summary(path).keywords:  # (no keyword-worthy symbol: known without the file's facts)
            found = []
        elif kept is not None:
            found = list(marshal.loads(kept))
        else:
            facts = model.files[path]
            elsewhere = symbol_parts(memo, model, path)
            found = [(s.qualname, s.kind, s.line, a, elsewhere.get(a, 0))
                     for s, a in zip(facts.symbols, file_anchors(memo, model, path), strict=True) if is_keyword(s)]
            if facts.digest:
                memo.made_keywords[path] = (facts.digest, marshal.dumps(tuple(found)))
        memo.keywords[path] = found
    return found


def keyword_count(model: RepoModel, files: Iterable[str]) -> int:
    names: set[str] = set()
    for p in files:
        names.update(model.summary(p).keywords)
    return len(names)


def keyword_entries(memo: Memo, model: RepoModel, files: Iterable[str], page: str,
                    only: Container[str] | None = None) -> dict[str, list[dict[str, str]]]:
    """keyword -> the definitions (file page links) of code symbols in `files`; nested locals excluded; only
    the keywords in `only` when given (a letter page)."""
    out: dict[str, list[dict[str, str]]] = defaultdict(list)
    for p in files:
        keywords = file_keywords(memo, model, p)
        if not keywords:
            continue
        links = {0: P.url_quote(P.rel(page, P.file_page(p))) + "#"}
        for qualname, kind, line, anchor, part in keywords:
            if only is None or qualname in only:
                link = links.get(part) or links.setdefault(part, P.url_quote(P.rel(page, part_page(p, part))) + "#")
                out[qualname].append({"path": p, "kind": kind, "line": str(line), "link": link + anchor})
    return out


def keywords_digest(model: RepoModel, files: Iterable[str]) -> str:
    """One digest of what keyword pages list from many files (`FileSummary.symbols_key`: an edit that moves no
    definition leaves it as it was), far cheaper to hash than the lists themselves."""
    h = hashlib.sha1()
    for p in files:
        h.update(f"{p}:{model.summary(p).symbols_key}\n".encode("utf-8", "surrogatepass"))
    return h.hexdigest()



def render_folder_sub(memo: Memo, model: RepoModel, cfg: Config, folder: str) -> Page:
    page = P.folder_page(folder, "sub.md")
    files = model.subtree_files(folder)
    inputs = f"{cfg.list_limit}:{folder}:{keywords_digest(model, files)}"
    return lazy_page(page, "folder_sub.md.j2", inputs,
                     lambda: _folder_sub_context(memo, model, cfg, folder, page, files))


def _sub_bound(memo: Memo, model: RepoModel, files: Iterable[str]) -> int:
    """An upper bound of the bytes a `sub.md` list of `files` takes (`render.bounds`): per definition a line
    with its kind, path, link and line number; per keyword (counted once per file) a heading. Memoised per
    file: every folder above it asks again."""
    total = 0
    known = memo.sub_bounds
    for p in files:
        n = known.get(p)
        if n is None:
            n = known[p] = 0
            summary = model.summary(p)
            if summary.keywords:
                one = B.file_entry_bound(p, summary, 0) + len(str(summary.lines)) + len("- in [``]() (line )\n")
                repeats = dict(summary.repeats)
                n = known[p] = sum(one * repeats.get(k, 1) + 3 * B.text_bound(k) + 12 for k in summary.keywords)
        total += n
    return total


def _too_long(memo: Memo, model: RepoModel, cfg: Config, files: list[str]) -> str:
    """Why one `sub.md` cannot list the keywords of `files` ("" when it can): more than `list_limit`, or
    more bytes than a Git host renders on one page."""
    if keyword_count(model, files) > cfg.list_limit:
        return "count"
    return "bytes" if _sub_bound(memo, model, files) > B.LIST_BUDGET else ""


def _folder_sub_context(memo: Memo, model: RepoModel, cfg: Config, folder: str, page: str,
                        files: list[str]) -> dict[str, Any]:
    total = keyword_count(model, files)
    why = _too_long(memo, model, cfg, files)
    split = bool(why)
    subfolders = []
    fold = model.folders[folder]
    if split:
        for s in fold.subfolders:
            subfolders.append({"name": s.rsplit("/", 1)[-1], "count": keyword_count(model, model.subtree_files(s)),
                               "link": P.url_quote(P.rel(page, P.folder_page(s, "sub.md")))})
    listed = fold.files if split else files
    direct_why = _too_long(memo, model, cfg, listed) if split else ""
    direct_cut = bool(direct_why)
    kw_pages = []
    entries: dict[str, list[dict[str, str]]] = {}
    if direct_cut:
        kw_pages = [{"name": PurePosixPath(p).name, "link": P.url_quote(P.rel(page, P.kw_page(p)))}
                    for p in fold.files if not model.summary(p).binary]
    else:
        entries = keyword_entries(memo, model, listed, page)
    keys = sorted(entries, key=lambda k: (k.lower(), k))
    return {"folder": folder, "files": len(files), "entries": entries, "keys": keys, "split": split, "total": total,
            "subfolders": subfolders, "direct_cut": direct_cut, "kw_pages": kw_pages, "list_limit": cfg.list_limit,
            "why": why, "direct_why": direct_why,
            "index_link": "./index.md", "doc_link": "./doc.md"}


def _letter(name: str) -> str:
    c = name[:1].upper()
    return c if c.isascii() and c.isalnum() else "_"


_DEPTH = 2  # keyword list pages are at most two folders deep (`_keywords/T/to.md`): bounds assume that


def _bounds(model: RepoModel, files: Iterable[str]) -> dict[str, int]:
    """keyword -> an upper bound of its line's bytes on a keyword page (`render.bounds`), from summaries."""
    line: dict[str, int] = {}
    for p in files:
        summary = model.summary(p)
        if not summary.keywords:
            continue
        base = B.file_entry_bound(p, summary, _DEPTH) + len("sym-")
        repeats = dict(summary.repeats) if summary.repeats else {}
        for k in summary.keywords:
            n = line.get(k)
            if n is None:
                n = B.line_start(k)
            line[k] = n + (base + len(k)) * repeats.get(k, 1)
    return line


def _cuts(model: RepoModel, files: list[str], line: dict[str, int]) -> dict[str, int]:
    """keyword -> how many of its definitions its line lists, for the (rare) keywords whose line would pass
    `bounds.KEYWORD_BUDGET`; their definitions are listed in path order."""
    over = {k for k, n in line.items() if n > B.KEYWORD_BUDGET}
    if not over:
        return {}
    entries: dict[str, list[int]] = defaultdict(list)
    for p in files:
        summary = model.summary(p)
        mine = over & summary.keywords
        if not mine:
            continue
        base = B.file_entry_bound(p, summary, _DEPTH)
        repeats = dict(summary.repeats)
        for k in mine:
            entries[k].extend([base + B.anchor_bound(k)] * repeats.get(k, 1))
    return {k: B.cut_count(k, entries[k], B.KEYWORD_BUDGET) for k in sorted(over)}


def _shown(k: str, line: dict[str, int], cuts: dict[str, int]) -> int:
    return line[k] if k not in cuts else B.KEYWORD_BUDGET


def _toc_context(letter: str, toc: list[tuple[str, list[str]]]) -> dict[str, Any]:
    rows = []
    for name, part in toc:
        ordered = sorted(part, key=B.listing_order)
        rows.append({"name": name, "link": P.url_quote(f"./{letter}/{name}.md"), "count": len(part),
                     "first": ordered[0], "last": ordered[-1]})
    return {"letter": letter, "toc": rows, "index_link": "../keywords.md", "count": sum(len(p) for _, p in toc)}


def _letter_inputs(cfg: Config, digest: str, page: str) -> str:
    """What a letter's list page is made from besides the code: the list limit, its name and the letter's digest
    (the plan of a letter's pages follows from the same summaries)."""
    if page.count("/") == 1:  # `_keywords/T.md`, a letter on one page
        return f"{cfg.list_limit}:{page[len('_keywords/'):-len('.md')]}:{digest}"
    return f"{cfg.list_limit}:{page}:{digest}"


def _kept_letter(previous: Mapping[str, str], letter: str, inputs: Any) -> dict[str, Page] | None:
    """A letter's pages when the last build made them from the same letter digest (`inputs(page)`) and they are
    on disk (`previous`): their plan is then the same and need not be made again (on PyTorch, the bounds and
    plans of the big letters took most of a rebuild after a one-line edit). Never rendered: a split letter's
    table of contents signs the letter digest (which decides its plan) and its leaves keep their stored
    signatures."""
    single = f"_keywords/{letter}.md"
    if single not in previous:
        return None
    leaves = [k for k in previous if k.startswith(f"_keywords/{letter}/")]
    template = "keywords_toc.md.j2" if leaves else "keywords_letter.md.j2"
    if lazy_page(single, template, inputs(single), dict).signature() != previous[single]:
        return None
    if not leaves:  # a letter on one page: `render_keywords` makes that page as usual
        return {}
    pages: dict[str, Page] = {leaf: KeptPage(leaf, "keywords_letter.md.j2", {}, kept=previous[leaf])
                              for leaf in sorted(leaves)}
    pages[single] = KeptPage(single, "keywords_toc.md.j2", {}, kept=previous[single])
    return pages


def _leaf_digests(model: RepoModel, files: list[str], plan: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """For each page of a split letter's `plan`: a digest of what it lists (its keys, and the files defining one
    of them with their `symbols_key`), and those files. An edit re-renders only the pages whose keys or files
    changed, not the whole letter (PyTorch's `T`, after a test case was added: 1.9 CPU-s)."""
    page_of = {k: i for i, (_, part) in enumerate(plan) for k in part}
    mine: list[list[str]] = [[] for _ in plan]
    for p in files:  # (path order)
        for i in sorted({page_of[k] for k in model.summary(p).keywords if k in page_of}):
            mine[i].append(p)
    out = []
    for (_, part), paths in zip(plan, mine, strict=True):
        h = hashlib.sha1("\0".join(sorted(part)).encode("utf-8", "surrogatepass"))
        for p in paths:
            h.update(f"\n{p}:{model.summary(p).symbols_key}".encode("utf-8", "surrogatepass"))
        out.append((h.hexdigest(), paths))
    return out


_LEAF_GATHER = 4  # pages of a split letter that gather their own entries before the whole letter's are gathered


def render_keywords(memo: Memo, model: RepoModel, cfg: Config,
                    previous: Mapping[str, str] | None = None) -> dict[str, Page]:
    """`keywords.md`, and `_keywords/<letter>.md` pages when the index is too long for one page; a letter whose
    list would pass the page budget (`render.bounds`) is a table of contents of `_keywords/<letter>/<prefix>.md`
    pages, split by a longer and longer prefix until each fits.

    Which pages exist follows from the keyword names and the files' summaries alone; their link lists are
    built only for pages whose inputs changed.
    """
    by_letter: dict[str, set[str]] = defaultdict(set)  # letter -> its keywords (sorted only where shown)
    digests: dict[str, Any] = {}  # letter -> digest of what the files with keywords under it list
    letter_files: dict[str, list[str]] = defaultdict(list)
    letter_of: dict[str, str] = {}  # first character -> letter
    for path in model.files:
        summary = model.summary(path)
        mine = summary.keywords
        if not mine:
            continue
        key = f"{path}:{summary.symbols_key}\n".encode("utf-8", "surrogatepass")
        seen: set[str] = set()
        for k in mine:
            letter = letter_of.get(k[:1]) or letter_of.setdefault(k[:1], _letter(k))
            by_letter[letter].add(k)
            if letter not in seen:
                seen.add(letter)
                h = digests.get(letter)
                if h is None:
                    h = digests[letter] = hashlib.sha1()
                h.update(key)
                letter_files[letter].append(path)
    total = sum(map(len, by_letter.values()))
    line: dict[str, int] = {}
    cuts: dict[str, int] = {}
    split = total > cfg.list_limit
    if not split:
        line = _bounds(model, model.files)
        cuts = _cuts(model, list(model.files), line)
        split = sum(_shown(k, line, cuts) for k in line) > B.LIST_BUDGET

    def ordered(letter: str) -> list[str]:
        return sorted(by_letter[letter], key=lambda k: (k.lower(), k))

    last: dict[tuple[str, int], dict[str, list[dict[str, str]]]] = {}  # the letter's entries at a page depth
    gathered: dict[str, int] = defaultdict(int)  # letter -> its pages that gathered their own entries

    def letter_entries(letter: str, keys: list[str], page: str, title: str, links: dict[str, str],
                       files: list[str] | None = None) -> dict[str, Any]:
        keys = sorted(keys, key=B.listing_order)
        # A split letter's pages are rendered one after the other and link from the same depth: after a few
        # pages that gather their own files' entries (a rebuild renders the few whose inputs changed), the
        # letter's are gathered once for the rest (gathered per page, PyTorch's `T` took minutes); the last kept.
        depth = page.count("/")
        found = last.get((letter, depth))
        if found is None and files is not None and gathered[letter] < _LEAF_GATHER:
            gathered[letter] += 1
            found = keyword_entries(memo, model, files, page, set(keys))
        elif found is None:
            last.clear()
            found = last[(letter, depth)] = keyword_entries(memo, model, letter_files[letter], page, by_letter[letter])
        return {"letter": title, "keys": keys, "index_link": links["index"], "letter_link": links.get("letter", ""),
                "entries": {k: found[k] for k in keys}, "cuts": {k: cuts[k] for k in keys if k in cuts}}

    pages: dict[str, Page] = {}
    sections = []
    kept: dict[str, dict[str, Page]] = {}  # letters whose pages are as the last build left them
    # letters split on the last build's pages: a rebuild may render a few of theirs, each gathering its own entries
    was_split = {k.split("/")[1] for k in previous or {} if k.count("/") == 2}
    if split:
        for letter in sorted(by_letter):
            digest = digests[letter].hexdigest()
            found = _kept_letter(previous or {}, letter, functools.partial(_letter_inputs, cfg, digest))
            if found is not None:
                kept[letter] = found
        if not line:  # the bounds of the letters not kept, in one pass over their files
            files = sorted({p for letter in by_letter if letter not in kept for p in letter_files[letter]})
            line = _bounds(model, files)
            cuts = _cuts(model, files, line)
    for letter in sorted(by_letter):
        if not split:
            sections.append({"letter": letter, "count": len(by_letter[letter]), "keys": ordered(letter)})
            continue
        sub_page = f"_keywords/{letter}.md"
        digest = digests[letter].hexdigest()
        keys = list(by_letter[letter])  # sorted only by the pages that are rendered
        sections.append({"letter": letter, "count": len(keys), "link": f"./_keywords/{letter}.md"})
        if kept.get(letter):
            pages.update(kept[letter])
            continue
        # kept on one page: no plan needed (and, its signature unchanged, it is not rendered)
        plan = [("", keys)] if letter in kept else B.plan_pages(keys, lambda k: _shown(k, line, cuts), B.LIST_BUDGET)
        if len(plan) == 1:
            pages[sub_page] = lazy_page(sub_page, "keywords_letter.md.j2", _letter_inputs(cfg, digest, sub_page),
                                        functools.partial(letter_entries, letter, keys, sub_page, letter,
                                                          {"index": "../keywords.md"}))
            continue
        toc = []
        for (name, part), (leaf_digest, files) in zip(plan, _leaf_digests(model, letter_files[letter], plan),
                                                      strict=True):
            leaf = f"_keywords/{letter}/{name}.md"
            pages[leaf] = lazy_page(leaf, "keywords_letter.md.j2", _letter_inputs(cfg, leaf_digest, leaf),
                                    functools.partial(letter_entries, letter, part, leaf, f"{letter}, `{name}`",
                                                      {"index": "../../keywords.md", "letter": f"../{letter}.md"},
                                                      files if letter in was_split else None))
            toc.append((name, part))
        # its plan follows from the letter digest (`_kept_letter`)
        pages[sub_page] = lazy_page(sub_page, "keywords_toc.md.j2", _letter_inputs(cfg, digest, sub_page),
                                    functools.partial(_toc_context, letter, toc))
    # split, the front page lists letters and counts; whole, every entry (then its inputs are every file's facts)
    inputs = f"{cfg.list_limit}:{model.name}:{len(model.files)}:" + (
        repr([(s["letter"], s["count"]) for s in sections]) if split else keywords_digest(model, model.files))
    pages["keywords.md"] = lazy_page("keywords.md", "keywords.md.j2", inputs, lambda: {
        "project": model.name, "sections": sections, "split": split,
        "entries": {} if split else keyword_entries(memo, model, model.files, "keywords.md"),
        "total": total, "files": len(model.files), "list_limit": cfg.list_limit})
    return pages
