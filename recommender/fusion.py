"""The scoring stage, all of it: per-candidate components, then the article's w·text + (1-w)·KG
for the query, plus history and popularity.

Components: text = (1-l)·cos'(query, text) + l·lexical, where cos' stretches the candidates'
cosines towards 0..1 by `dense_rescale` (MiniLM cosines of one query's candidates sit in a
narrow band, BM25 scaled to its best hit spans 0..1: unstretched, BM25 decides);
kg = cos(aligned query, KG vector);
history = (1-c)·max(weighted mean cos to the history, ½·best cos) + c·co-occurrence;
collaborative = the neighbour lists' score of the history: the item-item models' (walk, EASE,
ItemKNN, iALS when built) and shopper-kNN's weighted mean plus the knowledge walk
(recommender/collaborative/);
popularity = log-scaled interaction count. Pure numpy: the catalogue's arrays come in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from kgrec.recommender.candidates import Candidates
    from kgrec.recommender.catalog_index import CatalogIndex
    from kgrec.recommender.history import History
    from kgrec.recommender.query import QueryVectors
    from kgrec.recommender.signals import Signals

Vector = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """Every weight is a parameter; the defaults are the evaluation's choice (docs/evaluation.md)."""

    text_share: float = 0.6
    lexical_share: float = 0.3
    dense_rescale: float = 0.0
    query: float = 1.0
    history: float = 0.0
    cooccurrence_share: float = 0.5
    popularity: float = 0.1
    popularity_without_query: float = 0.1
    recency_half_life_days: float = 30.0
    history_position_half_life: float = 5.0
    history_weighting: float = 1.0
    collaborative: float = 1.0
    walk_weight: float = 1.0
    ease_weight: float = 1.0
    itemknn_weight: float = 1.0
    # Shopper-kNN's share among the item-item models (0: not computed at all).
    shopperknn_weight: float = 0.0
    ials_weight: float = 0.0
    knowledge_walk: float = 0.15


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


def rescaled(values: Vector, share: float) -> Vector:
    """`share` of the way from the values to their min-max scaling over these candidates."""
    if share <= 0.0 or values.size == 0:
        return values
    low, high = float(values.min()), float(values.max())
    stretched = (values - low) / max(high - low, 1e-9)
    out: Vector = ((1 - share) * values + share * stretched).astype(np.float32)
    return out


def evidence_at(evidence: Mapping[int, float], rows: NDArray[np.int64]) -> Vector:
    """A candidate source's evidence for each of `rows` (0 where it found nothing)."""
    return np.array([evidence.get(i, 0.0) for i in rows.tolist()], dtype=np.float32)


def positive(values: NDArray[np.floating]) -> Vector:
    """Cosines below zero carry no evidence of relevance."""
    out: Vector = np.clip(np.asarray(values, dtype=np.float32), 0.0, 1.0)
    return out


@dataclass(frozen=True, slots=True)
class Scores:
    """The fused relevance of each candidate row, and the components it was made of."""

    relevance: Vector
    components: Components

    def subset(self, keep: NDArray[np.bool_]) -> Scores:
        """The scores of the rows `keep` marks, in order."""
        c = self.components
        parts = Components(
            c.text[keep], c.kg[keep], c.history[keep], c.popularity[keep], c.collaborative[keep]
        )
        return Scores(self.relevance[keep], parts)


def score_components(
    catalog: CatalogIndex,
    rows: NDArray[np.int64],
    query: QueryVectors | None,
    history: History,
    *,
    lexical: Mapping[int, float],
    cooccurrence: Mapping[int, float],
    weights: FusionWeights,
    collaborative: NDArray[np.float64] | None = None,
) -> Components:
    """Each evidence of relevance for the candidate `rows`, on a 0..1 scale."""
    c = catalog
    zeros = np.zeros(rows.size, np.float32)
    text_score, kg_score, hist_score = zeros, zeros, zeros
    if query is not None:
        text_cos = rescaled(positive(c.text_rows(rows) @ query.text_vector), weights.dense_rescale)
        lex = evidence_at(lexical, rows)
        text_score = (1 - weights.lexical_share) * text_cos + weights.lexical_share * lex
        q_kg = query.kg_vector
        kg_score = positive(c.kg[rows] @ (q_kg / max(float(np.linalg.norm(q_kg)), 1e-9)))
    if history.rows.size:
        sims = positive(c.kg[rows] @ c.kg[history.rows].T)
        similar = (sims * history.weights[None, :]).sum(axis=1) / history.weights.sum()
        similar = np.maximum(similar, sims.max(axis=1) * 0.5)
        co_vec = evidence_at(cooccurrence, rows)
        share = weights.cooccurrence_share
        hist_score = ((1 - share) * similar + share * co_vec).astype(np.float32)
    collab = zeros if collaborative is None else collaborative[rows].astype(np.float32)
    return Components(text_score, kg_score, hist_score, c.popularity[rows], collab)


def fused_relevance(
    signals: Signals, rows: NDArray[np.int64], candidates: Candidates, weights: FusionWeights
) -> Scores:
    """The fused relevance of `rows`; the lexical and co-occurrence sources' evidence feeds in."""
    components = score_components(
        signals.catalog,
        rows,
        signals.query,
        signals.history,
        lexical=candidates.of("lexical"),
        cooccurrence=candidates.of("cooccurrence"),
        weights=weights,
        collaborative=signals.collaborative.get("combined") if signals.collaborative else None,
    )
    has_history = bool(signals.history.rows.size)
    relevance = components.fused(weights, has_query=signals.query is not None, has_history=has_history)
    return Scores(relevance, components)
