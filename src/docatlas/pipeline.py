"""`build(config)`: scan -> extract -> link -> render -> write, and the process pool behind the two wide stages."""

from __future__ import annotations

import dataclasses
import functools
import gc
import itertools
import logging
import os
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from docatlas import diagnostics as dx
from docatlas import incremental, languages
from docatlas.config import Config
from docatlas.errors import OutputError
from docatlas.extract import extract_file
from docatlas.model import Diagnostic, FileFacts, ScannedFile
from docatlas.output import OutputFolder
from docatlas.paths import MANIFEST_NAME, out_folder
from docatlas.pool import Aside, Pool, cap_jobs, trim_heap
from docatlas.scan import scan
from docatlas.store.aside import read_templates, write_templates
from docatlas.store.cache import STORED, FactsCache, pickle_facts, prefetch_rows
from docatlas.store.guide import read_guide_views, write_guide
from docatlas.store.lazyfacts import LazyFacts, unpickle_facts
from docatlas.store.writer import IndexWrite
from docatlas.tasks import (
    WARM_TASKS,
    all_tasks,
    compile_templates,
    made_keywords,
    page_names,
    task_pages,
    use_compiled_templates,
    warm_renderer,
)

if TYPE_CHECKING:  # the link and render stages (and Jinja2) are imported only when a build gets that far:
    from docatlas.link.stage import RepoModel  # a no-op rebuild stops after the scan and must start fast
    from docatlas.render.format import Memo

Progress = Callable[[str, int, int], None]  # (stage, done, total)
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class BuildReport:
    files: int = 0
    binary: int = 0
    pages: int = 0
    written: int = 0
    bytes_written: int = 0
    removed: int = 0
    link_reused: bool = False  # the link stage's output was taken from the last build (`link.link_inputs`)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    output: str = ""
    model: RepoModel | None = field(default=None, repr=False)  # for callers that want the analysis itself
    warnings: list[str] = field(default_factory=list)  # about the run, not a file: jobs capped, all excluded
    strict: bool = False  # diagnostics make the exit code 1 (`--strict`)

    @property
    def ok(self) -> bool:
        return not self.diagnostics

    def summary(self) -> dict[str, Any]:
        """The figures of the run as plain data (for `--report-json` and benchmarks)."""
        return {"files": self.files, "binary": self.binary, "pages": self.pages, "written": self.written,
                "bytes_written": self.bytes_written, "removed": self.removed, "link_reused": self.link_reused,
                "diagnostics": len(self.diagnostics), "seconds": self.seconds, "timings": dict(self.timings)}


_POOL_MIN = 8  # fewer files than this are extracted in-process
log = logging.getLogger(__name__)
# Seconds one item may take in a worker before it is killed and the item handed to the fallback (a parser
# that hangs costs its file's analysis, never the build). Rendering the keyword index of a huge repository is
# one item, hence the larger render budget. DOCATLAS_TASK_SECONDS overrides both (tests).
_BUDGET = {"extract": 300.0, "render": 1800.0}
# Bytes of its own a worker may hold before it is replaced by a fresh fork (`pool.Pool`'s `retire`). A render
# worker only grows: its memos (`render.format.Memo`) and, larger, the parent's pages it copies by reading the
# model (each read writes a reference count). Unbounded, two of them held 1.1 GB at the end of PyTorch's render.
_RETIRE = {"render": 128 << 20}


@dataclass(frozen=True)
class ExtractJob:
    """What an extract worker needs: the options, and whether to send facts back pickled (from a pool)."""

    cfg: Config
    pickled: bool = False


@dataclass(frozen=True)
class RenderJob:
    """What a render worker needs: read-only, inherited by the forked workers rather than pickled."""

    cfg: Config
    model: RepoModel
    out: OutputFolder
    blocked: frozenset[str]  # page paths a repository folder takes (DA305)
    memo: Memo  # the renderer's memo: the one mutable part, each forked worker writing its own copy


