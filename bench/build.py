"""Build benchmark: full build, no-op rebuild and one-file-edit rebuilds of a corpus, with ctags as yardstick.

    python bench/build.py pytorch-1.13.1 [--jobs 2] [--repeat 3] [--keep] [--refs-off]

The corpus (from ../shared/corpora/fetch, in $DOCATLAS_CORPORA or ~/.cache/docatlas-corpora) is copied to a
temporary folder first, so edits never touch the cache. Every figure is measured in this one run, side by
side, because this machine is shared and noisy: compare ratios, not absolute seconds across runs. Reports
wall time, user+sys CPU of the whole process tree (and each apart), peak RSS summed over the process tree (sampled from
/proc every 20 ms; it counts pages that forked workers share with the parent once per process), peak PSS
summed over the tree (shared pages divided among their sharers: what the tree really holds), pages and MB
written, and docatlas's own per-stage timings. Peak PSS is also given for the build process alone and for its
workers together (each its own peak, so the two need not add up to the tree's), and, for the tree's peak,
when it came (the stage, from the build's own timings) and how it split between the build process and its
workers at that moment. Sampling memory slows what it measures (reading smaps_rollup walks every process's
page tables): take times and ratios from a run with `--no-memory`, peaks from one without.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CORPORA = Path(os.environ.get("DOCATLAS_CORPORA", Path.home() / ".cache" / "docatlas-corpora"))


def _children(pid: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    fields = fh.read().rsplit(b")", 1)[1].split()
                kids.setdefault(int(fields[1]), []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _proc_kb(path: str, key: str) -> int:
    """A `key: N kB` figure from a /proc file; 0 when the process is gone."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (a forked worker's copy-on-write view of the parent's model) counted
    once across the processes that share them, so the tree's sum is the memory it really holds."""
    return _proc_kb(f"/proc/{pid}/smaps_rollup", "Pss:")


def _rss_kb(pid: int) -> int:
    return _proc_kb(f"/proc/{pid}/status", "VmRSS:")


