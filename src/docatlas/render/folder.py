"""Folder pages: `index.md` (the files and subfolders) and `doc.md` (what the folder is for)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

from docatlas import languages
from docatlas import paths as P
from docatlas.config import Config
from docatlas.link.purpose import first_sentence
from docatlas.link.stage import RepoModel
from docatlas.link.subsystems import folder_purpose
from docatlas.link.views import centrality_band, folder_test_commands, public_api
from docatlas.render.book import front_page
from docatlas.render.diagrams import folder_diagram
from docatlas.render.format import SHOWN_PER_LIST, Memo, Page, make_page


# -- folder pages -------------------------------------------------------------------------------
def _file_description(model: RepoModel, path: str) -> str:
    f = model.files[path]
    if f.binary:
        return f"binary: {f.binary_kind}, {f.size:,} bytes"
    purpose = model.purposes[path]
    desc = first_sentence(f.docstring, 157) if f.docstring else purpose.reason  # a title or summary
    if f.diagnostics and not f.parse_ok:
        failed = f"could not be analysed: {f.diagnostics[0].code}"
        desc = f"{desc} ({failed})" if desc else failed[0].upper() + failed[1:]
    return desc if len(desc) <= 160 else desc[:157].rsplit(" ", 1)[0] + " …"


def render_folder_index(model: RepoModel, folder: str, cfg: Config | None = None, memo: Memo | None = None) -> Page:
    """A folder's `index.md`; the root's (with `cfg`) is the front page, which starts with the repository
    guide, the top-level folders' purposes and shares of the code, and the entry points."""
    page = P.folder_page(folder, "index.md")
    fold = model.folders[folder]
    rows = []
    for path in fold.files:
        f = model.files[path]
        name = PurePosixPath(path).name
        rows.append({
            "name": name, "src": P.url_quote(P.source_link(page, path)), "desc": _file_description(model, path),
            "doc": "" if f.binary else P.url_quote(P.rel(page, P.file_page(path))),
            "kw": "" if f.binary else P.url_quote(P.rel(page, P.kw_page(path))),
            "doc_name": f"{name}_docs.md", "kw_name": f"{name}_kw.md",
        })
    subs = [{"name": s.rsplit("/", 1)[-1], "link": P.url_quote(P.rel(page, P.folder_page(s, "index.md"))),
             "files": len(model.subtree_files(s)), "purpose": _purpose_text(model, page, s)} for s in fold.subfolders]
    parent = P.folder_of(folder) if folder else None
    total = len(model.files)
    langs: Counter[str] = Counter()
    if not folder:  # the front page counts the whole repository by type
        langs.update(_type_name(model, p) for p in model.files)
    return make_page(
        page, "folder_index.md.j2", folder=folder, root=not folder, project=model.name, rows=rows, subs=subs,
        parent_link=P.url_quote(P.rel(page, P.folder_page(parent, "index.md"))) if parent is not None else "",
        doc_link="./doc.md", sub_link="./sub.md", kw_link=P.url_quote(P.rel(page, "keywords.md")),
        subtree=len(model.subtree_files(folder)), total=total,
        languages=sorted(langs.items(), key=lambda kv: (-kv[1], kv[0])),
        front=front_page(memo or Memo(), model, cfg) if not folder and cfg is not None else {},
    )


def _purpose_text(model: RepoModel, page: str, folder: str) -> str:
    """A subfolder's one-line purpose for a list, with a link to the file it comes from."""
    text, src = folder_purpose(model, folder)
    if not src:
        return text
    return f"{text} ([{src.rsplit('/', 1)[-1]}]({P.url_quote(P.rel(page, P.file_page(src)))}))"


def _type_name(model: RepoModel, path: str) -> str:
    summary = model.summary(path)
    return "Binary" if summary.binary else languages.get(summary.language).type_name


def _subtree_symbols(model: RepoModel, files: Iterable[str]) -> Counter[str]:
    kinds: Counter[str] = Counter()
    for p in files:
        for group, n in model.summary(p).groups:
            kinds[group] += n
    return kinds


def _one_line(model: RepoModel, path: str) -> str:
    """A file's one-line summary: the first sentence of its docstring, else its purpose with the evidence."""
    text = model.files[path].docstring
    if not text:
        return _file_description(model, path)
    return first_sentence(text, 157)



