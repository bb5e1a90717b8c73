"""Encode latency of fine-tuned encoders against the base MiniLM, one query at a time, the
encoders taking turns per query in one process (so load and warm-up hit each alike): the issue
asks that fine-tuning does not make a query slower to encode.

Run: `python -m bench.finetuned_latency_bench ENCODER_DIR... [--rounds 5] [--queries 100]`
(KGREC_ENCODER_RUNTIME picks torch or onnx; KGREC_SHARED_DATA points at the dev queries).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from bench.common import median, percentile
from kgrec.api.wiring import limit_blas_threads
from kgrec.embeddings.encoders import open_encoder
from kgrec.evaluation.presets.homedepot import DEV, read_qrels


def main() -> None:
    parser = argparse.ArgumentParser()
    default_dir = Path(os.environ.get("KGREC_SHARED_DATA", "../shared/data")) / "homedepot_search"
    parser.add_argument("encoders", type=Path, nargs="+")
    parser.add_argument("--data-dir", type=Path, default=default_dir)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    limit_blas_threads()
    runtime = os.environ.get("KGREC_ENCODER_RUNTIME", "torch")
    queries = sorted(read_qrels(args.data_dir / DEV))[: args.queries]
    with tempfile.TemporaryDirectory(prefix="kgrec-bench-") as tmp:
        encoders = {"base": open_encoder(runtime=runtime, onnx_cache=Path(tmp) / "base")}
        for number, folder in enumerate(args.encoders):
            encoders[folder.name] = open_encoder(folder, runtime=runtime, onnx_cache=Path(tmp) / str(number))
        for encoder in encoders.values():
            encoder.encode(queries[:10])
        times: dict[str, list[float]] = {name: [] for name in encoders}
        for _ in range(args.rounds):
            for query in queries:
                for name, encoder in encoders.items():
                    started = time.perf_counter()
                    encoder.encode([query])
                    times[name].append((time.perf_counter() - started) * 1000)
    results = {
        name: {"p50_ms": round(median(t), 2), "p95_ms": round(percentile(t, 95), 2), "encodes": len(t)}
        for name, t in times.items()
    }
    print(json.dumps({"runtime": runtime, "latency": results}, indent=2))


if __name__ == "__main__":
    main()
