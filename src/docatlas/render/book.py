"""The repository guide (`comprehensive_book.md`), `llms.txt` and `llms-full.txt`: pages that read the whole
repository from start to end, made from `link.subsystems` and linking every statement to its evidence."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from docatlas import paths as P
from docatlas.config import Config
from docatlas.link.packaging import EntryPoint, Packaging, kept_entry_points, packaging
from docatlas.link.stage import RepoModel
from docatlas.link.subsystems import (
    LIGHT_EDGE,
    MIN_RANK_SHARE,
    MIN_SHARE,
    Analysis,
    Subsystem,
    analyse,
    first_sentence,
    pct,
    readme_paragraphs,
    readme_title,
)
from docatlas.link.views import centrality_band, folder_test_commands, public_api
from docatlas.render.bookfacts import GLOSSARY_KINDS, REUSE, TYPE_KINDS, first_by_rank, guide_file
from docatlas.render.format import Memo, Page, code, counted, make_page, path_code
from docatlas.safetext import md_inline, prose_page
from docatlas.summary import plural

BOOK = "comprehensive_book.md"
LLMS = "llms.txt"
LLMS_FULL = "llms-full.txt"
MAX_BOOK_BYTES = 500_000  # under the 512 KB a Git host renders; past it the deepest chapters are left out
MAX_EDGES = 30  # dependency arrows drawn in the map; the rest are counted under it
LLMS_LINKS = 100
GLOSSARY_SIZE = 60
GLOSSARY_PER_FILE = 4  # central files define dozens of documented functions: keep the glossary varied
GLOSSARY_FILES = 150  # the glossary reads the definitions of this many most central files
CANDIDATES = 12  # a subsystem without README or package docstring is described by these central files
TYPE_GROUPS = frozenset(plural(k) for k in TYPE_KINDS)
GLOSSARY_GROUPS = frozenset(plural(k) for k in GLOSSARY_KINDS)
_ID_UNSAFE = re.compile(r"[^a-z0-9]+")

UseCounts = Mapping[tuple[str, str], int]  # (path, qualname) -> uses; from symbol references when available


def _link(to_page: str, frm: str = BOOK) -> str:
    return P.url_quote(P.rel(frm, to_page))


def _doc(folder: str, frm: str = BOOK) -> str:
    return _link(P.folder_page(folder, "doc.md"), frm)


def _file(path: str, frm: str = BOOK) -> str:
    return _link(P.file_page(path), frm)


def chapter_id(folder: str) -> str:
    return "ch-" + _ID_UNSAFE.sub("-", folder.lower()).strip("-")


def _flink(path: str) -> str:
    return f"[{path_code(path)}]({_file(path)})"


def _dlink(folder: str) -> str:
    return f"[`{folder}/`]({_doc(folder)})"


def _ep_line(ep: EntryPoint, frm: str = BOOK) -> str:
    note = f" → {code(ep.note)}" if ep.note else ""
    if not ep.path:
        return f"{code(ep.name)}{note}"
    at = f", line {ep.line}" if ep.line else ""
    return f"{code(ep.name)}{note} ([`{ep.path}`]({_file(ep.path, frm)}){at})"


def _some(items: list[str], total: int, what: str, order: str, limit: int) -> str:
    shown = ", ".join(items[:limit])
    if total > limit:
        shown += f" ({limit} of {total:,} shown, {order})"
    return shown


# -- the book -----------------------------------------------------------------------------------
def _analysis(memo: Memo, model: RepoModel, cfg: Config) -> tuple[Analysis, Packaging]:
    """The subsystems and the packaging metadata, made once per process (the guide's pages and the front page
    of one worker share them)."""
    found = memo.book.get("analysis")
    if found is None:
        found = memo.book["analysis"] = (analyse(model, previous=memo.book.get(REUSE)), packaging(cfg.root, model))
    return found


def render_book(memo: Memo, model: RepoModel, cfg: Config, uses: UseCounts | None = None) -> Page:
    """`comprehensive_book.md`. `uses` ranks types and functions by use once references are counted; without
    it they are ranked by the centrality of the file that defines them, and the book says so."""
    an, pk = _analysis(memo, model, cfg)
    dropped: list[str] = []
    limit_depth = 99
    while True:
        body = _book(memo, model, cfg, an, pk, uses, limit_depth, dropped)
        if len(body.encode("utf-8")) <= MAX_BOOK_BYTES or limit_depth == 0:
            break
        limit_depth = max(s.depth for s in an.subsystems.values() if s.depth <= limit_depth) - 1
        dropped = [s.path for s in an.subsystems.values() if s.depth > limit_depth]
    return make_page(BOOK, "book.md.j2", project=model.name, body=prose_page(body))


def _book(memo: Memo, model: RepoModel, cfg: Config, an: Analysis, pk: Packaging, uses: UseCounts | None,
          max_depth: int, dropped: list[str]) -> str:
    name = md_inline(model.name)  # the project name is given by the user or the repository: escaped
    out: list[str] = [f"# {name}: the repository guide", ""]
    out += [f"How **{name}** is put together, where to start reading and how to change it, written from "
            f"the analysis behind this documentation (syntax trees, resolved imports and includes, detected "
            f"tests). Each statement links to the page with its evidence. The [front page](./index.md) lists "
            f"every folder; the [keyword index](./keywords.md) every definition.", ""]
    out += ["## Contents", "", "- [Preface](#preface)", "- [Map](#map)", "- [Chapters](#chapters)"]
    out += ["- [Reading order](#reading-order)", "- [Glossary](#glossary)", ""]
    out += _preface(memo, model, cfg, an, pk)
    out += _map(model, an)
    out += ['<a id="chapters"></a>', "", "## Chapters", ""]
    chapters = [s for s in an.subsystems.values() if s.depth <= max_depth]
    order = {t: i for i, t in enumerate(an.reading_order)}
    numbers: dict[str, str] = {}

    def walk(path: str, number: str) -> list[str]:
        sub = an.subsystems[path]
        numbers[path] = number
        lines = _chapter(memo, model, pk, an, sub, number, uses)
        kids = [k for k in sub.children if an.subsystems[k].depth <= max_depth]
        for i, k in enumerate(kids, 1):
            lines += walk(k, f"{number}.{i}")
        return lines

    body: list[str] = []
    for i, top in enumerate(sorted(an.top, key=lambda t: order.get(t, 0)), 1):
        body += walk(top, str(i))
    if not chapters:
        out += ["No folder of this repository holds code of its own below the top level, so there are no "
                "subsystem chapters; the [front page](./index.md) lists every file.", ""]
    out += body
    if an.skipped or dropped:
        out += ["### Folders without a chapter", ""]
        out += [f"- {_dlink(folder)}: {why}." for folder, why in an.skipped]
        if dropped:
            out += [f"- {len(dropped)} sub-chapters ({', '.join(code(d + '/') for d in dropped[:8])}"
                    f"{' …' if len(dropped) > 8 else ''}) were left out to keep this page under "
                    f"{MAX_BOOK_BYTES // 1000} KB; their folders' `doc.md` pages hold the same facts."]
        out.append("")
    out += _reading(an, numbers)
    out += _glossary(memo, model, uses)
    return "\n".join(out)


def _preface(memo: Memo, model: RepoModel, cfg: Config, an: Analysis, pk: Packaging) -> list[str]:
    out = ['<a id="preface"></a>', "", "## Preface", ""]
    readme, paras = readme_paragraphs(cfg.root, model)
    title = readme_title(model, readme) if readme else ""
    if title:
        out += [f"{_flink(readme)} is titled “{title}”.", ""]
    if paras:
        out += [f"From {_flink(readme)} (its first paragraphs):", ""]
        for para in paras:
            out += [f"> {para}", ">"]
        out[-1] = ""
    facts = []
    if pk.sources:
        srcs = ", ".join(_flink(s) for s in pk.sources)
        if pk.name:
            facts.append(f"- **Package name**: {code(pk.name)}{f' {pk.version}' if pk.version else ''} "
                         f"(declared in {srcs})")
        if pk.description:
            facts.append(f"- **Description** (from {srcs}): {pk.description}")
        if pk.scripts:
            facts.append(f"- **Console scripts** ({len(pk.scripts)}): "
                         + "; ".join(_ep_line(e) for e in pk.scripts[:12])
                         + (f"; and {len(pk.scripts) - 12} more in {srcs}" if len(pk.scripts) > 12 else ""))
        if pk.extensions:
            more = f" and {len(pk.extensions) - 20} more" if len(pk.extensions) > 20 else ""
            facts.append(f"- **Compiled extension modules** ({len(pk.extensions)}, from {srcs}, in its order): "
                         + ", ".join(code(e.name) for e in pk.extensions[:20]) + more)
    n_files = len(model.files)
    facts.append(f"- **Files**: {n_files:,} ([front page](./index.md)); {an.code_lines:,} lines of code in "
                 f"{counted(sum(n for _, n, _ in an.languages), 'code files')} (vendored and generated files not "
                 f"counted)")
    if an.languages:
        shown = an.languages[:8]
        langs = ", ".join(f"{name} {pct(lines / an.code_lines)} ({lines:,} lines, {counted(files, 'files')})"
                          for name, files, lines in shown)
        rest = f"; {len(an.languages) - len(shown)} more languages" if len(an.languages) > len(shown) else ""
        facts.append(f"- **Languages by lines of code**: {langs}{rest}")
    n_mains, mains = kept_entry_points(memo.book, model, "", 8)["python -m"]
    if mains:
        facts.append(f"- **Runnable packages** (`__main__.py`, {n_mains}): "
                     + _some([_ep_line(e) for e in mains], n_mains, "", "most central first", 8))
    return out + facts + [""]


def _map(model: RepoModel, an: Analysis) -> list[str]:
    out = ['<a id="map"></a>', "", "## Map", ""]
    if not an.top:
        return [*out, "No top-level folder holds code, so there are no subsystems to map.", ""]
    out += [f"The top-level subsystems: folders holding at least {pct(MIN_SHARE)} of the lines of code or "
            f"{pct(MIN_RANK_SHARE)} of the centrality (PageRank over the import and include graph, summed over "
            f"their files), vendored code left out, most code first. "
            f"Layer 0 uses no other subsystem; a subsystem in layer *k* uses subsystems below *k* (see the "
            f"[reading order](#reading-order) for how two-way and light dependencies are counted)"
            f"{'; subsystems in a cycle share a layer' if an.cycles else ''}.", "",
            "| Subsystem | Purpose | Code | Centrality | Layer |", "|---|---|---|---|---|"]
    layer_of = {t: i for i, layer in enumerate(an.layers) for t in layer}
    for t in an.top:
        sub = an.subsystems[t]
        text, src = an.purpose(model, t)
        purpose = f"{text} ([{src.rsplit('/', 1)[-1]}]({_file(src)}))" if src else text
        out.append(f"| [`{t}/`](#{chapter_id(t)}) | {_cell(purpose)} | {pct(sub.code_lines / an.code_lines)} "
                   f"({sub.code_lines:,} lines) | {pct(sub.rank / an.rank_total)} | {layer_of.get(t, 0)} |")
    out += ["", *_mermaid(an), ""]
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _mermaid(an: Analysis) -> list[str]:
    """The dependency diagram of the top-level subsystems: an arrow from user to used, labelled with the
    number of imports, includes and symbol references; only the heaviest `MAX_EDGES` arrows are drawn, and the
    text says so."""
    ids = {t: f"s{i}" for i, t in enumerate(an.top)}
    edges = sorted(an.edges.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = sorted(edges[:MAX_EDGES])
    lines = ["```mermaid", "graph TD"]
    lines += [f'  {ids[t]}["{t}/"]' for t in an.top]
    lines += [f"  {ids[a]} -->|{w:,}| {ids[b]}" for (a, b), w in shown]
    lines.append("```")
    total = sum(an.edges.values())
    note = (f"Arrows point from the user to the used subsystem, labelled with the number of resolved imports, "
            f"includes and Python symbol references between them ({total:,} in all")
    if len(edges) > MAX_EDGES:
        note += f"; the {MAX_EDGES} heaviest of {len(edges)} arrows are drawn, every one is in the chapters"
    note += ")."
    if not edges:
        return ["No import, include or Python symbol reference links one top-level subsystem to another, so there "
                "is no diagram."]
    return [note, "", *lines]


def _chapter(memo: Memo, model: RepoModel, pk: Packaging, an: Analysis, sub: Subsystem, number: str,
             uses: UseCounts | None = None) -> list[str]:
    folder = sub.path
    files = model.subtree_files(folder)
    hashes = "#" * min(2 + number.count("."), 5) + "#"
    out = [f'<a id="{chapter_id(folder)}"></a>', "", f"{hashes} {number}. {path_code(folder + '/')}", ""]
    text, src = an.purpose(model, folder)
    if src:
        what = "README" if "README" in src.upper() else "package docstring"
        out.append(f"**What it is for** (its {what}, {_flink(src)}): {text}")
    else:
        candidates = [p for p in model.by_rank(files) if not model.summary(p).binary
                      and model.purposes[p].label not in ("test", "vendored", "generated", "docs")][:CANDIDATES]
        central = [p for p in candidates if guide_file(memo, model, p).docstring][:3]
        if central:
            out += [f"**What it is for**: it has no README or package docstring; of its {CANDIDATES} most "
                    f"central files (PageRank), these describe themselves:", ""]
            out += [f"- {_flink(p)}: {first_sentence(guide_file(memo, model, p).docstring)}" for p in central]
        else:
            out.append(f"**What it holds** (no README, package docstring or docstring among its {CANDIDATES} "
                       f"most central files): {text}.")
    out.append("")
    share = sub.code_lines / an.code_lines if an.code_lines else 0.0
    where = f"; almost all of its code is under {_dlink(sub.core)}" if sub.core != folder else ""
    out.append("")
    out.append(f"**Size**: {counted(sub.files, 'files')}, {sub.code_lines:,} lines of code in "
               f"{counted(sub.code_files, 'code files')} "
               f"({pct(share)} of the repository's code), {pct(sub.rank / an.rank_total)} of the centrality "
               f"({_dlink(folder)}){where}.")
    if sub.children:
        out.append("")
        out.append("**Sections**: " + ", ".join(f"[`{k}/`](#{chapter_id(k)})" for k in sub.children)
                   + " (subfolders holding at least 10% of its code lines).")
    out.append("")
    out += _key_files(memo, model, an, files)
    out += _key_types(memo, model, files, uses)
    out += _api(model, sub)
    out += _entries(memo, model, pk, folder)
    out += _tests(model, folder, files)
    out += _build(memo, model, folder, files)
    out += _deps(an, folder)
    return out


def _key_files(memo: Memo, model: RepoModel, an: Analysis, files: list[str]) -> list[str]:
    code = [p for p in files if an.lines_of.get(p)]  # code files when there are any
    ranked = first_by_rank(model, code or [p for p in files if not model.summary(p).binary and model.purposes[p].label
                                            not in ("vendored", "generated")],
                            6, lambda p: (-model.rank.get(p, 0.0), -model.summary(p).lines, p))
    if not ranked:
        return []
    what = "code files" if code else "files"
    out = [f"**Key files** ({what} by centrality: PageRank over imports and includes, then size):", ""]
    for p in ranked:
        f = guide_file(memo, model, p)
        out.append(f"- {_flink(p)} ({centrality_band(model, p)}, imported by "
                   f"{len(model.imported_by.get(p, ())):,}, {f.lines:,} lines): {_describe(memo, model, p)}")
    return [*out, ""]


def _has(model: RepoModel, path: str, kinds: frozenset[str]) -> bool:
    """Whether a file's summary counts top-level definitions of these kinds (no need to read its facts)."""
    return any(group in kinds for group, _ in model.summary(path).groups)


