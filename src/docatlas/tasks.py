"""The render tasks: which pages each task makes (`task_pages`), every task of a build (`all_tasks`, longest
first), and the renderer warmed before workers fork. `pipeline` runs them; `incremental.local_tasks` picks
the few an edit can change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from docatlas.config import Config

if TYPE_CHECKING:  # the renderer (and Jinja2) is imported when a task runs: a no-op rebuild must start fast
    from docatlas.link.stage import RepoModel
    from docatlas.render.format import Memo


def task_pages(memo: Memo, model: RepoModel, cfg: Config, kind: str, target: str,
               previous: Mapping[str, str] | None = None) -> list[Any]:
    """The pages (`render.format.Page`) of one render task: a file's two (and the continuation pages of a long
    Code Structure), a folder's three, the repository guide and `llms.txt` (`book`), or the keyword index.
    `memo` is the renderer's memo of this process (`render.format.Memo`); `previous` the keyword pages of the
    last build still on disk, with their input signatures."""
    from docatlas.render.book import book_pages
    from docatlas.render.file import render_file_page, render_kw_page
    from docatlas.render.folder import render_folder_doc, render_folder_index
    from docatlas.render.keywords import render_folder_sub, render_keywords
    from docatlas.render.structure import render_structure_pages

    if kind == "file":
        return [render_file_page(memo, model, cfg, target), render_kw_page(memo, model, target),
                *render_structure_pages(memo, model, target)]
    if kind == "folder":
        return [render_folder_index(model, target, cfg, memo), render_folder_doc(model, target),
                render_folder_sub(memo, model, cfg, target)]
    if kind == "book":
        return book_pages(memo, model, cfg)
    return list(render_keywords(memo, model, cfg, previous).values())


def made_keywords(memo: Memo, model: RepoModel, kind: str, target: str) -> dict[str, tuple[str, bytes]]:
    """The keyword entries (`render.keywords.file_keywords`: path -> (digest, marshalled)) this process made
    since the last call, taken from `memo`; after a file's task, the file's own among them (its anchors are at
    hand), so that the process rendering the keyword index need not make them again."""
    from docatlas.render.keywords import file_keywords

    if kind == "file":
        file_keywords(memo, model, target)
    made = dict(memo.made_keywords)
    memo.made_keywords.clear()
    return made


# Tasks from which the parent warms the renderer before forking even when its templates are not compiled yet
# (below that, as after a one-file edit, each worker compiles the few templates its tasks use, and compiling them
# all here would add 0.3 s of serial time). With the templates compiled by an earlier build it always does.
WARM_TASKS = 256


def use_compiled_templates(compiled: dict[str, bytes]) -> bool:
    """Load templates from and store them into `compiled` (key -> Jinja bytecode, as `store.cache` keeps it
    between builds) instead of compiling them from source (0.3 s per process on every build). Returns whether it
    holds every template already: warming the renderer then costs only loading them."""
    import jinja2

    from docatlas.render.format import env

    version = jinja2.__version__

    class Compiled(jinja2.BytecodeCache):
        """Jinja checks each entry against its template's source and its own bytecode format."""

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            data = compiled.get(f"{version}:{bucket.key}")
            if data is not None:
                bucket.bytecode_from_string(data)

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            compiled[f"{version}:{bucket.key}"] = bucket.bytecode_to_string()

    templates = env()
    cache = templates.bytecode_cache = Compiled()
    loader = templates.loader
    names = templates.list_templates(extensions=["j2"])
    return loader is not None and len(compiled) >= len(names) and all(
        f"{version}:{cache.get_cache_key(n, loader.get_source(templates, n)[1])}" in compiled for n in names)


def warm_renderer() -> None:
    """Import the renderer and compile (or load, `use_compiled_templates`) its templates before the render workers
    fork: each worker, and each fresh one that replaces a worker past its memory bound (`_RETIRE`), inherits them
    instead of spending 0.3 s on them (PyTorch's full build forks a few dozen)."""
    import docatlas.render.book
    import docatlas.render.file
    import docatlas.render.folder
    import docatlas.render.keywords
    import docatlas.render.structure  # noqa: F401 - imported for the workers

    compile_templates()


def compile_templates() -> None:
    """Every template compiled (or loaded) into this process's environment."""
    from docatlas.render.format import env

    templates = env()
    for name in templates.list_templates(extensions=["j2"]):
        templates.get_template(name)


def page_names(task: tuple[str, str]) -> list[str]:
    from docatlas import paths

    kind, target = task
    if kind == "file":
        return [paths.file_page(target), paths.kw_page(target)]
    if kind == "folder":
        return [paths.folder_page(target, n) for n in ("index.md", "doc.md", "sub.md")]
    if kind == "book":
        return ["comprehensive_book.md", "llms.txt"]
    return ["keywords.md"]


def all_tasks(model: RepoModel) -> list[tuple[str, str]]:
    """Every page, longest task first, so that no big task is left running alone at the end: the repo-wide
    keyword pages and guide (which a pooled render runs last, in this process: `_render`), then folders by
    subtree size, then files."""
    tasks: list[tuple[str, str]] = [("keywords", ""), ("book", "")]
    tasks += [("folder", d) for d in sorted(model.folders, key=lambda d: (-len(model.subtree_files(d)), d))]
    tasks += [("file", p) for p in model.files if not model.summary(p).binary]
    return tasks
