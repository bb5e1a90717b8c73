"""Shopper-kNN (recommender/collaborative/shopperknn.py): its similarities and scores against
hand-computed values on a tiny SYNTHETIC matrix, the shopper's own row left out, the shrink,
the catalogue-node block; then through the service: the fusion share, the candidate source,
the explanation through an unnamed shopper (proved in Neo4j), and live events."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from kgrec.graph.errors import InvalidArgumentError
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.pseudonym import pseudonymise
from kgrec.recommender.candidates import shopperknn_source
from kgrec.recommender.collaborative import source as source_module
from kgrec.recommender.collaborative.matrix import InteractionMatrix
from kgrec.recommender.collaborative.shopperknn import fit_shopperknn
from kgrec.recommender.fusion import FusionWeights
from kgrec.recommender.request import RecommendationRequest
from kgrec.recommender.service import Recommender
from tests.synthetic import KEY, build

ITEMS = ["a", "b", "c", "d"]
# SYNTHETIC: three shoppers; u1 took a and b, u2 a and c, u3 b, c and d.
BASKETS = {"u1": ["a", "b"], "u2": ["a", "c"], "u3": ["b", "c", "d"]}
# SYNTHETIC catalogue nodes: n1 holds a and c, n2 holds b and d.
NODES = sp.csr_matrix(np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=np.float64))


def data() -> InteractionMatrix:
    return InteractionMatrix.from_histories(BASKETS, ITEMS)


def rows(*items: str) -> np.ndarray:
    return np.array([ITEMS.index(i) for i in items], dtype=np.int64)


def test_similarity_and_scores_are_the_shrunk_cosine_of_the_baskets() -> None:
    found = fit_shopperknn(data(), shrink=1.0, top_k=3).neighbours(rows("a", "d"))
    # sim(h, v) = |h ∩ v| / (√|h| · √|v| + 1) with h = {a, d}
    u1, u2, u3 = 1 / (2 + 1), 1 / (2 + 1), 1 / (math.sqrt(2) * math.sqrt(3) + 1)
    assert found.rows.tolist() == [0, 1, 2]  # best first: u1, u2 (tied, by row), u3
    assert np.allclose(found.sims, [u1, u2, u3])
    assert np.allclose(found.scores, [u1 + u2, u1 + u3, u2 + u3, u3])
    assert np.allclose(found.scaled(), np.array([u1 + u2, u1 + u3, u2 + u3, u3]) / (u1 + u2))


def test_top_k_keeps_the_most_similar_shoppers_and_shrink_0_is_the_plain_cosine() -> None:
    one = fit_shopperknn(data(), shrink=1.0, top_k=1).neighbours(rows("b", "d"))
    u3 = 2 / (math.sqrt(6) + 1)
    assert one.rows.tolist() == [2]
    assert np.allclose(one.scores, [0, u3, u3, u3])
    plain = fit_shopperknn(data(), shrink=0.0, top_k=3).neighbours(rows("b", "d"))
    assert plain.rows.tolist() == [2, 0]  # u2 shares nothing
    assert np.allclose(plain.sims, [2 / math.sqrt(6), 0.5])


def test_shoppers_tied_at_the_kth_place_are_kept_and_ordered_by_row() -> None:
    """SYNTHETIC: u0 and u1 tie below u2 and u3, which tie too; a partition alone kept u3 before u2
    and u1 before u0."""
    tied = InteractionMatrix.from_histories(
        {"u0": ["a", "b", "c"], "u1": ["a", "b", "c"], "u2": ["a", "d"], "u3": ["a", "d"]}, ITEMS
    )
    model = fit_shopperknn(tied, shrink=1.0, top_k=3)
    near, far = 1 / (math.sqrt(2) + 1), 1 / (math.sqrt(3) + 1)
    for k, expected in ((1, [2]), (2, [2, 3]), (3, [2, 3, 0])):
        found = replace(model, top_k=k).neighbours(rows("a"))
        assert found.rows.tolist() == expected, k
        assert np.allclose(found.sims, [near, near, far][:k])


def test_the_requesting_shoppers_own_row_is_left_out() -> None:
    model = fit_shopperknn(data(), shrink=1.0, top_k=3)
    assert model.neighbours(rows("a"), exclude="nobody").rows.tolist() == [0, 1]
    alone = model.neighbours(rows("a"), exclude="u1")
    assert alone.rows.tolist() == [1]
    assert np.allclose(alone.scores, np.array([1, 0, 1, 0]) / (math.sqrt(2) + 1))


def test_a_shopper_who_took_nothing_beyond_the_history_is_no_neighbour() -> None:
    """u1 took exactly {a, b}: with or without its key, the k places go to shoppers who add items,
    so an evaluation's request (history only) ranks as a served one (history and shopper)."""
    model = fit_shopperknn(data(), shrink=1.0, top_k=3)
    found = model.neighbours(rows("a", "b"))
    assert found.rows.tolist() == [1, 2]
    u2, u3 = 1 / 3, 1 / (math.sqrt(6) + 1)
    assert np.allclose(found.scores, [u2, u3, u2 + u3, u3])
    assert model.neighbours(rows("a", "b"), exclude="u1").rows.tolist() == [1, 2]


