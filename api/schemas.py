"""Request and response bodies, named by role."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from kgrec.api.use_cases import LOAD_KINDS
from kgrec.graph.interaction_parsing import KINDS
from kgrec.recommender.regions import REGION_KINDS
from kgrec.recommender.request import DEFAULT_DIVERSITY, DEFAULT_QUERY_DIVERSITY, DEFAULT_STRATEGY
from kgrec.recommender.rerankers import RERANKERS


def _one_of(values: Collection[str]) -> Callable[[str], str]:
    """Checks a name against its single source (a registry or a tuple of kinds)."""

    def check(value: str) -> str:
        if value not in values:
            raise ValueError(f"use one of {', '.join(values)}")
        return value

    return check


def _enum(values: Collection[str]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(values)})


Strategy = Annotated[str, AfterValidator(_one_of(RERANKERS)), _enum(RERANKERS)]
RegionKind = Annotated[str, AfterValidator(_one_of(REGION_KINDS)), _enum(REGION_KINDS)]
EventKind = Annotated[str, AfterValidator(_one_of(KINDS)), _enum(KINDS)]
LoadKind = Annotated[str, AfterValidator(_one_of(LOAD_KINDS)), _enum(LOAD_KINDS)]


ProductId = Annotated[str, Field(min_length=1, max_length=200)]


def _json_integer(value: Any) -> Any:
    """JSON Schema's `integer` includes `82.0`; booleans and strings are not integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_json_integer)]


class FiltersBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    category: str | None = Field(default=None, max_length=500)
    brand: str | None = Field(default=None, max_length=200)
    price_min: float | None = Field(default=None, ge=0, description="at most price_max (else 422)")
    price_max: float | None = Field(default=None, ge=0, description="at least price_min (else 422)")
    exclude_purchased: bool = True


class RecommendationRequestBody(BaseModel):
    """Strict: `false` is not a diversity and `"5"` is not a k."""

    model_config = ConfigDict(extra="forbid", strict=True)
    query: str | None = Field(default=None, max_length=500)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    history: list[ProductId] = Field(default_factory=list, max_length=200)
    k: JsonInt = Field(default=10, ge=1, le=100)
    diversity: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description=f"0 = relevance order, 1 = widest coverage; omitted: the shop's tuned default "
        f"(`kgrec evaluate --apply`; a query alone keeps {DEFAULT_QUERY_DIVERSITY} unless a query "
        f"evaluation tuned its own), else {DEFAULT_QUERY_DIVERSITY} for a query alone and "
        f"{DEFAULT_DIVERSITY} otherwise",
    )
    strategy: Strategy | None = Field(
        default=None,
        description=f"omitted: the shop's tuned default, else {DEFAULT_STRATEGY}",
    )
    region_kind: RegionKind = "taxonomy"
    filters: FiltersBody = Field(default_factory=FiltersBody)
    explain: bool = True
    locale: str | None = Field(
        default=None,
        max_length=20,
        description="the shopper's locale (zh-CN, de-DE, ...): explanation sentences in it where kgrec "
        "ships a catalogue (zh-CN, de-DE), else English; category paths, region names and the names "
        "in explanations use the graph's names in it (`name_zh_CN`), else the default names",
    )


class RecommendationResponse(BaseModel):
    request_id: str
    items: list[dict[str, Any]]
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


class EventBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    user_id: str = Field(min_length=1, max_length=200)
    item_id: str = Field(min_length=1, max_length=200)
    kind: EventKind
    timestamp: JsonInt = Field(ge=0, le=10_000_000_000)
    value: float | None = Field(default=None, ge=-1e12, le=1e12, allow_inf_nan=False)


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


_ERROR_DESCRIPTIONS = {
    400: "the body is not parseable (not JSON, not UTF-8, broken multipart)",
    401: "no X-API-Key header",
    403: "wrong X-API-Key",
    404: "the named product, job or artifact does not exist",
    409: "the graph is too small for this",
    413: "request body over the size limit",
    422: "invalid request: the body names the field, or the file and line",
    503: "Neo4j unavailable or no trained artifact yet; retry after Retry-After seconds",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses an operation can answer, all as `ErrorResponse`."""
    return {s: {"model": ErrorResponse, "description": _ERROR_DESCRIPTIONS[s]} for s in statuses}
