"""Walks item → Category / Brand / AttributeValue → item: knowledge reaching items few shoppers took."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from kgrec.recommender.collaborative.matrix import ItemItemModel, keep_top_k_per_column
from kgrec.recommender.projection import GraphProjection

TIE_BREAK = 1e-3
MAX_NODE_ITEMS = 2000


def knowledge_nodes(projection: GraphProjection, items: Sequence[str]) -> sp.csr_matrix:
    """Item × knowledge-node incidence: each item's category, brand and attribute values."""
    nodes: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, pid in enumerate(items):
        linked = [f"Category:{c}" for c in [projection.product_category.get(pid)] if c]
        linked += [f"Brand:{b}" for b in [projection.product_brand.get(pid)] if b]
        linked += [f"AttributeValue:{a}" for a in projection.product_attributes.get(pid, [])]
        for node in linked:
            rows.append(i)
            cols.append(nodes.setdefault(node, len(nodes)))
    data = np.ones(len(rows), dtype=np.float64)
    incidence = sp.csc_matrix((data, (rows, cols)), shape=(len(items), max(len(nodes), 1)))
    # A node holding most of the catalogue says nothing about any pair, and would make W dense.
    size = np.asarray(incidence.sum(axis=0)).ravel()
    return sp.csr_matrix(incidence[:, np.flatnonzero(size <= MAX_NODE_ITEMS)])


def fit_knowledge_walk(
    projection: GraphProjection,
    items: Sequence[str],
    popularity: np.ndarray,
    *,
    top_k: int = 100,
) -> ItemItemModel:
    """W[i, j] = Σ_n P(i→n) · P(n→j): an even step to one of i's knowledge nodes, then to one of
    that node's items. Small nodes (a brand of three cards) speak louder than a department of
    thousands. Among equal walks the more popular item is kept (a tiny tie-break)."""
    incidence = knowledge_nodes(projection, items)
    out_degree = np.asarray(incidence.sum(axis=1), dtype=np.float64).ravel()
    in_degree = np.asarray(incidence.sum(axis=0), dtype=np.float64).ravel()
    to_node = sp.diags(np.divide(1.0, out_degree, out=np.zeros_like(out_degree), where=out_degree > 0))
    to_item = sp.diags(np.divide(1.0, in_degree, out=np.zeros_like(in_degree), where=in_degree > 0))
    walk = sp.csr_matrix((to_node @ incidence) @ (to_item @ incidence.T.tocsr()))
    walk.setdiag(0.0)
    walk.eliminate_zeros()
    pop = np.asarray(popularity, dtype=np.float64)
    scale = 1.0 + TIE_BREAK * pop / max(float(pop.max()) if pop.size else 0.0, 1e-12)
    walk = sp.csr_matrix(walk @ sp.diags(scale))
    return ItemItemModel("knowledge", list(items), keep_top_k_per_column(walk.T, top_k).T.tocsr())