def _describe(memo: Memo, model: RepoModel, path: str) -> str:
    """A file in a line: its docstring's first sentence, else the top-level definitions it opens with, else
    its purpose."""
    f = guide_file(memo, model, path)
    if f.docstring:
        return first_sentence(f.docstring, 140)
    if model.purposes[path].label == "test":
        return model.purposes[path].reason
    names: list[str] = []  # each name once (conditional definitions repeat one), in file order
    for s in f.symbols:  # (top-level definitions of `GLOSSARY_KINDS` only)
        if not s.name.startswith("_") and s.name not in names:
            names.append(s.name)
    reason = model.purposes[path].reason
    if names and not reason.startswith(("defines ", "sets ")):  # `link.purpose.provides` may have named them
        shown = ", ".join(code(n) for n in names[:4])
        more = f" and {len(names) - 4:,} more" if len(names) > 4 else ""
        return f"{reason}; defines {shown}{more}" if reason else f"defines {shown}{more}"
    return reason


def _key_types(memo: Memo, model: RepoModel, files: list[str], uses: UseCounts | None = None) -> list[str]:
    """Up to 8 top-level types, at most 2 per file: with references counted (`uses`), the types other files use
    most, from the files whose definitions are used most; else from the most imported files that define any,
    those with a doc comment first (central files often open with many small helper types)."""
    picked: list[tuple[tuple[int, int, int], str]] = []
    seen: set[str] = set()
    n_files = 0
    order = _by_use(memo, model, files)
    if uses is not None:
        per_file = memo.book.get("file_uses")
        if per_file is None:  # summed once per guide, not once per chapter (22 passes over PyTorch's uses)
            per_file = memo.book["file_uses"] = Counter()
            for (path, _), n in uses.items():
                per_file[path] += n
        order.sort(key=per_file.__getitem__, reverse=True)  # stable: ties keep the importers' order
    for rank, p in enumerate(order):
        if n_files >= CANDIDATES:
            break
        if model.purposes[p].label in ("test", "test-support", "vendored", "generated") or model.summary(p).binary \
                or not _has(model, p, TYPE_GROUPS):
            continue
        n_files += 1
        mine = []
        for i, s in enumerate(guide_file(memo, model, p).symbols):  # (top-level ones only)
            if s.kind in TYPE_KINDS and not s.name.startswith("_") and s.name not in seen \
                    and "declaration" not in s.flags:
                first = -uses.get((p, s.qualname), 0) if uses is not None else (0 if s.summary else 1)
                mine.append(((first, rank, s.line), i, s))
        mine.sort(key=lambda t: t[0])
        for key, _, s in mine[:2]:
            seen.add(s.name)
            summary = f": {first_sentence(s.summary, 120)}" if s.summary else ""
            where = path_code(p.rsplit("/", 1)[-1])
            picked.append((key, f"[{code(s.name)}]({_file(p)}#{s.anchor}) ({s.kind}, {where}){summary}"))
    picked.sort(key=lambda t: t[0])
    if not picked:
        return []
    if uses is not None:
        how = (f"top-level types of the {CANDIDATES} files whose definitions other files use most, at most two per "
               f"file, the most used first (resolved references from other files)")
    else:
        how = (f"top-level types of its {CANDIDATES} most imported or included files that define any, at most two "
               f"per file, those with a doc comment first")
    return [f"**Key types** ({how}):", "", *(f"- {x}" for _, x in picked[:8]), ""]