J = TypeVar("J")


def _pooled(jobs: int, total: int) -> bool:
    """Whether `_run` uses a pool for this many items (else it runs them in-process)."""
    return jobs > 1 and total >= 2


def _extract_one(job: ExtractJob, scanned: ScannedFile) -> tuple[FileFacts | bytes, float]:
    """One file's facts and the CPU seconds they took (summed per language family for the timing report).

    A pool worker sends them pickled as the facts cache stores them: the parent unpickles them, as it would
    have anyway, and keeps the bytes for the cache instead of pickling every file again (0.6 s on PyTorch).
    An unexpected exception (a bug of docatlas on this file) costs the file its analysis, never the build."""
    cfg = job.cfg
    start = time.process_time()
    try:
        _debug_hook("extract", scanned.path)
        facts = extract_file(str(cfg.root), scanned, cfg.max_file_bytes)
    except Exception as exc:
        log.debug("%s: extract failed:\n%s", scanned.path, traceback.format_exc())
        facts = _without_parser(cfg, scanned, dx.INTERNAL_ERROR, stage="extracting",
                                error=f"{type(exc).__name__}: {exc}", effect="documented without analysis")
    if job.pickled:
        return pickle_facts(facts), time.process_time() - start
    return facts, time.process_time() - start


def _without_parser(cfg: Config, scanned: ScannedFile, code: dx.Code, **fields: Any) -> FileFacts:
    """The file's facts without its language's parser (metadata, purpose, source), with a diagnostic."""
    diag = code.at(scanned.path, **fields)
    try:
        facts = extract_file(str(cfg.root), scanned, cfg.max_file_bytes, parse=False)
    except Exception:
        facts = FileFacts(path=scanned.path, language=scanned.language, size=scanned.size, digest="",
                          vendored=scanned.vendored, parse_ok=False)
    return dataclasses.replace(facts, diagnostics=(*facts.diagnostics, diag), parse_ok=False)


def _extract_fallback(job: ExtractJob, scanned: ScannedFile, why: str) -> tuple[FileFacts | bytes, float]:
    """A worker died or ran out of time on this file: retried here without the parser (DA307)."""
    return _without_parser(job.cfg, scanned, dx.WORKER_LOST, reason=why), 0.0


def _debug_hook(stage: str, path: str) -> None:
    """Test hook (DOCATLAS_DEBUG=stage:action:name-part[,...]): make one file's work slow, hang, raise or
    crash its process, so that the pool's and the signals' handling can be tested at a reproducible moment."""
    spec = os.environ.get("DOCATLAS_DEBUG")
    if not spec:
        return
    for rule in spec.split(","):
        where, action, part = [*rule.split(":", 2), "", ""][:3]
        if where != stage or part not in path:
            continue
        if action.startswith("sleep"):
            time.sleep(float(action[5:] or 1))
        elif action == "hang":
            time.sleep(3600)
        elif action == "raise":
            raise RuntimeError(f"debug failure on {path}")
        elif action == "segv":
            import ctypes
            import faulthandler

            faulthandler.disable()  # a crash on purpose: no fatal-error dump
            ctypes.string_at(0)


RenderResult = tuple[str, str, int, str, tuple[int, int], str]  # page, digest, written, signature, stat, error
# a task's pages, the keyword entries its process made (`Memo.made_keywords`: path -> (digest, marshalled)), and
# after the guide's task what it made for the next build (`render.bookfacts.handed_back`)
TaskResult = tuple[list[RenderResult], dict[str, tuple[str, bytes]], Any]