def render_folder_doc(model: RepoModel, folder: str) -> Page:
    page = P.folder_page(folder, "doc.md")
    fold = model.folders[folder]
    files = model.subtree_files(folder)
    direct = fold.files
    purposes = Counter(model.purposes[p].label for p in files)
    langs = Counter(_type_name(model, p) for p in files)
    init = f"{folder}/__init__.py" if folder else "__init__.py"
    package = model.module_of.get(init, "")
    exports, api_source = public_api(model, init) if package else ([], "")
    # importance: PageRank over the import/include graph (the link stage's evidence), then size
    documented = [p for p in files if not model.summary(p).binary]
    ranked = sorted(documented, key=lambda p: (-model.rank.get(p, 0.0), -model.summary(p).lines, p))
    key_files = []
    for p in ranked[:10]:
        key_files.append({"name": p[len(folder) + 1:] if folder else p,
                          "link": P.url_quote(P.rel(page, P.file_page(p))),
                          "importers": len(model.imported_by.get(p, [])), "lines": model.files[p].lines,
                          "centrality": centrality_band(model, p), "purpose": model.purposes[p].label,
                          "desc": _one_line(model, p)})
    concepts: list[dict[str, Any]] = []
    for p in direct:
        used = model.refs.use_counts.get(p, {})  # (the uses of each definition from other files)
        for s in model.files[p].symbols:
            if not s.parent and s.kind in ("class", "namespace", "struct", "interface", "trait", "enum") \
                    and not s.name.startswith("_"):
                concepts.append({"name": s.name, "kind": s.kind, "summary": s.summary,
                                 "link": P.url_quote(P.rel(page, P.file_page(p))) + "#" + P.anchor(s.qualname),
                                 "file": PurePosixPath(p).name, "rank": model.rank.get(p, 0.0),
                                 "uses": used.get(s.qualname, 0)})
    concepts.sort(key=lambda c: (-c["uses"], -c["rank"], c["name"].lower(), c["file"]))
    concepts_total = len(concepts)
    concepts = concepts[:SHOWN_PER_LIST]
    tests_here = [p for p in files if model.purposes[p].label == "test"]
    n_tests = sum(model.summary(p).tests for p in tests_here)
    prefix = folder + "/" if folder else ""
    testers = sorted({tl.test for p in files for tl in model.tested_by.get(p, [])
                      if not tl.test.startswith(prefix)}) if folder else []
    testers = model.by_rank(testers)
    commands, no_command = folder_test_commands(model, folder, tests_here)
    structure = [{"name": s.rsplit("/", 1)[-1], "files": len(model.subtree_files(s)),
                  "link": P.url_quote(P.rel(page, P.folder_page(s, "doc.md"))),
                  "purpose": _purpose_text(model, page, s)} for s in fold.subfolders]
    module_count = sum(1 for p in files if p in model.module_of)
    diagram = folder_diagram(folder, {s: len(model.subtree_files(s)) for s in fold.subfolders},
                             {("" if f == "(root)" else f): n for f, n in model.folder_uses.get(folder, [])}
                             if folder else {})
    return make_page(
        page, "folder_doc.md.j2", folder=folder, project=model.name, files=files, direct=direct,
        purposes=sorted(purposes.items(), key=lambda kv: (-kv[1], kv[0])),
        languages=sorted(langs.items(), key=lambda kv: (-kv[1], kv[0])), package=package, exports=exports,
        api_source=api_source, module_count=module_count,
        key_files=key_files, ranked_total=len(documented),
        concepts=concepts, concepts_total=concepts_total, tests_here=len(tests_here), n_tests=n_tests,
        testers=[{"path": t, "link": P.url_quote(P.rel(page, P.file_page(t)))} for t in testers[:SHOWN_PER_LIST]],
        testers_total=len(testers),
        uses=model.folder_uses.get(folder, [])[:SHOWN_PER_LIST] if folder else [],
        uses_total=len(model.folder_uses.get(folder, [])) if folder else 0,
        used_by=model.folder_used_by.get(folder, [])[:SHOWN_PER_LIST] if folder else [],
        used_by_total=len(model.folder_used_by.get(folder, [])) if folder else 0,
        structure=structure, symbol_kinds=sorted(_subtree_symbols(model, files).items()),
        index_link="./index.md", sub_link="./sub.md", shown_per_list=SHOWN_PER_LIST,
        parent_doc=P.url_quote(P.rel(page, P.folder_page(P.folder_of(folder), "doc.md"))) if folder else "",
        test_commands=commands, tests_without_command=no_command,
        diagram=diagram.markdown() if diagram else "",
    )


