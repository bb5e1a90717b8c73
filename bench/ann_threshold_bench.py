"""Where HNSW starts to pay: exact-scan vs HNSW search time, HNSW build time and recall@50 over
catalogue sizes, for the KG (64-d) and text (384-d) vectors. SYNTHETIC clustered unit vectors.

The serving rule (`retrieval.ANN_SCAN_FLOATS`) switches to HNSW once rows × dim passes a
bound; this bench is what that bound is read from. Each request searches both indexes once
(twice with a history), so the exact scan's cost is paid on every request, the build once at
start-up.

Run: `python -m bench.ann_threshold_bench [--sizes 10000 25000 50000 100000]`
"""

from __future__ import annotations

import argparse
import json

from bench.common import BENCH_HOME
from bench.recommend_bench import ann_recall
from kgrec.api.wiring import limit_blas_threads
from kgrec.recommender.retrieval import ANN_SCAN_FLOATS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 25_000, 50_000, 100_000])
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()
    limit_blas_threads()
    rows = []
    for dim in (64, 384):
        for n in args.sizes:
            row = ann_recall(n, dim, probes=args.probes)
            row["scan_floats"] = n * dim
            row["serving_uses_hnsw"] = n * dim >= ANN_SCAN_FLOATS
            print(json.dumps(row), flush=True)
            rows.append(row)
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    (BENCH_HOME / "ann_threshold_bench.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