def _render_task(job: RenderJob, task: tuple[str, str]) -> TaskResult:
    """Render and write one file's or folder's pages: (page, digest, bytes written, input signature, stat,
    error). A page whose input signature matches the last complete build is neither rendered nor written.
    An unexpected exception while rendering a page (a bug of docatlas on this input) writes a page saying what
    failed instead, and is reported as that page's diagnostic (DA306).

    With them, the keyword entries the task made (`render.keywords.file_keywords`), a file's own among them:
    the worker has its anchors at hand, and the keyword index, rendered in the build process after the pool in
    a full render, then reads them instead of working out every file's again (`_render`)."""
    out = job.out
    try:
        _debug_hook("render", task[1] or task[0])
        previous = None
        if task[0] == "keywords":  # the keyword pages of the last build still on disk: a letter may keep its plan
            previous = {k: v for k, v in out.previous_inputs.items()
                        if k.startswith("_keywords/") and out.unchanged(k, v) is not None}
        pages = task_pages(job.memo, job.model, job.cfg, *task, previous=previous)
    except Exception as exc:
        log.debug("%s: render failed:\n%s", task, traceback.format_exc())
        return _render_fallback(job, task, f"{type(exc).__name__}: {exc}")
    results = _write_pages(job, pages)
    guide = None
    if task[0] == "book" or task == ("folder", ""):  # (the guide's analysis: the front page makes it too)
        from docatlas.render.bookfacts import handed_back

        guide = handed_back(job.memo)
    try:
        return results, made_keywords(job.memo, job.model, *task), guide
    except Exception:  # (a bug on this file's facts: the keyword index meets it again, and says so there)
        log.debug("%s: keyword entries failed:\n%s", task, traceback.format_exc())
        return results, {}, guide


def _write_pages(job: RenderJob, pages: Iterable[Any]) -> list[RenderResult]:
    """Each page written unless the last build wrote it from the same inputs (`_render_task`)."""
    out = job.out
    results: list[RenderResult] = []
    blocked = job.blocked
    for page in pages:
        if page.path in blocked:  # a folder of the repository has this name: its pages live under it
            results.append((page.path, "", -1, "", (0, 0), ""))
            continue
        try:
            signature = page.signature()
            kept = out.unchanged(page.path, signature)
            if kept is not None:
                results.append((page.path, kept[0], 0, signature, kept[1], ""))
                continue
            text = page.text()
        except Exception as exc:
            log.debug("%s: render failed:\n%s", page.path, traceback.format_exc())
            results += _failed_pages(job, [page.path], f"{type(exc).__name__}: {exc}")
            continue
        digest, written, st = out.write(page.path, text)
        results.append((page.path, digest, written, signature, st, ""))
    return results


def _render_fallback(job: RenderJob, task: tuple[str, str], why: str) -> TaskResult:
    """The pages of a task whose rendering failed or whose worker died: each says so."""
    return _failed_pages(job, page_names(task), why), {}, None


def _failed_pages(job: RenderJob, names: list[str], why: str) -> list[RenderResult]:
    from docatlas.safetext import terminal

    results: list[RenderResult] = []
    for rel in names:
        if rel in job.blocked:
            continue
        text = (f"# {terminal(rel)}\n\nThis page could not be made: {terminal(why)} (DA306). The other pages "
                f"and the index are complete; run `docatlas build -v` for the traceback, and please report it.\n")
        digest, written, st = job.out.write(rel, text)
        results.append((rel, digest, written, "", st, why))  # no signature: the next build tries again
    return results


