"""An in-memory projection of the catalogue graph, for fast paths, regions and filters.

Loaded once from the store; its edges are exactly the store's, so every path it yields
exists in Neo4j (checked by tests against the real server).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from kgrec.graph.records import brand_id
from kgrec.graph.store import GraphStore

Node = tuple[str, str]
KIND_WEIGHTS = {"purchase": 1.0, "cart": 0.6, "rating": 0.5, "view": 0.25}


@dataclass(slots=True)
class Interaction:
    item: str
    kind: str
    events: int
    last_ts: int


@dataclass(slots=True)
class GraphProjection:
    names: dict[Node, str] = field(default_factory=dict)
    product_ids: list[str] = field(default_factory=list)
    product_category: dict[str, str] = field(default_factory=dict)
    product_brand: dict[str, str] = field(default_factory=dict)
    product_attributes: dict[str, list[str]] = field(default_factory=dict)
    product_price: dict[str, float] = field(default_factory=dict)
    category_parent: dict[str, str] = field(default_factory=dict)
    category_depth: dict[str, int] = field(default_factory=dict)
    category_children: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    category_products: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    brand_products: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    attribute_products: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    user_history: dict[str, list[Interaction]] = field(default_factory=lambda: defaultdict(list))
    popularity: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    item_users: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    # A shop category -> the category of another taxonomy it maps to best (`MAPS_TO`, written by
    # `kgrec align-taxonomy`); what `mapped` regions group by.
    category_maps_to: dict[str, str] = field(default_factory=dict)
    # Names in a shopper's locale, read before `names` (`in_locale`); empty: the default names.
    localized: dict[Node, str] = field(default_factory=dict)

    @classmethod
    def load(cls, store: GraphStore) -> GraphProjection:
        projection = cls()
        for category in store.iter_category_texts():
            projection.names[("Category", category.id)] = category.path
            projection.category_depth[category.id] = category.path.count(" > ") + 1
        for product in store.iter_product_texts():
            projection.add_product(
                product.id, product.title, product.category_id, product.brand, product.price
            )
        for rel in store.iter_relationships(["SUBCATEGORY_OF", "HAS_ATTRIBUTE"]):
            if rel.type == "SUBCATEGORY_OF":
                projection.category_parent[rel.head] = rel.tail
                projection.category_children[rel.tail].append(rel.head)
            else:
                projection.product_attributes.setdefault(rel.head, []).append(rel.tail)
                projection.attribute_products[rel.tail].append(rel.head)
                projection.names.setdefault(("AttributeValue", rel.tail), rel.tail)
        best: dict[str, float] = {}
        for mapping in store.iter_category_mappings():
            if mapping.score > best.get(mapping.source, float("-inf")):
                best[mapping.source] = mapping.score
                projection.category_maps_to[mapping.source] = mapping.target
        for interaction in store.iter_interactions():
            projection.add_interaction(
                interaction.user, interaction.item, interaction.kind, interaction.events, interaction.last_ts
            )
        return projection

    def add_product(
        self, pid: str, title: str, category: str | None, brand: str | None, price: float | None
    ) -> None:
        if ("Product", pid) not in self.names:
            self.product_ids.append(pid)
        self.names[("Product", pid)] = title
        if category:
            self.product_category[pid] = category
            self.category_products[category].append(pid)
        if brand:
            bid = brand_id(brand)
            self.product_brand[pid] = bid
            self.brand_products[bid].append(pid)
            self.names[("Brand", bid)] = brand
        if price is not None:
            self.product_price[pid] = price

    def add_interaction(self, user: str, item: str, kind: str, events: int, last_ts: int) -> None:
        """Also used for live events, so personalisation reacts without retraining."""
        history = self.user_history[user]
        for existing in history:
            if existing.item == item and existing.kind == kind:
                existing.events = max(existing.events, events)
                existing.last_ts = max(existing.last_ts, last_ts)
                break
        else:
            history.append(Interaction(item, kind, events, last_ts))
            self.item_users[item].append(user)
        self.names.setdefault(("User", user), user)
        self.popularity[item] += KIND_WEIGHTS.get(kind, 0.25) * events

    def record_event(self, user: str, item: str, kind: str, ts: int) -> bool:
        """One live event, counted once like the store counts it (by timestamp); False when it was
        already counted.

        Copy-on-write: the user's history and the item's shopper list are replaced, never changed
        in place, so a request reading them meanwhile sees them before or after the event, never
        half of it. Writers must be serialised (`Recommender.record_event` holds a lock).
        """
        history = self.user_history.get(user, [])
        weight = KIND_WEIGHTS.get(kind, 0.25)
        for n, existing in enumerate(history):
            if existing.item == item and existing.kind == kind:
                if ts == existing.last_ts:
                    return False
                updated = Interaction(item, kind, existing.events + 1, max(existing.last_ts, ts))
                self.user_history[user] = [*history[:n], updated, *history[n + 1 :]]
                self.popularity[item] += weight
                return True
        self.user_history[user] = [*history, Interaction(item, kind, 1, ts)]
        self.item_users[item] = [*self.item_users.get(item, []), user]
        self.names.setdefault(("User", user), user)
        self.popularity[item] += weight
        return True

    def item_histories(self) -> dict[str, list[str]]:
        """Each shopper's items in the order taken: what the item-item models are fitted on."""
        # A snapshot of the shoppers first: live events may add one while a rebuild reads them.
        return {user: [e.item for e in list(events)] for user, events in list(self.user_history.items())}

    def co_interacted(
        self, items: list[str], weights: list[float], *, max_users: int = 200
    ) -> dict[str, float]:
        """Products that other shoppers of the history items also interacted with (two hops
        through `User` nodes), weighted by the history item's weight, normalised by popularity."""
        scores: dict[str, float] = defaultdict(float)
        for item, weight in zip(items, weights, strict=True):
            users = self.item_users.get(item, [])[-max_users:]
            if not users:
                continue
            for user in users:
                for other in self.user_history.get(user, []):
                    if other.item != item:
                        scores[other.item] += weight / len(users)
        return scores

    def ancestors(self, category: str) -> list[str]:
        """The category itself, then its parents up to the root."""
        chain = [category]
        seen = {category}
        while (parent := self.category_parent.get(chain[-1])) is not None and parent not in seen:
            chain.append(parent)
            seen.add(parent)
        return chain

    def mapped_ancestor(self, category: str) -> tuple[list[str], str] | None:
        """The category's chain up to its nearest mapped ancestor (itself first), and that
        ancestor's `MAPS_TO` target; None when nothing on the way up is mapped."""
        chain = self.ancestors(category)
        for n, node in enumerate(chain):
            if (target := self.category_maps_to.get(node)) is not None:
                return chain[: n + 1], target
        return None

    def subtree(self, category: str) -> set[str]:
        out, stack = set(), [category]
        while stack:
            node = stack.pop()
            if node in out:
                continue
            out.add(node)
            stack.extend(self.category_children.get(node, []))
        return out

    def name(self, label: str, node_id: str) -> str:
        return self.localized.get((label, node_id)) or self.names.get((label, node_id), node_id)

    def region_name(self, region: str, default: str) -> str:
        return self.localized.get(("Region", region), default)

    def in_locale(self, localized: dict[Node, str]) -> GraphProjection:
        """A view naming nodes from `localized` first; every other field is shared with `self`, so
        live events recorded on `self` show in the view too."""
        return replace(self, localized=localized)
