"""The binary user × item matrix the models learn from, and the item-item model they share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from kgrec.graph.errors import InvalidArgumentError


@dataclass(frozen=True, slots=True)
class InteractionMatrix:
    """Rows are users, columns the catalogue's items in a fixed order; 1 where a user took an item
    (however often, in whatever kinds: `from_histories` builds it so, and the fits read it as
    binary without setting it again; tests/test_collaborative_models.py holds it to that)."""

    users: list[str]
    items: list[str]
    matrix: sp.csr_matrix

    @classmethod
    def from_histories(
        cls, histories: Mapping[str, Iterable[str]], items: Sequence[str]
    ) -> InteractionMatrix:
        """Items a history names that are not in `items` are left out (they cannot be scored)."""
        column = {item: j for j, item in enumerate(items)}
        users = sorted(histories)
        rows: list[int] = []
        cols: list[int] = []
        for i, user in enumerate(users):
            taken = {column[item] for item in histories[user] if item in column}
            rows.extend([i] * len(taken))
            cols.extend(sorted(taken))
        data = np.ones(len(rows), dtype=np.float64)
        matrix = sp.csr_matrix((data, (rows, cols)), shape=(len(users), len(items)))
        return cls(users, list(items), matrix)

    def item_degree(self) -> NDArray[np.float64]:
        return np.asarray(self.matrix.sum(axis=0), dtype=np.float64).ravel()


def knowledge_block(
    data: InteractionMatrix, knowledge: sp.spmatrix | None, weight: float
) -> sp.csr_matrix | None:
    """The item × catalogue-node incidence a fit joins to its shopper rows with `weight` (None
    where it joins none: no incidence or weight 0). Refused where the weight is negative or the
    incidence has other than one row per item of `data`: a misaligned block would tie each
    item's shoppers to another item's nodes."""
    if weight < 0:
        raise InvalidArgumentError("knowledge_weight", f"must be at least 0, got {weight}")
    if knowledge is None or weight == 0:
        return None
    if knowledge.shape[0] != len(data.items):
        raise InvalidArgumentError(
            "knowledge", f"has {knowledge.shape[0]} item rows for {len(data.items)} items"
        )
    return sp.csr_matrix(knowledge, dtype=np.float64)


def keep_top_k_per_column(weights: sp.spmatrix, k: int) -> sp.csc_matrix:
    """Each target item (column) keeps its `k` largest positive weights: its neighbours."""
    if k < 1:
        raise InvalidArgumentError("top_k", f"must be at least 1, got {k}")
    matrix = sp.csc_matrix(weights, dtype=np.float64)
    matrix.data[matrix.data < 0] = 0.0
    matrix.eliminate_zeros()
    for j in range(matrix.shape[1]):
        start, end = matrix.indptr[j], matrix.indptr[j + 1]
        if end - start > k:
            column = matrix.data[start:end]
            column[np.argpartition(-column, k - 1)[k:]] = 0.0
    matrix.eliminate_zeros()
    return matrix


@dataclass(frozen=True, slots=True)
class ItemItemModel:
    """`weights[i, j]`: how much having item i speaks for item j. When `covered` is given, the
    weights cover only those catalogue items (in that order) and every other item scores 0."""

    name: str
    items: list[str]
    weights: sp.csr_matrix | NDArray[np.float64]
    covered: NDArray[np.int64] | None = None

    def scores(self, history: NDArray[np.float64]) -> NDArray[np.float64]:
        """Scores of every item for one history vector (its items' weights, usually 1)."""
        if self.covered is None:
            return np.asarray(self.weights.T @ history, dtype=np.float64).ravel()
        out = np.zeros(len(self.items), dtype=np.float64)
        out[self.covered] = np.asarray(self.weights.T @ history[self.covered], dtype=np.float64).ravel()
        return out

    def neighbours(self, item: int, k: int) -> list[tuple[int, float]]:
        """The `k` items item `item` speaks for most, with their weights (positive only)."""
        one = np.zeros(len(self.items), dtype=np.float64)
        one[item] = 1.0
        values = self.scores(one)
        values[item] = 0.0
        top = np.argsort(-values, kind="stable")[:k]
        return [(int(j), float(values[j])) for j in top if values[j] > 0]
