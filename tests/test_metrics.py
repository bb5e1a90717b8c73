"""Metrics against cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kgrec.evaluation.metrics import (
    alpha_ndcg_at_k,
    bootstrap_ci,
    coverage_at_k,
    exposure_entropy,
    exposure_gini,
    filter_bubble_share,
    hit_rate_at_k,
    intra_list_distance,
    ndcg_at_k,
    novelty,
    recall_at_k,
    reciprocal_rank,
    roc_auc,
    serendipity,
)

RANKED = ["a", "b", "c", "d"]
RELEVANT = {"b", "d", "z"}
REGIONS = {"a": "r1", "b": "r1", "c": "r2", "d": "r1", "z": "r3"}


def test_accuracy_metrics_by_hand() -> None:
    assert recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, RELEVANT, 4) == pytest.approx(2 / 3)
    assert hit_rate_at_k(RANKED, RELEVANT, 1) == 0.0
    assert hit_rate_at_k(RANKED, RELEVANT, 2) == 1.0
    # DCG = 1/log2(3) + 1/log2(5); ideal over 3 relevant at k=4: 1 + 1/log2(3) + 1/log2(4)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3) + 0.5)
    assert ndcg_at_k(RANKED, RELEVANT, 4) == pytest.approx(expected)
    assert reciprocal_rank(RANKED, RELEVANT) == 0.5
    assert reciprocal_rank(RANKED, {"q"}) == 0.0


def test_alpha_ndcg_by_hand() -> None:
    # Relevant b (r1) at rank 2 gains 1/log2(3); d (r1 again) at rank 4 gains 0.5/log2(5).
    dcg = 1 / math.log2(3) + 0.5 / math.log2(5)
    # Ideal (greedy): b or d (r1) then z (r3) then the other r1 item: 1 + 1/log2(3) + 0.5/2.
    ideal = 1 + 1 / math.log2(3) + 0.5 / 2
    assert alpha_ndcg_at_k(RANKED, RELEVANT, REGIONS, 4, alpha=0.5) == pytest.approx(dcg / ideal)
    assert alpha_ndcg_at_k(["b", "z"], RELEVANT, REGIONS, 2) > alpha_ndcg_at_k(
        ["b", "d"], RELEVANT, REGIONS, 2
    )


def test_beyond_accuracy_by_hand() -> None:
    assert coverage_at_k(RANKED, REGIONS, 4) == 2
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    # pairs: (0,1) 1, (0,2) 0, (1,2) 1 -> mean 2/3
    assert intra_list_distance(vectors) == pytest.approx(2 / 3)
    assert exposure_gini([["a"], ["a"]], ["a", "b"]) == pytest.approx(0.5)
    assert exposure_gini([["a"], ["b"]], ["a", "b"]) == 0.0
    assert exposure_entropy([["a", "b"], ["a", "b"]]) == pytest.approx(1.0)
    # popularity shares: a 3/4, b 1/4 -> -(log2 .75 + log2 .25)/2
    assert novelty(["a", "b"], {"a": 3, "b": 1}) == pytest.approx((-math.log2(0.75) + 2) / 2)
    assert serendipity(["a", "b", "d"], RELEVANT, expected={"b"}) == pytest.approx(1 / 3)
    assert filter_bubble_share(["r1", "r2", "r1", "r3"], {"r1"}) == 0.5


def test_bootstrap_interval_brackets_the_mean() -> None:
    values = [0.0, 1.0] * 50
    estimate, low, high = bootstrap_ci(values, samples=500)
    assert estimate == 0.5
    assert low < 0.5 < high
    assert high - low < 0.3
    assert bootstrap_ci([], samples=10) == (0.0, 0.0, 0.0)


def test_roc_auc_by_hand() -> None:
    # positives 0.9, 0.4; negatives 0.5, 0.1: pairs (0.9>0.5, 0.9>0.1, 0.4<0.5, 0.4>0.1) -> 3/4
    assert roc_auc(np.array([0.9, 0.5, 0.4, 0.1]), np.array([1, 0, 1, 0])) == pytest.approx(0.75)
    # a tie between a positive and a negative counts half: (1 + 0.5) / 2
    assert roc_auc(np.array([0.7, 0.3, 0.3]), np.array([1, 1, 0])) == pytest.approx(0.75)
    assert roc_auc(np.array([0.2, 0.8]), np.array([1, 1])) == 0.5
