"""The whole Home Depot catalogue (54,667 title-only products): load, train, and recommendation
latency for real shopper queries, with and without explanations, in one run.

Run: `python -m bench.homedepot_bench [--epochs 5] [--queries 300]` (KGREC_SHARED_DATA or
--data-dir points at the data). On a shared machine split it into two timed runs under ~10 min:
`--stage train --home DIR` (load + train, artifacts kept in DIR), then `--stage serve --home DIR`
(load again + latency over DIR's artifacts). KGREC_ENCODER_RUNTIME picks the encoder runtime.
The graph lives in the in-memory store (the one the contract suite proves equivalent to Neo4j),
brands and attribute values read from the titles. Latency is per request, k = 10, query-vector
cache emptied first (every query encoded: cold traffic), relevance only and the query-only
default (xQuAD 0.4); the ratio is against the same-run relevance-only figure without
explanations.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from bench.common import BENCH_HOME, median, percentile
from kgrec.api.wiring import limit_blas_threads
from kgrec.embeddings.artifacts import Artifact
from kgrec.embeddings.build import build_embeddings
from kgrec.embeddings.cold_start import embed_new_products
from kgrec.embeddings.encoders import open_encoder
from kgrec.embeddings.training import TrainingConfig
from kgrec.evaluation.presets.homedepot import DEV, PRODUCTS, read_qrels
from kgrec.graph.loaders import load_products
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.recommender.request import DEFAULT_QUERY_DIVERSITY, RecommendationRequest
from kgrec.recommender.service import Recommender


def latency(
    recommender: Recommender, queries: list[str], strategy: str, diversity: float, explain: bool
) -> dict[str, float]:
    recommender.queries.clear()
    times = []
    for query in queries:
        started = time.perf_counter()
        recommender.recommend(
            RecommendationRequest(
                query=query,
                k=10,
                strategy=strategy,
                diversity=diversity,
                region_kind="community",
                explain=explain,
            )
        ).as_dict()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(median(times), 2), "p99_ms": round(percentile(times, 99), 2)}


def _serve(recommender: Recommender, queries: list[str]) -> dict[str, dict[str, float]]:
    latency(recommender, queries[:20], "none", 0.0, False)
    rows = {}
    for strategy, diversity in (("none", 0.0), ("xquad", DEFAULT_QUERY_DIVERSITY)):
        for explain in (False, True):
            name = f"{strategy}@{diversity} {'with' if explain else 'without'} explanations"
            rows[name] = latency(recommender, queries, strategy, diversity, explain)
    base = rows["none@0.0 without explanations"]["p50_ms"]
    for row in rows.values():
        row["p50_vs_relevance_only"] = round(row["p50_ms"] / base, 3)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    default_dir = Path(os.environ.get("KGREC_SHARED_DATA", "../shared/data")) / "homedepot_search"
    parser.add_argument("--data-dir", type=Path, default=default_dir)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--stage", choices=("all", "train", "serve"), default="all")
    parser.add_argument("--home", type=Path, help="keep the artifacts here (needed by --stage serve)")
    args = parser.parse_args()
    if args.stage != "all" and args.home is None:
        parser.error("--stage train/serve needs --home")
    limit_blas_threads()
    results: dict[str, object] = {"stage": args.stage}
    store = MemoryGraphStore()
    started = time.perf_counter()
    loaded = load_products(store, args.data_dir / PRODUCTS, extract_from_title=True, progress=True)
    results["load_seconds"] = round(time.perf_counter() - started, 1)
    results["products"] = loaded.rows
    results["graph"] = store.stats().as_dict()
    runtime = os.environ.get("KGREC_ENCODER_RUNTIME", "torch")
    results["encoder_runtime"] = runtime
    with tempfile.TemporaryDirectory(prefix="kgrec-bench-") as tmp:
        home = args.home or Path(tmp)
        encoder = open_encoder(runtime=runtime, onnx_cache=home / "onnx")
        if args.stage != "serve":
            started = time.perf_counter()
            config = TrainingConfig(epochs=args.epochs)
            summary = build_embeddings(store, home, config, encoder, progress=True)
            embed_new_products(store, Artifact.open_current(home), encoder)
            results["train_seconds"] = round(time.perf_counter() - started, 1)
            results["training"] = summary.as_dict()
        if args.stage != "train":
            started = time.perf_counter()
            recommender = Recommender.load(store, home, encoder, pseudonym_key=b"bench")
            results["recommender_load_seconds"] = round(time.perf_counter() - started, 1)
            queries = sorted(read_qrels(args.data_dir / DEV))[: args.queries]
            results["latency_k10"] = _serve(recommender, queries)
            results["queries"] = len(queries)
    results["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(results, indent=2))
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    (BENCH_HOME / f"homedepot_bench_{args.stage}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
