"""The bulk path (`neo4j-admin database import`) against the transactional loader, on real files:
both must leave the same graph, down to every property, and the same indexes.

The import restarts the server and starts the database's transaction ids afresh, which strands
any driver holding older bookmarks, so these tests run their own server beside the session's
(on the session's ports + 2) and open a new driver for every look at it."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from neo4j import GraphDatabase

from kgrec.evaluation.presets.giftcards import prepare_giftcards
from kgrec.graph.bulk_import import BulkSummary, bulk_load
from kgrec.graph.errors import DatabaseNotEmptyError
from kgrec.graph.loaders import load_interactions, load_products, load_taxonomy
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.samples import AMAZON_TOYS_MAPPING
from kgrec.graph.store import LoadTarget
from tests.conftest import DATA, TEST_PASSWORD, make_test_server, shared_data

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]

EN = DATA / "google_taxonomy" / "taxonomy-with-ids.en-US.2021-09-21.txt"
ZH = DATA / "google_taxonomy" / "taxonomy-with-ids.zh-CN.2015-02-19.txt"
TOYS = DATA / "amazon_toys_uk" / "amazon_co-ecommerce_sample.csv"
KEY = b"bulk-test-pseudonym-key"


def first_rows(source: Path, target: Path, rows: int) -> Path:
    with (
        source.open(encoding="utf-8", newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        reader = csv.reader(src)
        writer = csv.writer(dst)
        for i, row in enumerate(reader):
            if i > rows:
                break
            writer.writerow(row)
    return target


def load_everything(store: LoadTarget, work: Path) -> None:
    """Two locales of the Google taxonomy, toys with path categories and title facts, gift cards
    with their reviews (pseudonymised users)."""
    gifts = prepare_giftcards(shared_data("amazon_giftcards_2018"), work / "gifts")
    toys = first_rows(TOYS, work / "toys.csv", 400)
    load_taxonomy(store, EN)
    load_taxonomy(store, ZH)
    load_products(
        store,
        toys,
        taxonomy="amazon_uk",
        mapping=AMAZON_TOYS_MAPPING,
        currency="GBP",
        extract_from_title=True,
    )
    load_products(store, gifts.products, taxonomy="amazon_giftcards")
    load_interactions(store, gifts.interactions, pseudonym_key=KEY)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNeo4j]:
    """A home never started before the shared import below, which starts it."""
    local = make_test_server(
        tmp_path_factory.mktemp("bulk-neo4j-home"), port_offset=2, heap="512m", pagecache="128m"
    )
    yield local
    local.stop()


@contextmanager
def store_on(server: LocalNeo4j) -> Iterator[Neo4jGraphStore]:
    with GraphDatabase.driver(
        server.bolt_uri, auth=("neo4j", TEST_PASSWORD), notifications_min_severity="OFF"
    ) as driver:
        yield Neo4jGraphStore(driver)


def _stamped(props: dict[str, Any]) -> dict[str, Any]:
    if "changed_ms" in props:
        return {**props, "changed_ms": props["changed_ms"] > 0}
    return props


def snapshot(store: Neo4jGraphStore) -> dict[str, Any]:
    nodes = [
        (tuple(r["labels"]), sorted(r["props"].items()))
        for r in store.run("MATCH (n) RETURN labels(n) AS labels, properties(n) AS props")
    ]
    # `changed_ms` is the wall-clock time of the write: both paths must stamp it, at their own time.
    rels = [
        (r["type"], r["head"], r["tail"], sorted(_stamped(r["props"]).items()))
        for r in store.run(
            "MATCH (a)-[r]->(b) RETURN type(r) AS type, labels(a)[0] + ':' + a.id AS head, "
            "labels(b)[0] + ':' + b.id AS tail, properties(r) AS props"
        )
    ]
    indexes = sorted(
        (r["name"], r["type"], tuple(r["labels"] or ()), tuple(r["props"] or ()))
        for r in store.run(
            "SHOW INDEXES YIELD name, type, labelsOrTypes AS labels, properties AS props "
            "RETURN name, type, labels, props"
        )
    )
    return {
        "labels": Counter(":".join(n[0]) for n in nodes),
        "types": Counter(r[0] for r in rels),
        "nodes": sorted(nodes, key=repr),
        "rels": sorted(rels, key=repr),
        "indexes": indexes,
    }


def drop_schema(store: Neo4jGraphStore) -> None:
    """Every constraint and index but the token lookups every database has, so that the indexes
    after a transactional load are the ones it made. The names come from the server."""
    for record in store.run("SHOW CONSTRAINTS YIELD name RETURN name"):
        store.schema(f"DROP CONSTRAINT `{record['name']}`")
    for record in store.run("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name"):
        store.schema(f"DROP INDEX `{record['name']}`")


@dataclass(frozen=True)
class Imported:
    transactional: dict[str, Any]
    bulk: dict[str, Any]
    summary: BulkSummary
    csv_dir: Path


@pytest.fixture(scope="module")
def imported(server: LocalNeo4j, tmp_path_factory: pytest.TempPathFactory) -> Imported:
    """Everything bulk-imported into the never-started home and snapshotted, then the database
    emptied, its schema dropped and the same files loaded by the transactional loader: one import
    and one server start, which the tests below only read. (The import into a started, empty
    server is `test_bulk_import_stops_a_running_empty_server_and_starts_it_again`.)"""
    work = tmp_path_factory.mktemp("bulk")
    summary = bulk_load(
        server,
        lambda: store_on(server),
        lambda staging: load_everything(staging, work / "b"),
        work_dir=work / "csv",
        max_memory="256m",
    )
    with store_on(server) as store:
        bulk = snapshot(store)
        store.clear()
        drop_schema(store)
        emptied = snapshot(store)
        load_everything(store, work / "a")
        transactional = snapshot(store)
    assert not emptied["nodes"] and {index[1] for index in emptied["indexes"]} == {"LOOKUP"}
    return Imported(transactional, bulk, summary, work / "csv")


def test_bulk_import_leaves_the_graph_the_transactional_loader_leaves(imported: Imported) -> None:
    transactional, bulk = imported.transactional, imported.bulk
    assert transactional["labels"]["Product"] > 1_000 and transactional["types"]["INTERACTED"] > 1_000
    assert transactional["labels"]["AttributeValue"] > 0 and transactional["labels"]["User"] > 100
    assert bulk["labels"] == transactional["labels"]
    assert bulk["types"] == transactional["types"]
    assert bulk["indexes"] == transactional["indexes"]
    assert bulk["nodes"] == transactional["nodes"]
    assert bulk["rels"] == transactional["rels"]
    assert imported.summary.nodes["Product"] == transactional["labels"]["Product"]
    assert not list(imported.csv_dir.glob("bulk-*")), "the CSVs are removed after the import"


def test_bulk_import_into_a_never_started_home_needs_no_stop(imported: Imported) -> None:
    """A first install: the home was never started, so its database is empty without looking."""
    seconds = imported.summary.seconds
    assert "stop" not in seconds and "check" not in seconds
    assert "fresh home, not started" in seconds
    assert imported.summary.nodes == imported.bulk["labels"]


def test_bulk_import_refuses_a_database_that_holds_anything(
    server: LocalNeo4j, imported: Imported, tmp_path: Path
) -> None:
    """The database holds the transactional load above."""
    server.start()
    with store_on(server) as store:
        before = store.stats().nodes
    assert before["Product"] > 1_000
    staged: list[object] = []

    with pytest.raises(DatabaseNotEmptyError, match=r"already holds \d+ nodes.*kgrec load"):
        bulk_load(server, lambda: store_on(server), staged.append, work_dir=tmp_path)

    assert staged == [], "nothing is staged, stopped or imported"
    assert server.running_pid() is not None
    with store_on(server) as store:
        assert store.stats().nodes == before


def test_bulk_import_stops_a_running_empty_server_and_starts_it_again(
    server: LocalNeo4j, tmp_path: Path
) -> None:
    """The server runs (started here when this test runs alone) and its database is empty: the
    import looks, stops it, imports and starts it again."""
    server.start()
    with store_on(server) as store:
        store.clear()
    before = server.running_pid()
    summary = bulk_load(
        server,
        lambda: store_on(server),
        lambda staging: load_taxonomy(staging, EN),
        work_dir=tmp_path / "csv",
        max_memory="256m",
    )
    assert {"check", "stop", "import", "start"} <= set(summary.seconds)
    assert "fresh home, not started" not in summary.seconds
    assert server.running_pid() not in (None, before)
    with store_on(server) as store:
        assert store.stats().nodes["Category"] == summary.nodes["Category"] > 5_000
        assert store.stats().nodes == summary.nodes
