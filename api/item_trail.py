"""Response fields the page needs that the recommender core does not compute."""

from __future__ import annotations

from typing import Any

from kgrec.recommender.projection import GraphProjection


def add_category_trails(projection: GraphProjection, result: dict[str, Any]) -> None:
    """Each item's category and its ancestors, root first, as `category_trail` [{id, name, path}]:
    the page shows the path and offers any step as a filter."""
    for item in result["items"]:
        category = projection.product_category.get(item["id"])
        chain = projection.ancestors(category) if category is not None else []
        item["category_id"] = category
        item["category_trail"] = [_step(projection, c) for c in reversed(chain)]


def _step(projection: GraphProjection, category: str) -> dict[str, str]:
    """The projection names a category by its path; the trail shows the last part of it."""
    path = projection.name("Category", category)
    return {"id": category, "name": path.rsplit(" > ", 1)[-1], "path": path}
