"""The `docatlas` command: a thin layer over the library. Only this module prints.

Exit codes, as Sphinx -W and mkdocs --strict have them: 0 every page was built (diagnostics, if any, are
listed and counted in the summary); 1 with `--strict`, when there were diagnostics (and for `search`/`show`,
nothing found); 2 the run could not be done (bad options, an unsafe or unwritable output folder, a full disk,
another build holding the folder with `--no-wait`); 3 an internal error (a bug in docatlas: the traceback is
printed); 130/143 interrupted by SIGINT/SIGTERM (the last good output is kept and the next build resumes).
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import logging
import os
import signal
import sqlite3
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from docatlas import __version__
from docatlas.commands import COMMANDS
from docatlas.config import DEFAULT_OUTPUT, EMBED_MODES, make_config
from docatlas.errors import DocatlasError
from docatlas.pipeline import BuildReport, Progress, build
from docatlas.safetext import terminal

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_FATAL, EXIT_INTERNAL = 0, 1, 2, 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="docatlas")
def cli() -> None:
    """Accurate, navigable documentation for any source repository."""


@cli.command("build")
@click.argument("repo", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Output folder [default: REPO/{DEFAULT_OUTPUT}, or `output` in [tool.docatlas]].")
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=None,
              help="Worker processes for extraction and rendering; 0 (the default) uses every core, 1 runs "
                   "everything in this process.")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files matching this gitignore-style pattern (repeatable).")
@click.option("--embed-source", type=click.Choice(EMBED_MODES), default=None,
              help="Embed each file's source in full (cut with a notice past --max-embed-bytes), its head, "
                   "or not at all [default: full].")
@click.option("--max-embed-bytes", type=click.IntRange(min=1), default=None,
              help="Largest source embedded in full; a larger one embeds its first head_lines lines (30 by "
                   "default) within it and links the whole file [default: 3000].")
@click.option("--max-file-bytes", type=click.IntRange(min=1), default=None,
              help="Larger files are listed but not read [default: 8000000].")
@click.option("--name", "project_name", default=None,
              help="Project name used in headings [default: `[project] name` of the repository's "
                   "pyproject.toml, else the folder name].")
@click.option("--force", is_flag=True, default=None,
              help="Write into a non-empty folder that docatlas did not create.")
@click.option("--full", is_flag=True, default=None,
              help="Ignore the cached facts and the previous index: analyse and index every file again.")
@click.option("--strict", is_flag=True, default=None,
              help="Exit with 1 when any file produced a diagnostic (as Sphinx -W, mkdocs --strict).")
@click.option("--no-wait", is_flag=True, default=None,
              help="When another build is writing the output folder, exit with 2 instead of waiting.")
@click.option("--llms-full", is_flag=True, default=None,
              help="Also write llms-full.txt: the repository guide and the key files' pages.")
@click.option("--llms-full-bytes", type=click.IntRange(min=1), default=None,
              help="Most bytes llms-full.txt may hold [default: 1000000].")
@click.option("-q", "--quiet", is_flag=True, help="Print only the diagnostics: no progress bar and no summary.")
@click.option("-v", "--verbose", is_flag=True, help="Print the tracebacks of internal errors, also of one file's.")
@click.option("--report-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the run's figures (counts, per-stage seconds) as JSON to this file.")
def build_cmd(repo: Path, output: Path | None, quiet: bool, verbose: bool, report_json: Path | None,
              **options: Any) -> BuildReport:
    """Document the repository REPO (default: the current folder)."""
    if verbose:
        logging.basicConfig(level=logging.DEBUG, format="docatlas: %(message)s")
        logging.getLogger("docatlas").setLevel(logging.DEBUG)
    cfg = make_config(repo, output, **options)
    report = _with_progress(cfg, quiet)
    if report_json is not None:
        try:
            report_json.write_text(json.dumps(report.summary(), indent=1, sort_keys=True) + "\n",
                                   encoding="utf-8")
        except OSError as exc:
            raise DocatlasError(f"cannot write {report_json}: {exc.strerror or exc}") from exc
    for d in report.diagnostics:
        click.echo(terminal(str(d)), err=True)
    for w in report.warnings:
        click.echo(f"docatlas: warning: {terminal(w)}", err=True)
    if not quiet:
        _summary(report)
    return report  # `_invoke` turns it into the exit code; `run` keeps it alive until the process ends


for _command in COMMANDS:  # search, show, export, stats: queries over the index that build writes
    cli.add_command(_command)


def _site_paths(repo: Path, output: Path | None) -> tuple[Path, Path | None]:
    """The output folder holding the index, and the repository when given (else the index's root)."""
    out = output.resolve() if output is not None else make_config(repo).output
    return out, (repo if repo != Path(".") else None)


_REPO = click.option("--repo", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                     show_default=True, help="The documented repository (sources are read from it).")
_OUT = click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path), default=None,
                    help=f"The folder `build` wrote [default: REPO/{DEFAULT_OUTPUT}].")


