"""The `GraphStore` seam: loaders and the embedding export talk to this, never to a driver."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import NamedTuple, Protocol

from kgrec.graph.records import (
    CategoryRecord,
    GraphStats,
    InteractionRecord,
    ProductRecord,
    WriteCounts,
)


class CategoryRef(NamedTuple):
    id: str
    parent_id: str | None
    path: str


class RelationshipRecord(NamedTuple):
    type: str
    head_label: str
    head: str
    tail_label: str
    tail: str
    kind: str | None


class ProductText(NamedTuple):
    id: str
    title: str
    description: str | None
    brand: str | None
    category_id: str | None
    category_path: str | None
    attributes: tuple[str, ...]
    price: float | None = None


class InteractionSummary(NamedTuple):
    user: str
    item: str
    kind: str
    events: int
    last_ts: int


class CategoryMapping(NamedTuple):
    """(:Category {id: source})-[:MAPS_TO {score, method}]->(:Category {id: target})."""

    source: str
    target: str
    score: float
    method: str


class CategoryText(NamedTuple):
    id: str
    name: str
    path: str


class LoadTarget(Protocol):
    """What the catalogue loaders read and write: a `GraphStore`, or the bulk-import staging."""

    def ensure_schema(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """Every write and read inside commits together or not at all (also if the process dies)."""

    def taxonomy_locales(self, taxonomy: str) -> list[str] | None:
        """The locales loaded for a taxonomy, or None when it does not exist."""

    def categories(self, taxonomy: str) -> dict[str, CategoryRef]: ...

    def category_ids_by_path(self, taxonomy: str, paths: Sequence[str]) -> dict[str, str]: ...

    def existing_ids(self, label: str, ids: Sequence[str]) -> set[str]: ...

    def merge_taxonomy(self, name: str, locales: Sequence[str]) -> None: ...

    def merge_categories(self, rows: Sequence[CategoryRecord]) -> WriteCounts:
        """Upserts categories and their parent edges; parents come earlier in `rows` or exist."""

    def set_category_names(self, locale: str, names: Sequence[tuple[str, str]]) -> WriteCounts: ...

    def merge_products(self, rows: Sequence[ProductRecord]) -> WriteCounts: ...

    def merge_interactions(self, rows: Sequence[InteractionRecord]) -> WriteCounts: ...


class GraphStore(LoadTarget, Protocol):
    """Behaviour shared by the Neo4j store and the in-memory one (checked by one contract suite)."""

    def stats(self) -> GraphStats: ...

    def iter_relationships(self, types: Sequence[str]) -> Iterator[RelationshipRecord]: ...

    def iter_product_texts(self) -> Iterator[ProductText]:
        """Everything that describes a product in words, for the text encoder."""

    def iter_category_texts(self) -> Iterator[CategoryText]: ...

    def iter_interactions(self) -> Iterator[InteractionSummary]: ...

    def replace_category_mappings(self, source: str, target: str, rows: Sequence[CategoryMapping]) -> int:
        """Every MAPS_TO from taxonomy `source` to `target` becomes exactly `rows` (idempotent)."""
        ...

    def iter_category_mappings(self) -> Iterator[CategoryMapping]: ...

    def iter_category_names(self, locale: str) -> Iterator[tuple[str, str]]:
        """(category id, name) for every category named in `locale` (`name_<locale>`)."""
        ...

    def set_product_regions(self, rows: Sequence[tuple[str, str, str, str, str]]) -> int:
        """(product id, taxonomy region id, its name, community region id, its name)."""

    def search_products(self, text: str, limit: int) -> list[tuple[str, float]]:
        """Full-text matches on title and description, best first, with the raw score."""

    def write_vectors(self, label: str, prop: str, rows: Sequence[tuple[str, Sequence[float]]]) -> int:
        """Stores vectors as node properties; returns how many nodes were found."""

    def ensure_vector_index(self, label: str, prop: str, dim: int) -> None: ...

    def clear(self) -> None: ...
