"""Query-encoding latency and batch throughput: torch threads, fp32 vs dynamic int8, the same
model run by ONNX Runtime (fp32, and int8 in blocks of 32), and every packaged
encoder (minilm, e5-multilingual, use-multilingual) with the same queries and titles.

Run: `python -m bench.encoder_bench`. Retrieval quality check: for 200 real category paths
used as queries, the top-10 toys (real titles) of each variant vs torch fp32's, and the
cosine between each variant's item vectors and torch fp32's.
"""

from __future__ import annotations

import csv
import json
import time

import numpy as np
import torch

from bench.common import BENCH_HOME, median, percentile
from kgrec.embeddings.encoders import PACKAGED, open_encoder
from kgrec.embeddings.text_encoder import HFTextEncoder, TextEncoder
from kgrec.graph.samples import AMAZON_TOYS, sample_file

TOYS = sample_file(AMAZON_TOYS)
QUERIES = [
    "wooden train set",
    "lego star wars",
    "dolls house furniture",
    "remote control car",
    "jigsaw puzzle",
]


MULTILINGUAL_QUERIES = ["木制火车", "拼图", "Holzeisenbahn", "Puppenhaus", "wooden train set"]


def latency(encoder: TextEncoder, repeats: int = 200, queries: list[str] = QUERIES) -> dict[str, float]:
    for q in queries:
        encoder.encode([q])
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        encoder.encode([queries[i % len(queries)]])
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": median(times), "p99_ms": percentile(times, 99)}


def throughput(encoder: TextEncoder, texts: list[str]) -> float:
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
    for quantize in (False, True):
        onnx = open_encoder(
            None, runtime="onnx", onnx_cache=BENCH_HOME / "onnx", threads=2, quantize=quantize
        )
        key = f"onnx threads=2 {'int8 blocks of 32' if quantize else 'fp32'}"
        results[key] = {**latency(onnx), "batch_texts_per_s": throughput(onnx, titles[:2000])}
        vectors[key] = (onnx.encode(titles), onnx.encode(queries))
    for key in PACKAGED:
        # One thread each, so the figures compare the models, not their threading.
        torch.set_num_threads(1)
        packaged = open_encoder(key, threads=1)
        results[f"encoder={key} threads=1"] = {
            **latency(packaged, repeats=100, queries=MULTILINGUAL_QUERIES),
            "batch_texts_per_s": throughput(packaged, titles[:500]),
        }
    full_items, full_q = vectors["fp32"]
    top_full = np.argsort(-(full_q @ full_items.T), axis=1)[:, :10]
    for name, (items, qs) in vectors.items():
        if name == "fp32":
            continue
        top = np.argsort(-(qs @ items.T), axis=1)[:, :10]
        overlap = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(top_full, top, strict=True)])
        cosines = np.sum(full_items * items, axis=1)
        results[f"{name}: top10 overlap with torch fp32"] = float(overlap)
        results[f"{name}: cosine with torch fp32 (min, median)"] = [
            float(cosines.min()),
            float(np.median(cosines)),
        ]
    print(json.dumps(results, indent=2))
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    (BENCH_HOME / "encoder_bench.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
