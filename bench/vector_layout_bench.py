"""Vector search with the vectors on their own nodes (what kgrec writes) against the old layout
(vectors as properties of the product nodes), in the same Neo4j, same vectors, same queries.

Moving `kg_embedding`/`text_embedding` off the products keeps Neo4j Browser readable; this
checks the vector index answers as fast. SYNTHETIC random unit vectors (no catalogue needed).
Run: `python -m bench.vector_layout_bench [--products 10000] [--queries 300]`.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from bench.common import bench_store, median, percentile
from kgrec.graph import cypher
from kgrec.graph.neo4j_store import Neo4jGraphStore

LEGACY_LABEL = "BenchLegacyProduct"
LEGACY_INDEX = "bench_legacy_text"


def load(
    store: Neo4jGraphStore, vectors: np.ndarray, batch: int = 2000, *, legacy: bool = True
) -> dict[str, float]:
    """Both layouts hold the same vectors: the real write path and the old one."""
    ids = [f"bench-{i}" for i in range(len(vectors))]
    seconds: dict[str, float] = {}
    for start in range(0, len(ids), 50_000):
        store.write("UNWIND $ids AS id CREATE (:Product {id: id})", {"ids": ids[start : start + 50_000]})
    started = time.perf_counter()
    for start in range(0, len(ids), batch):
        rows = [(ids[i], vectors[i].tolist()) for i in range(start, min(start + batch, len(ids)))]
        store.write_vectors("Product", "text_embedding", rows)
    store.ensure_vector_index("Product", "text_embedding", vectors.shape[1])
    seconds["own_nodes_write_s"] = time.perf_counter() - started
    if not legacy:
        started = time.perf_counter()
        store.run("CALL db.awaitIndexes(3600)")
        seconds["own_nodes_index_wait_s"] = time.perf_counter() - started
        return seconds
    store.write(f"UNWIND $ids AS id CREATE (:{LEGACY_LABEL} {{id: id}})", {"ids": ids})
    started = time.perf_counter()
    for start in range(0, len(ids), batch):
        rows = [
            {"id": ids[i], "vector": vectors[i].tolist()} for i in range(start, min(start + batch, len(ids)))
        ]
        store.write(
            f"UNWIND $rows AS row MATCH (n:{LEGACY_LABEL} {{id: row.id}}) "
            "CALL db.create.setNodeVectorProperty(n, 'text_embedding', row.vector) RETURN count(n) AS n",
            {"rows": rows},
        )
    store.schema(
        f"CREATE VECTOR INDEX {LEGACY_INDEX} IF NOT EXISTS FOR (n:{LEGACY_LABEL}) ON n.text_embedding "
        f"OPTIONS {{indexConfig: {{`vector.dimensions`: {int(vectors.shape[1])}, "
        "`vector.similarity_function`: 'cosine'}}"
    )
    seconds["on_product_write_s"] = time.perf_counter() - started
    store.run("CALL db.awaitIndexes(600)")
    return seconds


def measure(
    store: Neo4jGraphStore, probes: np.ndarray, k: int, *, legacy: bool = True
) -> dict[str, list[float]]:
    """Interleaved queries, which layout goes first alternating, so noise and caches hit both alike."""
    query, _ = cypher.query_vector_index("Product", "text_embedding", k, [])
    indexes = {"own_nodes": cypher.vector_index_name("Product", "text_embedding"), "on_product": LEGACY_INDEX}
    if not legacy:
        del indexes["on_product"]
    times: dict[str, list[float]] = {name: [] for name in indexes}
    agree = 0
    for i, probe in enumerate(probes):
        vector = probe.tolist()
        found: dict[str, set[str]] = {}
        for name in sorted(indexes, reverse=bool(i % 2)):
            started = time.perf_counter()
            rows = store.run(query, {"name": indexes[name], "k": k, "vector": vector})
            times[name].append(time.perf_counter() - started)
            found[name] = {r["id"] for r in rows}
        agree += len(found["own_nodes"] & found.get("on_product", found["own_nodes"]))
    times["overlap"] = [agree / (k * len(probes))]
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument(
        "--own-only", action="store_true", help="Only kgrec's layout: query latency as the catalogue grows"
    )
    args = parser.parse_args()
    legacy = not args.own_only
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((args.products, args.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    probes = vectors[rng.choice(args.products, args.queries, replace=False)] + 0.1 * rng.standard_normal(
        (args.queries, args.dim)
    ).astype(np.float32)
    with bench_store() as store:
        store.clear()
        try:
            writes = load(store, vectors, legacy=legacy)
            measure(store, probes[:20], args.k, legacy=legacy)  # warm the indexes
            times = measure(store, probes, args.k, legacy=legacy)
        finally:
            store.schema(f"DROP INDEX {LEGACY_INDEX} IF EXISTS")
            store.clear()
    result: dict[str, object] = {
        "products": args.products,
        "dim": args.dim,
        "k": args.k,
        "queries": args.queries,
        **{key: round(value, 2) for key, value in writes.items()},
        "own_nodes_median_ms": round(median(times["own_nodes"]) * 1000, 3),
        "own_nodes_p99_ms": round(percentile(times["own_nodes"], 99) * 1000, 3),
    }
    if legacy:
        result |= {
            "on_product_median_ms": round(median(times["on_product"]) * 1000, 3),
            "on_product_p99_ms": round(percentile(times["on_product"], 99) * 1000, 3),
            "median_ratio_own_over_on_product": round(
                median(times["own_nodes"]) / median(times["on_product"]), 3
            ),
            "top_k_overlap": round(times["overlap"][0], 3),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
