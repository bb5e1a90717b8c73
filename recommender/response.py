"""The response stage: typed results, with the list-level diversity figures, and their JSON form."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kgrec.recommender.diversity import Picks
from kgrec.recommender.explain import Explainer, Explanation
from kgrec.recommender.fusion import Components, Scores
from kgrec.recommender.history import history_region_weights
from kgrec.recommender.list_diversity import filter_bubble_share, intra_list_distance
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.regions import ProductRegions
from kgrec.recommender.request import Plan
from kgrec.recommender.signals import Signals


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    name: str


@dataclass(slots=True)
class RecommendedItem:
    id: str
    title: str
    brand: str | None
    price: float | None
    category_path: str | None
    score: float
    relevance: dict[str, float]
    region: Region
    explanations: list[Explanation] | None = None
    promoted_from_rank: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "brand": self.brand,
            "price": self.price,
            "category_path": self.category_path,
            "score": self.score,
            "relevance": self.relevance,
            "region": {"id": self.region.id, "name": self.region.name},
        }
        if self.explanations is not None:
            out["explanations"] = [e.as_dict() for e in self.explanations]
        if self.promoted_from_rank is not None:
            out["diversity"] = {
                "new_region": {"id": self.region.id, "name": self.region.name},
                "relevance_rank": self.promoted_from_rank,
            }
        return out


@dataclass(slots=True)
class Recommendation:
    items: list[RecommendedItem]
    regions_covered: int
    ild: float
    filter_bubble_share: float | None
    strategy: str
    diversity: float
    region_kind: str
    notes: list[str]
    ignored_history: list[str]
    artifact: str
    timings_ms: dict[str, float]

    @property
    def ids(self) -> list[str]:
        return [item.id for item in self.items]

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": [item.as_dict() for item in self.items],
            "regions_covered": self.regions_covered,
            "ild": self.ild,
            "filter_bubble_share": self.filter_bubble_share,
            "strategy": self.strategy,
            "diversity": self.diversity,
            "region_kind": self.region_kind,
            "notes": self.notes,
            "ignored_history": self.ignored_history,
            "artifact": self.artifact,
            "timings_ms": self.timings_ms,
        }


@dataclass(slots=True)
class Stopwatch:
    """Milliseconds per stage, and the total."""

    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    last: float = 0.0

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round((now - (self.last or self.started)) * 1000, 3)
        self.last = now

    def total(self) -> dict[str, float]:
        self.timings["total"] = round((time.perf_counter() - self.started) * 1000, 3)
        return self.timings


def describe_item(
    projection: GraphProjection, pid: str, score: float, components: Components, index: int, region: Region
) -> RecommendedItem:
    g = projection
    category = g.product_category.get(pid)
    brand = g.product_brand.get(pid)
    return RecommendedItem(
        id=pid,
        title=g.name("Product", pid),
        brand=g.name("Brand", brand) if brand else None,
        price=g.product_price.get(pid),
        category_path=g.name("Category", category) if category else None,
        score=round(score, 5),
        relevance={
            "text": round(float(components.text[index]), 5),
            "kg": round(float(components.kg[index]), 5),
            "history": round(float(components.history[index]), 5),
            "popularity": round(float(components.popularity[index]), 5),
            "collaborative": round(float(components.collaborative[index]), 5),
        },
        region=region,
    )


def build_response(
    items: list[RecommendedItem],
    signals: Signals,
    regions: ProductRegions,
    plan: Plan,
    *,
    artifact: str,
    timings: dict[str, float],
) -> Recommendation:
    """The list with its diversity figures: regions covered, ILD, the share in the user's top regions."""
    catalog, history = signals.catalog, signals.history
    rows = [catalog.row[item.id] for item in items]
    shown = [regions.ids[r] for r in rows]
    top_user = {r for r, _ in history_region_weights(history, regions.ids).most_common(3)}
    return Recommendation(
        items=items,
        regions_covered=len(set(shown)),
        ild=round(intra_list_distance(catalog.kg[rows]) if rows else 0.0, 5),
        filter_bubble_share=filter_bubble_share(shown, top_user) if top_user else None,
        strategy=plan.strategy,
        diversity=plan.diversity,
        region_kind=plan.region_kind,
        notes=history.notes,
        ignored_history=history.ignored,
        artifact=artifact,
        timings_ms=timings,
    )


def collaborative_anchor(signals: Signals, score: float, row: int) -> tuple[str, str] | None:
    """When a neighbour list named the item: the history item whose list named it most, and
    whether shoppers (`walk`, `ease`, `itemknn`) or shared knowledge (`knowledge`) did."""
    lists = signals.neighbours
    if lists is None or score <= 0 or not signals.history.rows.size:
        return None
    rows = signals.history.rows[:20].tolist()
    for source in ("walk", "ease", "itemknn", "knowledge"):
        past = lists.strongest(source, rows, row)
        if past is not None:
            return signals.catalog.pids[past], "knowledge" if source == "knowledge" else "shoppers"
    return None


def shopper_support(signals: Signals, score: float, row: int) -> tuple[str | None, list[str]]:
    """When shopper-kNN spoke for the item: the most similar shopper who took it and shares
    history items with it (their projection key, never shown), and those items (at most two)."""
    shoppers = signals.shoppers
    if shoppers is None or score <= 0 or shoppers.scores[row] <= 0:
        return None, []
    neighbour, shared = shoppers.supporter(row, signals.history.rows)
    return neighbour, [signals.catalog.pids[r] for r in shared[:2]]


def explained_items(
    picks: Picks,
    rows: NDArray[np.int64],
    scores: Scores,
    signals: Signals,
    regions: ProductRegions,
    plan: Plan,
    explainer: Explainer,
) -> list[RecommendedItem]:
    """The picks as items; with `plan.explain`, their graph paths and the region each promoted one adds.
    Names come from the explainer's projection (a locale's view, `GraphProjection.in_locale`)."""
    catalog, query, history = signals.catalog, signals.query, signals.history
    matched = catalog.categories_matching(query.text_vector) if plan.explain and query is not None else []
    items = []
    seen_regions: set[str] = set()
    for position, index in enumerate(picks.chosen.tolist()):
        row = int(rows[index])
        pid = catalog.pids[row]
        region_id = regions.ids[row]
        region = Region(region_id, explainer.region_name(region_id, regions.name(region_id)))
        item = describe_item(
            explainer.g, pid, float(scores.relevance[index]), scores.components, index, region
        )
        if plan.explain:
            rank = picks.relevance_rank(index)
            promoted = rank > position + 1 and region.id not in seen_regions and plan.diversity > 0
            neighbour, shared = shopper_support(signals, float(scores.components.collaborative[index]), row)
            item.explanations = explainer.explain(
                pid,
                query=query.text if query is not None else "",
                matched=matched,
                history=history.items,
                user=history.user,
                promoted=(region.id, region.name, rank) if promoted else None,
                anchor=collaborative_anchor(signals, float(scores.components.collaborative[index]), row),
                shoppers=shared,
                neighbour=neighbour,
            )
            item.promoted_from_rank = rank if promoted else None
        seen_regions.add(region.id)
        items.append(item)
    return items
