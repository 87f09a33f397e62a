"""What a rebuild can take from the last build instead of doing again: nothing to do at all (`noop_report`),
the scan's folder listing (`listing`), the link stage's output (`reusable_link`, then `link.relink`), and
every page but those an edit can change (`local_plan`). `pipeline.build` decides; this module says what
each reuse keeps."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from docatlas.config import Config
from docatlas.model import Diagnostic, FileFacts
from docatlas.output import OutputFolder
from docatlas.paths import folder_of
from docatlas.scan import Listing
from docatlas.store.aside import read_listing, write_listing
from docatlas.store.cache import MISSING_PART, FactsCache, same_part
from docatlas.summary import FileSummary

if TYPE_CHECKING:
    from docatlas.link.stage import RepoModel
    from docatlas.pipeline import BuildReport


def noop_report(report: BuildReport, cache: FactsCache, t0: float, t: float) -> None:
    """Complete the `BuildReport` of a build that found nothing to do (`FactsCache.unchanged`): the numbers
    and file diagnostics of the last complete build, which this one would have reproduced exactly."""
    cache.save_restat()
    report.diagnostics.extend(cache.diagnostics())
    report.diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    report.files = int(cache.meta.get("files", "0"))
    report.binary = int(cache.meta.get("binary", "0"))
    report.pages = int(cache.meta.get("pages", "0"))
    now = time.perf_counter()
    report.timings["cache"] = round(now - t, 3)
    report.seconds = round(now - t0, 3)


def listing(cfg: Config) -> Listing:
    """The last walk's folder listing (`scan.Listing`) when the same code made it for the same folders."""
    from docatlas.fingerprint import code_fingerprint

    key = f"{code_fingerprint()}\0{cfg.root.resolve()}\0{cfg.output.resolve()}"
    found = None if cfg.full else read_listing(cfg.output)
    return found if isinstance(found, Listing) and found.key == key else Listing(key)


def keep_listing(cfg: Config, before: Listing, now: Listing | None) -> None:
    if now is not None and now.folders != before.folders:
        write_listing(cfg.output, now)


