"""When kgrec's ItemKNN lists or its shopper-kNN take the catalogue's nodes: only where the cases
gain from them."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from kgrec.evaluation.knowledge_choice import (
    CaseGroup,
    choose_itemknn_knowledge,
    choose_knowledge,
    shopperknn_fit,
)
from kgrec.evaluation.splits import EvalCase
from kgrec.recommender.collaborative import InteractionMatrix

# SYNTHETIC: six shoppers took a and c together; b (a's aisle-mate) was taken by one shopper,
# d (c's aisle) by two, so shoppers alone rank a's list c, d, b and popularity breaks the tie.
ITEMS = ["a", "b", "c", "d"]
HISTORIES = {
    **{f"u{i}": ["a", "c"] for i in range(6)},
    "v1": ["b"],
    "w1": ["d"],
    "w2": ["d"],
}
AISLES = sp.csr_matrix(np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]))
POPULARITY = np.array([6.0, 1.0, 6.0, 2.0], dtype=np.float32)
PARAMS = {"shrink": 0.0, "top_k": 10}


def _cases(hidden: str) -> list[EvalCase]:
    return [EvalCase(f"t{i}", f"t{i}", ["a"], {hidden}) for i in range(5)]


def test_kept_where_the_hidden_items_are_aisle_mates() -> None:
    groups = [CaseGroup("tuning", HISTORIES, _cases("b")), CaseGroup("validation", HISTORIES, _cases("b"))]
    choice = choose_itemknn_knowledge(groups, ITEMS, POPULARITY, AISLES, PARAMS, weights=(0.5, 1.0))
    assert choice.weight > 0 and choice.best == choice.weight
    assert choice.reason.startswith("passes")
    assert choice.rank is not None and choice.rank(_cases("b")[0])[:2] == ["c", "b"]
    shoppers_alone = next(row for row in choice.sweep if row["weight"] == 0.0)
    best = next(row for row in choice.sweep if row["weight"] == choice.weight)
    assert best["tuning ndcg@10"] > shoppers_alone["tuning ndcg@10"]


def test_not_kept_where_the_shoppers_knew_better() -> None:
    groups = [CaseGroup("tuning", HISTORIES, _cases("d")), CaseGroup("validation", HISTORIES, _cases("d"))]
    choice = choose_itemknn_knowledge(groups, ITEMS, POPULARITY, AISLES, PARAMS, weights=(0.5, 1.0))
    assert choice.weight == 0.0 and choice.reason.startswith("fails")


def test_not_kept_when_the_validation_cases_disagree() -> None:
    groups = [CaseGroup("tuning", HISTORIES, _cases("b")), CaseGroup("validation", HISTORIES, _cases("d"))]
    choice = choose_itemknn_knowledge(groups, ITEMS, POPULARITY, AISLES, PARAMS, weights=(0.5,))
    assert choice.weight == 0.0


def test_a_group_breaks_ties_by_its_own_popularity() -> None:
    # Shoppers alone leave b and d tied at 0 for a history {a}: the group's counts decide.
    own = {"a": 6.0, "b": 5.0, "c": 6.0, "d": 0.0}
    groups = [
        CaseGroup("tuning", HISTORIES, _cases("d")),
        CaseGroup("validation", HISTORIES, _cases("b"), popularity=own),
    ]
    choice = choose_itemknn_knowledge(groups, ITEMS, POPULARITY, AISLES, PARAMS, weights=(0.5,))
    shoppers_alone = next(row for row in choice.sweep if row["weight"] == 0.0)
    assert shoppers_alone["tuning ndcg@10"] == shoppers_alone["validation ndcg@10"]  # d, b second in turn


# Shopper-kNN on the same shoppers, history {a}: alone, only the u shoppers (who took a) are
# neighbours and speak for c alone, so b and d tie at 0 and popularity ranks d before b. With
# the aisles in the profiles, v1 (who took only b, a's aisle-mate) shares aisle 0 with the
# history and becomes a neighbour: b moves up to second; w1 and w2 (d, aisle 1) share nothing.
SHOPPERS = {"shrink": 0.0, "top_k": 10}


def test_shopperknn_knowledge_kept_where_the_hidden_items_are_aisle_mates() -> None:
    groups = [CaseGroup("tuning", HISTORIES, _cases("b")), CaseGroup("validation", HISTORIES, _cases("b"))]
    fit = shopperknn_fit(SHOPPERS)
    choice = choose_knowledge(groups, ITEMS, POPULARITY, AISLES, fit, weights=(0.5,))
    assert choice.weight == 0.5 and choice.reason.startswith("passes")
    assert choice.rank is not None and choice.rank(_cases("b")[0])[:3] == ["c", "b", "d"]
    plain = fit(InteractionMatrix.from_histories(HISTORIES, ITEMS), AISLES, 0.0)
    history = np.array([1.0, 0.0, 0.0, 0.0])
    assert plain.scores(history)[[1, 3]].tolist() == [0.0, 0.0]  # no shopper links a to b or d
    rows = {row["weight"]: row for row in choice.sweep}
    assert rows[0.0]["tuning ndcg@10"] == pytest.approx(1 / np.log2(4))  # b third: c, d, b
    assert rows[0.5]["tuning ndcg@10"] == pytest.approx(1 / np.log2(3))  # b second


def test_shopperknn_knowledge_not_kept_where_the_shoppers_knew_better() -> None:
    groups = [CaseGroup("tuning", HISTORIES, _cases("d")), CaseGroup("validation", HISTORIES, _cases("d"))]
    choice = choose_knowledge(groups, ITEMS, POPULARITY, AISLES, shopperknn_fit(SHOPPERS), weights=(0.5,))
    assert choice.weight == 0.0 and choice.best == 0.5 and choice.reason.startswith("fails")


def test_no_weights_to_try_keeps_the_shoppers_alone() -> None:
    groups = [CaseGroup("tuning", HISTORIES, _cases("b"))]
    choice = choose_knowledge(groups, ITEMS, POPULARITY, AISLES, shopperknn_fit(SHOPPERS), weights=())
    assert choice.weight == 0.0 and not choice.sweep
