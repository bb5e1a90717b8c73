"""HTTP load test from a second process: throughput and p50/p99 at concurrency 1, 8 and 32,
and the server's memory over a soak run.

Run: `python -m bench.api_bench`. It serves the demo catalogue in var/bench/demo (loaded and
trained the first time, bench/demo_catalogue.py): it starts `kgrec serve` on 127.0.0.1:18000 (or
`--port`) itself and sends requests only to that address.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from bench.common import BENCH_HOME, median, percentile
from bench.demo_catalogue import demo_catalogue, demo_env
from bench.recommend_bench import queries


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_cpu(server_pid: int, run: Callable[[], dict[str, float]]) -> dict[str, float]:
    """A load level plus the CPU milliseconds per request that the server and this load
    generator spent: on a 2-core machine their sum bounds the throughput."""
    server_before, own_before = cpu_seconds(server_pid), cpu_seconds(os.getpid())
    result = run()
    requests = max(result["requests"], 1)
    result["server_cpu_ms_per_req"] = round((cpu_seconds(server_pid) - server_before) * 1000 / requests, 2)
    result["client_cpu_ms_per_req"] = round((cpu_seconds(os.getpid()) - own_before) * 1000 / requests, 2)
    return result


async def load(
    url: str,
    concurrency: int,
    seconds: float,
    texts: list[str],
    *,
    cold: bool = False,
    explain: bool = True,
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url, timeout=30.0) as client:

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < deadline:
                # Cold: a query text never sent before, so the query-vector cache cannot help.
                text = f"{texts[i % len(texts)]} {i // len(texts)}" if cold else texts[i % len(texts)]
                body = {"query": text, "k": 10, "diversity": 0.5, "explain": explain}
                started = time.perf_counter()
                response = await client.post("/v1/recommendations", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
                errors += response.status_code != 200
                i += concurrency

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(median(latencies), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
    }


def measure(args: argparse.Namespace, env: dict[str, str]) -> dict[str, object]:
    """Serve the catalogue in a `kgrec serve` subprocess and load it level by level."""
    url = f"http://127.0.0.1:{args.port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "kgrec"), "serve", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        else:
            raise SystemExit("the server did not become ready")
        texts = queries(300)
        asyncio.run(load(url, 2, 5, texts))
        explain = not args.no_explain
        results: dict[str, object] = {
            "cold": args.cold,
            "explain": explain,
            "encoder_runtime": os.environ.get("KGREC_ENCODER_RUNTIME", "torch"),
            "levels": [
                with_cpu(
                    server.pid,
                    partial(asyncio.run, load(url, c, args.seconds, texts, cold=args.cold, explain=explain)),
                )
                for c in args.levels
            ],
        }
        if args.soak_seconds > 0:
            before = rss_kib(server.pid)
            soak = asyncio.run(load(url, 8, args.soak_seconds, texts, cold=args.cold, explain=explain))
            results["soak"] = {**soak, "rss_before_kib": before, "rss_after_kib": rss_kib(server.pid)}
    finally:
        server.terminate()
        server.wait(timeout=30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--soak-seconds", type=float, default=300.0)
    parser.add_argument("--cold", action="store_true", help="every query new: no query-cache hits")
    parser.add_argument("--no-explain", action="store_true", help='requests send "explain": false')
    parser.add_argument(
        "--levels", type=int, nargs="+", default=[1, 8, 32], help="concurrency levels to measure"
    )
    parser.add_argument("--port", type=int, default=18000, help="where to start `kgrec serve`")
    args = parser.parse_args()
    with demo_catalogue() as settings:
        results = measure(args, demo_env(settings))
    print(json.dumps(results, indent=2))
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    (BENCH_HOME / "api_bench.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
