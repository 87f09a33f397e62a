"""File pages: `<file>_docs.md` (symbols, imports, tests, findings, source) and `<file>_kw.md`."""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath
from typing import Any

from docatlas import languages
from docatlas import paths as P
from docatlas.config import Config
from docatlas.coverage import EXTRACTED, IMPORTS_EXTRACTED, rules_for
from docatlas.link.related import SIBLING
from docatlas.link.stage import RepoModel
from docatlas.link.views import centrality_band
from docatlas.model import FileFacts, Finding
from docatlas.render import capi
from docatlas.render.format import (
    SHOWN_PER_LIST,
    Memo,
    Page,
    code,
    facts_key,
    fence_for,
    file_anchors,
    group_kind,
    kind_rank,
    lazy_page,
    symbol_tree,
)
from docatlas.render.structure import part_page, part_summaries, structure_parts, symbol_parts
from docatlas.render.usage import snippets, usage_link_context
from docatlas.safetext import outside_fences
from docatlas.summary import keyword_group
from docatlas.text import decode

IMPORT_LABELS = {"stdlib": "standard library", "third-party": "third-party", "system": "system header",
                 "compiled": "compiled extension", "namespace": "namespace package (folder)",
                 "unresolved": "not found in this repository", "repo": "this repository"}


# -- file pages ---------------------------------------------------------------------------------
def _source_block(cfg: Config, facts: FileFacts, text: str | None, page: str) -> dict[str, Any]:
    link = P.source_link(page, facts.path)
    if not facts.digest:
        return {"mode": "unread", "link": link, "notice": "", "text": "", "fence": "```"}
    if facts.binary or text is None:
        return {"mode": "absent", "link": link, "notice": "", "text": "", "fence": "```"}
    if cfg.embed_source == "none":
        return {"mode": "none", "link": link, "text": "", "fence": "```",
                "notice": "Source not embedded (`--embed-source none`)."}
    total_lines = facts.lines
    shown = text
    notice = ""
    if cfg.embed_source == "head" and total_lines > cfg.head_lines:
        # lines are "\n"-separated, as `FileFacts.lines` counts them (splitlines also breaks at \f and \v)
        shown = "".join(line + "\n" for line in text.split("\n", cfg.head_lines)[: cfg.head_lines])
        notice = (f"Showing the first {cfg.head_lines:,} of {total_lines:,} lines (`--embed-source head`); "
                  f"the whole file is [{facts.path}]({P.url_quote(link)}).")
    elif len(text.encode("utf-8", "replace")) > cfg.max_embed_bytes:
        # The source is the repository's own text, published beside the pages: past `max_embed_bytes` a page
        # embeds the file's head (`head_lines`, within `max_embed_bytes`) and links the whole file.
        head = "".join(line + "\n" for line in text.split("\n", cfg.head_lines)[: cfg.head_lines])
        cut = head.encode("utf-8", "replace")[: cfg.max_embed_bytes].decode("utf-8", "ignore")
        rule = (f"a file over `--max-embed-bytes` ({cfg.max_embed_bytes:,} bytes) embeds at most its first "
                f"`head_lines` ({cfg.head_lines:,}) lines within that")
        # the page's title and File Metadata give the path: the link names the file only
        whole = f"The whole file: [{facts.path.rsplit('/', 1)[-1]}]({P.url_quote(link)})."
        if "\n" in cut:
            shown = cut[: cut.rfind("\n") + 1]
            notice = (f"Truncated to the first {shown.count(chr(10)):,} of {total_lines:,} lines "
                      f"({len(shown.encode('utf-8')):,} of {facts.size:,} bytes): {rule}. {whole}")
        else:  # one very long first line: say so rather than "the first 0 lines"
            shown = cut
            notice = (f"Truncated to the first {len(cut.encode('utf-8')):,} of {facts.size:,} bytes, "
                      f"which end inside line 1: {rule}. {whole}")
    if shown and not shown.endswith("\n"):
        shown += "\n"
    n = shown.count("\n")
    lines = f"{n:,} line{'s' if n != 1 else ''}" + (f" of {total_lines:,}" if notice else "")
    return {"mode": "embedded", "link": link, "text": shown, "fence": fence_for(shown), "notice": notice,
            "lines": lines}


