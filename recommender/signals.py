"""What one request brings to the stages after the request and history stages have run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from kgrec.graph.store import GraphStore
from kgrec.recommender.catalog_index import CatalogIndex
from kgrec.recommender.collaborative.neighbours import NeighbourLists
from kgrec.recommender.collaborative.shopperknn import ShopperNeighbours
from kgrec.recommender.history import History
from kgrec.recommender.query import QueryVectors


@dataclass(frozen=True, slots=True)
class Signals:
    """The catalogue, the store (full-text search), the query's vectors, the weighted history and
    the collaborative neighbour lists' scores of every item for that history (empty without one),
    and the shoppers most like it (None where the fusion gives shopper-kNN no weight)."""

    catalog: CatalogIndex
    store: GraphStore
    query: QueryVectors | None
    history: History
    collaborative: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)
    neighbours: NeighbourLists | None = None
    shoppers: ShopperNeighbours | None = None
