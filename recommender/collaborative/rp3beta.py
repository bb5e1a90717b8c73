"""RP3beta (Paudel et al., TiiS 2017): three-step random walks item → user → item, popularity-damped."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.collaborative.matrix import InteractionMatrix, ItemItemModel, keep_top_k_per_column


def _row_stochastic(matrix: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """Transition probabilities out of each row's node, raised to the power α."""
    degree = np.asarray(matrix.sum(axis=1), dtype=np.float64).ravel()
    inverse = np.divide(1.0, degree, out=np.zeros_like(degree), where=degree > 0)
    out = sp.csr_matrix(sp.diags(inverse) @ matrix)
    out.data = np.power(out.data, alpha)
    return out


def fit_rp3beta(
    data: InteractionMatrix, *, alpha: float = 0.5, beta: float = 0.2, top_k: int = 200
) -> ItemItemModel:
    """W[i, j] = Σ_u P(i→u)^α · P(u→j)^α / deg(j)^β, each item walking on to its `top_k` most likely items.

    β > 0 divides by the target's popularity, so the walk does not end on the bestsellers only.
    """
    if alpha <= 0:
        raise InvalidArgumentError("alpha", f"must be positive, got {alpha}")
    if beta < 0:
        raise InvalidArgumentError("beta", f"must be at least 0, got {beta}")
    x = data.matrix
    user_to_item = _row_stochastic(x, alpha)
    item_to_user = _row_stochastic(sp.csr_matrix(x.T), alpha)
    walk = sp.csr_matrix(item_to_user @ user_to_item)
    degree = data.item_degree()
    damp = np.divide(1.0, np.power(degree, beta), out=np.zeros_like(degree), where=degree > 0)
    walk = sp.csr_matrix(walk @ sp.diags(damp))
    walk.setdiag(0.0)
    return ItemItemModel("rp3beta", data.items, keep_top_k_per_column(walk.T, top_k).T.tocsr())