def _by_use(memo: Memo, model: RepoModel, files: list[str]) -> list[str]:
    """Files by how many files import or include them, then by centrality, then path (sorted by each in turn)."""
    if "use_keys" not in memo.book:
        memo.book["use_keys"] = ({p: len(model.imported_by.get(p, ())) for p in model.files},
                                 {p: model.rank.get(p, 0.0) for p in model.files})
    importers, rank = memo.book["use_keys"]
    order = sorted(files)
    order.sort(key=rank.__getitem__, reverse=True)
    order.sort(key=importers.__getitem__, reverse=True)
    return order


def _api(model: RepoModel, sub: Subsystem) -> list[str]:
    for folder in dict.fromkeys((sub.path, sub.core)):
        init = f"{folder}/__init__.py"
        if init in model.files and model.module_of.get(init):
            names, source = public_api(model, init)
            if names:
                shown = ", ".join(code(n) for n in names[:20])
                more = f" and {len(names) - 20:,} more" if len(names) > 20 else ""
                return [f"**Public API** of package {code(model.module_of[init])} ({len(names):,} names, "
                        f"{source}, {_flink(init)}): {shown}{more}.", ""]
    return []


def _entries(memo: Memo, model: RepoModel, pk: Packaging, folder: str) -> list[str]:
    eps = kept_entry_points(memo.book, model, folder, 5)
    prefix = folder + "/"
    lines = []
    scripts = [e for e in pk.scripts if e.path.startswith(prefix)]
    if scripts:
        lines.append("- console scripts: " + "; ".join(_ep_line(e) for e in scripts))
    ext = [e for e in pk.extensions if e.name.split(".")[0] == folder.split("/")[0] and "/" not in folder]
    if ext:
        lines.append(f"- compiled extensions (from {_flink(ext[0].path)}): " + ", ".join(code(e.name) for e in ext))
    for kind, label in (("python -m", "runnable packages"), ("program", "programs defining `main`"),
                        ("script", "Python scripts with a `__main__` block")):
        n, got = eps[kind]
        if got:
            items = [_ep_line(e) for e in got] if kind == "python -m" else [
                f"[`{e.path[len(prefix):]}`]({_file(e.path)})" + (f" (line {e.line})" if e.line else "") for e in got]
            lines.append(f"- {label} ({n:,}): " + _some(items, n, "", "most central first", 5))
    if not lines:
        return []
    return ["**Entry points**:", "", *lines, ""]


