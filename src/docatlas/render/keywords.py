"""Keyword pages: each folder's `sub.md`, the repository's `keywords.md` and its `_keywords/<letter>.md` pages."""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from collections.abc import Container, Iterable
from pathlib import PurePosixPath
from typing import Any

from docatlas import paths as P
from docatlas.config import Config
from docatlas.link.stage import RepoModel
from docatlas.render.format import Memo, Page, file_anchors, lazy_page
from docatlas.summary import is_keyword


def file_keywords(memo: Memo, model: RepoModel, path: str) -> list[tuple[str, str, int, str]]:
    """(qualname, kind, line, anchor) of a file's keyword-worthy symbols; nested locals and headings excluded.

    Memoised on the model: every folder above a file asks for them again.
    """
    found = memo.keywords.get(path)
    if found is None:
        symbols = model.files[path].symbols
        found = [(s.qualname, s.kind, s.line, a) for s, a in zip(symbols, file_anchors(memo, model, path), strict=True)
                 if is_keyword(s)]
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
        link = P.url_quote(P.rel(page, P.file_page(p))) + "#"
        for qualname, kind, line, anchor in keywords:
            if only is None or qualname in only:
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


def _folder_sub_context(memo: Memo, model: RepoModel, cfg: Config, folder: str, page: str,
                        files: list[str]) -> dict[str, Any]:
    total = keyword_count(model, files)
    split = total > cfg.list_limit
    subfolders = []
    fold = model.folders[folder]
    if split:
        for s in fold.subfolders:
            subfolders.append({"name": s.rsplit("/", 1)[-1], "count": keyword_count(model, model.subtree_files(s)),
                               "link": P.url_quote(P.rel(page, P.folder_page(s, "sub.md")))})
    listed = fold.files if split else files
    direct_cut = split and keyword_count(model, listed) > cfg.list_limit
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
            "index_link": "./index.md", "doc_link": "./doc.md"}


def _letter(name: str) -> str:
    c = name[:1].upper()
    return c if c.isascii() and c.isalnum() else "_"


def render_keywords(memo: Memo, model: RepoModel, cfg: Config) -> dict[str, Page]:
    """`keywords.md`, and `_keywords/<letter>.md` pages when the index is too long for one page.

    Which pages exist follows from the keyword names alone; their link lists are built only for pages
    whose inputs changed.
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
    split = total > cfg.list_limit

    def ordered(letter: str) -> list[str]:
        return sorted(by_letter[letter], key=lambda k: (k.lower(), k))

    def letter_entries(letter: str) -> dict[str, Any]:
        keys = ordered(letter)
        found = keyword_entries(memo, model, letter_files[letter], "_keywords/_.md", by_letter[letter])
        return {"letter": letter, "keys": keys, "index_link": "../keywords.md",
                "entries": {k: found[k] for k in keys}}

    pages: dict[str, Page] = {}
    sections = []
    for letter in sorted(by_letter):
        if split:
            sub_page = f"_keywords/{letter}.md"
            inputs = f"{cfg.list_limit}:{letter}:{digests[letter].hexdigest()}"
            pages[sub_page] = lazy_page(sub_page, "keywords_letter.md.j2", inputs,
                                    functools.partial(letter_entries, letter))
            sections.append({"letter": letter, "count": len(by_letter[letter]), "link": f"./_keywords/{letter}.md"})
        else:
            sections.append({"letter": letter, "count": len(by_letter[letter]), "keys": ordered(letter)})
    # split, the front page lists letters and counts; whole, every entry (then its inputs are every file's facts)
    inputs = f"{cfg.list_limit}:{model.name}:{len(model.files)}:" + (
        repr([(s["letter"], s["count"]) for s in sections]) if split else keywords_digest(model, model.files))
    pages["keywords.md"] = lazy_page("keywords.md", "keywords.md.j2", inputs, lambda: {
        "project": model.name, "sections": sections, "split": split,
        "entries": {} if split else keyword_entries(memo, model, model.files, "keywords.md"),
        "total": total, "files": len(model.files), "list_limit": cfg.list_limit})
    return pages
