"""ItemKNN: cosine similarity between items' user sets, shrunk towards 0 for rare pairs."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.collaborative.matrix import InteractionMatrix, ItemItemModel, keep_top_k_per_column


def fit_itemknn(data: InteractionMatrix, *, shrink: float = 50.0, top_k: int = 200) -> ItemItemModel:
    """sim(i, j) = |U_i ∩ U_j| / (√|U_i| · √|U_j| + shrink), each item keeping its `top_k` neighbours.

    The shrink term (Sarwar et al. 2001; Dacrema et al. 2019) stops two items that share one
    shopper from looking identical.
    """
    if shrink < 0:
        raise InvalidArgumentError("shrink", f"must be at least 0, got {shrink}")
    overlap = sp.coo_matrix(data.matrix.T @ data.matrix, dtype=np.float64)
    norms = np.sqrt(data.item_degree())
    off_diagonal = overlap.row != overlap.col
    rows, cols = overlap.row[off_diagonal], overlap.col[off_diagonal]
    values = overlap.data[off_diagonal] / (norms[rows] * norms[cols] + shrink)
    similarity = sp.coo_matrix((values, (rows, cols)), shape=overlap.shape)
    return ItemItemModel("itemknn", data.items, keep_top_k_per_column(similarity, top_k).tocsr())
