"""The filter stage: which catalogue rows a request allows, and which items it must not repeat."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from kgrec.graph.records import brand_id
from kgrec.recommender.catalog_index import CatalogIndex
from kgrec.recommender.history import History
from kgrec.recommender.request import Filters


def allowed_rows(filters: Filters, catalog: CatalogIndex) -> NDArray[np.bool_] | None:
    """A mask over the catalogue's rows; None when no filter is set (everything is allowed)."""
    c = catalog
    projection = c.projection
    mask = np.ones(len(c.pids), dtype=bool)
    active = False
    if filters.category:
        subtree = projection.subtree(filters.category)
        cats = projection.product_category
        mask &= np.array([cats.get(p) in subtree for p in c.pids])
        active = True
    if filters.brand:
        wanted = brand_id(filters.brand)
        brands = projection.product_brand
        mask &= np.array([brands.get(p) == wanted for p in c.pids])
        active = True
    if filters.price_min is not None:
        mask &= c.price >= filters.price_min
        active = True
    if filters.price_max is not None:
        mask &= c.price <= filters.price_max
        active = True
    return mask if active else None


def excluded_items(history: History, filters: Filters) -> set[str]:
    """The history itself, and past purchases unless the request wants them back."""
    return set(history.items) | (history.purchased if filters.exclude_purchased else set())
