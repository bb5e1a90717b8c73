"""Concurrent writers to one (user, item, kind) edge: every unique event is counted exactly once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.records import EVENT_WINDOW, InteractionRecord, ProductRecord

pytestmark = pytest.mark.neo4j
THREADS = 8
EVENTS_PER_THREAD = 100


def _event(ts: int, user: str = "shared-hot", item: str = "hot") -> InteractionRecord:
    return InteractionRecord(user_id=user, item_id=item, kind="cart", timestamps=(ts,))


def _edge(store: Neo4jGraphStore, user: str = "shared-hot") -> dict[str, Any]:
    [record] = store.run(
        "MATCH (:User {id: $u})-[r:INTERACTED {kind: 'cart'}]->(:Product) RETURN properties(r) AS r",
        {"u": user},
    )
    return dict(record["r"])


def test_concurrent_unique_events_are_all_counted(neo4j_store: Neo4jGraphStore) -> None:
    neo4j_store.ensure_schema()
    neo4j_store.merge_products([ProductRecord(id="hot", title="Hot item")])

    def post(thread: int) -> int:
        counted = 0
        for i in range(EVENTS_PER_THREAD):
            counts = neo4j_store.merge_interactions([_event(1_700_000_000 + i * THREADS + thread)])
            counted += counts.created + counts.updated
        return counted

    with ThreadPoolExecutor(THREADS) as pool:
        accepted = sum(pool.map(post, range(THREADS)))
    edge = _edge(neo4j_store)
    assert accepted == THREADS * EVENTS_PER_THREAD
    assert edge["count"] == THREADS * EVENTS_PER_THREAD
    assert edge["first_ts"] == 1_700_000_000
    assert edge["last_ts"] == 1_700_000_000 + THREADS * EVENTS_PER_THREAD - 1
    assert "_lock" not in edge
    assert neo4j_store.stats().relationships["INTERACTED"] == 1


def test_concurrent_replays_of_one_event_count_once(neo4j_store: Neo4jGraphStore) -> None:
    neo4j_store.ensure_schema()
    neo4j_store.merge_products([ProductRecord(id="hot", title="Hot item")])
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda _: neo4j_store.merge_interactions([_event(42)]), range(THREADS * 4)))
    assert sum(c.created + c.updated for c in results) == 1
    assert _edge(neo4j_store)["count"] == 1


def test_replay_window_is_bounded_and_count_is_not(neo4j_store: Neo4jGraphStore) -> None:
    """A hot edge keeps only the newest EVENT_WINDOW timestamps; replays inside it add nothing."""
    neo4j_store.ensure_schema()
    neo4j_store.merge_products([ProductRecord(id="hot", title="Hot item")])
    total = EVENT_WINDOW + 250
    neo4j_store.merge_interactions(
        [InteractionRecord("shared-hot", "hot", "cart", tuple(range(1, total + 1)))]
    )
    edge = _edge(neo4j_store)
    assert (edge["count"], len(edge["event_ts"])) == (total, EVENT_WINDOW)
    assert min(edge["event_ts"]) == total - EVENT_WINDOW + 1
    replay = neo4j_store.merge_interactions([_event(total), _event(5)])
    assert replay.skipped == 2 and _edge(neo4j_store)["count"] == total
    newer = neo4j_store.merge_interactions([_event(total + 1)])
    assert newer.updated == 1 and _edge(neo4j_store)["count"] == total + 1
