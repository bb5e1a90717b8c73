"""Map text vectors into the KG space (ridge regression), and judge the map on held-out entities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class AlignmentReport:
    r2: float
    hits_at_10: float
    held_out: int
    trained_on: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "r2": round(self.r2, 4),
            "hits_at_10": round(self.hits_at_10, 4),
            "held_out": self.held_out,
            "trained_on": self.trained_on,
        }


def fit_ridge(text: Matrix, kg: Matrix, alpha: float = 1.0) -> Matrix:
    """W with [text, 1] @ W ≈ kg; the last row is the bias."""
    x = np.hstack([text.astype(np.float64), np.ones((text.shape[0], 1))])
    gram = x.T @ x + alpha * np.eye(x.shape[1])
    gram[-1, -1] -= alpha
    weights = np.linalg.solve(gram, x.T @ kg.astype(np.float64))
    return weights.astype(np.float32)


def apply_alignment(weights: Matrix, text: Matrix) -> Matrix:
    single = text.ndim == 1
    rows = text.reshape(1, -1) if single else text
    out: Matrix = (rows @ weights[:-1] + weights[-1]).astype(np.float32)
    if single:
        first: Matrix = out[0]
        return first
    return out


def r2_score(truth: Matrix, predicted: Matrix) -> float:
    residual = float(((truth - predicted) ** 2).sum())
    total = float(((truth - truth.mean(axis=0)) ** 2).sum())
    return 1.0 - residual / total if total > 0 else 0.0


def _normalise(m: Matrix) -> Matrix:
    out: Matrix = m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
    return out


def fit_and_evaluate(
    text: Matrix, kg: Matrix, *, seed: int, held_out_share: float = 0.1, alpha: float = 1.0
) -> tuple[Matrix, AlignmentReport]:
    """Hit@10: a held-out entity's mapped text vector finds its own KG vector among all of them."""
    n = text.shape[0]
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(n * held_out_share)) if n >= 10 else 0
    test, train = order[:n_test], order[n_test:]
    weights = fit_ridge(text[train], kg[train], alpha)
    if n_test == 0:
        return fit_ridge(text, kg, alpha), AlignmentReport(0.0, 0.0, 0, n)
    predicted = apply_alignment(weights, text[test])
    r2 = r2_score(kg[test], predicted)
    sims = _normalise(predicted) @ _normalise(kg).T
    top = np.argpartition(-sims, kth=min(10, n - 1), axis=1)[:, :10]
    hits = float(np.mean([test[i] in top[i] for i in range(n_test)]))
    final = fit_ridge(text, kg, alpha)
    return final, AlignmentReport(r2, hits, n_test, n - n_test)
