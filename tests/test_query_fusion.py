"""How a query's dense cosines and BM25 combine (recommender/fusion.py): pure numpy, no model."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.evaluation.query_harness import fusion_grid
from kgrec.recommender.fusion import FusionWeights, rescaled


def test_rescaling_stretches_the_candidates_cosines_to_the_whole_range() -> None:
    cosines = np.array([0.42, 0.50, 0.46], dtype=np.float32)
    assert rescaled(cosines, 0.0) is cosines
    assert rescaled(cosines, 1.0).tolist() == pytest.approx([0.0, 1.0, 0.5])
    assert rescaled(cosines, 0.5).tolist() == pytest.approx([0.21, 0.75, 0.48])
    same = np.array([0.3, 0.3], dtype=np.float32)
    assert rescaled(same, 1.0).tolist() == pytest.approx([0.0, 0.0])
    assert rescaled(np.array([], dtype=np.float32), 1.0).size == 0


def test_stretched_cosines_let_a_clearly_closer_product_beat_a_keyword_match() -> None:
    """A: BM25's best hit, cosine 0.50; B: no keyword, cosine 0.60 (the best of the candidates)."""
    cosines = np.array([0.50, 0.60, 0.45], dtype=np.float32)
    bm25 = np.array([1.0, 0.0, 0.2], dtype=np.float32)
    share = 0.2

    def text(rescale: float) -> list[float]:
        return ((1 - share) * rescaled(cosines, rescale) + share * bm25).tolist()

    raw, stretched = text(0.0), text(1.0)
    assert raw[0] > raw[1]
    assert stretched[1] > stretched[0]


def test_the_query_grid_reaches_low_bm25_shares_and_both_scalings() -> None:
    grid = fusion_grid()
    assert len(set(grid)) == len(grid)
    assert min(w.lexical_share for w in grid) <= 0.1
    assert {w.dense_rescale for w in grid} == {0.0, 1.0}
    assert FusionWeights().dense_rescale == 0.0