def _tests(model: RepoModel, folder: str, files: list[str]) -> list[str]:
    tests_here = [p for p in files if model.purposes[p].label == "test"]
    n_cases = sum(model.summary(p).tests for p in tests_here)
    prefix = folder + "/"
    testers = model.by_rank(sorted({tl.test for p in files for tl in model.tested_by.get(p, ())
                                    if not tl.test.startswith(prefix)}))
    out = []
    if tests_here:
        per_folder = Counter(P.folder_of(p) for p in tests_here)
        folders = sorted(per_folder, key=lambda d: (-per_folder[d], d))
        out.append(f"**Tests**: {counted(len(tests_here), 'test files')} with {counted(n_cases, 'test cases')} in it, "
                   f"most in "
                   + ", ".join(_dlink(d) for d in folders[:3]) + (f" and {len(folders) - 3} more folders"
                                                                  if len(folders) > 3 else "") + ".")
        commands, no_command = folder_test_commands(model, folder, tests_here)
        if commands:
            out += ["", "```bash", *commands[:4], "```"]
        if no_command:
            out += ["", f"{len(no_command):,} of them (C/C++ and others) are built and run by the build system; "
                       f"no command names their binaries."]
    if testers:
        shown = ", ".join(_flink(t) for t in testers[:3])
        out += [""] if out else []
        verb = "imports or includes" if len(testers) == 1 else "import or include"
        out.append(f"**Tested from outside**: {counted(len(testers), 'test files')} elsewhere {verb} its "
                   f"files, "
                   f"the most central: {shown}.")
    if not out:
        out.append(f"**Tests**: none found: no file in `{folder}/` defines test cases, and no test file elsewhere "
                   f"imports or includes one of its files.")
    return [*out, ""]


