"""Live events reach what the next request reads (history, co-occurrence, popularity), safely
while requests are being served. On the synthetic catalogue: no training, no Neo4j."""

from __future__ import annotations

import threading
from pathlib import Path

from kgrec.recommender.request import RecommendationRequest
from tests.synthetic import build


def test_an_event_is_counted_once_and_raises_the_products_served_popularity(tmp_path: Path) -> None:
    rec = build(tmp_path)
    row = rec.catalog.row["40-5"]
    assert rec.catalog.popularity[row] == 0.0
    assert rec.record_event("carol", "40-5", "purchase", 10)
    assert not rec.record_event("carol", "40-5", "purchase", 10)
    assert 0.0 < rec.catalog.popularity[row] < 1.0
    for ts in range(11, 16):
        rec.record_event("carol", "40-5", "purchase", ts)
    assert rec.catalog.popularity[row] == 1.0
    assert rec.catalog.popularity[rec.catalog.row["10-0"]] < 1.0
    popular = rec.recommend(RecommendationRequest(k=4, diversity=0.0, region_kind="community"))
    assert popular.ids[0] == "40-5"
    assert [e.events for e in rec.projection.user_history["carol"]] == [6]


def test_events_and_requests_at_the_same_time_neither_fail_nor_lose_an_event(tmp_path: Path) -> None:
    rec = build(tmp_path)
    errors: list[BaseException] = []

    def post(user: str) -> None:
        try:
            for ts in range(1, 101):
                rec.record_event(user, f"{20 + 10 * (ts % 3)}-{ts % 6}", "view", ts)
        except BaseException as exc:
            errors.append(exc)

    def ask() -> None:
        try:
            for _ in range(30):
                rec.recommend(RecommendationRequest(history=["20-1"], user_id="u1", k=5))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=post, args=(f"u{i}",)) for i in range(3)]
    threads += [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(sum(e.events for e in rec.projection.user_history[f"u{i}"]) == 100 for i in range(3))
