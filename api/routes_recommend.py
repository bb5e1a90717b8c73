"""`POST /v1/recommendations` and `GET /v1/products/{id}/similar`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from kgrec.api.deps import State
from kgrec.api.item_trail import add_category_trails
from kgrec.api.metrics import observe_stages
from kgrec.api.schemas import RecommendationRequestBody, RecommendationResponse, error_responses
from kgrec.api.use_cases import build_request
from kgrec.graph.errors import NotFoundError
from kgrec.recommender.browser_link import browser_edit_url
from kgrec.recommender.request import Filters, RecommendationRequest

router = APIRouter(prefix="/v1", tags=["recommendations"], responses=error_responses(404))


def _serve(state: State, request: RecommendationRequest, product_id: str | None = None) -> dict[str, Any]:
    """CPU work in one of the bounded slots; stage timings to metrics; category trails and Browser
    links added. The routes are async and run this in the thread pool: one thread hop a request
    (as sync routes, their dependency and response validation took two more)."""
    recommender = state.recommender()
    if product_id is not None and product_id not in recommender.catalog.row:
        raise NotFoundError(f"no product {product_id!r}")
    recommender.warm_query(request.query)
    with state.cpu_slots:
        result = recommender.recommend(request).as_dict()
    observe_stages(result["timings_ms"])
    add_category_trails(recommender.projection_for(request.locale), result)
    _browser_links(state, result)
    return {"request_id": uuid.uuid4().hex, **result}


def _browser_links(state: State, result: dict[str, Any]) -> None:
    base = state.settings.browser_url
    for item in result["items"]:
        for explanation in item.get("explanations", []):
            explanation["browser_url"] = browser_edit_url(base, explanation["browser_cypher"])


@router.post("/recommendations", response_model=RecommendationResponse)
async def recommend(body: RecommendationRequestBody, state: State) -> dict[str, Any]:
    """Ranked, diversified products for a query and/or a shopper, each with explaining graph paths."""
    request = build_request(
        query=body.query,
        user_id=body.user_id,
        history=body.history,
        k=body.k,
        diversity=body.diversity,
        strategy=body.strategy,
        region_kind=body.region_kind,
        filters=Filters(**body.filters.model_dump()),
        explain=body.explain,
        locale=body.locale,
    )
    return await run_in_threadpool(_serve, state, request)


@router.get("/products/{product_id}/similar", response_model=RecommendationResponse)
async def similar(
    product_id: str,
    state: State,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    diversity: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
) -> dict[str, Any]:
    """A diverse "more like this": the product as a one-item history."""
    request = build_request(history=[product_id], k=k, diversity=diversity)
    return await run_in_threadpool(_serve, state, request, product_id)