@cli.command("serve")
@_REPO
@_OUT
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (only this machine by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 picks a free port.")
@click.option("--open", "open_browser", is_flag=True, help="Open the front page in a browser.")
def serve_cmd(repo: Path, output: Path | None, host: str, port: int, open_browser: bool) -> None:
    """Browse the built documentation as a local read-only website, with search, sources and diagrams."""
    from docatlas.serve.app import App
    from docatlas.serve.http import DocServer
    from docatlas.serve.site import Site

    out, repo_root = _site_paths(repo, output)
    try:
        server = DocServer(App(Site(out, repo_root)), host, port)
    except OSError as exc:
        raise DocatlasError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    click.echo(f"docatlas: serving {out} at {server.url} (Ctrl-C stops)", err=True)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@cli.command("site")
@_REPO
@click.option("-i", "--index-output", "output", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"The folder `build` wrote [default: REPO/{DEFAULT_OUTPUT}].")
@click.option("-o", "--out", "dest", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Where to write the static site (new, empty, or an earlier export).")
@click.option("--force", is_flag=True, help="Write into a non-empty folder that `docatlas site` did not make.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1, show_default="all cores",
              help="Worker processes.")
def site_cmd(repo: Path, output: Path | None, dest: Path, force: bool, jobs: int) -> None:
    """Export the documentation as a static website (HTML, sources, sharded search index)."""
    from docatlas.serve.export import export_site
    from docatlas.serve.site import Site

    out, repo_root = _site_paths(repo, output)
    report = export_site(Site(out, repo_root), dest, force=force, jobs=jobs)
    click.echo(f"docatlas: {report.pages} pages, {report.sources} sources, search index of {report.entries:,} "
               f"entries in {report.shards} shards (largest {report.shard_bytes_max:,} bytes) -> {dest}", err=True)


@cli.command("mcp")
@_REPO
@_OUT
def mcp_cmd(repo: Path, output: Path | None) -> None:
    """A Model Context Protocol server over stdio: the index as tools for coding agents."""
    from docatlas.agent.server import run_stdio

    out, repo_root = _site_paths(repo, output)
    run_stdio(out, repo_root)


PROGRESS_SECONDS = 5.0  # a progress line this often when stderr is not a terminal (CI logs), as pip and cargo


def _with_progress(cfg: Any, quiet: bool) -> BuildReport:
    if quiet:
        return build(cfg)
    if not sys.stderr.isatty():
        every = float(os.environ.get("DOCATLAS_PROGRESS_SECONDS") or PROGRESS_SECONDS)
        last = [time.monotonic()]

        def line(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= every:
                last[0] = now
                click.echo(f"docatlas: {stage} {done:,}/{total:,}", err=True)

        return build(cfg, line)
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(TextColumn("{task.description:>8}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
             transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        progress: Progress = update
        return build(cfg, progress)


def _summary(report: BuildReport) -> None:
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items() if ":" not in k)  # CPU per family: JSON
    if report.link_reused:  # say why a rebuild looked at so few pages
        stages = stages.replace("link ", "link (reused) ", 1)
    n = len(report.diagnostics)
    codes: dict[str, int] = {}
    for d in report.diagnostics:
        codes[d.code] = codes.get(d.code, 0) + 1
    by_code = f" ({', '.join(f'{k} {v}' for k, v in sorted(codes.items()))})" if codes else ""
    click.echo(
        f"docatlas: {report.files} files ({report.binary} binary), {report.pages} pages "
        f"({report.written} written, {report.removed} removed), {n} diagnostic{'s' if n != 1 else ''}{by_code}, "
        f"{report.seconds:.2f}s [{stages}] -> {terminal(report.output)}",
        err=True,
    )


def run() -> NoReturn:
    """The `docatlas` command: `main`, then exit without tearing down what the process built.

    The build's report holds its model (millions of small objects): `run` keeps it alive until `os._exit`
    rather than freeing it object by object (a quarter second on PyTorch). `main`, called in-process (tests,
    other programs), frees it."""
    # Nor is it collected: once `build` turns the cyclic collector back on, its first full pass over the
    # model's objects took 0.2 s on PyTorch, for a process about to end. Cycles left uncollected die with it.
    gc.disable()
    code, _kept = _invoke(None)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or EXIT_FATAL
    with _suppress_os_errors():
        sys.stderr.flush()
    os._exit(code)  # `_kept`, the build's report, is still referenced here: it is never freed


class Interrupted(BaseException):
    """SIGTERM (or SIGINT) arrived: the build stops, rolls the index back and exits 128 + the signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum: int, _frame: Any) -> None:
    raise Interrupted(signum)


class _suppress_os_errors:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        return isinstance(exc, OSError)


# Errors of the environment, not of docatlas: one line and exit 2 (the traceback only with -v).
_USER_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR,
                errno.EISDIR, errno.ENAMETOOLONG, errno.EPIPE, errno.EEXIST, errno.EIO, errno.EMFILE}
_SQLITE_USER = ("disk is full", "disk i/o error", "readonly", "unable to open", "locked")


def _one_line(message: str) -> int:
    with _suppress_os_errors():
        click.echo(f"docatlas: error: {terminal(message)}", err=True)
    if logging.getLogger("docatlas").isEnabledFor(logging.DEBUG):
        traceback.print_exc()
    return EXIT_FATAL


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (never calls sys.exit itself)."""
    return _invoke(argv)[0]


def _invoke(argv: Sequence[str] | None) -> tuple[int, Any]:
    """The exit code, and what the command returned (a build's report)."""
    handler = None
    with contextlib.suppress(ValueError):  # only the main thread may set handlers (tests call main from others)
        handler = signal.signal(signal.SIGTERM, _on_signal)
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="docatlas",
                          standalone_mode=False)
    except SystemExit as exc:
        if type(sys.stdout).__name__ == "_PacifyFlushWrapper":  # click's answer to EPIPE: exit 1, silently
            return _one_line("output closed early (broken pipe)"), None
        return (int(exc.code or 0) if not isinstance(exc.code, str) else EXIT_FATAL), None
    except DocatlasError as exc:
        return _one_line(str(exc)), None
    except (KeyboardInterrupt, click.exceptions.Abort, Interrupted) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        name = signal.Signals(signum).name
        with _suppress_os_errors():
            click.echo(f"docatlas: interrupted ({name}); the output folder keeps its last good pages and the "
                       f"next build resumes", err=True)
        return 128 + signum, None
    except click.ClickException as exc:
        exc.show()
        return EXIT_FATAL, None
    except BrokenPipeError:
        with _suppress_os_errors():  # the reader went away (`| head`): nothing more to say to it
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - so that the final flush cannot fail again
        return _one_line("output closed early (broken pipe)"), None
    except OSError as exc:
        if exc.errno not in _USER_ERRNOS:
            return _internal(), None
        where = f": {exc.filename}" if exc.filename else ""
        return _one_line(f"{exc.strerror or exc}{where}"), None
    except sqlite3.OperationalError as exc:
        if not any(s in str(exc).lower() for s in _SQLITE_USER):
            return _internal(), None
        return _one_line(f"the index cannot be written: {exc}"), None
    except Exception:  # a bug, not bad input: say so distinctly from exit code 1
        return _internal(), None
    finally:
        if handler is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, handler)
    if isinstance(result, BuildReport):
        return (EXIT_DIAGNOSTICS if result.diagnostics and result.strict else EXIT_OK), result
    if isinstance(result, int):  # --help, --version: click's own exit code
        return result, None
    return EXIT_OK, None


def _internal() -> int:
    traceback.print_exc()
    click.echo("docatlas: internal error (exit 3); please report it with the traceback above", err=True)
    return EXIT_INTERNAL