# Bytes (bounded from above) of the lists a file page shows beside its source and Code Structure: with the
# default `--max-embed-bytes` and `summary.STRUCTURE_BUDGET`, the page stays within 512 KB. A cut list keeps
# its first rows (line order) and says how many more the index holds (`docatlas show`).
TESTS_BUDGET = 32 * 1024
FINDINGS_BUDGET = 16 * 1024
IMPORTS_BUDGET = 32 * 1024


def _bounded(name: str, rows: list[dict[str, Any]], budget: int, size: Any) -> dict[str, Any]:
    """`rows` as `name`, cut to `budget`, and `name_more`: how many rows were left out."""
    used = 0
    for i, row in enumerate(rows):
        used += size(row)
        if used > budget:
            return {name: rows[:i], f"{name}_more": len(rows) - i}
    return {name: rows, f"{name}_more": 0}


KW_BUDGET = 360 * 1024  # a file keyword page's definitions


def _cut_groups(groups: list[tuple[str, list[dict[str, Any]]]],
                budget: int) -> tuple[list[tuple[str, list[dict[str, Any]]]], int]:
    """The keyword page's groups cut to `budget` bytes (bounded from above), and how many definitions were
    left out."""
    used, out, more = 0, [], 0
    for group, items in groups:
        kept = []
        for item in items:
            used += 3 * len(item["name"]) + len(item["link"]) + 50
            if used > budget:
                more += 1
            else:
                kept.append(item)
        if kept:
            out.append((group, kept))
    return out, more


def _finding_bytes(row: dict[str, Any]) -> int:
    f = row["f"]
    return len(f.rule) + len(row["link"]) + 4 * len(f.message) + 12 * len(f.evidence) + 60


def _import_bytes(row: dict[str, Any]) -> int:
    imp, r = row["r"].imp, row["r"]
    return (12 * (len(imp.module) + len(imp.alias) + sum(len(n) + 2 for n in imp.names) + len(r.target)
                  + len(r.reason) + len(imp.conditional)) + len(row["link"]) + len(row["label"]) + 80)


def _finding_rows(findings: Iterable[Finding], page: str, path: str) -> list[dict[str, Any]]:
    return [{"f": f, "link": P.url_quote(P.source_link(page, path, f.line))} for f in findings]


