from __future__ import annotations

import numpy as np

from kgrec.embeddings.alignment import apply_alignment, fit_and_evaluate, fit_ridge, r2_score


def test_ridge_recovers_a_linear_map_with_bias() -> None:
    rng = np.random.default_rng(0)
    text = rng.normal(size=(500, 12)).astype(np.float32)
    true_w = rng.normal(size=(12, 5)).astype(np.float32)
    kg = text @ true_w + 3.0
    weights = fit_ridge(text, kg, alpha=1e-6)
    assert np.allclose(apply_alignment(weights, text), kg, atol=1e-3)
    assert np.allclose(apply_alignment(weights, text[0]), kg[0], atol=1e-3)


def test_held_out_report_is_high_for_a_learnable_map_and_low_for_noise() -> None:
    rng = np.random.default_rng(1)
    text = rng.normal(size=(400, 16)).astype(np.float32)
    kg = (text @ rng.normal(size=(16, 8)) + 0.05 * rng.normal(size=(400, 8))).astype(np.float32)
    _, good = fit_and_evaluate(text, kg, seed=3)
    assert good.held_out == 40 and good.trained_on == 360
    assert good.r2 > 0.95
    assert good.hits_at_10 > 0.9
    _, noise = fit_and_evaluate(text, rng.normal(size=(400, 8)).astype(np.float32), seed=3)
    assert noise.r2 < 0.1
    assert noise.hits_at_10 < good.hits_at_10


def test_r2_of_perfect_and_mean_predictions() -> None:
    truth = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
    assert r2_score(truth, truth) == 1.0
    assert abs(r2_score(truth, np.full_like(truth, 2.0))) < 1e-9