@dataclass
class Previous:
    """What a rebuild reads of the last build (`read_previous`): the cached facts, still pickled, and summaries
    of the files it reuses or edits, and the link state when read with them."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    summaries: dict[str, FileSummary] = field(default_factory=dict)
    state: dict[str, Any] | None = None
    state_read: bool = False
    seconds: float = 0.0


def read_previous(cache: FactsCache, paths: list[str], previous: Previous, same_paths: bool,
                  only: Collection[str] | None = None) -> None:
    """Fill `previous` with the cached facts of `paths` (or `only` of those: the others are read on use,
    `store.lazyfacts`) and their summaries and, over the `same_paths` as the last build (which `reusable_link`
    asks of a reuse first), its link state (`FactsCache.link_state`)."""
    start = time.perf_counter()
    previous.blobs, previous.summaries = cache.facts(paths, only)
    if same_paths:
        previous.state, previous.state_read = cache.link_state(prefetch=only is None), True
    previous.seconds = round(time.perf_counter() - start, 3)


def reusable_link(cache: FactsCache, out: OutputFolder, scan_diagnostics: list[Diagnostic],
                  facts: Mapping[str, FileFacts], before: dict[str, FileFacts],
                  fresh: dict[str, FileFacts], previous: Previous | None = None,
                  intact: Callable[[], bool] | None = None) -> tuple[dict[str, Any] | None, bool]:
    """(The last build's link stage output when it is over the same paths with the same scan diagnostics,
    whether every edited file kept its `link.link_inputs` but perhaps its imports and test cases,
    `link.local_inputs`): with them the output is reused when `relink` can; without,
    everything is linked again but the references (`link.link(previous=...)`); with no state, everything.
    The state is the one `previous` holds when it was read already; `intact` answers `out.intact`."""
    from docatlas.link.relink import local_inputs, star_targets

    if not fresh or set(before) != set(fresh) or len(facts) != len(cache.entries) or not out.previous_inputs:
        return None, False
    key = lambda d: (d.path, d.line, d.col, d.code, d.message)  # noqa: E731
    if sorted(map(key, cache.diagnostics(("scan",)))) != sorted(map(key, scan_diagnostics)):
        return None, False
    state = previous.state if previous is not None and previous.state_read else cache.link_state()
    if state is None:
        return None, False
    if not (intact or out.intact)():  # a page was deleted by hand: only a look at every page brings it back
        return state, False
    star = star_targets(state)
    return state, all(local_inputs(before[p], f, p in star) for p, f in fresh.items())


@dataclass
class Plan:
    """What a build renders (`tasks`) and what it keeps of the last build's manifest without looking: the
    pages, their input signatures and stats, and the page-name clashes (DA305) of the pages it keeps."""

    tasks: list[tuple[str, str]]
    pages: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)
    clashes: list[Diagnostic] = field(default_factory=list)


def local_plan(model: RepoModel, fresh: Mapping[str, FileFacts], before: Mapping[str, Any], out: OutputFolder,
               cache: FactsCache, facts_before: Mapping[str, FileFacts], llms_full: bool = False) -> Plan:
    """After a link reuse with the same page options: only the edited files' own pages, their folders', the
    guide and the keyword index can change (`link.stage.link_inputs`), and the pages of the files whose
    references changed (`refs_update["touched"]`); every other page keeps its entry in the manifest. Keyword
    letter pages, and continuation pages of edited files' Code Structure, come and go. `before`: the edited
    files' previous summaries (`_same_keywords`); `facts_before` their previous facts (`same_guide`, with the
    link state as `cache` read it and whether the guide's task writes `llms-full.txt`)."""
    same_keywords = _same_keywords(model, before)
    book = not same_guide(model, facts_before, cache.read_parts, llms_full)
    tasks = local_tasks(model, [*fresh, *model.refs_update.get("touched", ())], keywords=not same_keywords, book=book)
    parts = tuple(f"{p}_docs-" for p in fresh)
    redone = functools.partial(_redone_page, parts, not same_keywords, book)
    gone = {k for k in {*out.previous, *out.previous_inputs, *out.previous_stats} if redone(k)}  # (each once)
    return Plan(tasks, {k: v for k, v in out.previous.items() if k not in gone},
                {k: v for k, v in out.previous_inputs.items() if k not in gone},
                {k: v for k, v in out.previous_stats.items() if k not in gone},
                [d for d in cache.diagnostics(("render",)) if not redone(d.path)])


def local_tasks(model: RepoModel, edited: Iterable[str], keywords: bool = True,
                book: bool = True) -> list[tuple[str, str]]:
    """The pages an edit that kept every `link_inputs` can change: the keyword index (unless `keywords` is
    false: no edited file changed what it lists, see `_same_keywords`), the repository guide and `llms.txt`
    (docstrings, definitions and line counts feed them; unless `book` is false: `same_guide`), the folders
    above each edited file, and the edited files' own pages."""
    folders: set[str] = set()
    for p in edited:
        folder = folder_of(p)
        while folder not in folders:
            folders.add(folder)
            if not folder:
                break
            folder = folder_of(folder)
    tasks: list[tuple[str, str]] = [("keywords", "")] if keywords else []
    tasks += [("book", "")] if book else []
    tasks += [("folder", d) for d in sorted(folders, key=lambda d: (-len(model.subtree_files(d)), d))]
    tasks += [("file", p) for p in sorted(edited) if not model.summary(p).binary]
    return tasks


def _same_keywords(model: RepoModel, before: Mapping[str, Any]) -> bool:
    """Whether every edited file lists the same in the repository's keyword index as before (its keyword names
    and `FileSummary.symbols_key`, the only inputs the keyword pages take of a file, `render.keywords`): then,
    over the same files and options, every keyword page would be made again exactly as it is."""
    for p, old in before.items():
        new = model.summary(p)
        if old is None or (old.keywords, old.symbols_key) != (new.keywords, new.symbols_key):
            return False
    return True