def _run(fn: Callable[[J, T], R], items: list[T], jobs: int, job: J, stage: str,
         progress: Progress | None, pooled: Callable[[], None] | None = None,
         fallback: Callable[[J, T, str], R] | None = None, meanwhile: Callable[[], None] | None = None
         ) -> Iterator[R]:
    """Map `fn(job, item)` over `items`, in a fork pool (`pool.Pool`: the job inherited, not pickled; results
    in the order they finish) when jobs > 1. `fallback(job, item, why)` stands in, in this process, for an item
    whose worker died or overran the time budget.

    `pooled` is called once the pool's workers exist (never when the work runs in-process): a thread started
    then is not copied into them half-way through its work, as it would be if it ran when they forked.
    `meanwhile`: this process's own work, done while the workers have the items (`Pool.run`), or before
    them when they run in-process."""
    total = len(items)
    # a pool of one worker is worth it for one item when this process has work of its own meanwhile
    if not (_pooled(jobs, total) or (meanwhile is not None and jobs > 1 and total)):
        # in-process: `build` has already paused the cyclic collector
        if meanwhile is not None:
            meanwhile()
        for i, item in enumerate(items, 1):
            yield fn(job, item)
            if progress:
                progress(stage, i, total)
        return
    budget = float(os.environ.get("DOCATLAS_TASK_SECONDS") or _BUDGET.get(stage, 0.0))
    instead = functools.partial(fallback, job) if fallback is not None else _no_fallback
    pool = Pool(functools.partial(fn, job), jobs, instead, budget, _RETIRE.get(stage, 0))
    for i, result in enumerate(pool.run(items, pooled, meanwhile), 1):
        yield result
        if progress:
            progress(stage, i, total)


def _no_fallback(item: Any, why: str) -> Any:
    raise RuntimeError(f"{item!r}: {why}")


def _clock(timings: dict[str, float], stage: str, start: float) -> float:
    now = time.perf_counter()
    timings[stage] = round(now - start, 3)
    return now


def _drop_references(model: RepoModel, fresh: dict[str, FileFacts], blobs: Mapping[str, bytes]) -> None:
    """After the link stage, the names each file binds and uses (`FileFacts.references`, a third of the facts)
    are read by nothing but the facts cache, which stores the bytes the extract workers sent (`blobs`) and
    keeps the cached files' rows: the facts the pages read go without them, so neither this process nor the
    render workers it forks hold them (their copy-on-write view of each fact they read is a private copy).
    Files extracted in this process (no bytes: the cache pickles their facts) keep theirs."""
    files = model.files
    if not isinstance(files, dict):
        return
    for p, f in files.items():
        if f.references is not None and (p in blobs or p not in fresh):
            files[p] = dataclasses.replace(f, references=None)
            if p in fresh:
                fresh[p] = files[p]


