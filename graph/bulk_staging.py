"""A first load held in plain dicts, for `neo4j-admin database import` to write in one go.

The same loaders as `kgrec load` run against it (same validation, same ids, pseudonymised
users), so the bulk path can only differ from the transactional one in how the rows reach the
disk. It answers the few reads the loaders make and keeps what they write; nothing else of the
`GraphStore` protocol is needed before the import.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from kgrec.graph.event_edges import merge_events
from kgrec.graph.records import (
    CategoryRecord,
    InteractionRecord,
    ProductRecord,
    WriteCounts,
    attribute_id,
    brand_id,
    locale_property,
)
from kgrec.graph.store import CategoryRef


@dataclass(slots=True)
class StagedProduct:
    props: dict[str, Any]
    category_id: str | None
    brand_id: str | None
    attribute_ids: list[str]


@dataclass(slots=True)
class StagingStore:
    """Nodes by label and id; edges as the ids they join. Staging is thrown away on failure,
    so `transaction()` has nothing to undo."""

    taxonomies: dict[str, list[str]] = field(default_factory=dict)
    categories_by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    category_parent: dict[str, str | None] = field(default_factory=dict)
    path_index: dict[tuple[str, str], str] = field(default_factory=dict)
    products: dict[str, StagedProduct] = field(default_factory=dict)
    brands: dict[str, dict[str, Any]] = field(default_factory=dict)
    attribute_values: dict[str, dict[str, Any]] = field(default_factory=dict)
    interactions: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield

    def ensure_schema(self) -> None:
        return None

    def taxonomy_locales(self, taxonomy: str) -> list[str] | None:
        locales = self.taxonomies.get(taxonomy)
        return None if locales is None else list(locales)

    def categories(self, taxonomy: str) -> dict[str, CategoryRef]:
        return {
            cid: CategoryRef(cid, self.category_parent[cid], props["path"])
            for cid, props in self.categories_by_id.items()
            if props["taxonomy"] == taxonomy
        }

    def category_ids_by_path(self, taxonomy: str, paths: Sequence[str]) -> dict[str, str]:
        return {p: self.path_index[(taxonomy, p)] for p in paths if (taxonomy, p) in self.path_index}

    def existing_ids(self, label: str, ids: Sequence[str]) -> set[str]:
        tables: dict[str, dict[str, Any]] = {
            "Category": self.categories_by_id,
            "Product": self.products,
            "Brand": self.brands,
            "AttributeValue": self.attribute_values,
        }
        table = tables[label]
        return {i for i in ids if i in table}

    def merge_taxonomy(self, name: str, locales: Sequence[str]) -> None:
        current = self.taxonomies.setdefault(name, [])
        current.extend(x for x in locales if x not in current)

    def merge_categories(self, rows: Sequence[CategoryRecord]) -> WriteCounts:
        counts = WriteCounts()
        for row in rows:
            props = row.properties()
            old = self.categories_by_id.get(row.id)
            if old is None:
                counts.created += 1
                self.categories_by_id[row.id] = props
            else:
                same = all(old.get(k) == v for k, v in props.items())
                if same and self.category_parent[row.id] == row.parent_id:
                    counts.skipped += 1
                else:
                    counts.updated += 1
                self.path_index.pop((old["taxonomy"], old["path"]), None)
                old.update(props)
            parent = row.parent_id if row.parent_id in self.categories_by_id else None
            self.category_parent[row.id] = parent
            self.path_index[(row.taxonomy, row.path)] = row.id
        return counts

    def set_category_names(self, locale: str, names: Sequence[tuple[str, str]]) -> WriteCounts:
        counts = WriteCounts()
        prop = locale_property(locale)
        for cid, name in names:
            props = self.categories_by_id.get(cid)
            if props is None or props.get(prop) == name:
                counts.skipped += 1
            else:
                props[prop] = name
                counts.updated += 1
        return counts

    def merge_products(self, rows: Sequence[ProductRecord]) -> WriteCounts:
        """A product seen twice keeps its last row; brands and values keep their first creator's
        name, as `ON CREATE SET` does. Orphans are dropped when the CSVs are written."""
        counts = WriteCounts()
        for row in rows:
            brand = brand_id(row.brand) if row.brand else None
            if brand is not None and brand not in self.brands:
                self.brands[brand] = {"id": brand, "name": row.brand, "source": row.source("brand")}
            attrs = []
            for key, value in sorted(row.attributes.items()):
                aid = attribute_id(key, value)
                attrs.append(aid)
                if aid not in self.attribute_values:
                    self.attribute_values[aid] = {
                        "id": aid,
                        "key": key,
                        "value": value,
                        "source": row.source(key),
                    }
            staged = StagedProduct(
                props=row.properties(),
                category_id=row.category_id if row.category_id in self.categories_by_id else None,
                brand_id=brand,
                attribute_ids=attrs,
            )
            old = self.products.get(row.id)
            if old is None:
                counts.created += 1
            elif old == staged:
                counts.skipped += 1
            else:
                counts.updated += 1
            self.products[row.id] = staged
        return counts

    def merge_interactions(self, rows: Sequence[InteractionRecord]) -> WriteCounts:
        counts = WriteCounts()
        for row in rows:
            if row.item_id not in self.products:
                continue
            key = (row.user_id, row.item_id, row.kind)
            is_new = key not in self.interactions
            status = merge_events(self.interactions.setdefault(key, {}), row, is_new)
            setattr(counts, status, getattr(counts, status) + 1)
        return counts