def test_catalogue_nodes_make_shoppers_of_the_same_aisles_neighbours() -> None:
    assert fit_shopperknn(data(), shrink=0.0, top_k=3).neighbours(rows("a")).rows.tolist() == [0, 1]
    found = fit_shopperknn(data(), shrink=0.0, top_k=3, knowledge=NODES, knowledge_weight=0.5)
    near = found.neighbours(rows("a"))
    # h = [a | 0.5·n1]; u1 = [a, b | 0.5·n1, 0.5·n2], u2 = [a, c | 0.5·n1], u3 = [b, c, d | 0.5·n1, 0.5·n2]
    h = math.sqrt(1.25)
    expected = [1.25 / (h * math.sqrt(2.5)), 1.25 / (h * math.sqrt(2.25)), 0.25 / (h * math.sqrt(3.5))]
    assert near.rows.tolist() == [1, 0, 2]  # u3 shares no item, only the node n1
    assert np.allclose(near.sims, [expected[1], expected[0], expected[2]])
    assert np.allclose(near.scores[ITEMS.index("d")], expected[2])


def test_supporter_names_the_closest_shopper_who_took_it_and_the_history_items_they_share() -> None:
    found = fit_shopperknn(data(), shrink=1.0, top_k=3).neighbours(rows("a", "b"))
    # With the neighbour the items come from: the shopper an explanation's verb is about.
    assert found.supporter(ITEMS.index("c"), rows("a", "b")) == ("u2", [ITEMS.index("a")])  # u2 before u3
    assert found.supporter(ITEMS.index("d"), rows("a", "b")) == ("u3", [ITEMS.index("b")])
    # Its one taker, u2, shares nothing with b.
    assert found.supporter(ITEMS.index("a"), rows("b")) == (None, [])


def test_bad_settings_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="shrink"):
        fit_shopperknn(data(), shrink=-1.0)
    with pytest.raises(InvalidArgumentError, match="top_k"):
        fit_shopperknn(data(), top_k=0)
    with pytest.raises(InvalidArgumentError, match="knowledge"):
        fit_shopperknn(data(), knowledge=NODES[:2], knowledge_weight=0.5)


# SYNTHETIC shoppers of tests/synthetic.py's toy shop: cy and di bought trains with a doll.
EVENTS = [
    ("ann", "10-0"),
    ("ann", "10-1"),
    ("cy", "10-0"),
    ("cy", "10-1"),
    ("cy", "30-2"),
    ("di", "10-1"),
    ("di", "30-2"),
    ("ed", "40-5"),
]
SHOPPERS = FusionWeights(walk_weight=0.0, ease_weight=0.0, itemknn_weight=0.0, shopperknn_weight=1.0)


def shopper_explanation(rec: Recommender, user: str) -> dict[str, Any]:
    request = RecommendationRequest(user_id=user, k=5, diversity=0.0, region_kind="community")
    served = rec.with_weights(SHOPPERS).recommend(request).as_dict()
    item = next(i for i in served["items"] if i["id"] == "30-2")
    return next(e for e in item["explanations"] if "baskets are like yours" in e["text"])


def test_a_shoppers_recommendation_carries_the_shopper_path(tmp_path: Path) -> None:
    rec = build(tmp_path, EVENTS)
    history = rec._history("ann", [])
    assert rec._signals(None, history).shoppers is None  # weight 0 (the default): not computed,
    assert rec.collaborative._shoppers is None  # not even fitted
    signals = rec.with_weights(SHOPPERS)._signals(None, history)
    assert signals.shoppers is not None
    assert pseudonymise("ann", KEY) not in [signals.shoppers.model.users[r] for r in signals.shoppers.rows]
    assert rec.catalog.row["30-2"] in shopperknn_source(signals)
    shown = shopper_explanation(rec, "ann")
    assert shown["kind"] == "collaborative"
    assert [n["label"] for n in shown["nodes"]] == ["User", "Product", "User", "Product"]
    assert [n["id"] for n in shown["nodes"]][2:] == [None, "30-2"]
    assert "'Trains item 0 by Brio'" in shown["text"] and "'Trains item 1 by Ravensburger'" in shown["text"]
    assert shown["nodes"][2]["name"] == "another shopper"
    for other in ("cy", "di"):
        assert pseudonymise(other, KEY) not in json.dumps(shown)


def test_another_shoppers_live_events_reach_shopper_knn_once_the_lists_refresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(source_module, "REFRESH_EVENTS", 3)
    rec = build(tmp_path, [*EVENTS[:2], ("ed", "40-5")])
    weighted = rec.with_weights(SHOPPERS)
    doll = rec.catalog.row["30-2"]

    def doll_score() -> float:
        found = weighted._signals(None, rec._history("ann", [])).shoppers
        assert found is not None
        return float(found.scores[doll])

    assert doll_score() == 0.0
    rec.record_event("fay", "10-0", "purchase", 1_700_000_100)
    rec.record_event("fay", "30-2", "purchase", 1_700_000_101)
    assert doll_score() == 0.0  # within the documented staleness: the profiles are as they were
    rec.record_event("fay", "20-0", "purchase", 1_700_000_102)
    rec.collaborative.wait(30)
    assert doll_score() > 0.0


@pytest.mark.neo4j
def test_the_shopper_path_exists_in_neo4j(neo4j_store: Neo4jGraphStore, tmp_path: Path) -> None:
    rec = build(tmp_path, EVENTS, store=neo4j_store)
    shown = shopper_explanation(rec, "ann")
    assert len(neo4j_store.run(shown["cypher"], shown["params"])) == 1
