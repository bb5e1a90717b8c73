"""Where a cold recommendation request spends its CPU, stage by stage, in one process.

The HTTP benchmark (`api_bench --cold`) says whether the 2 cores reach the throughput target;
its figures move by ±5-10 % with the machine's other work. This one times the server's own
stages on one thread with `time.thread_time` (CPU, not wall clock), every query unseen, so a
lever's effect on the request path shows without the load generator and the scheduler:
encode (tokeniser + encoder), recommend (the pipeline after the query vector), the route's
additions (category trails, Browser links) and the response's validation + JSON.

Run: `KGREC_ENCODER_RUNTIME=onnx python -m bench.cold_path_bench [--requests 600] [--no-explain]
[--profile FILE]` against a Neo4j holding the demo graph and a trained artifact (KGREC_HOME).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import time
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from bench.common import median, percentile
from bench.recommend_bench import queries
from kgrec.api.item_trail import add_category_trails
from kgrec.api.routes_recommend import _browser_links
from kgrec.api.schemas import RecommendationResponse
from kgrec.api.settings import Settings
from kgrec.api.state import AppState
from kgrec.api.wiring import limit_blas_threads, open_driver, open_store, text_encoder
from kgrec.embeddings.batching_encoder import BatchingEncoder
from kgrec.recommender.request import RecommendationRequest

STAGES = ("encode", "recommend", "route", "serialise")


def cpu_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.thread_time_ns()
    out = fn()
    return (time.thread_time_ns() - started) / 1e6, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--profile", help="write a cProfile of the timed requests to this file")
    args = parser.parse_args()
    settings = Settings()
    limit_blas_threads()
    driver = open_driver(settings)
    encoder = BatchingEncoder(text_encoder(settings, threads=1))
    state = AppState(settings, driver, open_store(settings, driver), encoder)
    recommender = state.recommender()
    adapter = TypeAdapter(RecommendationResponse)
    texts = queries(300)
    explain = not args.no_explain

    def one(i: int) -> dict[str, float]:
        text = f"{texts[i % len(texts)]} {i // len(texts)}"  # unseen: the query cache cannot help
        request = RecommendationRequest(query=text, k=10, diversity=0.5, explain=explain)
        spent: dict[str, float] = {}
        spent["encode"], _ = cpu_ms(lambda: recommender.warm_query(text))
        spent["recommend"], result = cpu_ms(lambda: recommender.recommend(request).as_dict())

        def route() -> dict[str, Any]:
            add_category_trails(recommender.projection_for(None), result)
            _browser_links(state, result)
            return {"request_id": "0" * 32, **result}

        spent["route"], body = cpu_ms(route)
        spent["serialise"], _ = cpu_ms(lambda: adapter.dump_json(adapter.validate_python(body)))
        return spent

    for i in range(50):
        one(1_000_000 + i)  # warm-up: first calls allocate, fill lazy caches
    profiler = cProfile.Profile(time.thread_time_ns, 1e-9) if args.profile else None  # CPU, not wall
    if profiler:
        profiler.enable()
    runs = [one(i) for i in range(args.requests)]
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)
    driver.close()
    totals = [sum(r.values()) for r in runs]
    report = {
        "requests": args.requests,
        "explain": explain,
        "encoder_runtime": settings.encoder_runtime,
        **{f"{s}_cpu_ms_median": round(median([r[s] for r in runs]), 3) for s in STAGES},
        **{f"{s}_cpu_ms_mean": round(sum(r[s] for r in runs) / len(runs), 3) for s in STAGES},
        "total_cpu_ms_median": round(median(totals), 3),
        "total_cpu_ms_mean": round(sum(totals) / len(totals), 3),
        "total_cpu_ms_p99": round(percentile(totals, 99), 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
