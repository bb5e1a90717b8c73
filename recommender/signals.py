"""What one request brings to the stages after the request and history stages have run."""

from __future__ import annotations

from dataclasses import dataclass

from graph.store import GraphStore
from recommender.catalog_index import CatalogIndex
from recommender.history import History
from recommender.query import QueryVectors


@dataclass(frozen=True, slots=True)
class Signals:
    """The catalogue, the store (full-text search), the query's vectors and the weighted history."""

    catalog: CatalogIndex
    store: GraphStore
    query: QueryVectors | None
    history: History
