"""Shopper-kNN: "shoppers whose baskets overlap yours bought X" (user-based kNN, session kNN).

score(i) = Σ over the `top_k` training shoppers v most similar to the history h of sim(h, v) · R[v, i],
sim(h, v) = (h · P_v) / (‖h‖ · ‖P_v‖ + shrink), the requesting shopper's own row left out.

A profile P_v is the shopper's binary item row; with `knowledge_weight` w > 0 it also holds
w × the binary indicator of the catalogue nodes (aisle, brand, attribute value) of those items,
so two baskets from the same aisles count as alike even when they share no product
(knowledge-augmented profiles). The history's profile is built the same way.

Scoring touches only the columns of the history's items and nodes (a CSC slice), keeps the
top-k shoppers by a partition (ties by row, the lower first) and sums their rows: no users ×
users or items × items matrix is ever formed. The model is refitted from the graph projection
with the neighbour lists (`CollaborativeSource`), so it shares their documented staleness; the
requesting shopper's own events count at once, through their history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.collaborative.matrix import InteractionMatrix, knowledge_block


@dataclass(frozen=True, slots=True)
class ShopperNeighbours:
    """The shoppers most like one history (best first), their similarities and every item's score."""

    model: ShopperKNN
    rows: NDArray[np.int64]
    sims: NDArray[np.float64]
    scores: NDArray[np.float64]

    def scaled(self) -> NDArray[np.float64]:
        """The scores with the best item at 1, as the neighbour lists' scores are."""
        best = float(self.scores.max()) if self.scores.size else 0.0
        return self.scores / best if best > 0 else self.scores

    def supporter(self, item: int, history: NDArray[np.int64]) -> tuple[str | None, list[int]]:
        """The most similar neighbour who took `item` and shares any history items (their key in
        the projection: the shopper an explanation's verb is about), and those items in the
        history's order: what an explanation names. (None, []) where no neighbour took it, or
        those who did share only catalogue nodes with the history."""
        taken = self.model.taken
        took = np.asarray(taken[self.rows, item].toarray()).ravel() > 0
        for row in self.rows[took].tolist():
            mine = set(taken.indices[taken.indptr[row] : taken.indptr[row + 1]].tolist())
            shared = [int(h) for h in history.tolist() if h in mine]
            if shared:
                return self.model.users[row], shared
        return None, []


@dataclass(frozen=True, slots=True)
class ShopperKNN:
    """`taken`: shoppers × items, binary; `profiles`: shoppers × (items + nodes) as CSC for column
    slicing; `knowledge`: items × nodes (None without the knowledge block)."""

    users: list[str]
    items: list[str]
    taken: sp.csr_matrix
    profiles: sp.csc_matrix
    norms: NDArray[np.float64]
    knowledge: sp.csr_matrix | None
    shrink: float
    top_k: int
    knowledge_weight: float
    user_row: dict[str, int]

    def _history_profile(self, rows: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The profile columns the history touches and their values."""
        cols = np.unique(np.asarray(rows, dtype=np.int64))
        values = np.ones(cols.size, dtype=np.float64)
        if self.knowledge is None or not cols.size:
            return cols, values
        nodes = np.unique(self.knowledge[cols].indices)
        node_values = np.full(nodes.size, self.knowledge_weight, dtype=np.float64)
        return np.concatenate([cols, len(self.items) + nodes]), np.concatenate([values, node_values])

    def neighbours(self, rows: NDArray[np.int64], *, exclude: str | None = None) -> ShopperNeighbours:
        """The `top_k` shoppers most similar to the history `rows` (item indices; each item counts
        once), the shopper `exclude` (their key) left out, and every item's score from them."""
        cols, values = self._history_profile(rows)
        empty = np.zeros(0, dtype=np.int64)
        if not cols.size or not self.users:
            return ShopperNeighbours(self, empty, np.zeros(0), np.zeros(len(self.items)))
        is_item = cols < len(self.items)
        # Each shopper's count of the history's items (item columns are 0/1), then the nodes' part.
        shared = np.asarray(self.profiles[:, cols[is_item]].sum(axis=1), dtype=np.float64).ravel()
        overlap = shared + np.asarray(self.profiles[:, cols[~is_item]] @ values[~is_item]).ravel()
        sims = overlap / (float(np.sqrt(values @ values)) * self.norms + self.shrink + 1e-12)
        if exclude is not None and (own := self.user_row.get(exclude)) is not None:
            sims[own] = 0.0
        positive = np.flatnonzero(sims > 0)
        # A shopper who took nothing beyond the history cannot speak for any item: leaving them
        # out keeps the k places for shoppers who can. The requester's own row is one where the
        # training data holds it, so a request without its shopper's key ranks as one with it.
        sizes = self.taken.indptr[positive + 1] - self.taken.indptr[positive]
        positive = positive[sizes > shared[positive]]
        # Ties fall by row (`positive` ascends): of the shoppers as similar as the k-th, the
        # lowest rows fill the last places, so the choice does not hang on argpartition's order
        # and the sort below sees at most k shoppers.
        if positive.size > self.top_k:
            near = sims[positive]
            kth = np.partition(near, positive.size - self.top_k)[positive.size - self.top_k]
            above = positive[near > kth]
            positive = np.concatenate([above, positive[near == kth][: self.top_k - above.size]])
        best = positive[np.argsort(-sims[positive], kind="stable")][: self.top_k]
        chosen = sims[best]
        scores = np.asarray(self.taken[best].T @ chosen, dtype=np.float64).ravel()
        return ShopperNeighbours(self, best.astype(np.int64), chosen, scores)

    def scores(self, history: NDArray[np.float64]) -> NDArray[np.float64]:
        """Every item's score for a history vector (its nonzero items): a baseline's interface."""
        return self.neighbours(np.flatnonzero(history)).scores


def fit_shopperknn(
    data: InteractionMatrix,
    *,
    shrink: float = 10.0,
    top_k: int = 100,
    knowledge: sp.spmatrix | None = None,
    knowledge_weight: float = 0.0,
) -> ShopperKNN:
    """The shoppers' profiles and norms; `knowledge` (item × node incidence, `knowledge_nodes`)
    joins them with `knowledge_weight` w > 0 (ignored at 0)."""
    if shrink < 0:
        raise InvalidArgumentError("shrink", f"must be at least 0, got {shrink}")
    if top_k < 1:
        raise InvalidArgumentError("top_k", f"must be at least 1, got {top_k}")
    nodes = knowledge_block(data, knowledge, knowledge_weight)
    taken = sp.csr_matrix(data.matrix, dtype=np.float64)
    profiles = taken
    if nodes is not None:
        reached = sp.csr_matrix(taken @ nodes)
        reached.data[:] = knowledge_weight
        profiles = sp.csr_matrix(sp.hstack([taken, reached]))
    norms = np.sqrt(np.asarray(profiles.multiply(profiles).sum(axis=1), dtype=np.float64).ravel())
    return ShopperKNN(
        list(data.users),
        list(data.items),
        taken,
        sp.csc_matrix(profiles),
        norms,
        nodes,
        shrink,
        top_k,
        knowledge_weight,
        {user: i for i, user in enumerate(data.users)},
    )