def build(cfg: Config, progress: Progress | None = None) -> BuildReport:
    """Run every stage; the cyclic garbage collector is paused meanwhile (see `_build`)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(cfg, progress)
    finally:
        if enabled:
            gc.enable()


def _build(cfg: Config, progress: Progress | None) -> BuildReport:
    """The stages. Millions of small acyclic records (facts, symbols, model entries) are made here; with the
    collector running, loading the cached facts of PyTorch took 1.4 s instead of 0.8 s, and the link stage and
    index write lost as much again. Nothing here relies on it: the records hold no reference cycles."""
    report = BuildReport(output=str(cfg.output), strict=cfg.strict)
    t0 = t = time.perf_counter()
    if (cfg.root / MANIFEST_NAME).is_file():
        raise OutputError(f"{cfg.root} is itself docatlas output (it holds {MANIFEST_NAME}); document the "
                          f"repository it was built from instead")
    jobs, note = cap_jobs(cfg.workers)
    if note:
        report.warnings.append(note)
        cfg = dataclasses.replace(cfg, jobs=jobs)
    out = OutputFolder(cfg.output, cfg.root, cfg.force)
    out.open(wait=not cfg.no_wait)  # one build at a time; the folder is marked as docatlas's from here on
    try:
        return _locked(cfg, out, report, t0, t, progress)
    finally:
        out.close()


def _locked(cfg: Config, out: OutputFolder, report: BuildReport, t0: float, t: float,
            progress: Progress | None) -> BuildReport:
    """The stages, holding the output folder's lock."""
    report.warnings.extend(out.notes)
    # Whether every page is still as the last build left it (a stat of each: PyTorch's 24,902, 0.11-0.17 s),
    # which a no-op rebuild and a reuse of the link stage ask first: a forked child works it out while this
    # process scans and reads the last build's state. (Not asked after a stopped build: every page is looked at.)
    aside = Aside(out.intact) if cfg.workers > 1 and not cfg.full and out.known and out.previous \
        and not out.resumed else None
    intact = functools.cache(aside.result) if aside is not None else out.intact
    listing = incremental.listing(cfg)
    scanned = scan(cfg.root, cfg.output, cfg.exclude, listing)
    report.diagnostics.extend(scanned.diagnostics)
    if not scanned.files and cfg.exclude:
        report.warnings.append(f"no file left to document: the exclude patterns ({', '.join(cfg.exclude)}) "
                               f"exclude every file of {cfg.root}")
    t = _clock(report.timings, "scan", t)

    cache = FactsCache.load(cfg, cfg.full)  # the previous build's facts: extract only what changed
    hits, todo = cache.split(cfg.root, scanned.files)
    failed_pages = any(not signature for signature in out.previous_inputs.values())  # DA306: try them again
    if not out.resumed and not failed_pages and cache.unchanged(hits, todo, out.previous, intact):
        if aside is not None:
            aside.close()
        incremental.noop_report(report, cache, t0, t)
        out.complete()
        incremental.keep_listing(cfg, listing, scanned.listing)
        return report
    if not cache.pages_trusted or out.resumed:  # the last build may have stopped after writing pages: rewrite
        out.distrust()
    edited = [f.path for f in todo if f.path in cache.entries]
    # After an edit of a few files, workers extract them while this process reads the last build's facts and
    # link state (`incremental.read_previous`); else the files are read first, and a few extracted here
    # (starting a pool costs more than a few files take).
    beside = cfg.workers > 1 and 0 < len(todo) < _POOL_MIN and len(edited) == len(todo) and cache.usable
    previous = incremental.Previous()
    # (beside a few edited files, the other files' facts are read when something asks: `store.lazyfacts`)
    read = functools.partial(incremental.read_previous, cache, [*hits, *edited], previous,
                             len(hits) + len(todo) == len(cache.entries), edited if beside else None)
    if not beside:
        read()
        t = _clock(report.timings, "cache", t)
    fresh: dict[str, FileFacts] = {}
    family_cpu: dict[str, float] = defaultdict(float)
    jobs = cfg.workers if len(todo) >= _POOL_MIN or beside else 1
    blobs: dict[str, bytes] = {}
    job = ExtractJob(cfg, pickled=_pooled(jobs, len(todo)) or beside)
    for got, seconds in _run(_extract_one, todo, jobs, job, "extract", progress, fallback=_extract_fallback,
                             meanwhile=read if beside else None):
        f = got if isinstance(got, FileFacts) else unpickle_facts(got)
        if isinstance(got, bytes):
            blobs[f.path] = got
        fresh[f.path] = f
        family_cpu["binary" if f.binary else languages.get(f.language).family] += seconds
    fresh = {p: fresh[p] for p in sorted(fresh)}  # the pool returns them as they finish: path order, as in-process
    if beside:  # (the files were read meanwhile)
        report.timings["cache"] = previous.seconds
    blobs_cached, summaries = previous.blobs, previous.summaries
    before = {p: unpickle_facts(blobs_cached.pop(p)) for p in edited}  # the edited files' previous facts
    old_summaries = {p: summaries.pop(p, None) for p in edited}  # (`_same_keywords`)
    facts = LazyFacts(blobs_cached, fresh, cache.blobs() if beside else None, hits)  # unpickled on use
    del blobs_cached  # the lazy facts' alone: they drop each blob they unpickle, and all of them with themselves
    for p in facts:
        report.diagnostics.extend(fresh[p].diagnostics if p in fresh else summaries[p].diagnostics)
    t = _clock(report.timings, "extract", t)
    report.timings.update({f"extract-cpu:{k}": round(v, 3) for k, v in sorted(family_cpu.items())})

    from docatlas.link import stage as lk
    from docatlas.link.relink import relink

    state, reusable = incremental.reusable_link(cache, out, scanned.diagnostics, facts, before, fresh, previous,
                                                   intact)
    if aside is not None:
        aside.close()  # (a no-op when it answered; else the link stage was not reusable for another reason)
    state_before = state or {}  # (what `relink` started from: the guide's analysis compares its file edges)
    relinked = relink(cfg.name, facts, state, fresh, summaries, before) if state is not None and reusable \
        else None
    if relinked is not None and state is not None:
        model = relinked
        report.link_reused = True
        if "touched" in model.refs_update:  # references and test links followed the edit: store them
            state = {**lk.link_state(model), STORED: cache.stored_parts}  # (only the parts that changed)
    else:
        # With three cores or more, a child resolves the Python files' references beside the C family's. Not on
        # two: there PyTorch's peak memory can fall in the link stage (0.89 GB in three builds, 0.85 GB in render
        # in two others), and the child holds its own copy of each page the build process writes meanwhile
        # (182 MB at its end).
        facts.fill()  # (every file's facts are read: in one pass over the cache; every page's users likewise)
        prefetch_rows(state)
        model = lk.link(cfg.name, facts, state["refs"] if state is not None else None, fresh, summaries,
                        beside=cfg.workers > 2)
        state = lk.link_state(model)
        _drop_references(model, fresh, blobs)
        del facts  # (it held the facts as extracted)
    model.summaries.update(summaries)
    t = _clock(report.timings, "link", t)
    if "seconds" in model.refs_update:  # part of "link": resolving references (`link.references.attach`)
        report.timings["link:references"] = round(model.refs_update["seconds"], 3)

    local = report.link_reused and cache.same_output_options
    # a local render: only the pages the edit can change, the others keep their manifest entries
    plan = incremental.local_plan(model, fresh, old_summaries, out, cache, before, cfg.llms_full) if local \
        else incremental.Plan(all_tasks(model))
    tasks, pages, inputs, stats = plan.tasks, plan.pages, plan.inputs, plan.stats
    cache.mark_dirty()
    # The index rows are written before the render workers fork (or the pages render in this process: written
    # after them, a PyTorch build at one job peaked at 1.09 GB, holding both), and committed after the pages.
    # Not beside the workers: every object the writer reads has its
    # reference count written, which copied over 300 MB of the pages the workers shared with this process on
    # PyTorch (1.5 GB peak). Written first, the extract workers' pickled facts (`blobs`) are in the cache and
    # dropped, and their memory handed back, before the fork (`pool.trim_heap`).
    # After references changed, the index takes the relinked update (test links, stored link state).
    index_local = report.link_reused and "touched" not in model.refs_update
    writer = IndexWrite(cfg, model, cache, fresh, scanned.diagnostics, state, index_local, blobs,
                        readers=isinstance(model.files, LazyFacts) and model.files.reads_cache)
    del blobs  # the writer's, which drops them once stored
    pooled = _pooled(cfg.workers, len(tasks))
    from docatlas.render.bookfacts import keep_counts, keep_views, made_counts, made_views
    from docatlas.render.format import Memo

    # templates compiled by the last build (same code: the cache is usable), and those this process compiles
    compiled = read_templates(cfg.output) if cache.usable else {}
    stored = dict(compiled)
    ready = use_compiled_templates(compiled)  # every template compiled already: warming costs little
    if pooled and (ready or len(tasks) >= WARM_TASKS):
        warm_renderer()
    memo = Memo()
    if cache.usable:  # what the guide read of each file last time, unless the file changed (`render.bookfacts`)
        views = read_guide_views(cfg.output, cache.entries)
        keep_views(memo, {p: v for p, v in views.items() if p not in fresh})
        reuse = incremental.guide_counts(cache, cfg.output, fresh, state_before, model) if local else None
        if reuse is not None:
            keep_counts(memo, reuse)
        if ("keywords", "") in tasks:  # each file's keyword entries likewise (`render.keywords.file_keywords`)
            kept = read_guide_views(cfg.output, cache.entries, "keyword_views")
            memo.kept_keywords.update((p, v[1]) for p, v in kept.items() if p not in fresh)
    render_job = RenderJob(cfg, model, out, frozenset(map(out_folder, model.folders)), memo)
    try:
        model.refs.pack(("incoming",))  # (the facts cache stores the very bytes the render workers read)
        # After an edit, with a pool, the rows are written while the workers render a few pages (`_render`): the
        # writer reads little of the model (the edited files', the relinked parts), so copies little of what the
        # workers share with this process. Otherwise before they fork (above).
        meanwhile = writer.write if local and pooled else None
        if meanwhile is None:
            writer.write()
            # What render workers read of the references, marshalled (`references.Packed`). The parts no page
            # reads (each file's own references, C-family candidates and definitions, name masks) stay: dropped
            # here, they freed nothing this process could hand back (PyTorch: the same 834-837 MB peak PSS) but
            # left free slots across its heap, where the workers' own allocations then landed in pages shared with
            # this process (two full builds each, alternated: 6 to 9 CPU-s more in rendering). (After an edit the
            # workers read a few pages' entries: left as they are.)
            model.refs.pack()
        trim_heap()
        done = _render(tasks, render_job, progress, local=local, meanwhile=meanwhile)
        pages.update(done.pages)
        inputs.update(done.inputs)
        stats.update(done.stats)
        report.written, report.bytes_written = done.written, done.bytes_written
        if done.own_seconds:  # part of "render+write": this process's own tasks (in a full render, after the pool's:
            report.timings["render:own"] = round(done.own_seconds, 3)  # one core busy, the others idle)
        # page-name clashes (DA305) of pages this build did not look at are the last build's
        render_diagnostics = done.diagnostics + [d for d in plan.clashes if d.path not in done.touched]
        render_diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
        report.diagnostics.extend(render_diagnostics)
        t = _clock(report.timings, "render+write", t)
        report.removed = len(out.finish(pages, inputs, stats))
        t = _clock(report.timings, "finish", t)
        writer.commit(pages, render_diagnostics)
        report.diagnostics.extend(writer.failures)
        out.complete()
        incremental.keep_listing(cfg, listing, scanned.listing)
        if pooled and not ready:  # the workers compiled theirs: here too, once, so the next build need not
            compile_templates()
        if compiled != stored:
            write_templates(cfg.output, compiled)
        # what the guide read and counted and the keyword entries made here, for the next build
        if made_views(memo) or made_counts(memo) is not None or memo.made_keywords:
            write_guide(cfg.output, made_views(memo), set(cache.entries) - set(model.files), made_counts(memo),
                        str(cache.start_ns), memo.made_keywords)
    except BaseException:
        _stop_writer(writer)
        raise
    _clock(report.timings, "index", t)  # what the index added after the pages: waiting, commit
    report.timings["index-write"] = round(writer.seconds, 3)  # its rows, written before render
    report.timings["index-write-cpu"] = round(writer.cpu_seconds, 3)  # the same in CPU seconds of its thread
    report.model = model
    report.files = len(model.files)
    report.binary = sum(1 for p in model.files if model.summary(p).binary)
    report.pages = len(pages)
    report.diagnostics.sort(key=lambda d: (d.path, d.line, d.col, d.code))
    report.seconds = round(time.perf_counter() - t0, 3)
    return report


