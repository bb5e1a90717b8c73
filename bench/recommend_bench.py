"""Recommendation latency end to end (encode, retrieve, fuse, re-rank, explain), per strategy,
against relevance-only in the same run; and HNSW recall against the exact scan.

Run: `python -m bench.recommend_bench`. It measures the demo catalogue in var/bench/demo, which
it loads and trains itself the first time (bench/demo_catalogue.py), served by its own Neo4j on
the bench ports. The ANN part uses SYNTHETIC clustered vectors. History requests (no query: the
path where the presets' tuned `swap` default serves and swap reads the shopper's known regions)
use SYNTHETIC histories, since the demo catalogue has no shoppers. `max_rss_kib` is the whole
process's peak and `max_rss_kib_at_load` the peak up to the recommender's load: both include the
demo catalogue's load and training when this run made them (docs/benchmarks.md, bench13).
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import time

import numpy as np

from bench.common import BENCH_HOME, median, percentile
from bench.demo_catalogue import demo_catalogue
from kgrec.api.wiring import limit_blas_threads, open_driver, open_store, text_encoder
from kgrec.graph.samples import AMAZON_TOYS, sample_file
from kgrec.recommender.request import RecommendationRequest
from kgrec.recommender.retrieval import ExactIndex, HnswIndex, normalise_rows
from kgrec.recommender.service import Recommender

TOYS = sample_file(AMAZON_TOYS)
# The swap levels the presets serve to history requests (docs/evaluation.md, "Session 12 on main").
PRESET_SWAP = {"Gift Cards": 0.75, "Instacart": 0.22, "Last.FM": 0.3}
HISTORY_LENGTHS = (3, 10, 30)  # cycled: a short history, a basket, a long listening history


def queries(n: int) -> list[str]:
    """Real category leaf names from the toys file, as shopper-like queries."""
    with TOYS.open(encoding="utf-8") as handle:
        leaves = sorted(
            {
                r["amazon_category_and_sub_category"].rsplit(">", 1)[-1].strip()
                for r in csv.DictReader(handle)
                if r["amazon_category_and_sub_category"]
            }
        )
    return leaves[:n]


def latency(recommender: Recommender, texts: list[str], strategy: str, diversity: float) -> dict[str, float]:
    """Every query encoded (the query-vector cache is emptied first): the cold-traffic cost."""
    recommender.queries.clear()
    requests = [RecommendationRequest(query=t, k=10, diversity=diversity, strategy=strategy) for t in texts]
    return timed(recommender, requests)


def timed(recommender: Recommender, requests: list[RecommendationRequest]) -> dict[str, float]:
    """Each request end to end, response serialised as the API does; median and p99 in ms."""
    times = []
    for request in requests:
        started = time.perf_counter()
        recommender.recommend(request).as_dict()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(median(times), 2), "p99_ms": round(percentile(times, 99), 2)}


def histories(recommender: Recommender, n: int, seed: int = 0) -> list[list[str]]:
    """SYNTHETIC shopper histories: lengths cycle through HISTORY_LENGTHS, each drawn from one to
    three taxonomy regions of the catalogue, so a list can repeat the shopper's known regions
    (swap gives those up last) and regions they lack."""
    rng = np.random.default_rng(seed)
    codes = recommender.catalog.regions["taxonomy"].codes
    members = [np.flatnonzero(codes == c) for c in np.unique(codes)]
    members = [m for m in members if m.size >= 10]
    pids = recommender.catalog.pids
    out = []
    for i in range(n):
        length = HISTORY_LENGTHS[i % len(HISTORY_LENGTHS)]
        regions = rng.choice(len(members), size=int(rng.integers(1, 4)), replace=False)
        pool = np.concatenate([members[r] for r in regions])
        out.append([pids[j] for j in rng.choice(pool, size=min(length, pool.size), replace=False)])
    return out


def history_latency(
    recommender: Recommender, shoppers: list[list[str]], strategy: str, diversity: float
) -> dict[str, float]:
    """History requests (no query, no encoding), timed end to end like the query requests."""
    requests = [
        RecommendationRequest(history=h, k=10, diversity=diversity, strategy=strategy) for h in shoppers
    ]
    return timed(recommender, requests)


def ann_recall(n: int, dim: int, k: int = 50, probes: int = 200) -> dict[str, float]:
    """SYNTHETIC clustered unit vectors; recall@k of HNSW against the exact scan."""
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(500, dim))
    data = normalise_rows(centres[rng.integers(0, 500, n)] + 0.5 * rng.normal(size=(n, dim)))
    started = time.perf_counter()
    hnsw = HnswIndex(data)
    build = time.perf_counter() - started
    exact = ExactIndex(data)
    recalls, exact_ms, hnsw_ms = [], [], []
    for q in (data[rng.integers(0, n, probes)] + 0.1 * rng.normal(size=(probes, dim))).astype(np.float32):
        t = time.perf_counter()
        truth = set(exact.search(q, k)[0].tolist())
        exact_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        found = set(hnsw.search(q, k)[0].tolist())
        hnsw_ms.append((time.perf_counter() - t) * 1000)
        recalls.append(len(truth & found) / k)
    return {
        "vectors": n,
        "dim": dim,
        "recall_at_50": round(float(np.mean(recalls)), 4),
        "build_seconds": round(build, 1),
        "exact_p50_ms": round(median(exact_ms), 3),
        "hnsw_p50_ms": round(median(hnsw_ms), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--ann-vectors", type=int, default=200_000)
    args = parser.parse_args()
    limit_blas_threads()
    results: dict[str, object] = {}
    with demo_catalogue() as settings, open_driver(settings) as driver:
        store = open_store(settings, driver)
        recommender = Recommender.load(
            store, settings.home, text_encoder(settings), pseudonym_key=settings.pseudonym_key_bytes()
        )
        results["max_rss_kib_at_load"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        texts = queries(args.queries)
        latency(recommender, texts[:20], "none", 0.0)
        results["catalogue_products"] = len(recommender.catalog.pids)
        rows = {"none (relevance only)": latency(recommender, texts, "none", 0.0)}
        for strategy in ("mmr", "dpp", "xquad", "calibrated", "swap"):
            rows[f"{strategy} d=0.6"] = latency(recommender, texts, strategy, 0.6)
        # The levels the session-11 evaluations chose for swap: Gift Cards 0.75, Instacart 0.14
        # (docs/evaluation.md, "Session 11 on main").
        for level in (0.75, 0.14):
            rows[f"swap d={level}"] = latency(recommender, texts, "swap", level)
        base = rows["none (relevance only)"]["p50_ms"]
        for row in rows.values():
            row["p50_vs_relevance_only"] = round(row["p50_ms"] / base, 3)
        results["latency_k10"] = rows
        shoppers = histories(recommender, args.queries)
        history_latency(recommender, shoppers[:20], "none", 0.0)
        history_rows = {"none (relevance only)": history_latency(recommender, shoppers, "none", 0.0)}
        for preset, level in PRESET_SWAP.items():
            history_rows[f"swap d={level} ({preset})"] = history_latency(recommender, shoppers, "swap", level)
        history_rows["xquad d=0.6 (untuned default)"] = history_latency(recommender, shoppers, "xquad", 0.6)
        base = history_rows["none (relevance only)"]["p50_ms"]
        for row in history_rows.values():
            row["p50_vs_relevance_only"] = round(row["p50_ms"] / base, 3)
        results["history_latency_k10"] = history_rows
    results["ann"] = [ann_recall(args.ann_vectors, 64), ann_recall(args.ann_vectors // 4, 384)]
    results["max_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps(results, indent=2))
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    (BENCH_HOME / "recommend_bench.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
