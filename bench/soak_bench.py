"""Soak: events, recommendations and catalogue loads at once against a real `kgrec serve`.

Reports lost events (accepted as new but not counted in Neo4j; must be 0), the error rate
per kind of request, and the server's RSS growth. On demand only (not in `make test` or
`make bench`): run after `make demo-load` and `kgrec train`, with the demo's settings:

    python -m bench.soak_bench --minutes 10

It starts `kgrec serve` on 127.0.0.1:18001 (`--port`), writes events only for users named `soak-*`
(removed from the graph at the end) and re-uploads a 200-product file that only updates
products the demo already has.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter

import httpx

from bench.api_bench import rss_kib
from bench.common import BENCH_HOME
from bench.recommend_bench import queries
from kgrec.api.settings import Settings
from kgrec.api.wiring import open_driver
from kgrec.graph.pseudonym import pseudonymise

HOT_USERS = 4
HOT_ITEMS = 3


class Tally:
    """Thread-safe counts of outcomes per request kind, and events accepted as new per edge."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self.accepted: Counter[tuple[str, str]] = Counter()

    def record(self, kind: str, status: int) -> None:
        bucket = "ok" if status < 400 else "4xx" if status < 500 else f"{status}"
        with self.lock:
            self.outcomes[(kind, bucket)] += 1


def _events(url: str, stop: threading.Event, tally: Tally, items: list[str], worker: int) -> None:
    rng = random.Random(worker)
    sequence = 0
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            user, item = f"soak-{rng.randrange(HOT_USERS)}", items[rng.randrange(HOT_ITEMS)]
            sequence += 1
            # Unique per worker and step, so every accepted event must be counted once.
            timestamp = 1_800_000_000 + sequence * 64 + worker
            body = {"user_id": user, "item_id": item, "kind": "cart", "timestamp": timestamp}
            response = client.post("/v1/events", json=body)
            tally.record("event", response.status_code)
            if response.status_code == 202 and response.json()["new"]:
                with tally.lock:
                    tally.accepted[(user, item)] += 1


def _recommendations(url: str, stop: threading.Event, tally: Tally, texts: list[str], worker: int) -> None:
    rng = random.Random(100 + worker)
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            body = {
                "query": rng.choice(texts),
                "k": 10,
                "diversity": 0.5,
                "user_id": f"soak-{rng.randrange(4)}",
            }
            tally.record("recommendation", client.post("/v1/recommendations", json=body).status_code)


def _loads(url: str, stop: threading.Event, tally: Tally, catalogue: bytes, api_key: str) -> None:
    with httpx.Client(base_url=url, timeout=300, headers={"X-API-Key": api_key}) as client:
        while not stop.wait(5):
            files = {"file": ("soak-products.csv", catalogue, "text/csv")}
            tally.record("load", client.post("/v1/admin/load/products", files=files).status_code)


def _catalogue_slice(settings: Settings, size: int) -> tuple[bytes, list[str]]:
    """A CSV of `size` existing products (id, title, price), so loads update, never add."""
    with open_driver(settings) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (p:Product) RETURN p.id AS id, p.title AS title ORDER BY p.id LIMIT $n", {"n": size}
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "title", "price"])
    for i, record in enumerate(records):
        writer.writerow([record["id"], record["title"], f"{1 + i % 50}.99"])
    return out.getvalue().encode(), [record["id"] for record in records]


def _counted(settings: Settings, tally: Tally) -> dict[tuple[str, str], int]:
    key = settings.pseudonym_key_bytes()
    counted = {}
    with open_driver(settings) as driver:
        for user, item in tally.accepted:
            records, _, _ = driver.execute_query(
                "MATCH (:User {id: $u})-[r:INTERACTED {kind: 'cart'}]->(:Product {id: $p}) "
                "RETURN r.count AS n",
                {"u": pseudonymise(user, key), "p": item},
            )
            counted[(user, item)] = int(records[0]["n"]) if records else 0
        users = [pseudonymise(f"soak-{i}", key) for i in range(HOT_USERS)]
        driver.execute_query("UNWIND $ids AS id MATCH (u:User {id: id}) DETACH DELETE u", {"ids": users})
    return counted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--event-workers", type=int, default=8)
    parser.add_argument("--recommend-workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=18001)
    args = parser.parse_args()
    url = f"http://127.0.0.1:{args.port}"
    settings = Settings()
    catalogue, ids = _catalogue_slice(settings, 200)
    server = subprocess.Popen(
        [sys.executable, "-m", "kgrec.api.cli", "serve", "--port", str(args.port)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tally, stop = Tally(), threading.Event()
    try:
        deadline = time.monotonic() + 180
        while not _ready(url):
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become ready")
            time.sleep(1)
        rss_start = rss_kib(server.pid)
        rss_peak = rss_start
        texts = queries(300)
        threads = [
            threading.Thread(target=_events, args=(url, stop, tally, ids, n))
            for n in range(args.event_workers)
        ] + [
            threading.Thread(target=_recommendations, args=(url, stop, tally, texts, n))
            for n in range(args.recommend_workers)
        ]
        threads.append(
            threading.Thread(target=_loads, args=(url, stop, tally, catalogue, settings.api_key_value()))
        )
        for thread in threads:
            thread.start()
        end = time.monotonic() + args.minutes * 60
        while time.monotonic() < end:
            time.sleep(5)
            rss_peak = max(rss_peak, rss_kib(server.pid))
        stop.set()
        for thread in threads:
            thread.join()
        rss_end = rss_kib(server.pid)
    finally:
        stop.set()
        server.terminate()
        server.wait(timeout=30)
    counted = _counted(settings, tally)
    lost = sum(max(0, tally.accepted[edge] - counted.get(edge, 0)) for edge in tally.accepted)
    kinds = sorted({kind for kind, _ in tally.outcomes})
    results = {
        "minutes": args.minutes,
        "accepted_new_events": sum(tally.accepted.values()),
        "counted_in_neo4j": sum(counted.values()),
        "lost_events": lost,
        "requests": {k: {b: n for (kind, b), n in tally.outcomes.items() if kind == k} for k in kinds},
        "error_rate": {
            k: round(
                sum(n for (kind, b), n in tally.outcomes.items() if kind == k and b != "ok")
                / max(1, sum(n for (kind, _), n in tally.outcomes.items() if kind == k)),
                4,
            )
            for k in kinds
        },
        "rss_mib": {"start": rss_start // 1024, "peak": rss_peak // 1024, "end": rss_end // 1024},
    }
    print(json.dumps(results, indent=2))
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    (BENCH_HOME / "soak_bench.json").write_text(json.dumps(results, indent=2))
    if lost:
        raise SystemExit(f"{lost} accepted events were lost")


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
