"""Copy a loaded catalogue (taxonomies, categories, products; no shoppers) from one store to another.

An evaluation trains on part of the interactions only; copying the shop's catalogue into the
in-memory store lets it do so without touching the shop's Neo4j.
"""

from __future__ import annotations

from kgrec.graph.loaders import batched
from kgrec.graph.records import CategoryRecord, ProductRecord
from kgrec.graph.store import GraphStore

BATCH = 1000
# How both stores' `iter_product_texts` write an attribute: "key: value".
ATTRIBUTE_SEPARATOR = ": "


def _key_value(attribute: str) -> tuple[str, str]:
    key, value = attribute.split(ATTRIBUTE_SEPARATOR, 1)
    return key, value


def copy_catalogue(source: GraphStore, target: GraphStore) -> tuple[int, int]:
    """Returns (categories, products) copied. Names in other locales are not copied."""
    target.ensure_schema()
    categories = 0
    for taxonomy in source.stats().taxonomies:
        target.merge_taxonomy(taxonomy.name, taxonomy.locales)
        refs = sorted(source.categories(taxonomy.name).values(), key=lambda r: (r.path.count(" > "), r.id))
        records = [
            CategoryRecord(
                id=ref.id,
                taxonomy=taxonomy.name,
                code=ref.id.split(":", 1)[-1],
                name=ref.path.rsplit(" > ", 1)[-1],
                path=ref.path,
                depth=ref.path.count(" > ") + 1,
                parent_id=ref.parent_id,
            )
            for ref in refs
        ]
        for batch in batched(records, BATCH):
            target.merge_categories(batch)
        categories += len(records)
    products = 0
    for chunk in batched(source.iter_product_texts(), BATCH):
        target.merge_products(
            [
                ProductRecord(
                    id=p.id,
                    title=p.title,
                    description=p.description,
                    price=p.price,
                    brand=p.brand,
                    category_id=p.category_id,
                    attributes=dict(_key_value(a) for a in p.attributes if ATTRIBUTE_SEPARATOR in a),
                )
                for p in chunk
            ]
        )
        products += len(chunk)
    return categories, products
