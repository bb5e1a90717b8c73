"""The relevance score: the article's w·text + (1-w)·KG for the query, plus history, collaborative
neighbours and popularity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """Every weight is a parameter; the defaults are the evaluation's choice (docs/evaluation.md)."""

    text_share: float = 0.6
    lexical_share: float = 0.3
    query: float = 1.0
    history: float = 0.8
    cooccurrence_share: float = 0.5
    popularity: float = 0.1
    popularity_without_query: float = 0.3
    recency_half_life_days: float = 30.0
    history_position_half_life: float = 5.0
    collaborative: float = 1.0
    ease_share: float = 0.5
    knowledge_walk: float = 0.1


@dataclass(slots=True)
class Components:
    text: Vector
    kg: Vector
    history: Vector
    popularity: Vector
    collaborative: Vector

    def fused(self, weights: FusionWeights, *, has_query: bool, has_history: bool) -> Vector:
        score = np.zeros_like(self.text)
        if has_query:
            score += weights.query * (weights.text_share * self.text + (1 - weights.text_share) * self.kg)
        if has_history:
            score += weights.history * self.history + weights.collaborative * self.collaborative
        popularity = weights.popularity if has_query else weights.popularity_without_query
        score += popularity * self.popularity
        return score


def positive(values: NDArray[np.floating]) -> Vector:
    """Cosines below zero carry no evidence of relevance."""
    out: Vector = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    return out
