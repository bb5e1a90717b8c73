"""Response serialisation per call: FastAPI's default path against orjson and the stdlib, on one
saved recommendation response (medians of 5 rounds).

Run: `curl -s -X POST 127.0.0.1:8000/v1/recommendations -H 'content-type: application/json'
-d '{"query": "lego city police", "k": 10}' > /tmp/resp.json`, then
`python -m bench.serialisation_bench --response /tmp/resp.json` (orjson is a dev dependency only).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from pydantic import TypeAdapter

from kgrec.api.schemas import RecommendationResponse


def per_call_ms(fn: Callable[[], object], calls: int) -> float:
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        rounds.append((time.perf_counter() - started) / calls * 1000)
    return round(statistics.median(rounds), 4)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--response", type=Path, required=True, help="a saved /v1/recommendations body")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    body = json.loads(args.response.read_text(encoding="utf-8"))
    adapter = TypeAdapter(RecommendationResponse)
    print(
        json.dumps(
            {
                "bytes": len(orjson.dumps(body)),
                "fastapi_default_ms": per_call_ms(
                    lambda: adapter.dump_json(adapter.validate_python(body)), args.calls
                ),
                "orjson_response_ms": per_call_ms(
                    lambda: orjson.dumps(adapter.dump_python(adapter.validate_python(body), mode="json")),
                    args.calls,
                ),
                "orjson_unvalidated_ms": per_call_ms(lambda: orjson.dumps(body), args.calls),
                "stdlib_json_ms": per_call_ms(lambda: json.dumps(body).encode(), args.calls),
            }
        )
    )


if __name__ == "__main__":
    main()
