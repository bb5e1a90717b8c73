"""Graph paths that explain a recommendation, taken from the projection (so they exist in Neo4j).

A path through another shopper says the verb of the kind that shopper's `INTERACTED` edges have
(bought, viewed, rated, added to the basket; "chose" where no one shopper took both ends in one
kind) and its Cypher matches that kind. A path starts at the shopper ("you") only where the
shopper's own stored edge to the history item exists; an item the request's history ids named
is marked as such instead.
"""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kgrec.recommender.browser_link import inline_parameters
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.regions import NO_CATEGORY

MAX_HOPS = 4
# Shoppers of each end a bridge search reads (the most recent), so one explanation stays cheap.
CHAIN_SHOPPERS = 200
MAX_PATHS = 3
# The kinds a shared-kind verb is looked for in, the strongest claim first (graph/interaction_parsing.py).
KIND_ORDER = ("purchase", "cart", "rating", "view")


@dataclass(slots=True)
class PathNode:
    """`id` None: a node shown by its label only (another shopper is never named, not even by
    pseudonym: the path proves a co-purchase without linking anyone's history)."""

    label: str
    id: str | None
    name: str


@dataclass(slots=True)
class Explanation:
    nodes: list[PathNode]
    relationships: list[tuple[str, str]]
    text: str
    kind: str
    params: dict[str, str] = field(default_factory=dict)
    # The `kind` property an `INTERACTED` relationship (by its index) has, where the text names it.
    edge_kinds: dict[int, str] = field(default_factory=dict)

    def cypher(self) -> tuple[str, dict[str, str]]:
        """A parameterised MATCH that returns this path (one of them, through an anonymous node)."""
        parts = []
        params: dict[str, str] = {}
        for i, node in enumerate(self.nodes):
            if node.id is None:
                parts.append(f"(n{i}:{node.label})")
            else:
                params[f"n{i}"] = node.id
                parts.append(f"(n{i}:{node.label} {{id: $n{i}}})")
            if i < len(self.relationships):
                rel_type, direction = self.relationships[i]
                rel = f":{rel_type}"
                if i in self.edge_kinds:
                    params[f"k{i}"] = self.edge_kinds[i]
                    rel += f" {{kind: $k{i}}}"
                parts.append(f"-[{rel}]->" if direction == "out" else f"<-[{rel}]-")
        return f"MATCH p = {''.join(parts)} RETURN p LIMIT 1", params

    def as_dict(self) -> dict[str, Any]:
        query, params = self.cypher()
        return {
            "kind": self.kind,
            "text": self.text,
            "nodes": [{"label": n.label, "id": n.id, "name": n.name} for n in self.nodes],
            "relationships": [
                {"type": t, "direction": d, **({"kind": self.edge_kinds[i]} if i in self.edge_kinds else {})}
                for i, (t, d) in enumerate(self.relationships)
            ],
            "cypher": query,
            "params": params,
            "browser_cypher": inline_parameters(query, params),
        }