def _stop_writer(writer: IndexWrite) -> None:
    """The build stopped (an error, Ctrl-C, SIGTERM): roll the index back."""
    try:
        writer.abort()
    except Exception as exc:
        log.debug("index rollback: %s", exc)


@dataclass
class Rendered:
    """What rendering the tasks gave: each page's digest and input signature, the page-name clashes, what was
    written, and every page the tasks produced (clashing ones included)."""

    pages: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # (size, mtime_ns) of each page as written
    diagnostics: list[Diagnostic] = field(default_factory=list)
    written: int = 0
    bytes_written: int = 0
    touched: set[str] = field(default_factory=set)
    own_seconds: float = 0.0  # spent on this process's own tasks (`_own_task`), not waiting for the pool


# Tasks that read every file's facts or summaries (`all_tasks`): in a pooled full render they run in this process,
# after the workers are gone. In a worker, each fact read has its reference count written, so the pages it shares
# with this process became its own: on PyTorch the keyword index and the guide each grew a worker by 180-290 MB,
# more than the worker bound (`_RETIRE`) and the tree's peak memory. The root folder's pages are one of them: its
# front page makes the guide's subsystem analysis (`render.book`, memoised per process: made once here instead of
# once in a worker and again here, 0.2 s on PyTorch) and its `sub.md` reads every file's summary. After an edit
# (`local`) none is: the keyword index reads the summaries and only the facts of the few letter pages the edit
# changed, the guide reads the views of files the last build kept (`render.bookfacts`), and this process writes the
# index rows meanwhile (`_render(meanwhile=...)`).
def _own_task(task: tuple[str, str], local: bool = False) -> bool:
    return not local and (task[0] == "book" or task in (("folder", ""), ("keywords", "")))


