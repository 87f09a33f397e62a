"""Cross-language bridges on a real corpus: how many bindings reach the C/C++ function that implements them.

    python bench/bridges.py pytorch-1.13.1|cpython-3.11 [--facts-cache FILE] [--samples N]

A binding (`m.def("name", &fn)`, `m.impl`, `REGISTER_DISPATCH`, a `PyMethodDef` row) names a function. It is
counted as reached in its own file when that file defines a function of that name, else through another file
when the link stage pairs it with one (`link.cdecls.bridge_implementations`): printed with the clinic rule
alone (a file that includes the binding's defines the function) and with the binding's includes too (a header
the binding's file includes declares it and another file defines it, or an included file defines it). "Before"
issue 13's cross-file bridges is the first two rows. Also lists the `PyModuleDef`s of `Modules/*.c` named by a
macro of another file, with the name their include closure gives (what `docatlas show NAME` finds).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from docatlas.link import cdecls
from docatlas.link.resolve import C_LANGS
from docatlas.link.stage import link
from link_stats import corpus_dir, facts_for


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--facts-cache", type=Path, default=None)
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--binding", action="append", default=[], help="print what the bindings of this name reach")
    args = ap.parse_args(argv)
    root = corpus_dir(args.corpus) if not Path(args.corpus).is_dir() else Path(args.corpus)
    t0 = time.perf_counter()
    facts = facts_for(root, args.facts_cache)
    print(f"facts: {len(facts):,} files in {time.perf_counter() - t0:.1f}s")
    t0 = time.perf_counter()
    model = link(root.name, facts)
    print(f"link: {time.perf_counter() - t0:.1f}s")
    edges = {p: {r.target for r in rs if r.category == "repo" and r.target != p} for p, rs in model.imports.items()}
    clinic_only = cdecls.bridge_implementations(facts, edges)
    both = model.c_bridges
    kinds: Counter[str] = Counter()
    unreached = []
    for path in sorted(facts):
        f = facts[path]
        if f.language not in C_LANGS:
            continue
        defined = {s.name for s in f.symbols if s.kind in ("function", "method") and "declaration" not in s.flags}
        for s in f.symbols:
            if s.kind != "binding" or not s.target:
                continue
            kinds["bindings with a target"] += 1
            if s.target.rpartition("::")[2] in defined:
                kinds["reached in the binding's own file"] += 1
            elif any(w == "implementation" for *_, w in clinic_only.get(path, {}).get(s.qualname, ())):
                kinds["reached in another file, clinic rule (includes the binding's file)"] += 1
            elif any(w == "implementation" for *_, w in both.get(path, {}).get(s.qualname, ())):
                kinds["reached in another file: declared or defined in a file the binding's file includes"] += 1
            else:
                kinds["not reached"] += 1
                unreached.append((path, s.line, s.name, s.target))
    for name in args.binding:
        for path in sorted(facts):
            for s in facts[path].symbols:
                if s.kind == "binding" and s.name == name:
                    print(f"binding `{name}` at {path}:{s.line} -> `{s.target}`: "
                          f"{both.get(path, {}).get(s.qualname, 'no other file')}")
    print("\n| bindings | count |\n|---|---:|")
    for k, v in kinds.items():
        print(f"| {k} | {v:,} |")
    step = max(1, len(unreached) // args.samples) if unreached else 1
    for path, line, name, target in unreached[::step][:args.samples]:
        print(f"- not reached: `{name}` -> `{target}` at {path}:{line}")
    modules = [(p, s) for p, f in sorted(facts.items()) if p.startswith("Modules/") and f.language in C_LANGS
               for s in f.symbols if s.kind == "module" and s.macro == "PyModuleDef"]
    if modules:
        import re

        from docatlas.link.graph import include_closure

        string_macro = re.compile(r'#\s*define\s+\S+\s+"([A-Za-z_][A-Za-z0-9_.]*)"\s*\Z')
        values: dict[str, dict[str, set[str]]] = {}  # macro -> file -> values
        for p, f in facts.items():
            for s in f.symbols:
                if s.kind == "macro":
                    m = string_macro.match(s.signature)
                    if m:
                        values.setdefault(s.name, {}).setdefault(p, set()).add(m.group(1))
        named_here = sum(1 for _p, s in modules if "name-macro" not in s.flags)
        by_macro = [(p, s.name) for p, s in modules if "name-macro" in s.flags]
        print(f"\nPyModuleDef in Modules/: {len(modules):,}; named in their own file (`docatlas show NAME` finds "
              f"them by that name before and after): {named_here:,}; named by a macro of another file: "
              f"{len(by_macro):,}")
        for p, macro in by_macro:
            reach = include_closure(p, edges) | {p}
            names = sorted({v for q, vs in values.get(macro, {}).items() if q in reach for v in vs})
            print(f"- {p}: `{macro}` -> " + (", ".join(f"`{n}`" for n in names) or "not resolved")
                  + " through its include closure")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
