"""iALS (Hu, Koren & Volinsky, ICDM 2008) read as an item-item model.

Implicit alternating least squares factorises the user × item matrix with every empty cell a
weak 0 and every taken item a 1 held `confidence` times harder. A history h is folded in with
the items' factors Y alone: its user vector is (YᵀY + λI)⁻¹ Yᵀh, so its scores are h · W with
W = Y (YᵀY + λI)⁻¹ Yᵀ, an item-item matrix like the others (the exact fold-in would add the
history's own confidence term, which makes it non-linear in h). On Last.FM's sparse listeners
(about 7 artists each) the low-rank W finds artists that no shared listener links
(docs/evaluation.md, lastfm13).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.collaborative.matrix import InteractionMatrix, ItemItemModel

CHUNK = 512


def fit_ials(
    data: InteractionMatrix,
    *,
    factors: int = 128,
    l2: float = 100.0,
    confidence: float = 40.0,
    iterations: int = 15,
    top_k: int = 100,
    seed: int = 0,
) -> ItemItemModel:
    """W = Y (YᵀY + λI)⁻¹ Yᵀ over the items someone took, each target item keeping its `top_k`
    largest positive weights (as ItemKNN's columns), the diagonal 0 (a taken item is never
    recommended back). The factors start from a seeded draw, so a fit is repeatable."""
    factors, top_k = int(factors), int(top_k)
    if factors < 1:
        raise InvalidArgumentError("factors", f"must be at least 1, got {factors}")
    if l2 <= 0:
        raise InvalidArgumentError("l2", f"must be positive, got {l2}")
    if confidence < 1:
        raise InvalidArgumentError("confidence", f"must be at least 1, got {confidence}")
    if iterations < 1:
        raise InvalidArgumentError("iterations", f"must be at least 1, got {iterations}")
    if top_k < 1:
        raise InvalidArgumentError("top_k", f"must be at least 1, got {top_k}")
    used = np.flatnonzero(data.item_degree() > 0)
    n = len(data.items)
    if used.size == 0:
        return ItemItemModel("ials", data.items, sp.csr_matrix((n, n), dtype=np.float64))
    taken = sp.csr_matrix(data.matrix[:, used], dtype=np.float64)
    found = item_factors(taken, factors, l2, confidence, iterations, seed)
    projected = ridge_projection(found, l2)
    keep = min(top_k, used.size)
    sources_, targets_, values_ = [], [], []
    # W a block of target columns at a time: never the whole items × items matrix in memory.
    for start in range(0, used.size, CHUNK):
        targets = np.arange(start, min(start + CHUNK, used.size))
        block = found @ projected[:, targets]
        block[targets, np.arange(targets.size)] = 0.0
        sources = np.argpartition(-block, keep - 1, axis=0)[:keep]
        values = np.take_along_axis(block, sources, axis=0)
        positive = values > 0
        sources_.append(used[sources[positive]])
        targets_.append(used[np.broadcast_to(targets, sources.shape)[positive]])
        values_.append(values[positive])
    weights = sp.csr_matrix(
        (np.concatenate(values_), (np.concatenate(sources_), np.concatenate(targets_))), shape=(n, n)
    )
    return ItemItemModel("ials", data.items, weights)


def item_factors(
    taken: sp.csr_matrix, factors: int, l2: float, confidence: float, iterations: int, seed: int
) -> NDArray[np.float64]:
    """The columns' factors after `iterations` rounds of alternating least squares."""
    by_item = sp.csr_matrix(taken.T)
    rng = np.random.default_rng(seed)
    columns = rng.normal(0.0, 0.01, (taken.shape[1], factors))
    for _ in range(iterations):
        rows = least_squares(taken, columns, l2, confidence)
        columns = least_squares(by_item, rows, l2, confidence)
    return columns


def ridge_projection(factors: NDArray[np.float64], l2: float) -> NDArray[np.float64]:
    """(YᵀY + λI)⁻¹ Yᵀ, so that W = Y · this: row i of W is what taking item i adds to every item's
    score, when a history's user vector is the ridge fit of its 0/1 row on the items' factors."""
    gram = factors.T @ factors + l2 * np.eye(factors.shape[1])
    out: NDArray[np.float64] = np.asarray(np.linalg.solve(gram, factors.T), dtype=np.float64)
    return out


def least_squares(
    taken: sp.csr_matrix, other: NDArray[np.float64], l2: float, confidence: float
) -> NDArray[np.float64]:
    """One half-step: each row's factors x minimising Σ_j c_j (p_j − x·y_j)² + λ|x|², with p_j 1
    and c_j `confidence` on the row's taken columns, p_j 0 and c_j 1 elsewhere. The shared
    YᵀY + λI is formed once; each row adds (c − 1)·Y_oᵀY_o of its own columns; the systems are
    solved a chunk at a time."""
    factors = other.shape[1]
    shared = other.T @ other + l2 * np.eye(factors)
    out = np.zeros((taken.shape[0], factors))
    for start in range(0, taken.shape[0], CHUNK):
        stop = min(start + CHUNK, taken.shape[0])
        systems = np.broadcast_to(shared, (stop - start, factors, factors)).copy()
        targets = np.zeros((stop - start, factors))
        for row in range(start, stop):
            own = other[taken.indices[taken.indptr[row] : taken.indptr[row + 1]]]
            if own.size:
                systems[row - start] += (confidence - 1.0) * (own.T @ own)
                targets[row - start] = confidence * own.sum(axis=0)
        out[start:stop] = np.linalg.solve(systems, targets[:, :, None])[:, :, 0]
    return out
