"""Request and response bodies, named by role."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recommender.request import DEFAULT_DIVERSITY, DEFAULT_STRATEGY
from recommender.rerankers import RERANKERS

Strategy = Literal["none", "mmr", "dpp", "xquad", "calibrated"]
assert set(RERANKERS) == {"none", "mmr", "dpp", "xquad", "calibrated"}


class FiltersBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category: str | None = Field(default=None, max_length=500)
    brand: str | None = Field(default=None, max_length=200)
    price_min: float | None = Field(default=None, ge=0)
    price_max: float | None = Field(default=None, ge=0)
    exclude_purchased: bool = True


class RecommendationRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str | None = Field(default=None, max_length=500)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    history: list[str] = Field(default_factory=list, max_length=200)
    k: int = Field(default=10, ge=1, le=100)
    diversity: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description=f"0 = relevance order, 1 = widest coverage; omitted: the shop's tuned default "
        f"(`kgrec evaluate --apply`), else {DEFAULT_DIVERSITY}",
    )
    strategy: Strategy | None = Field(
        default=None,
        description=f"omitted: the shop's tuned default, else {DEFAULT_STRATEGY}",
    )
    region_kind: Literal["taxonomy", "community"] = "taxonomy"
    filters: FiltersBody = Field(default_factory=FiltersBody)
    explain: bool = True

    @field_validator("history")
    @classmethod
    def _ids_are_short(cls, value: list[str]) -> list[str]:
        if any(len(v) > 200 or not v for v in value):
            raise ValueError("history ids must be 1-200 characters")
        return value


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
    model_config = ConfigDict(extra="forbid")
    user_id: str = Field(min_length=1, max_length=200)
    item_id: str = Field(min_length=1, max_length=200)
    kind: Literal["view", "cart", "purchase", "rating"]
    timestamp: int = Field(ge=0, le=10_000_000_000)
    value: float | None = None


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody
