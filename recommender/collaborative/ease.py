"""EASE^R (Steck, WWW 2019): the closed-form item-item regression with a zero diagonal."""

from __future__ import annotations

import numpy as np

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.collaborative.matrix import InteractionMatrix, ItemItemModel


def fit_ease(data: InteractionMatrix, *, l2: float = 100.0) -> ItemItemModel:
    """B = I − P · diagMat(1 / diag(P)) with P = (XᵀX + λI)⁻¹: the least-squares weights that
    rebuild each item's column from the other items' columns, no item explaining itself.

    Only items someone took get a row and column (the others' weights are 0), which keeps
    the inverse to the interacted part of a large catalogue.
    """
    if l2 <= 0:
        raise InvalidArgumentError("l2", f"must be positive, got {l2}")
    x = data.matrix
    used = np.flatnonzero(data.item_degree() > 0)
    gram = np.asarray((x[:, used].T @ x[:, used]).toarray(), dtype=np.float64)
    gram[np.diag_indices_from(gram)] += l2
    precision = np.linalg.inv(gram)
    block = -precision / np.diag(precision)[None, :]
    np.fill_diagonal(block, 0.0)
    return ItemItemModel("ease", data.items, block, used)
