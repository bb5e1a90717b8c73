"""The request stage: what a caller asks for, checked before any work is done."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from kgrec.graph.errors import InvalidArgumentError
from kgrec.graph.taxonomy_parsing import normalise_locale
from kgrec.recommender.regions import REGION_KINDS
from kgrec.recommender.rerankers import RERANKERS, get_reranker

DEFAULT_STRATEGY = "xquad"
DEFAULT_DIVERSITY = 0.6
# A query names what the shopper wants: a lighter touch keeps ≥ 95 % of the relevance-only
# NDCG@10 on real shopper queries with clearly higher coverage (docs/evaluation.md, Home Depot).
DEFAULT_QUERY_DIVERSITY = 0.4


@dataclass(slots=True)
class Filters:
    category: str | None = None
    brand: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    exclude_purchased: bool = True


@dataclass(slots=True)
class RecommendationRequest:
    query: str | None = None
    user_id: str | None = None
    history: list[str] = field(default_factory=list)
    k: int = 10
    diversity: float | None = None
    strategy: str | None = None
    region_kind: str = "taxonomy"
    filters: Filters = field(default_factory=Filters)
    explain: bool = True
    locale: str | None = None

    def validate(self) -> None:
        if not 1 <= self.k <= 100:
            raise InvalidArgumentError("k", f"must be between 1 and 100, got {self.k}")
        if self.diversity is not None and (not (0.0 <= self.diversity <= 1.0) or math.isnan(self.diversity)):
            raise InvalidArgumentError("diversity", f"must be between 0 and 1, got {self.diversity}")
        if self.strategy is not None and self.strategy not in RERANKERS:
            get_reranker(self.strategy)
        if self.region_kind not in REGION_KINDS:
            raise InvalidArgumentError("region_kind", f"use one of {', '.join(REGION_KINDS)}")
        if self.locale is not None:
            self.locale = normalise_locale(self.locale)
        f = self.filters
        if f.price_min is not None and f.price_max is not None and f.price_min > f.price_max:
            raise InvalidArgumentError("filters.price_min", "must not exceed filters.price_max")

    @property
    def query_only(self) -> bool:
        """A search-box request: words, and no shopper or history to personalise with."""
        return bool(self.query and self.query.strip()) and not self.history and self.user_id is None

    def plan(self, default_strategy: str, default_diversity: float) -> Plan:
        """Validated, with the shop's defaults where the request leaves them out."""
        self.validate()
        return Plan(
            k=self.k,
            strategy=self.strategy or default_strategy,
            diversity=default_diversity if self.diversity is None else self.diversity,
            region_kind=self.region_kind,
            explain=self.explain,
        )


@dataclass(frozen=True, slots=True)
class Plan:
    """How one request is served once its defaults are resolved."""

    k: int
    strategy: str
    diversity: float
    region_kind: str
    explain: bool