class Explainer:
    """Paths from `projection` (names in a locale's view, `GraphProjection.in_locale`) with
    sentences from `messages` (a gettext catalogue, `recommender/messages.py`; English without one)."""

    def __init__(self, projection: GraphProjection, messages: gettext.NullTranslations | None = None) -> None:
        self.g = projection
        self._ = (messages or gettext.NullTranslations()).gettext

    def region_name(self, region: str, default: str) -> str:
        """A region's name in the locale; the products without a category under a translated label."""
        if region == NO_CATEGORY:
            return self._("Uncategorised")
        return self.g.region_name(region, default)

    def _node(self, label: str, node_id: str) -> PathNode:
        return PathNode(label, node_id, self.g.name(label, node_id))

    def category_chain(self, item: str, matched: Sequence[str], query: str) -> Explanation | None:
        """item -IN_CATEGORY-> c -SUBCATEGORY_OF-> … -> a category that matches the query."""
        category = self.g.product_category.get(item)
        if category is None:
            return None
        chain = self.g.ancestors(category)[:MAX_HOPS]
        for hop, anchor in enumerate(chain):
            if anchor in matched:
                nodes = [self._node("Product", item)] + [self._node("Category", c) for c in chain[: hop + 1]]
                rels = [("IN_CATEGORY", "out")] + [("SUBCATEGORY_OF", "out")] * hop
                text = self._("In '%(category)s', a category that matches '%(query)s'") % {
                    "category": self.g.name("Category", anchor),
                    "query": query,
                }
                return Explanation(nodes, rels, text, "query")
        return None

    def history_paths(
        self, item: str, history: Sequence[str], user: str | None, limit: int = MAX_PATHS
    ) -> list[Explanation]:
        out: list[Explanation] = []
        g = self.g
        for past in history:
            if len(out) >= limit:
                break
            if past == item:
                continue
            found = self._shared_brand(item, past) or self._shared_category(item, past)
            found = found or self._co_interacted(item, past)
            found = found or self._shared_attribute(item, past) or self._sibling_category(item, past)
            if found is None:
                continue
            nodes, rels, why = found
            words = {"product": g.name("Product", past), "reason": why}
            stored = self._stored(user, past)
            if stored and len(rels) < MAX_HOPS:
                nodes, rels = self._from_you(user, nodes, rels)
                why = self._("You interacted with '%(product)s'; %(reason)s") % words
            else:
                why = self._("Like '%(product)s' in your history: %(reason)s") % words
                why = self._requested(user, past, why, stored)
            out.append(Explanation(nodes, rels, why, "history"))
        return out

    def _stored(self, user: str | None, past: str) -> bool:
        """Whether the shopper's own `INTERACTED` edge to `past` is in the graph (the projection
        holds the store's edges): not so for an item only the request's history ids named."""
        return user is not None and any(e.item == past for e in self.g.user_history.get(user, []))

    def _from_you(
        self, user: str | None, nodes: list[PathNode], rels: list[tuple[str, str]]
    ) -> tuple[list[PathNode], list[tuple[str, str]]]:
        """The path led by the shopper's own edge to its first node (`_stored` said it exists)."""
        return [PathNode("User", user, self._("you")), *nodes], [("INTERACTED", "out"), *rels]

    def _requested(self, user: str | None, past: str, text: str, stored: bool) -> str:
        """`text`, marked where a known shopper's request named `past` without a stored edge to it
        (`stored`: `_stored(user, past)`, which the caller has already read)."""
        if user is None or stored:
            return text
        marked = self._("%(text)s ('%(product)s' is in this request's history, not among your stored events)")
        return marked % {"text": text, "product": self.g.name("Product", past)}

    def _shared_kind(self, items: Sequence[str]) -> str | None:
        """The strongest kind (`KIND_ORDER`) in which one shopper took every one of `items`,
        looking at the most recent `CHAIN_SHOPPERS` shoppers of the least taken of them (so an
        explanation costs the same however popular its items are); None where none of those
        took them all in one kind."""
        wanted = set(items)
        rarest = min(items, key=lambda i: len(self.g.item_users.get(i, [])))
        found: set[str] = set()
        for user in dict.fromkeys(reversed(self.g.item_users.get(rarest, [])[-CHAIN_SHOPPERS:])):
            found |= self._kinds_taking(user, wanted)
            if KIND_ORDER[0] in found:
                break
        return next((kind for kind in KIND_ORDER if kind in found), None)

    def _kind_of(self, user: str, items: Sequence[str]) -> str | None:
        """The strongest kind in which `user` took every one of `items`; None where no one kind."""
        found = self._kinds_taking(user, set(items))
        return next((kind for kind in KIND_ORDER if kind in found), None)

    def _kinds_taking(self, user: str, wanted: set[str]) -> set[str]:
        """The kinds in which `user` took every item of `wanted`."""
        kinds: dict[str, set[str]] = {}
        for event in self.g.user_history.get(user, []):
            if event.item in wanted:
                kinds.setdefault(event.kind, set()).add(event.item)
        return {kind for kind, taken in kinds.items() if taken == wanted}

    def _through_shopper_sentence(self, kind: str | None) -> str:
        """'Bought by shoppers who bought …' in the verb of the kind one shopper took both in."""
        sentences = {
            "purchase": self._("Bought by shoppers who bought '%(product)s' in your history (%(detail)s)"),
            "cart": self._(
                "Added to the basket by shoppers who added '%(product)s' in your history (%(detail)s)"
            ),
            "rating": self._("Rated by shoppers who rated '%(product)s' in your history (%(detail)s)"),
            "view": self._("Viewed by shoppers who viewed '%(product)s' in your history (%(detail)s)"),
        }
        generic = self._("Chosen by shoppers who chose '%(product)s' in your history (%(detail)s)")
        return sentences.get(kind or "", generic)

    def neighbour_path(self, item: str, past: str, user: str | None, *, via: str) -> Explanation | None:
        """The path behind a collaborative score: through another shopper (`via` "shoppers") or
        through a shared brand, category or attribute value (`via` "knowledge")."""
        kind: str | None = None
        if via == "shoppers":
            found = self._co_interacted(item, past)
            kind = self._shared_kind([past, item]) if found is not None else None
            sentence = self._through_shopper_sentence(kind)
        else:
            found = (
                self._shared_brand(item, past)
                or self._shared_attribute(item, past)
                or self._shared_category(item, past)
            )
            sentence = self._("Linked by the catalogue graph to '%(product)s' in your history (%(detail)s)")
        if found is None:
            return None
        nodes, rels, detail = found
        text = sentence % {"product": self.g.name("Product", past), "detail": detail}
        return self._through_shopper(nodes, rels, text, user, past, kind)

    def shopper_path(
        self, item: str, shared: Sequence[str], user: str | None, *, neighbour: str | None = None
    ) -> Explanation:
        """Shopper-kNN's path: your item <- a shopper like you -> this item (the shopper unnamed);
        the sentence also names a second history item that shopper took, where there is one, in
        the verb of the kind `neighbour` (the kNN shopper who took them all) took them in, else
        of the kind one shopper took them all in (`_shared_kind`)."""
        named = list(shared[:2])
        wanted = [item, *named]
        kind = self._kind_of(neighbour, wanted) if neighbour is not None else self._shared_kind(wanted)
        words = {"product": self.g.name("Product", named[0])}
        if len(named) > 1:
            words["other"] = self.g.name("Product", named[1])
        text = self._shopper_sentence(kind, len(named) > 1) % words
        nodes = [
            self._node("Product", named[0]),
            PathNode("User", None, self._("another shopper")),
            self._node("Product", item),
        ]
        rels = [("INTERACTED", "in"), ("INTERACTED", "out")]
        return self._through_shopper(nodes, rels, text, user, named[0], kind)

    def _through_shopper(
        self,
        nodes: list[PathNode],
        rels: list[tuple[str, str]],
        text: str,
        user: str | None,
        past: str,
        kind: str | None,
    ) -> Explanation:
        """A collaborative path from `past`, led by the shopper's own stored edge to it where
        there is one (else its text says `past` came with the request), the edges through the
        other shopper matching `kind` where there is one."""
        stored = self._stored(user, past)
        lead = 0
        if stored and len(rels) < MAX_HOPS:
            nodes, rels = self._from_you(user, nodes, rels)
            lead = 1
        edge_kinds = {lead: kind, lead + 1: kind} if kind is not None else {}
        text = self._requested(user, past, text, stored)
        return Explanation(nodes, rels, text, "collaborative", edge_kinds=edge_kinds)

    def _shopper_sentence(self, kind: str | None, two: bool) -> str:
        """Shopper-kNN's sentence in the kind's verb, naming one history item or two."""
        if kind == "purchase":
            if two:
                return self._(
                    "Shoppers whose baskets are like yours bought it; they also bought '%(product)s' "
                    "and '%(other)s' in your history"
                )
            return self._(
                "Shoppers whose baskets are like yours bought it; they also bought '%(product)s' "
                "in your history"
            )
        if kind == "cart":
            if two:
                return self._(
                    "Shoppers whose baskets are like yours added it to their basket; they also added "
                    "'%(product)s' and '%(other)s' in your history"
                )
            return self._(
                "Shoppers whose baskets are like yours added it to their basket; they also added "
                "'%(product)s' in your history"
            )
        if kind == "rating":
            if two:
                return self._(
                    "Shoppers whose histories are like yours rated it; they also rated '%(product)s' "
                    "and '%(other)s' in your history"
                )
            return self._(
                "Shoppers whose histories are like yours rated it; they also rated '%(product)s' "
                "in your history"
            )
        if kind == "view":
            if two:
                return self._(
                    "Shoppers whose histories are like yours viewed it; they also viewed '%(product)s' "
                    "and '%(other)s' in your history"
                )
            return self._(
                "Shoppers whose histories are like yours viewed it; they also viewed '%(product)s' "
                "in your history"
            )
        if two:
            return self._(
                "Shoppers whose histories are like yours chose it; they also chose '%(product)s' "
                "and '%(other)s' in your history"
            )
        return self._(
            "Shoppers whose histories are like yours chose it; they also chose '%(product)s' "
            "in your history"
        )

    def _anchor_path(self, item: str, anchor: tuple[str, str], user: str | None) -> Explanation | None:
        """The anchor's path as its list says; ItemKNN's lists with catalogue nodes
        (`itemknn_knowledge`) also name aisle-mates no shopper shares, linked by knowledge."""
        path = self.neighbour_path(item, anchor[0], user, via=anchor[1])
        if path is None and anchor[1] == "shoppers":
            path = self.neighbour_path(item, anchor[0], user, via="knowledge")
        return path

    def _shared_brand(self, item: str, past: str) -> tuple[list[PathNode], list[tuple[str, str]], str] | None:
        brand = self.g.product_brand.get(item)
        if brand is None or self.g.product_brand.get(past) != brand:
            return None
        nodes = [self._node("Product", past), self._node("Brand", brand), self._node("Product", item)]
        return (
            nodes,
            [("HAS_BRAND", "out"), ("HAS_BRAND", "in")],
            self._("same brand, %(brand)s") % {"brand": self.g.name("Brand", brand)},
        )

    def _co_interacted(
        self, item: str, past: str
    ) -> tuple[list[PathNode], list[tuple[str, str]], str] | None:
        shoppers = set(self.g.item_users.get(past, []))
        if not any(u in shoppers for u in self.g.item_users.get(item, [])):
            return None
        nodes = [
            self._node("Product", past),
            PathNode("User", None, self._("another shopper")),
            self._node("Product", item),
        ]
        return nodes, [("INTERACTED", "in"), ("INTERACTED", "out")], self._("another shopper chose both")

    def _co_interacted_items(self, item: str) -> set[str]:
        shoppers = self.g.item_users.get(item, [])[-CHAIN_SHOPPERS:]
        return {o.item for u in shoppers for o in self.g.user_history.get(u, [])}

    def chain_path(self, item: str, history: Sequence[str]) -> Explanation | None:
        """past <- a shopper -> bridge <- another shopper -> item: the two-step link that
        latent-factor (iALS) and random-walk scores follow where no shopper took both ends.
        The bridge is the most popular product linking them (ties by id); shoppers are unnamed."""
        near_item = self._co_interacted_items(item)
        for past in history:
            if past == item:
                continue
            bridges = sorted((near_item & self._co_interacted_items(past)) - {item, past})
            if not bridges:
                continue
            bridge = max(bridges, key=lambda b: self.g.popularity.get(b, 0.0))
            shopper = self._("another shopper")
            nodes = [
                self._node("Product", past),
                PathNode("User", None, shopper),
                self._node("Product", bridge),
                PathNode("User", None, shopper),
                self._node("Product", item),
            ]
            rels = [("INTERACTED", "in"), ("INTERACTED", "out")] * 2
            text = self._(
                "Linked to '%(product)s' in your history through '%(bridge)s': shoppers chose "
                "'%(product)s' with it, and others chose it with this item"
            ) % {"product": self.g.name("Product", past), "bridge": self.g.name("Product", bridge)}
            return Explanation(nodes, rels, text, "collaborative")
        return None

    def _shared_category(
        self, item: str, past: str
    ) -> tuple[list[PathNode], list[tuple[str, str]], str] | None:
        category = self.g.product_category.get(item)
        if category is None or self.g.product_category.get(past) != category:
            return None
        nodes = [self._node("Product", past), self._node("Category", category), self._node("Product", item)]
        why = self._("same category, %(category)s") % {"category": self.g.name("Category", category)}
        return nodes, [("IN_CATEGORY", "out"), ("IN_CATEGORY", "in")], why

    def _shared_attribute(
        self, item: str, past: str
    ) -> tuple[list[PathNode], list[tuple[str, str]], str] | None:
        shared = sorted(
            set(self.g.product_attributes.get(item, [])) & set(self.g.product_attributes.get(past, []))
        )
        if not shared:
            return None
        nodes = [
            self._node("Product", past),
            self._node("AttributeValue", shared[0]),
            self._node("Product", item),
        ]
        why = self._("both have %(attribute)s") % {"attribute": shared[0]}
        return nodes, [("HAS_ATTRIBUTE", "out"), ("HAS_ATTRIBUTE", "in")], why

    def _sibling_category(
        self, item: str, past: str
    ) -> tuple[list[PathNode], list[tuple[str, str]], str] | None:
        mine, theirs = self.g.product_category.get(item), self.g.product_category.get(past)
        if mine is None or theirs is None:
            return None
        parent = self.g.category_parent.get(mine)
        if parent is None or self.g.category_parent.get(theirs) != parent:
            return None
        nodes = [
            self._node("Product", past),
            self._node("Category", theirs),
            self._node("Category", parent),
            self._node("Category", mine),
            self._node("Product", item),
        ]
        rels = [
            ("IN_CATEGORY", "out"),
            ("SUBCATEGORY_OF", "out"),
            ("SUBCATEGORY_OF", "in"),
            ("IN_CATEGORY", "in"),
        ]
        why = self._("a neighbouring category under %(category)s") % {
            "category": self.g.name("Category", parent)
        }
        return nodes, rels, why

    def region_path(self, item: str, region_id: str, region_name: str, rank: int) -> Explanation:
        """Why an item was picked for diversity: the region it adds, as a path where one exists."""
        text = self._(
            "Picked for variety: adds '%(region)s', a part of the catalogue not yet in the list "
            "(relevance rank %(rank)d)"
        ) % {"region": region_name, "rank": rank}
        category = self.g.product_category.get(item)
        anchor = region_id.removeprefix("tax:")
        if category is not None and region_id.startswith("tax:"):
            chain = self.g.ancestors(category)
            if anchor in chain and chain.index(anchor) < MAX_HOPS:
                hops = chain.index(anchor)
                nodes = [self._node("Product", item)] + [self._node("Category", c) for c in chain[: hops + 1]]
                rels = [("IN_CATEGORY", "out")] + [("SUBCATEGORY_OF", "out")] * hops
                return Explanation(nodes, rels, text, "diversity")
            if (mapped := self._through_mapping(item, category, anchor)) is not None:
                return Explanation(*mapped, text, "diversity")
        if category is not None:
            nodes = [self._node("Product", item), self._node("Category", category)]
            return Explanation(nodes, [("IN_CATEGORY", "out")], text, "diversity")
        return Explanation([self._node("Product", item)], [], text, "diversity")

    def _through_mapping(
        self, item: str, category: str, anchor: str
    ) -> tuple[list[PathNode], list[tuple[str, str]]] | None:
        """item -IN_CATEGORY-> c (-SUBCATEGORY_OF-> …) -MAPS_TO-> t (-SUBCATEGORY_OF-> …) -> anchor:
        how a product reaches a `mapped` region, in at most MAX_HOPS + 1 edges (one is MAPS_TO)."""
        found = self.g.mapped_ancestor(category)
        if found is None:
            return None
        own, target = found
        above = self.g.ancestors(target)
        if anchor not in above or len(own) + above.index(anchor) > MAX_HOPS:
            return None
        up = above[: above.index(anchor) + 1]
        nodes = [self._node("Product", item)] + [self._node("Category", c) for c in [*own, *up]]
        rels = (
            [("IN_CATEGORY", "out")]
            + [("SUBCATEGORY_OF", "out")] * (len(own) - 1)
            + [("MAPS_TO", "out")]
            + [("SUBCATEGORY_OF", "out")] * (len(up) - 1)
        )
        return nodes, rels

    def fallback(self, item: str, query: str | None) -> Explanation:
        category = self.g.product_category.get(item)
        if query:
            reason = self._("Its text is close to '%(query)s'") % {"query": query}
        else:
            reason = self._("Popular in the catalogue")
        if category is None:
            return Explanation([self._node("Product", item)], [], reason, "relevance")
        nodes = [self._node("Product", item), self._node("Category", category)]
        text = self._("%(reason)s; in %(category)s") % {"reason": reason, "category": nodes[1].name}
        return Explanation(nodes, [("IN_CATEGORY", "out")], text, "relevance")

    def explain(
        self,
        item: str,
        *,
        query: str,
        matched: Sequence[str],
        history: Sequence[str],
        user: str | None,
        promoted: tuple[str, str, int] | None,
        anchor: tuple[str, str] | None = None,
        shoppers: Sequence[str] = (),
        neighbour: str | None = None,
    ) -> list[Explanation]:
        """Up to three paths: the region an item was promoted for (`promoted` = region id, name,
        relevance rank), the category that matches the query, the shoppers like this one who
        took it (`shoppers` = the history items `neighbour`, the most similar of them, also
        took: `shopper_path`), the path behind
        a neighbour list that named the item (`anchor` = history item, "shoppers" or
        "knowledge"), then links to the history; where none links it to the history, a two-step
        chain through other shoppers (`chain_path`)."""
        out: list[Explanation] = []
        if promoted is not None:
            out.append(self.region_path(item, *promoted))
        if query and (chain := self.category_chain(item, matched, query)) is not None:
            out.append(chain)
        if shoppers:
            out.append(self.shopper_path(item, shoppers, user, neighbour=neighbour))
        if anchor is not None and (path := self._anchor_path(item, anchor, user)):
            out.append(path)
        others = [h for h in history[:10] if anchor is None or h != anchor[0]]
        out.extend(self.history_paths(item, others, user, limit=MAX_PATHS - len(out)))
        linked = any(e.kind in ("history", "collaborative") for e in out)
        if not linked and len(out) < MAX_PATHS and (chain := self.chain_path(item, history[:5])):
            out.append(chain)
        if not out:
            out.append(self.fallback(item, query or None))
        return out[:MAX_PATHS]