# The commands run as an installed docatlas runs: with its modules' bytecode cached. A shell with
# PYTHONDONTWRITEBYTECODE set (as some sandboxes are) makes every run compile them all from source again:
# 0.02-0.08 s of a PyTorch edit rebuild here (3 runs each, alternated) that no installed copy spends.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run(cmd: list[str], sample: bool = True) -> dict[str, float]:
    """Run a command; wall, user+sys CPU of all its descendants, and the peak summed RSS of its tree (not
    sampled when `sample` is False: reading every process's smaps_rollup every 20 ms slows what it measures)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_ENV)
    peak = peak_pss = peak_parent = peak_kids = 0
    at_peak = (0.0, 0, 0)  # (seconds since the start, the build process's PSS, its workers') at the tree's peak
    done = threading.Event()

    def sample_tree() -> None:
        nonlocal peak, peak_pss, peak_parent, peak_kids, at_peak
        while not done.is_set():
            tree = _children(proc.pid)
            peak = max(peak, sum(_rss_kb(p) for p in tree))
            pss = {p: _pss_kb(p) for p in tree}
            if sum(pss.values()) > peak_pss:
                peak_pss = sum(pss.values())
                at_peak = (time.perf_counter() - start, pss.get(proc.pid, 0), peak_pss - pss.get(proc.pid, 0))
            # the build process (the tree's root) apart from its workers, for where the memory is
            peak_parent = max(peak_parent, pss.get(proc.pid, 0))
            peak_kids = max(peak_kids, sum(v for p, v in pss.items() if p != proc.pid))
            done.wait(0.02)

    sampler = threading.Thread(target=sample_tree, daemon=True)
    if sample:
        sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    if sample:
        sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):  # 1: some input files had diagnostics
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode(errors='replace')[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "user": after.ru_utime - before.ru_utime, "sys": after.ru_stime - before.ru_stime,
            "peak_mb": peak / 1024, "peak_pss_mb": peak_pss / 1024,
            "parent_pss_mb": peak_parent / 1024, "workers_pss_mb": peak_kids / 1024,
            "peak_at_s": at_peak[0], "wall_to_end": wall, "parent_at_peak_mb": at_peak[1] / 1024,
            "workers_at_peak_mb": at_peak[2] / 1024, "da306": float(err.count(b": DA306 "))}


# `--refs-off`: the same build with symbol references switched off, for their cost in the same run: the
# extractors record no uses or bindings (nor match them: `crefs.query_patterns` rides on the C-family query) and
# the link stage resolves none (test links come from imports alone).
REFS_OFF = """
import sys
from docatlas.extract import crefs, pyrefs
from docatlas.link import references
pyrefs.collect = lambda *args, **kwargs: ((), ())
crefs.collect = lambda *args, **kwargs: None
crefs.query_patterns = lambda grammar: ""  # (the C-family walk then matches no use either)
references.attach = lambda *args, **kwargs: None
from docatlas.cli import main
sys.exit(main(sys.argv[1:]))
"""


def compile_docatlas() -> None:
    """Compile docatlas's bytecode, as installing a package does. An interpreter told not to write bytecode
    (PYTHONDONTWRITEBYTECODE, set on this machine) after a change to docatlas compiled its modules again in every
    timed build: 0.11 CPU-s of a PyTorch edit rebuild, that users never pay."""
    spec = importlib.util.find_spec("docatlas")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        compileall.compile_dir(folder, quiet=1)


def code_now() -> str:
    """docatlas's code fingerprint as its files are now (`fingerprint.code_fingerprint` caches the first): a
    source file edited while the bench runs changes it, and the next build is a full one, whatever it was meant to
    measure (a "no-op" of 61 s)."""
    from docatlas.fingerprint import code_fingerprint

    return str(code_fingerprint.__wrapped__())


def docatlas(repo: Path, out: Path, jobs: int, report: Path, extra: list[str],
             refs_off: bool = False, sample: bool = True) -> dict[str, float]:
    start = ["-c", REFS_OFF] if refs_off else ["-m", "docatlas"]
    cmd = [sys.executable, *start, "build", str(repo), "-o", str(out), "-j", str(jobs), "-q",
           "--report-json", str(report), *extra]
    figures = run(cmd, sample)
    data = json.loads(report.read_text())
    figures.update(files=data["files"], pages=data["pages"], written=data["written"],
                   mb_written=data["bytes_written"] / 1e6, link_reused=float(data.get("link_reused", False)))
    figures.update({f"stage:{k}": v for k, v in data["timings"].items()})
    figures["peak_stage"] = float(_stage_at(figures["peak_at_s"], figures["wall_to_end"], data))
    return figures


# the stages of docatlas's report, in order (`pipeline`), to say in which one the tree's peak fell
STAGES = ("start", "scan", "cache", "extract", "link", "render+write", "finish", "index", "exit")


def _stage_at(when: float, wall: float, data: dict[str, Any]) -> int:
    """Index in STAGES of the stage running `when` seconds into a build of `wall` seconds: its report's
    timings, laid end to end from when the build began (`seconds` before its end; the interpreter's start
    and exit lie outside)."""
    t = wall - float(data["seconds"])
    if when < t:
        return 0
    for i, stage in enumerate(STAGES[1:-1], 1):
        t += float(data["timings"].get(stage, 0.0))
        if when <= t:
            return i
    return len(STAGES) - 1


# What each kind of edit appends to the first file (sorted) of each suffix. A comment keeps every file's link
# inputs (docatlas reuses the link stage and renders only the pages the edit can change), and so does a new
# Python function; a new C function with external linkage is a link input (declarations pair with definitions
# across files: everything is linked again). An import of an outside module, an include of an outside header
# and a new test case change link inputs but no edge of the dependency graph (`link.reach`: the link stage is
# still reused); an import of another repository file would link again.
EDITS = {
    "comment": {".py": "# docatlas bench edit\n", ".cu": "// docatlas bench edit\n"},
    "function": {".py": "\n\ndef docatlas_bench_edit():\n    return 1\n",
                 ".cu": "\nint docatlas_bench_edit() { return 1; }\n"},
    "import": {".py": "import docatlas_bench_edit\n", ".cu": "#include <docatlas_bench_edit.h>\n"},
    # a test case appended to the first Python test file (`test_*.py`, sorted): its page, its test links
    "test": {"test_*.py": "\n\ndef test_docatlas_bench_edit():\n    assert True\n"},
}


def touch_edit(repo: Path, suffixes: tuple[str, ...], kind: str = "comment") -> list[str]:
    """Append a line to the first file (sorted) of each suffix: a real content change."""
    edited = []
    for suffix in suffixes:
        pattern = suffix if "*" in suffix else f"*{suffix}"
        path = next((p for p in sorted(repo.rglob(pattern)) if p.is_file() and not p.is_symlink()), None)
        if path is None:
            continue
        with path.open("a", encoding="utf-8") as fh:
            fh.write(EDITS[kind][suffix])
        edited.append(path.relative_to(repo).as_posix())
    return edited


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help="corpus name under $DOCATLAS_CORPORA, or a path")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; medians are printed")
    ap.add_argument("--extra", default="", help="extra docatlas build options, space separated")
    ap.add_argument("--no-ctags", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy and output")
    ap.add_argument("--full-only", action="store_true", help="only the full build (no rebuilds, no ctags)")
    ap.add_argument("--refs-off", action="store_true",
                    help="also a full build with symbol references switched off (their cost, same run)")
    ap.add_argument("--no-memory", action="store_true",
                    help="no memory sampling: reading each process's /proc/PID/smaps_rollup every 20 ms slows the "
                         "build it measures (PyTorch full build, 2 cores: 118.5 CPU-s and 85.8 s sampled, 86.9 "
                         "and 54.5 s not); take times from a run with this flag, memory from one without")
    args = ap.parse_args()
    src = Path(args.corpus) if Path(args.corpus).is_dir() else CORPORA / args.corpus
    if not src.is_dir():
        sys.exit(f"corpus not found: {src} (run ../shared/corpora/fetch {args.corpus})")
    compile_docatlas()
    code = code_now()
    tmp = Path(tempfile.mkdtemp(prefix="docatlas-bench-"))
    repo = tmp / src.name
    shutil.copytree(src, repo, symlinks=True)
    extra = args.extra.split()
    sample = not args.no_memory
    rows: dict[str, list[dict[str, float]]] = {"full build": [], "no-op rebuild": [], "edit .py+.cu rebuild": [],
                                               "function .py+.cu rebuild": [], "import .py+.cu rebuild": [],
                                               "test case .py rebuild": []}
    ctags: list[dict[str, float]] = []
    edited: list[str] = []
    try:
        for i in range(args.repeat):
            out = tmp / f"out{i}"
            report = tmp / f"report{i}.json"
            rows["full build"].append(docatlas(repo, out, args.jobs, report, extra, sample=sample))
            if args.refs_off:
                rows.setdefault("full build, refs off", []).append(
                    docatlas(repo, tmp / f"off{i}", args.jobs, report, extra, refs_off=True, sample=sample))
                shutil.rmtree(tmp / f"off{i}")
            if args.full_only:
                shutil.rmtree(out)
                continue
            rows["no-op rebuild"].append(docatlas(repo, out, args.jobs, report, extra, sample=sample))
            edited = touch_edit(repo, (".py", ".cu"))
            rows["edit .py+.cu rebuild"].append(docatlas(repo, out, args.jobs, report, extra, sample=sample))
            touch_edit(repo, (".py", ".cu"), "function")
            rows["function .py+.cu rebuild"].append(docatlas(repo, out, args.jobs, report, extra, sample=sample))
            touch_edit(repo, (".py", ".cu"), "import")
            rows["import .py+.cu rebuild"].append(docatlas(repo, out, args.jobs, report, extra, sample=sample))
            touch_edit(repo, ("test_*.py",), "test")
            rows["test case .py rebuild"].append(docatlas(repo, out, args.jobs, report, extra, sample=sample))
            if not args.no_ctags and shutil.which("ctags"):
                ctags.append(run(["ctags", "-R", "-f", str(tmp / "tags"), str(repo)], sample))
            if not args.keep:
                shutil.rmtree(out)
            if code_now() != code:
                sys.exit("docatlas's code changed while the bench ran: its builds measured two versions (run the "
                         "bench from a copy of the code, PYTHONPATH=COPY/src)")
        print(f"corpus {src.name}: {sum(1 for _ in repo.rglob('*'))} paths; jobs={args.jobs}; "
              f"medians of {args.repeat} runs; edited {', '.join(edited) or 'nothing'}")
        keys = ["wall", "cpu", "user", "sys", "peak_mb", "peak_pss_mb", "parent_pss_mb", "workers_pss_mb", "pages",
                "written", "mb_written"]
        print(f"{'measurement':<24}" + "".join(f"{k:>15}" for k in keys))
        medians: dict[str, dict[str, float]] = {}
        for name, runs in [*((k, v) for k, v in rows.items() if v), *([("ctags -R", ctags)] if ctags else [])]:
            med = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in runs[0]}
            medians[name] = med
            print(f"{name:<24}" + "".join(f"{med.get(k, 0.0):>15.2f}" for k in keys))
        print("\neach run's wall time (s), in run order, and pages that failed to render (DA306) where any did:")
        for name, runs in [*((k, v) for k, v in rows.items() if v), *([("ctags -R", ctags)] if ctags else [])]:
            failed = [int(r.get("da306", 0)) for r in runs]
            print(f"  {name:<24} " + ", ".join(f"{r['wall']:.2f}" for r in runs)
                  + (f"; DA306 {', '.join(map(str, failed))}" if any(failed) else ""))
        print("\nthe tree's peak PSS (first run of each): when, and the build process's and its workers' shares then"
              if sample else "\nmemory not sampled (--no-memory)")
        for name, runs in rows.items():
            if runs and sample:
                r = runs[0]
                print(f"  {name:<24} {r['peak_pss_mb']:7.0f} MB at {r['peak_at_s']:6.1f} s of {r['wall']:6.1f} "
                      f"({STAGES[int(r['peak_stage'])]}): build process {r['parent_at_peak_mb']:.0f} MB, "
                      f"workers {r['workers_at_peak_mb']:.0f} MB")
        full = medians["full build"]
        if "full build, refs off" in medians:
            off = medians["full build, refs off"]
            print(f"symbol references add {full['cpu'] / off['cpu'] - 1:.1%} CPU, {full['wall'] / off['wall'] - 1:.1%} "
                  f"wall, {full['peak_pss_mb'] - off['peak_pss_mb']:.0f} MB peak PSS to the full build; "
                  f"{full['user'] / off['user'] - 1:.1%} user CPU, {full['sys'] / off['sys'] - 1:.1%} system CPU "
                  f"(system time, page faults mostly, varies most between runs on a virtual machine)")
        stages = sorted(k for k in full if k.startswith("stage:"))
        print("\nper stage (s, median): " + ", ".join(f"{k[6:]} {full[k]:.2f}" for k in stages))
        rebuilds = () if args.full_only else ("no-op rebuild", "edit .py+.cu rebuild", "function .py+.cu rebuild",
                                              "import .py+.cu rebuild", "test case .py rebuild")
        for name in rebuilds:
            reused = statistics.mean(r.get("link_reused", 0.0) for r in rows[name])
            print(f"{name}: {medians[name]['wall'] / full['wall']:.1%} of the full build"
                  + (f"; link stage reused in {reused:.0%} of runs" if name != "no-op rebuild" else ""))
        for name in rebuilds[1:]:
            med = medians[name]
            stages = [k for k in sorted(med) if k.startswith("stage:") and ":" not in k[6:]]
            print(f"{name} per stage (s, median): " + ", ".join(f"{k[6:]} {med[k]:.2f}" for k in stages))
        if ctags:
            print(f"full build / ctags -R: {full['wall'] / medians['ctags -R']['wall']:.2f}x")
        print(f"files/s (full build): {full['files'] / full['wall']:.0f}")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
