"""Diversity re-rankers: pure numpy functions registered by name.

Every re-ranker has the signature `rerank(relevance, item_vectors, regions, k, diversity,
target=None, known=()) -> indices`. `diversity` means the same everywhere: 0 returns the relevance
order, 1 asks for the most coverage the method can give. `relevance` is any real score
(higher is better), `item_vectors` are L2-normalised rows, `regions` is an int region id per
item, `target` an optional distribution over region ids (the query's or the user's), `known` the
region ids of the shopper's history (read by `swap` only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from kgrec.graph.errors import InvalidArgumentError

Vector = NDArray[np.float64]
Indices = NDArray[np.int64]
_EPS = 1e-9


class Reranker(Protocol):
    def __call__(
        self,
        relevance: NDArray[np.floating],
        item_vectors: NDArray[np.floating],
        regions: NDArray[np.integer],
        k: int,
        diversity: float,
        target: Mapping[int, float] | None = None,
        known: Collection[int] = (),
    ) -> Indices: ...


def _scaled(relevance: NDArray[np.floating]) -> Vector:
    """Min-max to [0, 1] so that one `diversity` value trades off alike on every request."""
    rel = np.asarray(relevance, dtype=np.float64)
    span = rel.max() - rel.min() if rel.size else 0.0
    return (rel - rel.min()) / span if span > _EPS else np.ones_like(rel)


def _relevance_order(relevance: NDArray[np.floating], k: int) -> Indices:
    return np.argsort(-np.asarray(relevance, dtype=np.float64), kind="stable")[:k].astype(np.int64)


def rerank_none(
    relevance: NDArray[np.floating],
    item_vectors: NDArray[np.floating],
    regions: NDArray[np.integer],
    k: int,
    diversity: float,
    target: Mapping[int, float] | None = None,
    known: Collection[int] = (),
) -> Indices:
    return _relevance_order(relevance, k)


def rerank_mmr(
    relevance: NDArray[np.floating],
    item_vectors: NDArray[np.floating],
    regions: NDArray[np.integer],
    k: int,
    diversity: float,
    target: Mapping[int, float] | None = None,
    known: Collection[int] = (),
) -> Indices:
    """Carbonell & Goldstein 1998: argmax (1-d)·rel - d·max cosine to the items already picked."""
    if diversity <= 0:
        return _relevance_order(relevance, k)
    rel = _scaled(relevance)
    vectors = np.asarray(item_vectors, dtype=np.float64)
    n = rel.size
    k = min(k, n)
    picked: list[int] = []
    max_sim = np.full(n, -np.inf)
    available = np.ones(n, dtype=bool)
    for _ in range(k):
        penalty = np.where(np.isfinite(max_sim), max_sim, 0.0)
        score = np.where(available, (1 - diversity) * rel - diversity * penalty, -np.inf)
        best = int(np.argmax(score))
        picked.append(best)
        available[best] = False
        max_sim = np.maximum(max_sim, vectors @ vectors[best])
    return np.array(picked, dtype=np.int64)


def rerank_dpp(
    relevance: NDArray[np.floating],
    item_vectors: NDArray[np.floating],
    regions: NDArray[np.integer],
    k: int,
    diversity: float,
    target: Mapping[int, float] | None = None,
    known: Collection[int] = (),
) -> Indices:
    """Fast greedy MAP for a DPP (Chen, Zhang & Zhou 2018), incremental Cholesky.

    Kernel L = diag(q)·S·diag(q), q = exp(α·rel), α = (1-d)/(2d) (their θ = 1-d), S = (1 + cos)/2
    so the kernel is positive semi-definite and similar items repel.
    """
    if diversity <= 0:
        return _relevance_order(relevance, k)
    rel = _scaled(relevance)
    alpha = (1 - diversity) / (2 * diversity)
    quality = np.exp(alpha * (rel - rel.max()))
    vectors = np.asarray(item_vectors, dtype=np.float64)
    n = rel.size
    k = min(k, n)
    similarity = (1.0 + np.clip(vectors @ vectors.T, -1.0, 1.0)) / 2.0
    kernel = quality[:, None] * similarity * quality[None, :] + 1e-6 * np.eye(n)
    cis = np.zeros((k, n))
    gains = np.diag(kernel).copy()
    picked: list[int] = []
    best = int(np.argmax(gains))
    for step in range(k):
        picked.append(best)
        if step == k - 1:
            break
        ci_best = cis[:step, best]
        di_best = np.sqrt(max(gains[best], _EPS))
        eis = (kernel[best, :] - ci_best @ cis[:step, :]) / di_best
        cis[step, :] = eis
        gains = gains - eis**2
        gains[picked] = -np.inf
        candidate = int(np.argmax(gains))
        if not np.isfinite(gains[candidate]) or gains[candidate] < 1e-10:
            rest = [i for i in _relevance_order(relevance, n).tolist() if i not in picked]
            picked.extend(rest[: k - len(picked)])
            break
        best = candidate
    return np.array(picked[:k], dtype=np.int64)


def _region_target(
    rel: Vector, regions: NDArray[np.integer], target: Mapping[int, float] | None
) -> dict[int, float]:
    """The given distribution, or each region weighted by how relevant its best candidate is.

    The best candidate, not the sum: a region with one very relevant item deserves a slot even
    when another region has many middling ones.
    """
    if target:
        total = sum(target.values())
        return {int(r): float(w) / total for r, w in target.items() if w > 0}
    best: dict[int, float] = {}
    for score, region in zip(rel.tolist(), np.asarray(regions).tolist(), strict=True):
        # A floor, so that with no relevance signal at all every region is still worth covering.
        best[int(region)] = max(best.get(int(region), 0.0), 0.1 + 0.9 * score)
    total = sum(best.values())
    return {r: m / total for r, m in best.items()}


def rerank_xquad(
    relevance: NDArray[np.floating],
    item_vectors: NDArray[np.floating],
    regions: NDArray[np.integer],
    k: int,
    diversity: float,
    target: Mapping[int, float] | None = None,
    known: Collection[int] = (),
) -> Indices:
    """Santos et al. 2010 with aspects = graph regions.

    score(i) = (1-d)·rel_i + d·Σ_r P̂(r)·[i∈r]·Π_{j∈S}(1-[j∈r])·(1+rel_i)/2, P̂ = P / max P
    """
    if diversity <= 0:
        return _relevance_order(relevance, k)
    rel = _scaled(relevance)
    regs = np.asarray(regions)
    weights = _region_target(rel, regs, target)
    n = rel.size
    k = min(k, n)
    # Per distinct region, not per candidate: each step reads the regions' state by one gather.
    codes, of_item = np.unique(regs, return_inverse=True)
    uncovered = np.array([1.0 if int(r) in weights else 0.0 for r in codes.tolist()])
    available = np.ones(n, dtype=bool)
    picked: list[int] = []
    # Scaled so the most wanted region weighs 1: `diversity` then trades off on the same scale
    # as relevance, whatever the number of regions.
    top_weight = max(weights.values(), default=1.0)
    region_weight = np.array([weights.get(int(r), 0.0) / top_weight for r in codes.tolist()])[of_item]
    for _ in range(k):
        score = (1 - diversity) * rel + diversity * region_weight * uncovered[of_item] * (0.5 + 0.5 * rel)
        score = np.where(available, score, -np.inf)
        best = int(np.argmax(score))
        picked.append(best)
        available[best] = False
        uncovered[of_item[best]] = 0.0
    return np.array(picked, dtype=np.int64)


def rerank_calibrated(
    relevance: NDArray[np.floating],
    item_vectors: NDArray[np.floating],
    regions: NDArray[np.integer],
    k: int,
    diversity: float,
    target: Mapping[int, float] | None = None,
    known: Collection[int] = (),
) -> Indices:
    """Steck 2018: greedy max of (1-d)·Σ rel - d·KL(target || list's region distribution).

    The target is the user's region distribution mixed with an exploration share spread over
    the candidates' other regions, so the list mirrors the user's interests without
    collapsing onto their favourite one.
    """
    if diversity <= 0:
        return _relevance_order(relevance, k)
    rel = _scaled(relevance)
    regs = np.asarray(regions).astype(np.int64)
    base = _region_target(rel, regs, target)
    others = sorted(set(regs.tolist()) - set(base))
    exploration = 0.2 * diversity if others else 0.0
    p = {r: (1 - exploration) * w for r, w in base.items()}
    for r in others:
        p[r] = p.get(r, 0.0) + exploration / len(others)
    space = sorted(set(p) | set(regs.tolist()))
    position = {r: j for j, r in enumerate(space)}
    p_vec = np.array([p.get(r, 0.0) for r in space])
    item_region = np.array([position[int(r)] for r in regs])
    counts = np.zeros(len(space))
    n = rel.size
    k = min(k, n)
    picked: list[int] = []
    available = np.ones(n, dtype=bool)
    rel_sum = 0.0
    smoothing = 0.01
    support = p_vec > 0
    for size in range(1, k + 1):
        # Row j: the list's region distribution if the next item came from region j.
        q = (counts[None, :] + np.eye(len(space))) / size
        q_smooth = (1 - smoothing) * q + smoothing * p_vec[None, :]
        kl = (p_vec[support] * np.log(p_vec[support] / q_smooth[:, support])).sum(axis=1)
        score = (1 - diversity) * (rel_sum + rel) / size - diversity * kl[item_region]
        score = np.where(available, score, -np.inf)
        best = int(np.argmax(score))
        picked.append(best)
        available[best] = False
        rel_sum += rel[best]
        counts[item_region[best]] += 1
    return np.array(picked, dtype=np.int64)


def rerank_swap(
    relevance: NDArray[np.floating],
    item_vectors: NDArray[np.floating],
    regions: NDArray[np.integer],
    k: int,
    diversity: float,
    target: Mapping[int, float] | None = None,
    known: Collection[int] = (),
) -> Indices:
    """Max-coverage swaps on the relevance list: start from the k most relevant; while the list
    shows some region twice, swap one such item out for the most relevant item of a region it
    lacks (one the target weighs, where there is a target), as long as all the swaps together
    cost at most `diversity` of min-max scaled relevance. Returned in relevance order.

    Coverage is a property of the set and NDCG's discount rewards relevant items first, so
    the swaps give up repeats, each at its cost in relevance, and the items they bring in
    follow the ones they did not displace (docs/evaluation.md, session 10). The bound is on the
    list's total, not on each swap: a list of close scores buys several regions, one that
    would give up much for one region buys none, so one value trades alike on flat and steep
    relevance (session 11). The item swapped out is the least relevant repeat of a region
    outside the shopper's `known` ones while there is one, then the least relevant repeat of a
    known region: in Instacart's tuning and validation baskets a repeat of an aisle outside the
    shopper's history was in the basket half as often as a repeat of a known aisle (2.4 % of
    them against 4.8 %), so those repeats give up the least (docs/evaluation.md, aisle12).
    """
    order = _relevance_order(relevance, np.asarray(relevance).size)
    if diversity <= 0:
        return order[:k]
    rel = _scaled(relevance)
    regs = np.asarray(regions).astype(np.int64)
    chosen, rest = order[:k].tolist(), order[k:].tolist()
    shown = Counter(regs[chosen].tolist())
    wanted = {int(r) for r, w in target.items() if w > 0} if target else None
    familiar = {int(r) for r in known}
    budget = diversity
    while repeats := [i for i in chosen if shown[int(regs[i])] >= 2]:
        out = min(repeats, key=lambda i: (int(regs[i]) in familiar, rel[i], -i))
        incoming = next(
            (i for i in rest if int(regs[i]) not in shown and (wanted is None or int(regs[i]) in wanted)),
            None,
        )
        if incoming is None or rel[out] - rel[incoming] > budget:
            break
        budget -= rel[out] - rel[incoming]
        chosen.remove(out)
        chosen.append(incoming)
        rest.remove(incoming)
        shown[int(regs[out])] -= 1
        shown[int(regs[incoming])] += 1
    kept = set(chosen)
    return np.array([i for i in order if i in kept], dtype=np.int64)


RERANKERS: dict[str, Reranker] = {
    "none": rerank_none,
    "mmr": rerank_mmr,
    "dpp": rerank_dpp,
    "xquad": rerank_xquad,
    "calibrated": rerank_calibrated,
    "swap": rerank_swap,
}


def get_reranker(name: str) -> Reranker:
    try:
        return RERANKERS[name]
    except KeyError:
        raise InvalidArgumentError(
            "strategy", f"unknown strategy {name!r}; use one of {', '.join(RERANKERS)}"
        ) from None