def _build(memo: Memo, model: RepoModel, folder: str, files: list[str]) -> list[str]:
    builds = sorted((p for p in files if model.purposes[p].label == "build"), key=lambda p: (p.count("/"), p))
    configs = [p for p in files if model.purposes[p].label == "config"]
    out = []
    if builds:
        n_targets, targets = kept_entry_points(memo.book, model, folder, 8)["build target"]
        names = ", ".join(f"[{code(t.name)}]({_file(t.path)})" for t in targets)
        more = f" ({len(targets)} of {n_targets:,} shown, most central build files first)" \
            if n_targets > len(targets) else ""
        out.append(f"**Build**: {counted(len(builds), 'build files')}, the shallowest " + ", ".join(
            _flink(p) for p in builds[:3]) + (f"; {counted(n_targets, 'build targets')} declared: {names}{more}"
                                              if targets else "") + ".")
    if configs:
        out += [""] if out else []
        out.append(f"**Configuration**: {counted(len(configs), 'configuration files')}, e.g. "
                   + ", ".join(_flink(p) for p in configs[:3]) + ".")
    return [*out, ""] if out else []


def _deps(an: Analysis, folder: str) -> list[str]:
    def named(owner: str) -> str:
        if folder.startswith(owner + "/"):
            return f"the rest of [`{owner}/`](#{chapter_id(owner)})"
        if owner in an.subsystems:
            return f"[`{owner}/`](#{chapter_id(owner)})"
        return "the top-level files" if owner == "(root)" else f"[`{owner}/`]({_doc(owner)})"

    out: list[str] = []
    for label, rows in (("Uses", an.uses.get(folder, [])), ("Used by", an.used_by.get(folder, []))):
        if rows:
            shown = ", ".join(f"{named(o)} ({n:,})" for o, n in rows[:8])
            more = f", and {len(rows) - 8} more (see {_dlink(folder)})" if len(rows) > 8 else ""
            out += [""] if out else []
            out.append(f"**{label}** (imports, includes and Python symbol references, counted by the other file's "
                       f"innermost chapter, or its top-level folder outside this one's): {shown}{more}.")
    if not out:
        out.append(f"**Dependencies**: no import, include or Python symbol reference links "
                   f"{path_code(folder + '/')} to files outside it.")
    return [*out, ""]


