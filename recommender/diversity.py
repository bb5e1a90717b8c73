"""The diversity stage: keep a protected head of the most relevant items, re-rank the rest of the
relevance pool over graph regions with the request's strategy (recommender/rerankers.py)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kgrec.recommender.history import History, history_region_weights
from kgrec.recommender.regions import ProductRegions
from kgrec.recommender.request import Plan
from kgrec.recommender.rerankers import get_reranker

RERANK_POOL = 100
HEAD_SHARE = 0.5
HISTORY_REGION_DAMPING = 0.25
# A region's weight grows with the square root of its relevance mass in the pool: a region of
# many middling candidates does not drown one with a few good ones, and the list reaches more
# regions for the same accuracy (docs/evaluation.md, session 8).
REGION_MASS_POWER = 0.5
# Re-rankers that keep the relevance order's top by their own rule (`swap` gives up the least
# relevant places first): no head is set aside for them.
KEEP_THEIR_OWN_HEAD = frozenset({"swap"})


def protected_head(k: int, diversity: float, strategy: str = "xquad") -> int:
    """How many of the most relevant items keep their places before re-ranking starts.

    The top of a list carries most of its accuracy (NDCG's position discount), the tail most
    of its room for variety: the evaluation showed that re-ranking the tail only keeps far
    more accuracy for the same coverage (docs/evaluation.md). `diversity` 1 protects nothing.
    """
    if diversity <= 0 or strategy in KEEP_THEIR_OWN_HEAD:
        return 0
    return min(k, math.floor(k * (1 - diversity) * HEAD_SHARE + 0.5))


def region_target(
    history: History,
    pool_rows: NDArray[np.int64],
    relevance: NDArray[np.float32],
    codes: NDArray[np.int64],
    strategy: str = "xquad",
) -> dict[int, float] | None:
    """Region weights to cover, a distribution (they sum to 1). `calibrated` (Steck 2018) matches
    the shopper's own region mix, half and half with the pool's. Every other strategy weighs
    regions by the square root of the pool's relevance in them, with the shopper's history
    regions damped: diversity then widens the list beyond what the shopper already knows
    instead of deepening their bubble (issue 12)."""
    if not history.rows.size:
        return None
    user = history_region_weights(history, codes.tolist())
    mass: Counter[int] = Counter()
    for row, score in zip(pool_rows.tolist(), relevance.tolist(), strict=True):
        mass[int(codes[row])] += max(score, 0.0) + 1e-6
    if strategy != "calibrated":
        damped = {
            r: m**REGION_MASS_POWER * (HISTORY_REGION_DAMPING if r in user else 1.0) for r, m in mass.items()
        }
        return _as_distribution(damped)
    user_share, pool_share = _as_distribution(dict(user)), _as_distribution(dict(mass))
    return {r: 0.5 * user_share.get(r, 0.0) + 0.5 * pool_share.get(r, 0.0) for r in user_share | pool_share}


def _beyond_the_head(target: dict[int, float], head_regions: NDArray[np.int64]) -> dict[int, float]:
    """The target less the regions the protected head already shows: xQuAD's selected set starts
    with the head, so the tail's coverage bonus goes only to regions the list still lacks."""
    covered = set(head_regions.tolist())
    return {r: w for r, w in target.items() if r not in covered}


def _as_distribution(weights: dict[int, float]) -> dict[int, float]:
    total = sum(weights.values())
    return {r: w / total for r, w in weights.items()}


@dataclass(frozen=True, slots=True)
class Picks:
    """`pool`: candidate indices in relevance order (the re-rank pool); `chosen`: the list."""

    pool: NDArray[np.int64]
    chosen: NDArray[np.int64]

    def relevance_rank(self, index: int) -> int:
        """1-based place of a chosen candidate in the relevance order."""
        return int(np.flatnonzero(self.pool == index)[0]) + 1


def diversify(
    relevance: NDArray[np.float32],
    rows: NDArray[np.int64],
    kg: NDArray[np.float32],
    regions: ProductRegions,
    history: History,
    plan: Plan,
) -> Picks:
    """`plan.k` of the candidates (`rows`, scored `relevance`): the head as ranked, the tail re-ranked."""
    k, diversity = plan.k, plan.diversity
    pool = np.argsort(-relevance, kind="stable")[:RERANK_POOL]
    pool_rows = rows[pool]
    target = region_target(history, pool_rows, relevance[pool], regions.codes, plan.strategy)
    head = min(protected_head(k, diversity, plan.strategy), pool.size)
    if plan.strategy == "xquad" and target is not None:
        target = _beyond_the_head(target, regions.codes[pool_rows[:head]])
    picked = np.zeros(0, dtype=np.int64)
    if target == {}:
        # Every region the pool reaches is in the head already: nothing left to widen.
        picked = np.arange(min(k, pool.size) - head, dtype=np.int64)
    elif k > head and pool.size > head:
        picked = get_reranker(plan.strategy)(
            relevance[pool][head:],
            kg[pool_rows[head:]],
            regions.codes[pool_rows[head:]],
            k - head,
            diversity,
            target,
            set(regions.codes[history.rows].tolist()),
        )
    chosen = pool[np.concatenate([np.arange(head), head + picked]).astype(np.int64)]
    return Picks(pool.astype(np.int64), chosen)