def _render(tasks: list[tuple[str, str]], job: RenderJob, progress: Progress | None,
            local: bool = False, meanwhile: Callable[[], None] | None = None) -> Rendered:
    """Render and write `tasks`: those that read every file (`_own_task`) in this process after the pool's, once
    its workers are gone (this process reading every fact while they share its pages would copy them); after an
    edit (`local`) all in the pool while this process does `meanwhile` (the index rows: with few pages to make,
    the guide was the last to finish here, 0.2-0.3 s after the write's 0.2 s on PyTorch); without a pool,
    `meanwhile` comes first (`_run`)."""
    from docatlas.render.bookfacts import take_back

    done = Rendered()
    workers = job.cfg.workers
    pooled = _pooled(workers, len(tasks))
    own = [t for t in tasks if _own_task(t, local)] if pooled else []
    rest = [t for t in tasks if not _own_task(t, local)] if own else tasks
    after = functools.partial(_offset_progress, progress, len(rest), len(tasks)) if progress else None
    runs: Iterable[TaskResult] = itertools.chain(
        _run(_render_task, rest, workers, job, "render", progress, fallback=_render_fallback, meanwhile=meanwhile),
        _timed(_run(_render_task, own, 1, job, "render", after, fallback=_render_fallback), done))
    memo = job.memo
    for results, entries, guide in runs:
        if entries:  # (before the tasks this process renders after the pool's: the keyword index reads them)
            memo.made_keywords.update(entries)
            memo.kept_keywords.update((p, blob) for p, (_digest, blob) in entries.items())
        if guide is not None:  # (what a worker's guide made, for this process to save: `write_guide`)
            take_back(memo, guide)
        for rel, d, written, signature, st, error in results:
            done.touched.add(rel)
            if written < 0:
                done.diagnostics.append(dx.PAGE_NAME_TAKEN.at(rel))
                continue
            if error:
                done.diagnostics.append(dx.INTERNAL_ERROR.at(rel, stage="rendering", error=error,
                                                             effect="a page saying so was written"))
            done.pages[rel] = d
            done.stats[rel] = st
            done.inputs[rel] = signature
            done.written += written > 0
            done.bytes_written += written
    return done


def _timed(results: Iterable[TaskResult], done: Rendered) -> Iterator[TaskResult]:
    """`results` (this process's own tasks, made as they are asked for), the time spent making them added to
    `done.own_seconds`."""
    it = iter(results)
    while True:
        start = time.perf_counter()
        try:
            got = next(it)
        except StopIteration:
            return
        done.own_seconds += time.perf_counter() - start
        yield got


def _offset_progress(progress: Progress, before: int, total: int, stage: str, i: int, n: int) -> None:
    """Progress of the tasks that follow `before` others, counted out of the stage's `total`."""
    progress(stage, before + i, total)
