"""Search quality on everyday questions: MRR and precision@5 of `docatlas search` over PyTorch and Django.

    python bench/search_quality.py --pytorch OUT_DIR --django OUT_DIR [--limit 10] [-v]

OUT_DIR is a `docatlas build ... -o OUT_DIR` output folder (it holds docatlas.sqlite). Each query runs through
the real ranking (`docatlas.store.queries.search`). The expected answers were written down from knowledge of the
two code bases and checked against pytorch-1.13.1 and django-5.2 before any ranking was tuned; they are not
derived from docatlas output. An answer is `path` (the file, or any definition in it, answers the question) or
`path:Qual.name` (that definition: the hit's qualified name is it or ends with `.Qual.name` / `::Qual.name`).

Figures: reciprocal rank of the first relevant hit (0 when none is in the first --limit), averaged (MRR); and
precision@5, the share of the first five hits that are relevant (fewer than five hits count the missing ones as
not relevant). A query whose repository was not given is skipped and said so.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from docatlas.store import queries, schema

# (repository, query, acceptable answers); written before tuning, see the module docstring
QUERIES: list[tuple[str, str, list[str]]] = [
    ("pytorch", "Linear", ["torch/nn/modules/linear.py:Linear"]),
    ("pytorch", "where is softmax implemented on CUDA", ["aten/src/ATen/native/cuda/SoftMax.cu",
                                                         "aten/src/ATen/native/cuda/PersistentSoftmax.cuh"]),
    ("pytorch", "autograd Function", ["torch/autograd/function.py"]),
    ("pytorch", "conv2d", ["torch/nn/functional.py:conv2d", "torch/nn/modules/conv.py:Conv2d"]),
    ("pytorch", "Conv2d", ["torch/nn/modules/conv.py:Conv2d"]),
    ("pytorch", "DataLoader", ["torch/utils/data/dataloader.py:DataLoader"]),
    ("pytorch", "Module", ["torch/nn/modules/module.py:Module"]),
    ("pytorch", "cross entropy loss", ["torch/nn/modules/loss.py:CrossEntropyLoss",
                                       "torch/nn/functional.py:cross_entropy"]),
    ("pytorch", "Adam optimizer", ["torch/optim/adam.py"]),
    ("pytorch", "batch norm cuda kernel", ["aten/src/ATen/native/cuda/Normalization.cu",
                                           "aten/src/ATen/native/cuda/Normalization.cuh"]),
    ("pytorch", "TensorIterator", ["aten/src/ATen/TensorIterator.h"]),
    ("pytorch", "dropout", ["torch/nn/functional.py:dropout", "torch/nn/modules/dropout.py"]),
    ("pytorch", "jit script", ["torch/jit/_script.py"]),
    ("pytorch", "Tensor", ["torch/_tensor.py:Tensor"]),
    ("pytorch", "DistributedDataParallel", ["torch/nn/parallel/distributed.py:DistributedDataParallel"]),
    ("pytorch", "native_functions.yaml", ["aten/src/ATen/native/native_functions.yaml"]),
    ("pytorch", "matmul", ["aten/src/ATen/native/LinearAlgebra.cpp:at::native::matmul",
                           "torch/functional.py"]),
    ("pytorch", "relu", ["torch/nn/functional.py:relu", "torch/nn/modules/activation.py:ReLU"]),
    ("pytorch", "MultiheadAttention", ["torch/nn/modules/activation.py:MultiheadAttention"]),
    ("pytorch", "learning rate scheduler", ["torch/optim/lr_scheduler.py"]),
    ("pytorch", "BatchNorm2d", ["torch/nn/modules/batchnorm.py:BatchNorm2d"]),
    ("pytorch", "save model", ["torch/serialization.py:save"]),
    ("pytorch", "no_grad", ["torch/autograd/grad_mode.py:no_grad"]),
    ("pytorch", "manual_seed", ["torch/random.py:manual_seed"]),
    ("django", "Model", ["django/db/models/base.py:Model"]),
    ("django", "QuerySet filter", ["django/db/models/query.py:QuerySet.filter"]),
    ("django", "csrf middleware", ["django/middleware/csrf.py"]),
    ("django", "migrations autodetector", ["django/db/migrations/autodetector.py"]),
    ("django", "URL resolver", ["django/urls/resolvers.py:URLResolver"]),
    ("django", "CharField", ["django/db/models/fields/__init__.py:CharField"]),
    ("django", "ForeignKey", ["django/db/models/fields/related.py:ForeignKey"]),
    ("django", "template engine", ["django/template/engine.py:Engine"]),
    ("django", "HttpResponse", ["django/http/response.py:HttpResponse"]),
    ("django", "authenticate user", ["django/contrib/auth/__init__.py:authenticate"]),
    ("django", "admin site register", ["django/contrib/admin/sites.py:AdminSite.register"]),
    ("django", "session middleware", ["django/contrib/sessions/middleware.py"]),
    ("django", "render template shortcut", ["django/shortcuts.py:render"]),
    ("django", "Paginator", ["django/core/paginator.py:Paginator"]),
    ("django", "send mail", ["django/core/mail/__init__.py:send_mail"]),
    ("django", "ModelForm", ["django/forms/models.py:ModelForm"]),
    ("django", "management command", ["django/core/management/base.py:BaseCommand"]),
    ("django", "password hashers", ["django/contrib/auth/hashers.py"]),
    ("django", "post_save signal", ["django/db/models/signals.py:post_save"]),
    ("django", "WSGI handler", ["django/core/handlers/wsgi.py:WSGIHandler"]),
    ("django", "redis cache backend", ["django/core/cache/backends/redis.py"]),
    ("django", "reverse url", ["django/urls/base.py:reverse"]),
    ("django", "get_object_or_404", ["django/shortcuts.py:get_object_or_404"]),
    ("django", "login required", ["django/contrib/auth/decorators.py:login_required",
                                  "django/contrib/auth/mixins.py:LoginRequiredMixin"]),
    ("django", "test client", ["django/test/client.py:Client"]),
]


def relevant(hit: queries.Hit, answers: list[str]) -> bool:
    for answer in answers:
        path, _, name = answer.partition(":")  # C++ names keep their `::`: `path:at::native::matmul`
        if hit.path != path:
            continue
        if not name or hit.qualname == name or hit.qualname.endswith(("." + name, "::" + name)):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pytorch", type=Path, help="output folder of a pytorch-1.13.1 build")
    ap.add_argument("--django", type=Path, help="output folder of a django-5.2 build")
    ap.add_argument("--limit", type=int, default=10, help="hits asked for per query (rank cut-off)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print the first five hits of each query")
    args = ap.parse_args(argv)
    conns = {name: schema.open_index(out) for name, out in (("pytorch", args.pytorch), ("django", args.django))
             if out is not None}
    rr: list[float] = []
    p5: list[float] = []
    skipped = 0
    for repo, query, answers in QUERIES:
        if repo not in conns:
            skipped += 1
            continue
        t = time.perf_counter()
        hits = queries.search(conns[repo], query, limit=args.limit)
        ms = (time.perf_counter() - t) * 1000
        marks = [relevant(h, answers) for h in hits]
        rank = marks.index(True) + 1 if True in marks else 0
        rr.append(1 / rank if rank else 0.0)
        p5.append(sum(marks[:5]) / 5)
        print(f"{repo:<8} rank {rank if rank else '-':>2}  p@5 {p5[-1]:.1f}  {ms:6.1f} ms  {query}")
        if args.verbose or not rank:
            for h, ok in zip(hits[:5], marks[:5], strict=False):
                print(f"{'':12}{'+' if ok else ' '} {h.match:<8} {h.kind:<9} {h.path}:{h.line} {h.qualname}")
    if not rr:
        print("no queries run: give --pytorch and/or --django", file=sys.stderr)
        return 2
    found = sum(1 for r in rr if r)
    print(f"\nqueries {len(rr)} (skipped {skipped}: repository not given), answer in top {args.limit}: {found}")
    print(f"MRR {sum(rr) / len(rr):.3f}   precision@5 {sum(p5) / len(p5):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
