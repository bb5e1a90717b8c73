"""`GraphStore` in memory over networkx: unit tests and every offline evaluation run (evaluation/run.py,
which must not touch the shop's database) use it; the contract suite keeps it equal to Neo4j."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import networkx as nx

from kgrec.graph import cypher
from kgrec.graph.event_edges import merge_events
from kgrec.graph.records import (
    CategoryRecord,
    GraphStats,
    InteractionRecord,
    ProductRecord,
    TaxonomyStats,
    WriteCounts,
    attribute_id,
    brand_id,
    locale_property,
)
from kgrec.graph.store import (
    CategoryMapping,
    CategoryRef,
    CategoryText,
    InteractionSummary,
    ProductText,
    RelationshipRecord,
)

Node = tuple[str, str]


class MemoryGraphStore:
    def __init__(self) -> None:
        self.graph: nx.MultiDiGraph = nx.MultiDiGraph()
        self.vector_indexes: dict[tuple[str, str], int] = {}

    def _props(self, label: str, node_id: str) -> dict[str, Any] | None:
        key = (label, node_id)
        return self.graph.nodes[key] if key in self.graph else None

    def _merge_node(self, label: str, node_id: str) -> dict[str, Any]:
        key = (label, node_id)
        if key not in self.graph:
            self.graph.add_node(key, id=node_id)
        props: dict[str, Any] = self.graph.nodes[key]
        return props

    def _targets(self, node: Node, rel_type: str) -> list[Node]:
        if node not in self.graph:
            return []
        return [t for _, t, k in self.graph.out_edges(node, keys=True) if k[0] == rel_type]

    def _set_edge(self, head: Node, rel_type: str, tail: Node, kind: str = "") -> dict[str, Any]:
        key = (rel_type, kind)
        if not self.graph.has_edge(head, tail, key):
            self.graph.add_edge(head, tail, key=key)
        data: dict[str, Any] = self.graph.edges[head, tail, key]
        return data

    def _drop_edges(self, head: Node, rel_types: Sequence[str]) -> None:
        doomed = [(head, t, k) for _, t, k in self.graph.out_edges(head, keys=True) if k[0] in rel_types]
        self.graph.remove_edges_from(doomed)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All-or-nothing like Neo4j's: a failure inside restores the graph as it was."""
        saved = (copy.deepcopy(self.graph), dict(self.vector_indexes))
        try:
            yield
        except BaseException:
            self.graph, self.vector_indexes = saved
            raise

    def ensure_schema(self) -> None:
        return None

    def taxonomy_locales(self, taxonomy: str) -> list[str] | None:
        props = self._props("Taxonomy", taxonomy)
        return None if props is None else list(props.get("locales", []))

    def categories(self, taxonomy: str) -> dict[str, CategoryRef]:
        out: dict[str, CategoryRef] = {}
        for (label, node_id), props in self.graph.nodes(data=True):
            if label == "Category" and props.get("taxonomy") == taxonomy:
                parents = self._targets((label, node_id), "SUBCATEGORY_OF")
                out[node_id] = CategoryRef(node_id, parents[0][1] if parents else None, props["path"])
        return out

    def category_ids_by_path(self, taxonomy: str, paths: Sequence[str]) -> dict[str, str]:
        wanted = set(paths)
        return {ref.path: ref.id for ref in self.categories(taxonomy).values() if ref.path in wanted}

    def existing_ids(self, label: str, ids: Sequence[str]) -> set[str]:
        return {i for i in ids if (label, i) in self.graph}

    def merge_taxonomy(self, name: str, locales: Sequence[str]) -> None:
        props = self._merge_node("Taxonomy", name)
        props["name"] = name
        current = list(props.get("locales", []))
        props["locales"] = current + [x for x in locales if x not in current]

    def merge_categories(self, rows: Sequence[CategoryRecord]) -> WriteCounts:
        counts = WriteCounts()
        for row in rows:
            node = ("Category", row.id)
            old = self._props(*node)
            new_props = row.properties()
            if old is None:
                status = "created"
            else:
                parents = self._targets(node, "SUBCATEGORY_OF")
                old_parent = parents[0][1] if parents else None
                same = all(old.get(k) == v for k, v in new_props.items())
                status = "skipped" if same and old_parent == row.parent_id else "updated"
            self._merge_node(*node).update(new_props)
            self._set_edge(node, "IN_TAXONOMY", ("Taxonomy", row.taxonomy))
            self._drop_edges(node, ["SUBCATEGORY_OF"])
            if row.parent_id is not None and ("Category", row.parent_id) in self.graph:
                self._set_edge(node, "SUBCATEGORY_OF", ("Category", row.parent_id))
            setattr(counts, status, getattr(counts, status) + 1)
        return counts

    def set_category_names(self, locale: str, names: Sequence[tuple[str, str]]) -> WriteCounts:
        counts = WriteCounts()
        prop = locale_property(locale)
        for cid, name in names:
            props = self._props("Category", cid)
            if props is None or props.get(prop) == name:
                counts.skipped += 1
                continue
            props[prop] = name
            counts.updated += 1
        return counts

    def merge_products(self, rows: Sequence[ProductRecord]) -> WriteCounts:
        counts = WriteCounts()
        for row in rows:
            node = ("Product", row.id)
            old = self._props(*node)
            brand = brand_id(row.brand) if row.brand else None
            attrs = {attribute_id(k, v): (k, v, row.source(k)) for k, v in row.attributes.items()}
            if old is None:
                status = "created"
            else:
                same = (
                    all(old.get(k) == getattr(row, k) for k in ("title", "description", "price", "currency"))
                    and [t[1] for t in self._targets(node, "IN_CATEGORY")]
                    == ([row.category_id] if row.category_id else [])
                    and [t[1] for t in self._targets(node, "HAS_BRAND")] == ([brand] if brand else [])
                    and {t[1] for t in self._targets(node, "HAS_ATTRIBUTE")} == set(attrs)
                )
                status = "skipped" if same else "updated"
            props = self._merge_node(*node)
            for key in ("description", "price", "currency"):
                props.pop(key, None)
            props.update(row.properties())
            previous = self._targets(node, "HAS_BRAND") + self._targets(node, "HAS_ATTRIBUTE")
            self._drop_edges(node, ["IN_CATEGORY", "HAS_BRAND", "HAS_ATTRIBUTE"])
            if row.category_id and ("Category", row.category_id) in self.graph:
                self._set_edge(node, "IN_CATEGORY", ("Category", row.category_id))
            if brand is not None:
                if ("Brand", brand) not in self.graph:
                    self._merge_node("Brand", brand).update(name=row.brand, source=row.source("brand"))
                self._set_edge(node, "HAS_BRAND", ("Brand", brand))
            for aid, (key, value, source) in attrs.items():
                if ("AttributeValue", aid) not in self.graph:
                    self._merge_node("AttributeValue", aid).update(key=key, value=value, source=source)
                self._set_edge(node, "HAS_ATTRIBUTE", ("AttributeValue", aid))
            for target in previous:
                if target in self.graph and self.graph.in_degree(target) == 0:
                    self.graph.remove_node(target)
            setattr(counts, status, getattr(counts, status) + 1)
        return counts

    def merge_interactions(self, rows: Sequence[InteractionRecord]) -> WriteCounts:
        counts = WriteCounts()
        for row in rows:
            item = ("Product", row.item_id)
            if item not in self.graph:
                continue
            user = ("User", row.user_id)
            self._merge_node(*user)
            is_new = not self.graph.has_edge(user, item, ("INTERACTED", row.kind))
            edge = self._set_edge(user, "INTERACTED", item, row.kind)
            status = merge_events(edge, row, is_new)
            setattr(counts, status, getattr(counts, status) + 1)
        return counts

    def stats(self) -> GraphStats:
        labels = Counter(label for label, _ in self.graph.nodes)
        types = Counter(k[0] for _, _, k in self.graph.edges(keys=True))
        taxonomies = []
        for (label, name), props in self.graph.nodes(data=True):
            if label != "Taxonomy":
                continue
            cats = self.categories(name)
            depths = [self.graph.nodes[("Category", c)]["depth"] for c in cats]
            taxonomies.append(
                TaxonomyStats(
                    name=name,
                    categories=len(cats),
                    roots=sum(1 for ref in cats.values() if ref.parent_id is None),
                    max_depth=max(depths, default=0),
                    locales=list(props.get("locales", [])),
                )
            )
        return GraphStats(
            nodes={label: labels.get(label, 0) for label in cypher.NODE_LABELS},
            relationships={t: types.get(t, 0) for t in cypher.RELATIONSHIP_TYPES},
            taxonomies=taxonomies,
        )

    def iter_relationships(self, types: Sequence[str]) -> Iterator[RelationshipRecord]:
        for rel_type in types:
            for head, tail, key, data in self.graph.edges(keys=True, data=True):
                if key[0] == rel_type:
                    yield RelationshipRecord(rel_type, head[0], head[1], tail[0], tail[1], data.get("kind"))

    def iter_product_texts(self) -> Iterator[ProductText]:
        for (label, node_id), props in list(self.graph.nodes(data=True)):
            if label != "Product":
                continue
            node = (label, node_id)
            cats = self._targets(node, "IN_CATEGORY")
            brands = self._targets(node, "HAS_BRAND")
            attrs = [self.graph.nodes[a] for a in self._targets(node, "HAS_ATTRIBUTE")]
            yield ProductText(
                node_id,
                props["title"],
                props.get("description"),
                self.graph.nodes[brands[0]].get("name") if brands else None,
                cats[0][1] if cats else None,
                self.graph.nodes[cats[0]]["path"] if cats else None,
                tuple(sorted(f"{a['key']}: {a['value']}" for a in attrs)),
                props.get("price"),
            )

    def iter_category_texts(self) -> Iterator[CategoryText]:
        for (label, node_id), props in list(self.graph.nodes(data=True)):
            if label == "Category":
                yield CategoryText(node_id, props["name"], props["path"])

    def replace_category_mappings(self, source: str, target: str, rows: Sequence[CategoryMapping]) -> int:
        taxonomy = nx.get_node_attributes(self.graph, "taxonomy")
        doomed = [
            (h, t, k)
            for h, t, k in self.graph.edges(keys=True)
            if k[0] == "MAPS_TO" and taxonomy.get(h) == source and taxonomy.get(t) == target
        ]
        self.graph.remove_edges_from(doomed)
        written = 0
        for row in rows:
            head, tail = ("Category", row.source), ("Category", row.target)
            if head in self.graph and tail in self.graph:
                self._set_edge(head, "MAPS_TO", tail).update(score=row.score, method=row.method)
                written += 1
        return written

    def iter_category_mappings(self) -> Iterator[CategoryMapping]:
        for head, tail, key, data in list(self.graph.edges(keys=True, data=True)):
            if key[0] == "MAPS_TO":
                yield CategoryMapping(head[1], tail[1], float(data["score"]), str(data["method"]))

    def iter_category_names(self, locale: str) -> Iterator[tuple[str, str]]:
        prop = locale_property(locale)
        for (label, node_id), props in list(self.graph.nodes(data=True)):
            if label == "Category" and prop in props:
                yield node_id, str(props[prop])

    def iter_interactions(self) -> Iterator[InteractionSummary]:
        for head, tail, key, data in list(self.graph.edges(keys=True, data=True)):
            if key[0] == "INTERACTED":
                yield InteractionSummary(head[1], tail[1], data["kind"], data["count"], data["last_ts"])

    def set_product_regions(self, rows: Sequence[tuple[str, str, str, str, str]]) -> int:
        found = 0
        for pid, tax, tax_name, com, com_name in rows:
            props = self._props("Product", pid)
            if props is not None:
                props.update(
                    region_taxonomy=tax,
                    region_taxonomy_name=tax_name,
                    region_community=com,
                    region_community_name=com_name,
                )
                found += 1
        return found

    def search_products(self, text: str, limit: int) -> list[tuple[str, float]]:
        """Token overlap, standing in for Lucene's scoring (only the order is relied upon)."""
        words = set(re.findall(r"\w+", text.lower()))
        hits = []
        for (label, node_id), props in self.graph.nodes(data=True):
            if label != "Product" or not words:
                continue
            haystack = set(re.findall(r"\w+", f"{props['title']} {props.get('description') or ''}".lower()))
            overlap = len(words & haystack)
            if overlap:
                hits.append((node_id, float(overlap)))
        hits.sort(key=lambda h: (-h[1], h[0]))
        return hits[:limit]

    def write_vectors(self, label: str, prop: str, rows: Sequence[tuple[str, Sequence[float]]]) -> int:
        found = 0
        for node_id, vector in rows:
            props = self._props(label, node_id)
            if props is not None:
                props[prop] = [float(x) for x in vector]
                found += 1
        return found

    def ensure_vector_index(self, label: str, prop: str, dim: int) -> None:
        self.vector_indexes[(label, prop)] = dim

    def clear(self) -> None:
        self.graph.clear()