def _reading(an: Analysis, numbers: dict[str, str]) -> list[str]:
    out = ['<a id="reading-order"></a>', "", "## Reading order", ""]
    if not an.reading_order:
        return [*out, "There are no subsystems to order.", ""]
    out += [f"From the leaves of the dependency graph up, layer by layer (the layers of the [map](#map)). For the "
            f"order, of two subsystems that use each other only the heavier direction counts, and a dependency "
            f"carrying under {pct(LIGHT_EDGE)} of a subsystem's imports, includes and Python symbol references is "
            f"ignored; each line lists everything the subsystem uses, with the number of imports, includes and "
            f"references.", ""]
    layer_of = {t: i for i, layer in enumerate(an.layers) for t in layer}
    cyc = {t: c for c in an.cycles for t in c}
    for i, t in enumerate(an.reading_order, 1):
        deps = sorted(((b, w) for (a, b), w in an.edges.items() if a == t), key=lambda d: (-d[1], d[0]))
        uses = ", ".join(f"`{d}/` ({w:,})" for d, w in deps) if deps else "no other subsystem"
        note = f"; in a cycle with {', '.join(f'`{c}/`' for c in cyc[t] if c != t)}" if t in cyc else ""
        chapter = f"chapter {numbers[t]}, " if t in numbers else ""
        out.append(f"{i}. [`{t}/`](#{chapter_id(t)}) ({chapter}layer {layer_of[t]}): uses {uses}{note}.")
    return [*out, ""]


