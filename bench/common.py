"""Shared benchmark plumbing: a throwaway Neo4j, timing and medians."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from neo4j import GraphDatabase

from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore

REPO = Path(__file__).resolve().parent.parent
BENCH_HOME = REPO / "var" / "bench"
PASSWORD = "kgrec-bench-password"


def bench_server(heap: str = "2g", pagecache: str = "1g", home: Path | None = None) -> LocalNeo4j:
    return LocalNeo4j(
        home=home or BENCH_HOME / "neo4j",
        lib_dir=Path(os.environ.get("KGREC_NEO4J_LIB_DIR", REPO / "var" / "neo4j" / "lib")),
        password=PASSWORD,
        bolt_port=int(os.environ.get("KGREC_BENCH_BOLT_PORT", "27687")),
        http_port=int(os.environ.get("KGREC_BENCH_HTTP_PORT", "27474")),
        heap=heap,
        pagecache=pagecache,
    )


@contextmanager
def bench_store(heap: str = "2g", pagecache: str = "1g") -> Iterator[Neo4jGraphStore]:
    server = bench_server(heap, pagecache)
    server.start()
    driver = GraphDatabase.driver(server.bolt_uri, auth=("neo4j", PASSWORD), notifications_min_severity="OFF")
    try:
        store = Neo4jGraphStore(driver)
        store.ensure_schema()
        yield store
    finally:
        driver.close()
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
