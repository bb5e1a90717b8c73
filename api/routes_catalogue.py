"""Catalogue browsing: products, categories in any loaded locale, text search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from kgrec.api.deps import State
from kgrec.api.schemas import error_responses
from kgrec.graph.errors import NotFoundError
from kgrec.graph.records import locale_property
from kgrec.graph.taxonomy_parsing import LOCALE_PATTERN, normalise_locale

router = APIRouter(prefix="/v1", tags=["catalogue"], responses=error_responses(404))


@router.get("/products/{product_id}")
def get_product(product_id: str, state: State) -> dict[str, Any]:
    product = state.store.product(product_id)
    if product is None:
        raise NotFoundError(f"no product {product_id!r}")
    return product


@router.get("/categories")
def categories(
    state: State,
    taxonomy: Annotated[str | None, Query(max_length=100)] = None,
    parent: Annotated[str | None, Query(max_length=500)] = None,
    locale: Annotated[str | None, Query(max_length=20, pattern=LOCALE_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """Children of `parent` (roots when absent), with product counts and names in `locale`."""
    prop = locale_property(normalise_locale(locale)) if locale else None
    rows = state.store.browse_categories(taxonomy, parent, limit)
    return {
        "parent": parent,
        "categories": [
            {
                "id": r["props"]["id"],
                "taxonomy": r["props"].get("taxonomy"),
                "name": (r["props"].get(prop) if prop else None) or r["props"].get("name"),
                "path": r["props"].get("path"),
                "depth": r["props"].get("depth"),
                "products": r["products"],
                "children": r["children"],
            }
            for r in rows
        ],
    }


@router.get("/search")
def search(
    state: State,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    hits = state.store.search_products(q, limit)
    names = state.recommender().projection.names if hits else {}
    return {
        "query": q,
        "items": [
            {"id": pid, "title": _title(state, names, pid), "score": round(score, 4)} for pid, score in hits
        ],
    }


def _title(state: State, names: dict[tuple[str, str], str], product_id: str) -> str | None:
    """Products loaded since the last reload are not in the projection yet: ask the graph."""
    title = names.get(("Product", product_id))
    if title is None:
        product = state.store.product(product_id)
        title = product["title"] if product else None
    return title
