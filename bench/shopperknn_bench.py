"""Shopper-kNN's cost per history request and per refit (recommender/collaborative/shopperknn.py).

The serving bench's demo catalogue has no shoppers (bench/recommend_bench.py times query
requests), so this one times the part a history request adds when the fusion gives shopper-kNN
weight: the CSC column slice over the history's items and nodes, the top-k and the row sum.
SYNTHETIC baskets: shoppers pick an aisle-heavy basket from a Zipf-popular catalogue, so the
popular items' columns are long, as in a real shop. Run: `python -m bench.shopperknn_bench`.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import scipy.sparse as sp

from bench.common import median, percentile
from kgrec.recommender.collaborative.matrix import InteractionMatrix
from kgrec.recommender.collaborative.shopperknn import fit_shopperknn


def synthetic(
    shoppers: int, items: int, aisles: int, basket: int, seed: int = 0
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """SYNTHETIC shoppers x items (binary) and items x aisles: half of each basket drawn from
    the whole catalogue by Zipf popularity, half from one home aisle (repeats merge)."""
    rng = np.random.default_rng(seed)
    aisle = rng.integers(0, aisles, items)
    order = np.argsort(aisle, kind="stable")
    starts = np.searchsorted(aisle[order], np.arange(aisles + 1))
    weights = 1.0 / np.arange(1, items + 1) ** 0.8
    popular = rng.choice(items, size=(shoppers, basket // 2), p=weights / weights.sum())
    home = rng.integers(0, aisles, shoppers)
    sizes = np.maximum(starts[home + 1] - starts[home], 1)
    offsets = (rng.random((shoppers, basket - basket // 2)) * sizes[:, None]).astype(np.int64)
    local = order[np.minimum(starts[home][:, None] + offsets, items - 1)]
    cols = np.hstack([popular, local])
    rows = np.repeat(np.arange(shoppers), cols.shape[1])
    taken = sp.csr_matrix((np.ones(rows.size), (rows, cols.ravel())), shape=(shoppers, items))
    taken.data[:] = 1.0
    nodes = sp.csr_matrix((np.ones(items), (np.arange(items), aisle)), shape=(items, aisles))
    return taken, nodes


def timed(
    shoppers: int, items: int, aisles: int, basket: int, requests: int, weight: float
) -> dict[str, float]:
    """Fit once, then `requests` histories (a shopper's own basket, their row left out)."""
    taken, nodes = synthetic(shoppers, items, aisles, basket)
    data = InteractionMatrix([f"u{i}" for i in range(shoppers)], [f"i{j}" for j in range(items)], taken)
    started = time.perf_counter()
    model = fit_shopperknn(data, shrink=10.0, top_k=100, knowledge=nodes, knowledge_weight=weight)
    fit_seconds = time.perf_counter() - started
    rng = np.random.default_rng(1)
    times = []
    for user in rng.integers(0, shoppers, requests).tolist():
        history = taken.indices[taken.indptr[user] : taken.indptr[user + 1]]
        started = time.perf_counter()
        model.neighbours(history, exclude=f"u{user}")
        times.append((time.perf_counter() - started) * 1000)
    return {
        "shoppers": shoppers,
        "items": items,
        "events": int(taken.nnz),
        "knowledge_weight": weight,
        "fit_seconds": round(fit_seconds, 2),
        "p50_ms": round(median(times), 3),
        "p99_ms": round(percentile(times, 99), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    sizes = [(1_400, 9_300, 134, 12), (100_000, 20_000, 500, 12)]
    out = [timed(*size, args.requests, weight) for size in sizes for weight in (0.0, 0.2)]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