def read_source(cfg: Config, facts: FileFacts) -> str | None:
    """The text to embed, read again at render time so that no process holds every source at once."""
    if facts.binary or cfg.embed_source == "none" or not facts.digest:
        return None
    try:
        with open(f"{cfg.root}{os.sep}{facts.path}", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    return decode(data, facts.path, facts.language)[0]  # as the analysis read it (BOM, PEP 263 coding lines)


def file_local_context(memo: Memo, model: RepoModel, path: str) -> dict[str, Any]:
    """The part of a file page computed from the file's own facts and path alone.

    It is left out of the page's signature (the facts digest stands for it) and built only when the page is
    rendered: on a rebuild after a one-file edit, every other page skips this work.
    """
    facts = model.files[path]
    page = P.file_page(path)
    tests = list(facts.tests)
    python = facts.language in ("python", "python-stub")
    test_ids = []
    for t in tests:
        if t.kind == "test":
            node = f"{path}::{t.name.replace('.', '::')}" if python else t.name  # pytest node ids are Python's
            test_ids.append({"t": t, "node": node,
                             "link": P.url_quote(P.source_link(page, path, t.line))})
    by_cat = defaultdict(list)
    for f in facts.findings:
        by_cat[f.category].append(f)
    public = [s.name for s in facts.symbols if not s.parent and s.kind in ("class", "function")
              and not s.name.startswith("_")]
    return {
        "path": path, "page": page, "facts": facts, "lang": languages.get(facts.language),
        "extension": PurePosixPath(path).suffix or "(none)",
        **_structure(memo, model, path, page), **capi.counts(facts.symbols), **capi.header_api(memo, model, path, page),
        "import_statements": len(facts.imports), "tests": tests,
        "test_classes": [t for t in tests if t.kind == "class"],
        "fixtures": [t for t in tests if t.kind == "fixture"],
        **_bounded("test_ids", test_ids, TESTS_BUDGET, lambda r: 3 * len(r["node"]) + len(r["link"]) + 40),
        **{key: rows for cat, name in (("security", "security"), ("performance", "performance"),
                                       ("pattern", "patterns"))
           for key, rows in _bounded(name, _finding_rows(by_cat[cat], page, path), FINDINGS_BUDGET,
                                     _finding_bytes).items()},
        "analysed": facts.language in EXTRACTED or bool(facts.symbols),
        "imports_analysed": facts.language in IMPORTS_EXTRACTED,
        "has_rules": facts.language in ("python", "python-stub"), "rules": rules_for(facts.language),
        "public": public, "exports": list(facts.exports), "documented": _documented(facts, page, path),
        "exports_computed": ("all", "computed") in facts.extra,
    }


def _structure(memo: Memo, model: RepoModel, path: str, page: str) -> dict[str, Any]:
    """The Code Structure rows this page holds, and the continuation pages of a long one (`render.structure`)."""
    parts = structure_parts(memo, model, path)
    if parts is None:
        return {"tree": symbol_tree(model.files[path].symbols, file_anchors(memo, model, path)),
                "more_structure": []}
    return {"tree": parts[0], "more_structure": part_summaries(memo, model, path, page),
            "structure_total": sum(map(len, parts))}


_HEADING_LINE = re.compile(r"^(\s{0,3})(#{1,6}\s)", re.M)


def _documented(facts: FileFacts, page: str, path: str) -> list[dict[str, str]]:
    """The module's and each definition's whole documentation, where it says more than the summary shown
    in Code Structure; a `#` heading line inside it is escaped so that it cannot end the page's section."""
    out = []
    if facts.doc:
        out.append({"title": "Module", "doc": _no_headings(facts.doc)})
    for s in facts.symbols:
        if s.doc:
            src = P.url_quote(P.source_link(page, path, s.line))
            out.append({"title": f"`{s.qualname}` ({s.kind}, [line {s.line}]({src}))", "doc": _no_headings(s.doc)})
    return out


def _no_headings(text: str) -> str:
    return outside_fences(text, lambda line: _HEADING_LINE.sub(r"\1\\\2", line))


def _import_categories(facts: FileFacts, rows: list[Any]) -> Counter[str]:
    """One category per import (a statement importing several names from one module is one import), so the
    counts add up to the number of imports even when one import resolves to several files."""
    per_import: dict[int, str] = {}
    for r in rows:
        if per_import.get(id(r.imp)) != "repo":
            per_import[id(r.imp)] = r.category
    counts = Counter(per_import.values())
    if len(facts.imports) > len(per_import):
        counts["unclassified"] = len(facts.imports) - len(per_import)
    return counts


def file_link_context(model: RepoModel, path: str) -> dict[str, Any]:
    """The part of a file page that depends on other files (the link stage): what the signature hashes."""
    page = P.file_page(path)
    folder = P.folder_of(path)
    imports = model.imports.get(path, [])
    import_rows = []
    for r in imports:
        target = P.url_quote(P.rel(page, P.file_page(r.target))) if r.target else ""
        import_rows.append({"r": r, "link": target, "label": IMPORT_LABELS.get(r.category, r.category)})
    importer_paths = model.imported_by.get(path, [])
    importers = [{"path": p, "link": P.url_quote(P.rel(page, P.file_page(p))),
                  "test": model.purposes[p].label == "test"} for p in importer_paths[:SHOWN_PER_LIST]]
    shown_imports = _bounded("imports", import_rows, IMPORTS_BUDGET, _import_bytes)
    graph = _graph_facts(model, path, page)
    related = related_files(model, path)
    kept = _related_not_above(related, shown_imports["imports"], importers, graph, model.files[path])
    # (counted only for the last resort, which names it: a folder of n files would cost n * n over its pages)
    others = sum(1 for p in model.folders[folder].files if p != path and not model.summary(p).binary) \
        if kept["related_siblings"] else 0
    return {
        "purpose": model.purposes[path], "module": model.module_of.get(path, ""),
        "project": model.name, "folder": folder or "root",
        "src": lambda line: P.url_quote(P.source_link(page, path, line)),
        **shown_imports,
        "import_categories": _import_categories(model.files[path], imports),
        "importers": importers, "testers": [i for i in importers if i["test"]],
        "testers_total": sum(model.purposes[p].label == "test" for p in importer_paths),
        **kept, "folder_others": others,
        "related_total": model.related_total.get(path, len(related)),
        "importers_total": len(importer_paths), "shown_per_list": SHOWN_PER_LIST, **graph,
        "kw_link": P.url_quote(P.rel(page, P.kw_page(path))),
        "folder_index": P.url_quote(P.rel(page, P.folder_page(folder, "index.md"))),
        "folder_doc": P.url_quote(P.rel(page, P.folder_page(folder, "doc.md"))),
        "source_link": P.url_quote(P.source_link(page, path)),
        "src_base": P.url_quote(P.source_link(page, path)),
        "c_pairs": _pair_links(model, path, page),
        **usage_link_context(model, path),
    }


def _pair_links(model: RepoModel, path: str, page: str) -> dict[str, str]:
    """For each C/C++ name this file declares or defines: where its definitions or declarations are; for a
    binding, the function of another file that implements it, and the way back (`model.c_bridges`)."""
    out = {}
    for qualname, others in model.c_pairs.get(path, {}).items():
        parts = []
        for what in ("definition", "declaration"):
            links = [f"[{code(p)}]({P.url_quote(P.rel(page, P.file_page(p)))}#{P.anchor(qualname)})"
                     for p, w in others if w == what and p != path]
            same = any(p == path and w == what for p, w in others)
            if links or same:
                verb = "defined" if what == "definition" else "declared"
                parts.append(f"{verb} in " + ", ".join((["this file"] if same else []) + links))
        if parts:
            out[qualname] = "; ".join(parts)
    for qualname, bridged in model.c_bridges.get(path, {}).items():
        parts = []
        for what, verb in (("implementation", "implemented by"), ("binding", "implements the binding")):
            links = [f"[{code(_bound_name(q) if what == 'binding' else q)}]"
                     f"({P.url_quote(P.rel(page, P.file_page(p)))}#{P.anchor(q)}) in {code(p)}"
                     for p, q, w in bridged if w == what]
            if links:
                parts.append(f"{verb} " + ", ".join(links))
        if parts:
            out[qualname] = "; ".join(([out[qualname]] if qualname in out else []) + parts)
    return out



def _bound_name(qualname: str) -> str:
    """The name a binding registers: `abs` for a `PyMethodDef` row `methods.abs`, `_jit_pass_lint` for a pybind11
    `m.def` in `torch::jit`, `add.Tensor` for a `TORCH_LIBRARY` schema in `at`."""
    return qualname.rpartition("::")[2] if "::" in qualname else qualname.rpartition(".")[2]


def _graph_facts(model: RepoModel, path: str, page: str) -> dict[str, Any]:
    """Centrality, transitive reach, tests <-> code and run commands for the file page (link stage facts)."""
    def link(p: str) -> str:
        return P.url_quote(P.rel(page, P.file_page(p)))

    tested_by = []
    for tl in model.tested_by.get(path, [])[:SHOWN_PER_LIST]:
        tested_by.append({"path": tl.test, "link": link(tl.test), "names": list(tl.names), "via": tl.via,
                          "via_link": link(tl.via) if tl.via else "", "cases": list(tl.cases[:5]),
                          "more_cases": max(0, len(tl.cases) - 5),
                          "n_cases": model.summary(tl.test).tests, "uses": tl.uses,
                          "command": (model.run_commands.get(tl.test) or [""])[0]})
    tests_of = [{"path": tl.target, "link": link(tl.target), "names": list(tl.names), "via": tl.via,
                 "via_link": link(tl.via) if tl.via else ""} for tl in model.tests_of.get(path, [])]
    return {
        "centrality": centrality_band(model, path),
        "n_repo_imports": len({r.target for r in model.imports.get(path, []) if r.category == "repo"}),
        "transitive_imports": model.transitive_imports.get(path, 0),
        "transitive_importers": model.transitive_importers.get(path, 0),
        "tested_by": tested_by, "tested_by_total": len(model.tested_by.get(path, [])),
        "tests_of": tests_of, "run_commands": model.run_commands.get(path, []),
        "run_evidence": model.run_evidence.get(path, ""),
        **_stub_of(model, path, link),
    }


def _stub_of(model: RepoModel, path: str, link: Callable[[str], str]) -> dict[str, Any]:
    """A `.pyi` beside its `.py`: imports of the module load the `.py` and uses resolve to it, so the stub's
    tests are the module's, listed on that page (saying "no test imports this file" would mislead)."""
    module = path[:-1] if path.endswith(".pyi") else ""
    if module not in model.files:
        return {"stub_of": ""}
    return {"stub_of": module, "stub_of_link": link(module),
            "stub_of_tested_by": len(model.tested_by.get(module, []))}


# What each reason of a related file (`link.related`) restates, and the section of the page that shows it when
# the file is listed there: an entry all of whose reasons are shown above is not repeated under Related Files.
_REASON_SECTIONS = (("tests this file", "tested_by", "Testing & Usage"),
                    ("code under test here", "tests_of", "Testing & Usage"),
                    ("imported at line ", "imports", "Dependencies"),
                    ("imports this file", "importers", "Dependencies"))


def _related_not_above(related: list[dict[str, str]], imports: list[dict[str, Any]], importers: list[dict[str, Any]],
                       graph: dict[str, Any], facts: FileFacts) -> dict[str, Any]:
    """The closest related files whose every reason the page already shows above them (the file linked in the
    list that states that reason: tested by, under test, an import line, an importer) are left out of Related
    Files, which says how many and where they are; the rest keep their order."""
    # Testing & Usage shows the code under test only for a file defining tests, and the files testing it only
    # for a file defining neither tests nor fixtures (`file.md.j2`)
    kinds = {t.kind for t in facts.tests}
    listed = {"tested_by": {t["path"] for t in graph["tested_by"]} if not kinds & {"test", "fixture"} else set(),
              "tests_of": {t["path"] for t in graph["tests_of"]} if "test" in kinds else set(),
              "imports": {r["r"].target for r in imports if r["link"]}, "importers": {i["path"] for i in importers}}
    kept, above, sections = [], 0, set()
    for r in related:
        where = set()
        for part in r["reason"].split("; "):
            hit = next((sec for prefix, key, sec in _REASON_SECTIONS
                        if part.startswith(prefix) and r["path"] in listed[key]), None)
            if hit is None:
                break
            where.add(hit)
        else:
            above += 1
            sections |= where
            continue
        kept.append(r)
    # siblings come only when nothing else relates the file: their shared reason is said once, above them
    siblings = bool(kept) and all(r["reason"] == SIBLING for r in kept)
    return {"related": kept, "related_shown": len(related), "related_above": above,
            "related_above_in": [s for s in ("Dependencies", "Testing & Usage") if s in sections],
            "related_siblings": siblings}


def related_files(model: RepoModel, path: str) -> list[dict[str, str]]:
    """Files related by evidence (the link stage's list), each with its reason; siblings only as last resort."""
    page = P.file_page(path)
    return [{"path": p, "link": P.url_quote(P.rel(page, P.file_page(p))), "reason": reason}
            for p, reason in model.related.get(path, [])]



def render_file_page(memo: Memo, model: RepoModel, cfg: Config, path: str) -> Page:
    facts = model.files[path]
    page = P.file_page(path)
    ctx = file_link_context(model, path)
    # the Usage Examples show lines of other files, read when the page renders: their contents sign it too
    shown = "".join(f":{facts_key(model.files[s['path']])}" for s in ctx["example_sites"] if s["path"] in model.files)
    embed = f"{cfg.embed_source}:{cfg.max_embed_bytes}:{cfg.head_lines}:{facts_key(facts)}{shown}"
    return Page(page, "file.md.j2", ctx, extra=embed,
                late=lambda: {**file_local_context(memo, model, path),
                              "examples": snippets(str(cfg.root), ctx["example_sites"]),
                              "source": _source_block(cfg, facts, read_source(cfg, facts), page)})


def render_kw_page(memo: Memo, model: RepoModel, path: str) -> Page:
    """A file's keyword index: a function of its facts alone, so its digest is the whole signature."""
    return lazy_page(P.kw_page(path), "kw.md.j2", facts_key(model.files[path]),
                 lambda: _kw_context(memo, model, path))


def _kw_context(memo: Memo, model: RepoModel, path: str) -> dict[str, Any]:
    facts = model.files[path]
    page = P.kw_page(path)
    doc = P.file_page(path)
    doc_link = P.url_quote(P.rel(page, doc))
    anchors = file_anchors(memo, model, path)
    elsewhere = symbol_parts(memo, model, path)
    part_links = {i: P.url_quote(P.rel(page, part_page(path, i))) for i in set(elsewhere.values())}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    local = 0  # nested local definitions: only in Code Structure, under the definition holding them
    for s, a in zip(facts.symbols, anchors, strict=True):
        if "<locals>" in s.qualname:
            local += 1
            continue
        link = part_links[elsewhere[a]] if a in elsewhere else doc_link
        groups[keyword_group(s)].append({"name": s.qualname, "link": f"{link}#{a}", "line": s.line})
    ordered = sorted(groups.items(), key=lambda kv: (kind_rank(group_kind(kv[0])), kv[0]))
    group_list = [(g, sorted(items, key=lambda i: (i["name"], i["line"]))) for g, items in ordered]
    imports = sorted({(i.module, i.line, i.names) for i in facts.imports})
    import_items = [{"name": m, "line": ln, "names": names, "src": P.url_quote(P.source_link(page, path, ln))}
                    for m, ln, names in imports]
    group_list, groups_more = _cut_groups(group_list, KW_BUDGET)
    # A test, test class or fixture that is a definition listed above is marked there rather than listed twice.
    test_kind = {(t.name, t.line): t.kind for t in facts.tests}
    marked = 0
    for _, items in group_list:
        for item in items:
            kind = test_kind.get((item["name"], item["line"]))
            if kind is not None:
                item["test"] = "test class" if kind == "class" else kind
                marked += 1
    shown = {(i["name"], i["line"]) for _, items in group_list for i in items if "test" in i}
    test_items = [{"name": t.name, "line": t.line, "kind": t.kind,
                   "src": P.url_quote(P.source_link(page, path, t.line))} for t in facts.tests
                  if (t.name, t.line) not in shown]
    return {"path": path, "facts": facts, "doc_link": doc_link, "groups": group_list, "groups_more": groups_more,
            **_bounded("imports", import_items, IMPORTS_BUDGET,
                       lambda i: 3 * len(i["name"]) + sum(3 * len(n) + 4 for n in i["names"]) + len(i["src"]) + 40),
            **_bounded("tests", test_items, TESTS_BUDGET, lambda t: 3 * len(t["name"]) + len(t["src"]) + 40),
            "folder": P.folder_of(path) or "root", "tests_marked": marked, "local": local, "continued": bool(elsewhere),
            "source_link": P.url_quote(P.source_link(page, path)), "doc_name": PurePosixPath(doc).name}


