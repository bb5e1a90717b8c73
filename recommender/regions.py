"""Graph regions: taxonomy subtrees at a chosen depth, the same over the taxonomy the shop's
categories map to (`mapped`), and communities of the product graph."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from kgrec.graph.atomic_write import write_text_atomically
from kgrec.recommender.projection import GraphProjection

REGIONS_FILE = "regions.json"
NO_CATEGORY = "tax:none"
REGION_KINDS = ("taxonomy", "community", "mapped")
# Mapped regions are subtrees of the target taxonomy at this depth: Google's tree is broad at the
# top (all toys sit under `Toys & Games > Toys`), so one level deeper than the shop's own regions.
MAPPED_DEPTH = 3


@dataclass(frozen=True, slots=True)
class ProductRegions:
    """One region kind over the catalogue's rows: the region id per row, the same as dense int
    codes (what the re-rankers take), and the regions' human names."""

    ids: list[str]
    codes: NDArray[np.int64]
    names: dict[str, str]

    def name(self, region: str) -> str:
        return self.names.get(region, region)


@dataclass(slots=True)
class Regions:
    """Per product: a taxonomy region and a community region, each an id with a human name."""

    taxonomy: dict[str, str]
    community: dict[str, str]
    names: dict[str, str]

    def to_json(self) -> dict[str, object]:
        return {"taxonomy": self.taxonomy, "community": self.community, "names": self.names}

    @classmethod
    def from_json(cls, data: dict[str, dict[str, str]]) -> Regions:
        return cls(taxonomy=data["taxonomy"], community=data["community"], names=data["names"])


def taxonomy_regions(projection: GraphProjection, depth: int) -> tuple[dict[str, str], dict[str, str]]:
    """A product's region is its category's ancestor at `depth` (or the category, if shallower)."""
    regions: dict[str, str] = {}
    names: dict[str, str] = {NO_CATEGORY: "Uncategorised"}
    for pid in projection.product_ids:
        category = projection.product_category.get(pid)
        if category is None:
            regions[pid] = NO_CATEGORY
            continue
        chain = projection.ancestors(category)
        anchor = chain[max(0, len(chain) - depth)]
        region = f"tax:{anchor}"
        regions[pid] = region
        names[region] = projection.name("Category", anchor)
    return regions, names


def mapped_regions(
    projection: GraphProjection, depth: int = MAPPED_DEPTH
) -> tuple[dict[str, str], dict[str, str]]:
    """Products regrouped by the target-taxonomy subtree their category maps to: a product's
    region is `tax:<ancestor at depth>` of the `MAPS_TO` target of its category (or of the
    category's nearest mapped ancestor), so shop categories mapped to the same Google subtree
    share a region. Products with nothing mapped above them are left out (the caller keeps
    their own taxonomy region)."""
    regions: dict[str, str] = {}
    names: dict[str, str] = {}
    for pid in projection.product_ids:
        category = projection.product_category.get(pid)
        found = projection.mapped_ancestor(category) if category is not None else None
        if found is None:
            continue
        chain = projection.ancestors(found[1])
        anchor = chain[max(0, len(chain) - depth)]
        regions[pid] = f"tax:{anchor}"
        names[f"tax:{anchor}"] = projection.name("Category", anchor)
    return regions, names


def community_regions(projection: GraphProjection, seed: int = 7) -> tuple[dict[str, str], dict[str, str]]:
    """Louvain communities over product–category–brand–attribute edges (and the category tree)."""
    graph = nx.Graph()
    for pid in projection.product_ids:
        node = f"P:{pid}"
        graph.add_node(node)
        if (cat := projection.product_category.get(pid)) is not None:
            graph.add_edge(node, f"C:{cat}")
        if (brand := projection.product_brand.get(pid)) is not None:
            graph.add_edge(node, f"B:{brand}")
        for attr in projection.product_attributes.get(pid, []):
            graph.add_edge(node, f"A:{attr}", weight=0.5)
    for child, parent in projection.category_parent.items():
        if graph.has_node(f"C:{child}"):
            graph.add_edge(f"C:{child}", f"C:{parent}", weight=0.5)
    communities = nx.community.louvain_communities(graph, seed=seed, resolution=1.0)
    regions: dict[str, str] = {}
    names: dict[str, str] = {}
    for number, members in enumerate(sorted(communities, key=len, reverse=True)):
        products = [m[2:] for m in members if m.startswith("P:")]
        if not products:
            continue
        region = f"com:{number}"
        for pid in products:
            regions[pid] = region
        names[region] = _community_name(projection, products)
    return regions, names


def _community_name(projection: GraphProjection, products: list[str]) -> str:
    """ "Hornby · Bachmann · Rail Vehicles": its two commonest brands and its commonest category."""
    brands = Counter(projection.product_brand[p] for p in products if p in projection.product_brand)
    categories = Counter(projection.product_category[p] for p in products if p in projection.product_category)
    parts = [projection.name("Brand", b) for b, _ in brands.most_common(2)]
    if categories:
        path = projection.name("Category", categories.most_common(1)[0][0])
        parts.append(path.rsplit(" > ", 1)[-1])
    return " · ".join(parts) or "Unnamed community"


def save_regions(directory: Path, regions: Regions) -> None:
    write_text_atomically(directory / REGIONS_FILE, json.dumps(regions.to_json(), ensure_ascii=False))


def load_regions(directory: Path) -> Regions | None:
    path = directory / REGIONS_FILE
    if not path.exists():
        return None
    return Regions.from_json(json.loads(path.read_text(encoding="utf-8")))