# Files the guide reads as text rather than as facts (`link.subsystems.readme_paragraphs`, `link.packaging`): at
# the top level, a README and the packaging metadata.
_GUIDE_TEXTS = frozenset({"pyproject.toml", "setup.cfg", "setup.py"})


def same_guide(model: RepoModel, before: Mapping[str, FileFacts], stored: Mapping[str, Any],
               llms_full: bool = False) -> bool:
    """Whether the repository guide and `llms.txt` (the `book` task) would be made again exactly as they are: every
    edited file's facts are the same but for what neither reads (size, digest, findings, diagnostics and the
    names it uses: a body edit that moves no line and renames nothing), none is a top-level README or packaging
    file (read as text), and every part of the link state (`stored`: as the last build left it, before this
    build's `relink`, `FactsCache.read_parts`) is the same: ranks, purposes, imports, test links, the
    references' use counts and edges.
    Never with `llms-full.txt`, which embeds whole file pages."""
    import dataclasses

    from docatlas.link.references import ROW_FIELDS
    from docatlas.link.stage import link_state

    if llms_full or not stored or not before:
        return False
    for p, old in before.items():
        if "/" not in p and (p.upper().startswith("README") or p in _GUIDE_TEXTS):
            return False
        if _guide_view(old) != _guide_view(model.files[p]):
            return False
    for name, value in link_state(model).items():
        if name != "refs" or not dataclasses.is_dataclass(value):
            if not same_part(stored.get(name, MISSING_PART), value):
                return False
            continue
        for f in dataclasses.fields(value):  # (the per-file rows are not parts: `store.cache.store_link_state`)
            old = stored.get(f"refs.{f.name}", MISSING_PART)
            if f.name not in ROW_FIELDS and not same_part(old, getattr(value, f.name)):
                return False
    return True


def _guide_view(facts: FileFacts) -> FileFacts:
    """A file's facts without what the guide and `llms.txt` never read."""
    import dataclasses

    return dataclasses.replace(facts, size=0, digest="", findings=(), diagnostics=(), references=None)


_BOOK_PAGES = frozenset({"comprehensive_book.md", "llms.txt", "llms-full.txt"})


def _redone_page(parts: tuple[str, ...], keywords: bool, book: bool, rel: str) -> bool:
    """Whether a local rebuild makes this page again rather than keeping its manifest entry: the guide and the
    llms files when the guide's task runs, the keyword pages when the keyword task runs (letter pages come and
    go), the continuation pages of an edited file."""
    if rel.startswith(parts):
        return True
    if rel in _BOOK_PAGES:
        return book
    return keywords and (rel == "keywords.md" or rel.startswith("_keywords/"))


def guide_counts(cache: FactsCache, output: Any, fresh: Mapping[str, FileFacts], before: Mapping[str, Any],
                 model: RepoModel) -> Any | None:
    """After `link.relink` (the last build's state, `before`, with only the `fresh` files' own entries made
    again): what the last build's guide analysis counted (`link.subsystems.Reuse`), for the guide and the front
    page to count the fresh files alone; its dependencies are reused when no file edge changed (each fresh file's
    repository imports, counted as `subsystems.import_edges` does, and every file's Python reference edges)."""
    from docatlas.link.subsystems import Reuse, file_import_edges
    from docatlas.store.guide import read_guide_counts

    counts = read_guide_counts(output, cache.meta.get("start_ns", ""))
    if counts is None:
        return None
    old_refs, imports = before.get("refs"), before.get("imports", {})
    same = old_refs is not None and same_part(getattr(old_refs, "py_edges", None), model.refs.py_edges) and all(
        file_import_edges(p, imports.get(p, ())) == file_import_edges(p, model.imports.get(p, ())) for p in fresh)
    return Reuse(counts, tuple(sorted(fresh)), same)
