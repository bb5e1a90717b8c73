"""The `Recommender`: the recommendation pipeline, one named stage after another.

request → query vectors → history → filters → candidate sources → scoring → diversity →
explanations → response. Each stage is its own module (docs/architecture.md); this one only
wires them and holds what lives as long as an artifact: the catalogue index, the weights,
the shop's defaults and the query cache.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kgrec.embeddings.artifacts import Artifact
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.graph.store import GraphStore
from kgrec.recommender.candidates import Candidates, cooccurrence_scores, eligible_rows, gather_candidates
from kgrec.recommender.catalog_index import CatalogIndex
from kgrec.recommender.collaborative.neighbours import NeighbourSettings
from kgrec.recommender.collaborative.source import CollaborativeSource
from kgrec.recommender.diversity import diversify
from kgrec.recommender.explain import Explainer
from kgrec.recommender.filters import allowed_rows, excluded_items
from kgrec.recommender.fusion import FusionWeights, Scores, fused_relevance
from kgrec.recommender.history import History, build_history
from kgrec.recommender.localized_names import localized_names
from kgrec.recommender.messages import translations
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.query import QueryEncoder, QueryVectors, query_vectors
from kgrec.recommender.ranker import (
    FEATURES,
    RANKED_FLOOR,
    LearnedRanker,
    candidate_features,
    group_codes,
    load_ranker,
    pool_rows,
    ranked_rows,
)
from kgrec.recommender.regions import ProductRegions
from kgrec.recommender.request import (
    DEFAULT_DIVERSITY,
    DEFAULT_QUERY_DIVERSITY,
    DEFAULT_STRATEGY,
    Filters,
    RecommendationRequest,
)
from kgrec.recommender.response import Recommendation, Stopwatch, build_response, explained_items
from kgrec.recommender.signals import Signals
from kgrec.recommender.tuning import TunedDefaults, load_tuned


class Recommender:
    def __init__(
        self,
        store: GraphStore,
        artifact: Artifact,
        encoder: TextEncoder,
        projection: GraphProjection,
        *,
        pseudonym_key: bytes,
        weights: FusionWeights | None = None,
        tuned: TunedDefaults | None = None,
        neighbours_dir: Path | None = None,
        neighbour_settings: NeighbourSettings | None = None,
        ranker: LearnedRanker | None = None,
    ) -> None:
        """`neighbours_dir`: where the neighbour lists live (the artifact's folder unless given:
        an evaluation's validation recommender builds its own there, with `neighbour_settings`).
        `ranker`: the learned second stage for history requests (recommender/ranker.py); None:
        the linear fusion ranks every request."""
        self.store = store
        self.artifact = artifact
        self.projection = projection
        self.catalog = CatalogIndex(projection, artifact)
        self.collaborative = CollaborativeSource(
            projection,
            self.catalog.pids,
            self.catalog.popularity,
            neighbours_dir or artifact.path,
            neighbour_settings,
        )
        self.explainer = Explainer(projection)
        self.queries = QueryEncoder(encoder)
        self.pseudonym_key = pseudonym_key
        self.ranker = ranker
        self.weights = weights or (tuned.weights if tuned else FusionWeights())
        if self.weights.shopperknn_weight > 0:
            self.collaborative.warm_shoppers()
        self.default_strategy = tuned.strategy if tuned else DEFAULT_STRATEGY
        self.default_diversity = tuned.diversity if tuned else DEFAULT_DIVERSITY
        query_diversity = tuned.query_diversity if tuned else None
        self.default_query_diversity = DEFAULT_QUERY_DIVERSITY if query_diversity is None else query_diversity
        self.default_query_strategy = tuned.strategy_for_queries() if tuned else DEFAULT_STRATEGY
        self._events_lock = threading.Lock()
        self._locales: dict[str, GraphProjection] = {}
        self._explainers: dict[str, Explainer] = {}

    @classmethod
    def load(
        cls, store: GraphStore, home: Path, encoder: TextEncoder, *, pseudonym_key: bytes
    ) -> Recommender:
        artifact = Artifact.open_current(home)
        artifact.require_encoder(encoder.name, encoder.dim)
        tuned = load_tuned(home)
        return cls(
            store,
            artifact,
            encoder,
            GraphProjection.load(store),
            pseudonym_key=pseudonym_key,
            tuned=tuned,
            neighbour_settings=tuned.neighbours if tuned else None,
            ranker=load_ranker(home),
        )

    def with_weights(self, weights: FusionWeights) -> Recommender:
        """The same recommender (same index, same cache) scoring with other weights; `self` is unchanged."""
        other = copy.copy(self)
        other.weights = weights
        return other

    def with_ranker(self, ranker: LearnedRanker | None) -> Recommender:
        """The same recommender ranking history requests with `ranker` (None: the linear fusion)."""
        other = copy.copy(self)
        other.ranker = ranker
        return other

    @cached_property
    def group_codes(self) -> dict[str, NDArray[np.int64]]:
        """The catalogue's category, brand and region codes the ranker's features read."""
        return group_codes(self.catalog)

    def with_defaults(self, strategy: str, diversity: float) -> Recommender:
        """The same recommender serving other defaults to requests with a shopper or history
        (query-only requests keep theirs); `self` is unchanged."""
        other = copy.copy(self)
        other.default_strategy, other.default_diversity = strategy, diversity
        return other

    def record_event(self, user: str, item: str, kind: str, ts: int) -> bool:
        """A live event (`POST /v1/events`, user already pseudonymised) reaches the history,
        co-occurrence and popularity that the next request reads, without retraining; one
        writer at a time, readers see copies swapped in whole (GraphProjection.record_event). The
        collaborative neighbour lists follow within their staleness (collaborative/source.py)."""
        with self._events_lock:
            counted = self.projection.record_event(user, item, kind, ts)
            if counted:
                self.catalog.update_popularity(item)
                self.collaborative.record_event()
            return counted

    def warm_query(self, query: str | None) -> None:
        """Encode (or find cached) a query ahead of the request's CPU slot, so that concurrent
        requests can share a forward pass in a batching encoder."""
        if query and query.strip():
            self.queries.encode(query.strip())

    def cache_queries(self, queries: Sequence[str]) -> None:
        """Encode an evaluation's known queries in batches, far cheaper than one by one."""
        self.queries.encode_many(queries)

    def encode_query(self, query: str) -> NDArray[np.float32]:
        """The query's text vector, as a recommendation computes it (cached)."""
        return self.queries.encode(query.strip())

    def defaults_for(self, request: RecommendationRequest) -> tuple[str, float]:
        """The shop's default strategy and diversity for this kind of request (query-only or not)."""
        if request.query_only:
            return self.default_query_strategy, self.default_query_diversity
        return self.default_strategy, self.default_diversity

    def recommend(self, request: RecommendationRequest) -> Recommendation:
        """The pipeline: each line below is one stage (docs/architecture.md says where each lives)."""
        plan = request.plan(*self.defaults_for(request))
        clock, catalog = Stopwatch(), self.catalog
        query = query_vectors(request.query, self.queries, catalog.artifact.alignment)
        clock.lap("encode")
        history = self._history(request.user_id, request.history)
        signals = self._signals(query, history)
        regions = catalog.regions[plan.region_kind]
        found, rows = self._candidates(signals, request.filters, regions)
        clock.lap("retrieve")
        scores = self._second_stage(signals, rows, found, fused_relevance(signals, rows, found, self.weights))
        clock.lap("fuse")
        picks = diversify(scores.relevance, rows, catalog.kg, regions, history, plan)
        clock.lap("rerank")
        explainer = self.explainer_for(request.locale)
        items = explained_items(picks, rows, scores, signals, regions, plan, explainer)
        clock.lap("explain")
        return build_response(
            items, signals, regions, plan, artifact=self.artifact.name, timings=clock.total()
        )

    def _candidates(
        self, signals: Signals, filters: Filters, regions: ProductRegions
    ) -> tuple[Candidates, NDArray[np.int64]]:
        """The retrieval stage: every source's candidates, then those the request may show. The
        ranker's training pools come from here too, so they are the pools it re-scores."""
        allowed = allowed_rows(filters, self.catalog)
        found = gather_candidates(signals, allowed, regions)
        rows = eligible_rows(found, self.catalog, excluded_items(signals.history, filters), allowed)
        return found, rows

    def _second_stage(
        self, signals: Signals, rows: NDArray[np.int64], found: Candidates, scores: Scores
    ) -> Scores:
        """The learned ranker's relevance for a history request without a query, where there is
        a ranker; the linear fusion's otherwise (query requests keep it: the search protocol's).
        Candidates only the KG vectors or the popular fill proposed are not ranked: they follow
        (`ranked_rows`)."""
        if self.ranker is None or signals.query is not None or not signals.history.rows.size or not rows.size:
            return scores
        content = self.ranker.reads_content
        ranked, features = self._ranked_features(signals, rows, found, scores, content=content)
        if not ranked.any():
            return scores
        relevance = np.zeros(rows.size, np.float32)
        learned = self.ranker.score(features, scores.relevance[ranked])
        relevance[ranked] = RANKED_FLOOR + (1 - RANKED_FLOOR) * learned
        return replace(scores, relevance=relevance)

    def _ranked_features(
        self,
        signals: Signals,
        rows: NDArray[np.int64],
        found: Candidates,
        scores: Scores,
        *,
        content: bool = True,
    ) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
        """Which of `rows` the ranker scores, and their features, taken over the pool (every row
        but the popular fill's alone). Serving and the ranker's training pools both come here, so
        what it learns from is what it re-scores."""
        ranked = ranked_rows(found, rows)
        if not ranked.any():
            return ranked, np.zeros((0, len(FEATURES)), np.float32)
        pool = pool_rows(found, rows)
        features = candidate_features(
            signals, rows[pool], found, scores.subset(pool), self.weights, self.group_codes, content=content
        )
        return ranked, features[ranked[pool]]

    def pool_features(
        self, history: Sequence[str]
    ) -> tuple[list[str], NDArray[np.float32], NDArray[np.float32]]:
        """The candidates of a history-only request (no filters) the ranker scores, the ranker's
        features of each and its linear fused relevance: what the ranker is trained on."""
        signals = self._signals(None, self._history(None, history))
        found, rows = self._candidates(signals, Filters(), self.catalog.regions["taxonomy"])
        scores = fused_relevance(signals, rows, found, self.weights)
        ranked, features = self._ranked_features(signals, rows, found, scores)
        relevance = np.asarray(scores.relevance, dtype=np.float32)[ranked]
        return [self.catalog.pids[i] for i in rows[ranked].tolist()], features, relevance

    def projection_for(self, locale: str | None) -> GraphProjection:
        """The projection naming categories and regions in `locale` (read from the graph once per
        locale and artifact); the projection itself where the graph has no names in it."""
        if not locale:
            return self.projection
        view = self._locales.get(locale)
        if view is None:
            names = localized_names(self.store, self.projection, locale)
            view = self.projection.in_locale(names) if names else self.projection
            self._locales[locale] = view
        return view

    def explainer_for(self, locale: str | None) -> Explainer:
        """Paths named from the locale's projection, sentences from its message catalogue."""
        if not locale:
            return self.explainer
        explainer = self._explainers.get(locale)
        if explainer is None:
            explainer = Explainer(self.projection_for(locale), translations(locale))
            self._explainers[locale] = explainer
        return explainer

    def _signals(self, query: QueryVectors | None, history: History) -> Signals:
        """The request's inputs for the stages, with the neighbour lists' scores for its history."""
        lists = self.collaborative.lists
        shoppers = self.collaborative.neighbour_shoppers(history.rows, self.weights, history.user)
        scores = (
            self.collaborative.scores(history.rows, history.weights, self.weights, shoppers)
            if history.rows.size
            else {}
        )
        return Signals(self.catalog, self.store, query, history, scores, lists, shoppers)

    def _history(self, user_id: str | None, history: Sequence[str]) -> History:
        return build_history(
            self.projection,
            self.catalog.row,
            user_id=user_id,
            history=history,
            pseudonym_key=self.pseudonym_key,
            half_life_days=self.weights.recency_half_life_days,
            position_half_life=self.weights.history_position_half_life,
            weighting=self.weights.history_weighting,
        )

    def score_items(self, history: Sequence[str], item_ids: Sequence[str]) -> NDArray[np.float32]:
        """The fused relevance of given items for a shopper with this history (no query, no
        re-ranking): what a click-through evaluation ranks pairs by. Unknown items score 0."""
        hist = self._history(None, history)
        known = [i for i, pid in enumerate(item_ids) if pid in self.catalog.row]
        out = np.zeros(len(item_ids), dtype=np.float32)
        if not known:
            return out
        rows = np.array([self.catalog.row[item_ids[i]] for i in known], dtype=np.int64)
        co = cooccurrence_scores(self.catalog, hist, len(self.catalog.pids))
        signals = self._signals(None, hist)
        out[known] = fused_relevance(
            signals, rows, Candidates(set(), {"cooccurrence": co}), self.weights
        ).relevance
        return out
