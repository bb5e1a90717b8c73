"""Shared benchmark plumbing: a throwaway Neo4j (graph's launcher, built from settings like
`kgrec neo4j start`), timing and medians."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from neo4j import GraphDatabase

from kgrec.api.settings import Settings
from kgrec.api.wiring import local_server
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore

REPO = Path(__file__).resolve().parent.parent
BENCH_HOME = REPO / "var" / "bench"
PASSWORD = "kgrec-bench-password"
BOLT_PORT = int(os.environ.get("KGREC_BENCH_BOLT_PORT", "27687"))
HTTP_PORT = int(os.environ.get("KGREC_BENCH_HTTP_PORT", "27474"))


def bench_settings(home: Path, heap: str = "2g", pagecache: str = "1g") -> Settings:
    """Settings for a bench's own home and Neo4j on the bench ports (KGREC_BENCH_*_PORT)."""
    lib = os.environ.get("KGREC_NEO4J_LIB_DIR")
    return Settings(
        home=home,
        neo4j_uri=f"bolt://127.0.0.1:{BOLT_PORT}",
        neo4j_password=PASSWORD,
        neo4j_lib_dir=Path(lib) if lib else REPO / "var" / "neo4j" / "lib",
        neo4j_heap=heap,
        neo4j_pagecache=pagecache,
    )


def bench_server(heap: str = "2g", pagecache: str = "1g", home: Path | None = None) -> LocalNeo4j:
    """The load and train benches' Neo4j, under var/bench/neo4j unless another home is given."""
    return server_for(bench_settings(home or BENCH_HOME, heap, pagecache))


def server_for(settings: Settings) -> LocalNeo4j:
    return local_server(settings, BOLT_PORT, HTTP_PORT)


@contextmanager
def bench_store(heap: str = "2g", pagecache: str = "1g") -> Iterator[Neo4jGraphStore]:
    server = bench_server(heap, pagecache)
    server.start()
    try:
        with store_on(server) as store:
            store.ensure_schema()
            yield store
    finally:
        server.stop()


@contextmanager
def store_on(server: LocalNeo4j) -> Iterator[Neo4jGraphStore]:
    """A store with its own driver: after a bulk import, older drivers hold stale bookmarks."""
    driver = GraphDatabase.driver(server.bolt_uri, auth=("neo4j", PASSWORD), notifications_min_severity="OFF")
    try:
        yield Neo4jGraphStore(driver)
    finally:
        driver.close()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
