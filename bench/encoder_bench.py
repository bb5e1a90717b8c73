"""Query-encoding latency and batch throughput: torch threads, fp32 vs dynamic int8.

Run: `python -m bench.encoder_bench`. Retrieval quality check: for 200 real category paths
used as queries, the top-10 toys (real titles) under int8 vs under fp32.
"""

from __future__ import annotations

import csv
import json
import time

import numpy as np
import torch

from bench.common import BENCH_HOME, median, percentile
from kgrec.embeddings.text_encoder import HFTextEncoder
from kgrec.graph.samples import AMAZON_TOYS, sample_file

TOYS = sample_file(AMAZON_TOYS)
QUERIES = [
    "wooden train set",
    "lego star wars",
    "dolls house furniture",
    "remote control car",
    "jigsaw puzzle",
]


def latency(encoder: HFTextEncoder, repeats: int = 200) -> dict[str, float]:
    for q in QUERIES:
        encoder.encode([q])
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        encoder.encode([QUERIES[i % len(QUERIES)]])
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": median(times), "p99_ms": percentile(times, 99)}


def throughput(encoder: HFTextEncoder, texts: list[str]) -> float:
    started = time.perf_counter()
    encoder.encode(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    with TOYS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    titles = [r["product_name"] for r in rows]
    paths = sorted(
        {r["amazon_category_and_sub_category"] for r in rows if r["amazon_category_and_sub_category"]}
    )
    queries = paths[:200]
    results: dict[str, object] = {}
    vectors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for threads in (1, 2):
        for quantize in (False, True):
            torch.set_num_threads(threads)
            encoder = HFTextEncoder(threads=threads, quantize=quantize)
            key = f"threads={threads} {'int8' if quantize else 'fp32'}"
            results[key] = {
                **latency(encoder),
                "batch_texts_per_s": throughput(encoder, titles[:2000]),
            }
            if threads == 2:
                vectors["int8" if quantize else "fp32"] = (encoder.encode(titles), encoder.encode(queries))
    full_items, full_q = vectors["fp32"]
    int8_items, int8_q = vectors["int8"]
    top_full = np.argsort(-(full_q @ full_items.T), axis=1)[:, :10]
    top_int8 = np.argsort(-(int8_q @ int8_items.T), axis=1)[:, :10]
    overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_full, top_int8, strict=True)])
    results["int8_top10_overlap_with_fp32"] = float(overlap)
    results["int8_vs_fp32_cosine_median"] = float(np.median(np.sum(full_items * int8_items, axis=1)))
    print(json.dumps(results, indent=2))
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    (BENCH_HOME / "encoder_bench.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
