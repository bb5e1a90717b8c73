"""Regions into the artifact folder and onto the products in the graph (for Browser and Cypher users)."""

from __future__ import annotations

from kgrec.graph.store import GraphStore
from kgrec.recommender.catalog_index import CatalogIndex
from kgrec.recommender.regions import save_regions

BATCH = 5000


def publish_regions(store: GraphStore, catalog: CatalogIndex) -> int:
    """Returns how many products were updated."""
    regions = catalog.stored_regions()
    save_regions(catalog.artifact.path, regions)
    rows = [
        (
            pid,
            regions.taxonomy[pid],
            regions.names.get(regions.taxonomy[pid], ""),
            regions.community[pid],
            regions.names.get(regions.community[pid], ""),
        )
        for pid in catalog.pids
    ]
    return sum(store.set_product_regions(rows[i : i + BATCH]) for i in range(0, len(rows), BATCH))
