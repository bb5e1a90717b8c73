"""Offline evaluation metrics: small pure numpy functions, each checked against hand-computed cases.

`ranked` is a list of item ids best first; `relevant` the set of held-out items.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from kgrec.recommender.list_diversity import filter_bubble_share, intra_list_distance

__all__ = [
    "alpha_ndcg_at_k",
    "bootstrap_ci",
    "coverage_at_k",
    "exposure_entropy",
    "exposure_gini",
    "filter_bubble_share",
    "hit_rate_at_k",
    "intra_list_distance",
    "ndcg_at_k",
    "novelty",
    "recall_at_k",
    "reciprocal_rank",
    "roc_auc",
    "serendipity",
]


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


def hit_rate_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    return 1.0 if set(ranked[:k]) & set(relevant) else 0.0


def ndcg_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    gains = [1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in relevant]
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return sum(gains) / ideal if ideal else 0.0


def graded_ndcg_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int) -> float:
    """NDCG with graded gains (unjudged items gain 0); the ideal list sorts the judged gains."""
    dcg = sum(gains.get(item, 0.0) / math.log2(i + 2) for i, item in enumerate(ranked[:k]))
    best = sorted((g for g in gains.values() if g > 0), reverse=True)[:k]
    ideal = sum(g / math.log2(i + 2) for i, g in enumerate(best))
    return dcg / ideal if ideal else 0.0


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str]) -> float:
    for i, item in enumerate(ranked):
        if item in relevant:
            return 1.0 / (i + 1)
    return 0.0


def coverage_at_k(ranked: Sequence[str], region_of: Mapping[str, str], k: int) -> int:
    """Distinct regions in the top k."""
    return len({region_of[i] for i in ranked[:k] if i in region_of})


def alpha_ndcg_at_k(
    ranked: Sequence[str], relevant: Collection[str], region_of: Mapping[str, str], k: int, alpha: float = 0.5
) -> float:
    """Clarke et al. 2008 with aspects = regions: a relevant item's gain decays by (1-α) for every
    earlier relevant item of its region. The ideal list is built greedily (the usual approximation)."""

    def dcg(items: Sequence[str]) -> float:
        seen: Counter[str] = Counter()
        total = 0.0
        for i, item in enumerate(items[:k]):
            if item in relevant and item in region_of:
                region = region_of[item]
                total += (1 - alpha) ** seen[region] / math.log2(i + 2)
                seen[region] += 1
        return total

    pool = [item for item in relevant if item in region_of]
    ideal: list[str] = []
    seen: Counter[str] = Counter()
    while pool and len(ideal) < k:
        best = max(pool, key=lambda it: ((1 - alpha) ** seen[region_of[it]], it))
        ideal.append(best)
        seen[region_of[best]] += 1
        pool.remove(best)
    best_dcg = dcg(ideal)
    return dcg(ranked) / best_dcg if best_dcg else 0.0


def exposure_gini(lists: Sequence[Sequence[str]], catalogue: Collection[str]) -> float:
    """Gini of how often each catalogue item is shown: 0 = even exposure, → 1 = a few items get all."""
    counts = Counter(item for items in lists for item in items)
    x = np.sort(np.array([counts.get(i, 0) for i in catalogue], dtype=np.float64))
    n = x.size
    if n == 0 or x.sum() == 0:
        return 0.0
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def exposure_entropy(lists: Sequence[Sequence[str]]) -> float:
    """Shannon entropy (bits) of the exposure distribution over shown items."""
    counts = np.array(list(Counter(item for items in lists for item in items).values()), dtype=np.float64)
    if counts.size == 0:
        return 0.0
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())


def novelty(ranked: Sequence[str], popularity: Mapping[str, float]) -> float:
    """Mean −log2 of each item's share of interactions (unseen items count as one interaction)."""
    total = sum(popularity.values())
    if not ranked or total <= 0:
        return 0.0
    return float(np.mean([-math.log2(max(popularity.get(i, 0.0), 1.0) / total) for i in ranked]))


def serendipity(ranked: Sequence[str], relevant: Collection[str], expected: Collection[str]) -> float:
    """Share of the list that is relevant and not what a baseline (e.g. popularity) would show."""
    if not ranked:
        return 0.0
    return sum(1 for i in ranked if i in relevant and i not in expected) / len(ranked)


def bootstrap_ci(
    values: Sequence[float],
    *,
    samples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    statistic: Callable[[NDArray[np.float64]], float] = lambda a: float(a.mean()),
) -> tuple[float, float, float]:
    """(estimate, low, high): percentile bootstrap over users / baskets."""
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    stats = np.array([statistic(data[rng.integers(0, data.size, data.size)]) for _ in range(samples)])
    tail = (1 - level) / 2
    return statistic(data), float(np.quantile(stats, tail)), float(np.quantile(stats, 1 - tail))


def roc_auc(scores: NDArray[np.floating], labels: NDArray[np.integer]) -> float:
    """Probability that a random positive outscores a random negative (ties count half), from
    average ranks (Mann-Whitney U); 0.5 when one class is missing."""
    scores = np.asarray(scores, dtype=np.float64)
    positive = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return 0.5
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
