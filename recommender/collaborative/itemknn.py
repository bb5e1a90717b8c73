"""ItemKNN: cosine similarity between items' user sets, shrunk towards 0 for rare pairs."""

from __future__ import annotations

import numpy as np

from graph.errors import InvalidArgumentError
from recommender.collaborative.matrix import InteractionMatrix, ItemItemModel, keep_top_k_per_column


def fit_itemknn(data: InteractionMatrix, *, shrink: float = 50.0, top_k: int = 200) -> ItemItemModel:
    """sim(i, j) = |U_i ∩ U_j| / (√|U_i| · √|U_j| + shrink), each item keeping its `top_k` neighbours.

    The shrink term (Sarwar et al. 2001; Dacrema et al. 2019) stops two items that share one
    shopper from looking identical.
    """
    if shrink < 0:
        raise InvalidArgumentError("shrink", f"must be at least 0, got {shrink}")
    x = data.matrix
    overlap = np.asarray((x.T @ x).toarray(), dtype=np.float64)
    norms = np.sqrt(data.item_degree())
    similarity = overlap / (np.outer(norms, norms) + shrink + 1e-12)
    np.fill_diagonal(similarity, 0.0)
    return ItemItemModel("itemknn", data.items, keep_top_k_per_column(similarity, top_k).tocsr())