def _glossary(memo: Memo, model: RepoModel, uses: UseCounts | None) -> list[str]:
    out = ['<a id="glossary"></a>', "", "## Glossary", ""]
    entries: list[tuple[tuple[Any, ...], str, str]] = []
    per_file: dict[str, int] = {}
    if uses is None:
        candidates = model.by_rank(list(model.files))[:GLOSSARY_FILES]
    else:  # the files whose definitions are used most: a bounded number of files' facts is read
        per_file_uses: Counter[str] = Counter()
        for (path, _), n in uses.items():
            per_file_uses[path] += n
        candidates = [p for p, _ in sorted(per_file_uses.items(), key=lambda kv: (-kv[1], kv[0]))[:GLOSSARY_FILES]]
    for p in candidates:
        if model.purposes[p].label in ("test", "test-support", "vendored", "generated") or model.summary(p).binary \
                or not _has(model, p, GLOSSARY_GROUPS):
            continue
        for s in guide_file(memo, model, p).symbols:  # (top-level ones of `GLOSSARY_KINDS` only)
            if not s.summary or s.name.startswith("_") or per_file.get(p, 0) >= GLOSSARY_PER_FILE:
                continue
            per_file[p] = per_file.get(p, 0) + 1
            key = (-uses.get((p, s.qualname), 0),) if uses is not None else (-model.rank.get(p, 0.0),)
            entries.append(((*key, p, s.line), s.name,
                            f"[{code(s.name)}]({_file(p)}#{s.anchor}) ({s.kind} in {path_code(p)}): "
                            f"{first_sentence(s.summary, 140)}"))
    entries.sort()
    picked = sorted(entries[:GLOSSARY_SIZE], key=lambda e: (e[1].lower(), e[0]))
    if not picked:
        return [*out, "No top-level type or function of the repository's most central files has a docstring or "
                      "doc comment, so there is no glossary.", ""]
    how = (f"the most used (resolved references from other files; read from the {GLOSSARY_FILES} files whose "
           f"definitions are used most)" if uses is not None else
           f"taken from the {GLOSSARY_FILES} most central files (PageRank over imports and includes), the most "
           f"central first")
    out += [f"{len(picked)} top-level types and functions with a docstring or doc comment, {how}, at most "
            f"{GLOSSARY_PER_FILE} per file, in alphabetical order:", ""]
    out += [f"- {line}" for _, _, line in picked]
    return [*out, ""]


