"""A load killed with `kill -9` leaves nothing (one transaction) or a re-runnable state (batches)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kgrec.graph.loaders import load_products
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore
from tests.conftest import REPO, TEST_PASSWORD

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]
ROWS = 8_000
LOADER = """
import sys
from pathlib import Path
from neo4j import GraphDatabase
from kgrec.graph.loaders import load_products
from kgrec.graph.neo4j_store import Neo4jGraphStore
uri, password, path, atomic_rows = sys.argv[1:5]
driver = GraphDatabase.driver(uri, auth=("neo4j", password))
store = Neo4jGraphStore(driver)
load_products(store, Path(path), taxonomy="shop", batch_size=200, atomic_rows=int(atomic_rows))
"""


def _catalogue(path: Path) -> Path:
    lines = ["id,title,brand,price,category_path"]
    lines += [f"k{i},Kite {i},Brand {i % 37},{i % 90}.5,Outdoor > Kites > Size {i % 41}" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _products(store: Neo4jGraphStore) -> int:
    return int(store.run("MATCH (p:Product) RETURN count(p) AS n")[0]["n"])


def _writing(store: Neo4jGraphStore) -> bool:
    """A product write is running (the text travels as a parameter, so this query never matches)."""
    records = store.run(
        "SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS $text RETURN count(*) AS n",
        {"text": "CREATE (p:Product"},
    )
    return bool(records[0]["n"])


def _kill_when(neo4j_server: LocalNeo4j, path: Path, atomic_rows: int, ready: Callable[[], bool]) -> None:
    loader = subprocess.Popen(
        [sys.executable, "-c", LOADER, neo4j_server.bolt_uri, TEST_PASSWORD, str(path), str(atomic_rows)],
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 120
        while not ready():
            assert loader.poll() is None, "the load finished before it could be killed"
            assert time.monotonic() < deadline, "the load never started writing"
            time.sleep(0.05)
        os.kill(loader.pid, signal.SIGKILL)
    finally:
        loader.wait()


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_kill_9_during_an_atomic_load_leaves_nothing(
    neo4j_store: Neo4jGraphStore, neo4j_server: LocalNeo4j, tmp_path: Path
) -> None:
    neo4j_store.ensure_schema()
    before = neo4j_store.stats().as_dict()
    path = _catalogue(tmp_path / "kites.csv")
    _kill_when(neo4j_server, path, ROWS, lambda: _writing(neo4j_store))
    _wait_until(lambda: not _writing(neo4j_store))
    assert neo4j_store.stats().as_dict() == before
    summary = load_products(neo4j_store, path, taxonomy="shop")
    assert (summary.counts.created, _products(neo4j_store)) == (ROWS, ROWS)


def test_kill_9_during_a_batched_load_is_rerunnable(
    neo4j_store: Neo4jGraphStore, neo4j_server: LocalNeo4j, tmp_path: Path
) -> None:
    neo4j_store.ensure_schema()
    path = _catalogue(tmp_path / "kites.csv")
    _kill_when(neo4j_server, path, 0, lambda: _products(neo4j_store) > 0)
    _wait_until(lambda: not _writing(neo4j_store))
    partial = _products(neo4j_store)
    assert 0 < partial < ROWS
    summary = load_products(neo4j_store, path, taxonomy="shop", atomic_rows=0)
    assert summary.counts.skipped >= partial and summary.counts.created == ROWS - summary.counts.skipped
    stats = neo4j_store.stats()
    assert (
        stats.nodes["Product"]
        == stats.relationships["IN_CATEGORY"]
        == stats.relationships["HAS_BRAND"]
        == ROWS
    )
    assert stats.nodes["Brand"] == 37 and stats.nodes["Category"] == 2 + 41