def _use_counts(model: RepoModel) -> dict[tuple[str, str], int]:
    """(path, qualname) -> resolved references to that definition from other files (`link.references`)."""
    return {(target, qualname): n for target, counts in model.refs.use_counts.items()
            for qualname, n in counts.items()}


def book_pages(memo: Memo, model: RepoModel, cfg: Config) -> list[Page]:
    """The guide, `llms.txt`, and with `--llms-full` `llms-full.txt` (`render.llms`): one render task."""
    from docatlas.render.llms import render_llms, render_llms_full  # it builds on this module

    book = render_book(memo, model, cfg, _use_counts(model) if model.refs.use_counts else None)
    pages = [book, render_llms(memo, model, cfg)]
    if cfg.llms_full:
        pages.append(render_llms_full(memo, model, cfg, book))
    return pages


def front_page(memo: Memo, model: RepoModel, cfg: Config) -> dict[str, Any]:
    """What the front page adds to a folder index: the book first, the top-level folders with their purpose
    and share of the code, the entry points."""
    an, pk = _analysis(memo, model, cfg)
    page = "index.md"
    folders = []
    for top in model.folders[""].subfolders:
        text, src = an.purpose(model, top)
        sub = an.subsystems.get(top)
        lines = sub.code_lines if sub else sum(an.lines_of.get(p, 0) for p in model.subtree_files(top))
        folders.append({"name": top, "link": _link(P.folder_page(top, "index.md"), page),
                        "purpose": text, "src": _file(src, page) if src else "",
                        "share": pct(lines / an.code_lines) if an.code_lines and lines else "", "lines": lines,
                        "chapter": f"./{BOOK}#{chapter_id(top)}" if sub else ""})
    eps = [{"text": _ep_line(e, page)} for e in pk.scripts]
    n_mains, mains = kept_entry_points(memo.book, model, "", 10)["python -m"]
    eps += [{"text": _ep_line(e, page)} for e in mains]
    return {"book": "./" + BOOK, "top_folders": folders, "entry_points": eps[:20],
            "entry_total": len(pk.scripts) + n_mains}
