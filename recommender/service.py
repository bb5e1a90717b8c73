"""The `Recommender`: candidates -> fused relevance -> diversity re-rank -> graph explanations."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from embeddings.alignment import apply_alignment
from embeddings.artifacts import Artifact
from embeddings.text_encoder import TextEncoder
from graph.errors import InvalidArgumentError
from graph.pseudonym import pseudonymise
from graph.records import brand_id
from graph.store import GraphStore
from recommender.catalog_index import REGION_KINDS, CatalogIndex
from recommender.explain import Explainer, Explanation
from recommender.fusion import Components, FusionWeights, positive
from recommender.metrics import filter_bubble_share, intra_list_distance
from recommender.projection import KIND_WEIGHTS, GraphProjection
from recommender.regions import save_regions
from recommender.rerankers import RERANKERS, get_reranker
from recommender.tuning import TunedDefaults, load_tuned

log = logging.getLogger(__name__)
RegionKey = TypeVar("RegionKey", int, str)
DEFAULT_STRATEGY = "xquad"
DEFAULT_DIVERSITY = 0.6
CANDIDATES_PER_SOURCE = 150
LEXICAL_CANDIDATES = 100
RERANK_POOL = 100
MATCHED_CATEGORIES = 8
QUERY_CACHE_SIZE = 10_000
HEAD_SHARE = 0.5


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

    def validate(self) -> None:
        if not 1 <= self.k <= 100:
            raise InvalidArgumentError("k", f"must be between 1 and 100, got {self.k}")
        if self.diversity is not None and (not (0.0 <= self.diversity <= 1.0) or math.isnan(self.diversity)):
            raise InvalidArgumentError("diversity", f"must be between 0 and 1, got {self.diversity}")
        if self.strategy is not None and self.strategy not in RERANKERS:
            get_reranker(self.strategy)
        if self.region_kind not in REGION_KINDS:
            raise InvalidArgumentError("region_kind", f"use one of {', '.join(REGION_KINDS)}")
        f = self.filters
        if f.price_min is not None and f.price_max is not None and f.price_min > f.price_max:
            raise InvalidArgumentError("filters.price_min", "must not exceed filters.price_max")


@dataclass(slots=True)
class _History:
    rows: NDArray[np.int64]
    weights: NDArray[np.float32]
    items: list[str]
    purchased: set[str]
    user: str | None


def _history_region_weights(history: _History, region_of_row: Sequence[RegionKey]) -> Counter[RegionKey]:
    """How much of the shopper's (weighted) history falls in each region."""
    weights: Counter[RegionKey] = Counter()
    for row, w in zip(history.rows.tolist(), history.weights.tolist(), strict=True):
        weights[region_of_row[row]] += w
    return weights


def protected_head(k: int, diversity: float) -> int:
    """How many of the most relevant items keep their places before re-ranking starts.

    The top of a list carries most of its accuracy (NDCG's position discount), the tail most
    of its room for variety: the evaluation showed that re-ranking the tail only keeps far
    more accuracy for the same coverage (docs/evaluation.md). `diversity` 1 protects nothing.
    """
    if diversity <= 0:
        return 0
    return min(k, math.floor(k * (1 - diversity) * HEAD_SHARE + 0.5))


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
    ) -> None:
        self.store = store
        self.artifact = artifact
        self.encoder = encoder
        self.projection = projection
        self.catalog = CatalogIndex(projection, artifact)
        self.explainer = Explainer(projection)
        self.pseudonym_key = pseudonym_key
        self.tuned = tuned
        self.weights = weights or (tuned.weights if tuned else FusionWeights())
        self.default_strategy = tuned.strategy if tuned else DEFAULT_STRATEGY
        self.default_diversity = tuned.diversity if tuned else DEFAULT_DIVERSITY
        self._query_cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._query_lock = threading.Lock()

    def _encode_query(self, query: str) -> NDArray[np.float32]:
        """Shop traffic repeats its top queries: their vectors are kept (bounded LRU)."""
        key = " ".join(query.lower().split())
        with self._query_lock:
            cached = self._query_cache.get(key)
            if cached is not None:
                self._query_cache.move_to_end(key)
                return cached
        vector: NDArray[np.float32] = self.encoder.encode([key])[0]
        with self._query_lock:
            self._query_cache[key] = vector
            if len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return vector

    def cache_queries(self, queries: Sequence[str], batch: int = 64) -> None:
        """Encode many known queries in batches (an evaluation's), far cheaper than one by one."""
        keys = list(dict.fromkeys(" ".join(q.lower().split()) for q in queries))
        for start in range(0, len(keys), batch):
            chunk = keys[start : start + batch]
            vectors = self.encoder.encode(chunk)
            with self._query_lock:
                for key, vector in zip(chunk, vectors, strict=True):
                    self._query_cache[key] = vector
                while len(self._query_cache) > QUERY_CACHE_SIZE:
                    self._query_cache.popitem(last=False)

    def encode_query(self, query: str) -> NDArray[np.float32]:
        """The query's text vector, as a recommendation would compute it (cached)."""
        return self._encode_query(query.strip())

    def warm_query(self, query: str | None) -> None:
        """Encode (or find cached) a query ahead of the request's CPU slot, so that concurrent
        requests can share a forward pass in a batching encoder."""
        if query and query.strip():
            self._encode_query(query.strip())

    def clear_query_cache(self) -> None:
        with self._query_lock:
            self._query_cache.clear()

    @classmethod
    def load(
        cls, store: GraphStore, home: Path, encoder: TextEncoder, *, pseudonym_key: bytes
    ) -> Recommender:
        artifact = Artifact.open_current(home)
        return cls(
            store,
            artifact,
            encoder,
            GraphProjection.load(store),
            pseudonym_key=pseudonym_key,
            tuned=load_tuned(home),
        )

    def publish_regions(self) -> int:
        """Regions into the artifact and onto the products in the graph."""
        regions = self.catalog.stored_regions()
        save_regions(self.artifact.path, regions)
        rows = [
            (
                pid,
                regions.taxonomy[pid],
                regions.names.get(regions.taxonomy[pid], ""),
                regions.community[pid],
                regions.names.get(regions.community[pid], ""),
            )
            for pid in self.catalog.pids
        ]
        return sum(self.store.set_product_regions(rows[i : i + 5000]) for i in range(0, len(rows), 5000))

    def _history(self, request: RecommendationRequest, notes: list[str], ignored: list[str]) -> _History:
        items: list[tuple[str, float]] = []
        purchased: set[str] = set()
        user: str | None = None
        if request.user_id:
            pseudo = pseudonymise(request.user_id, self.pseudonym_key)
            events = self.projection.user_history.get(pseudo)
            if not events:
                notes.append("unknown user: treated as anonymous")
            else:
                user = pseudo
                newest = max(e.last_ts for e in events)
                half_life = self.weights.recency_half_life_days * 86400
                for e in events:
                    recency = 0.5 ** ((newest - e.last_ts) / half_life)
                    items.append(
                        (e.item, KIND_WEIGHTS.get(e.kind, 0.25) * (1 + math.log(e.events)) * recency)
                    )
                    if e.kind == "purchase":
                        purchased.add(e.item)
        n = len(request.history)
        for position, pid in enumerate(request.history):
            if pid not in self.catalog.row:
                ignored.append(pid)
                continue
            items.append((pid, 0.5 ** ((n - 1 - position) / 5)))
        merged: dict[str, float] = {}
        for pid, w in items:
            if pid in self.catalog.row:
                merged[pid] = merged.get(pid, 0.0) + w
        ordered = sorted(merged.items(), key=lambda kv: -kv[1])
        rows = np.array([self.catalog.row[p] for p, _ in ordered], dtype=np.int64)
        weights = np.array([w for _, w in ordered], dtype=np.float32)
        return _History(rows, weights, [p for p, _ in ordered], purchased, user)

    def _allowed(self, filters: Filters) -> NDArray[np.bool_] | None:
        c = self.catalog
        mask = np.ones(len(c.pids), dtype=bool)
        active = False
        if filters.category:
            subtree = self.projection.subtree(filters.category)
            cats = self.projection.product_category
            mask &= np.array([cats.get(p) in subtree for p in c.pids])
            active = True
        if filters.brand:
            wanted = brand_id(filters.brand)
            brands = self.projection.product_brand
            mask &= np.array([brands.get(p) == wanted for p in c.pids])
            active = True
        if filters.price_min is not None:
            mask &= c.price >= filters.price_min
            active = True
        if filters.price_max is not None:
            mask &= c.price <= filters.price_max
            active = True
        return mask if active else None

    def recommend(self, request: RecommendationRequest) -> dict[str, Any]:
        request.validate()
        strategy = request.strategy or self.default_strategy
        diversity = self.default_diversity if request.diversity is None else request.diversity
        request = replace(request, strategy=strategy, diversity=diversity)
        c = self.catalog
        timings: dict[str, float] = {}
        started = last = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal last
            now = time.perf_counter()
            timings[name] = round((now - last) * 1000, 3)
            last = now

        notes: list[str] = []
        ignored: list[str] = []
        query = (request.query or "").strip()
        q_text = self._encode_query(query) if query else None
        lap("encode")
        history = self._history(request, notes, ignored)
        allowed = self._allowed(request.filters)
        excluded = set(history.items) | (history.purchased if request.filters.exclude_purchased else set())

        candidates: set[int] = set()
        lexical: dict[int, float] = {}
        q_kg = None
        if q_text is not None:
            q_kg = apply_alignment(c.artifact.alignment, q_text)
            candidates.update(c.text_index.search(q_text, CANDIDATES_PER_SOURCE)[0].tolist())
            candidates.update(c.kg_index.search(q_kg, CANDIDATES_PER_SOURCE)[0].tolist())
            hits = c.lexical.search(query, LEXICAL_CANDIDATES)
            top = max((s for _, s in hits), default=1.0)
            lexical = {row: score / top for row, score in hits}
            candidates.update(lexical)
        h_centroid = None
        co_scores = self._co_scores(history, CANDIDATES_PER_SOURCE)
        if history.rows.size:
            candidates.update(co_scores)
            h_centroid = (history.weights[:, None] * c.kg[history.rows]).sum(axis=0)
            candidates.update(c.kg_index.search(h_centroid, CANDIDATES_PER_SOURCE)[0].tolist())
            for pid in history.items[:20]:
                for group in (
                    self.projection.category_products.get(self.projection.product_category.get(pid, ""), []),
                    self.projection.brand_products.get(self.projection.product_brand.get(pid, ""), []),
                ):
                    candidates.update(c.row[p] for p in group[:50] if p in c.row)
        if not candidates or allowed is not None:
            pool = np.flatnonzero(allowed) if allowed is not None else np.arange(len(c.pids))
            probe_vector = q_text if q_text is not None else h_centroid
            if probe_vector is not None:
                # Filters can empty the nearest neighbours: score the allowed set directly.
                probe = (c.text if q_text is not None else c.kg) @ probe_vector
                order = pool[np.argsort(-probe[pool], kind="stable")[: CANDIDATES_PER_SOURCE * 2]]
            else:
                order = self._popular_across_regions(pool, request.region_kind, CANDIDATES_PER_SOURCE * 2)
            candidates.update(order.tolist())
        rows = np.array(
            sorted(i for i in candidates if c.pids[i] not in excluded and (allowed is None or allowed[i])),
            dtype=np.int64,
        )
        lap("retrieve")
        if rows.size == 0:
            timings["total"] = round((time.perf_counter() - started) * 1000, 3)
            return self._response([], [], request, history, notes, ignored, timings)

        components = self._components(rows, q_text, q_kg, lexical, history, co_scores)
        relevance = components.fused(
            self.weights, has_query=q_text is not None, has_history=bool(history.rows.size)
        )
        pool_order = np.argsort(-relevance, kind="stable")[:RERANK_POOL]
        lap("fuse")

        region_ids, region_codes, region_names = c.regions[request.region_kind]
        pool_rows = rows[pool_order]
        target = self._target(history, pool_rows, relevance[pool_order], region_codes)
        head = min(protected_head(request.k, diversity), pool_order.size)
        picked = np.zeros(0, dtype=np.int64)
        if request.k > head and pool_order.size > head:
            picked = get_reranker(strategy)(
                relevance[pool_order][head:],
                c.kg[pool_rows[head:]],
                region_codes[pool_rows[head:]],
                request.k - head,
                diversity,
                target,
            )
        chosen = pool_order[np.concatenate([np.arange(head), head + picked]).astype(np.int64)]
        lap("rerank")
        matched = self._matched_categories(q_text) if request.explain else []
        items = []
        seen_regions: set[str] = set()
        for position, idx in enumerate(chosen.tolist()):
            i = int(rows[idx])
            pid = c.pids[i]
            region = region_ids[i]
            rank = int(np.flatnonzero(pool_order == idx)[0]) + 1
            item = self._item(pid, float(relevance[idx]), components, idx, region, region_names)
            if request.explain:
                promoted = rank > position + 1 and region not in seen_regions and diversity > 0
                item["explanations"] = [
                    e.as_dict()
                    for e in self._explain(
                        pid, query, matched, history, promoted, region, region_names.get(region, region), rank
                    )
                ]
                if promoted:
                    item["diversity"] = {
                        "new_region": {"id": region, "name": region_names.get(region, region)},
                        "relevance_rank": rank,
                    }
            seen_regions.add(region)
            items.append(item)
        lap("explain")
        timings["total"] = round((time.perf_counter() - started) * 1000, 3)
        return self._response(
            items, [int(rows[i]) for i in chosen], request, history, notes, ignored, timings
        )

    def _co_scores(self, history: _History, limit: int) -> dict[int, float]:
        """Products the history's other shoppers took (two hops through `User`), scaled to the best."""
        if not history.rows.size:
            return {}
        co = self.projection.co_interacted(history.items[:20], history.weights[:20].tolist())
        top = sorted(co.items(), key=lambda kv: -kv[1])[:limit]
        best = top[0][1] if top else 1.0
        return {self.catalog.row[p]: s / best for p, s in top if p in self.catalog.row}

    def _components(
        self,
        rows: NDArray[np.int64],
        q_text: NDArray[np.float32] | None,
        q_kg: NDArray[np.float32] | None,
        lexical: dict[int, float],
        history: _History,
        co_scores: dict[int, float],
    ) -> Components:
        c = self.catalog
        text_cos = positive(c.text[rows] @ q_text) if q_text is not None else np.zeros(rows.size, np.float32)
        lex = np.array([lexical.get(int(i), 0.0) for i in rows], dtype=np.float32)
        text_score = (1 - self.weights.lexical_share) * text_cos + self.weights.lexical_share * lex
        kg_score = (
            positive(c.kg[rows] @ (q_kg / max(float(np.linalg.norm(q_kg)), 1e-9)))
            if q_kg is not None
            else np.zeros(rows.size, np.float32)
        )
        if history.rows.size:
            sims = positive(c.kg[rows] @ c.kg[history.rows].T)
            hist_score = (sims * history.weights[None, :]).sum(axis=1) / history.weights.sum()
            hist_score = np.maximum(hist_score, sims.max(axis=1) * 0.5)
            co_vec = np.array([co_scores.get(int(i), 0.0) for i in rows], dtype=np.float32)
            share = self.weights.cooccurrence_share
            hist_score = (1 - share) * hist_score + share * co_vec
        else:
            hist_score = np.zeros(rows.size, np.float32)
        return Components(text_score, kg_score, hist_score.astype(np.float32), c.popularity[rows])

    def score_items(self, history: Sequence[str], item_ids: Sequence[str]) -> NDArray[np.float32]:
        """The fused relevance of given items for a shopper with this history (no query, no
        re-ranking): what a click-through evaluation ranks pairs by. Unknown items score 0."""
        hist = self._history(RecommendationRequest(history=list(history)), [], [])
        known = [i for i, pid in enumerate(item_ids) if pid in self.catalog.row]
        out = np.zeros(len(item_ids), dtype=np.float32)
        if not known:
            return out
        rows = np.array([self.catalog.row[item_ids[i]] for i in known], dtype=np.int64)
        co = self._co_scores(hist, len(self.catalog.pids))
        components = self._components(rows, None, None, {}, hist, co)
        out[known] = components.fused(self.weights, has_query=False, has_history=bool(hist.rows.size))
        return out

    def _popular_across_regions(
        self, pool: NDArray[np.int64], region_kind: str, limit: int
    ) -> NDArray[np.int64]:
        """The most popular items of every region in turn: a popular list that is not one region."""
        codes = self.catalog.regions[region_kind][1]
        ranked = pool[np.argsort(-self.catalog.popularity[pool], kind="stable")]
        by_region: dict[int, list[int]] = {}
        for row in ranked.tolist():
            by_region.setdefault(int(codes[row]), []).append(row)
        queues = sorted(by_region.values(), key=lambda rows: -float(self.catalog.popularity[rows[0]]))
        out: list[int] = []
        depth = 0
        while len(out) < limit and any(depth < len(q) for q in queues):
            out.extend(q[depth] for q in queues if depth < len(q))
            depth += 1
        return np.array(out[:limit], dtype=np.int64)

    def _target(
        self,
        history: _History,
        pool_rows: NDArray[np.int64],
        relevance: NDArray[np.float32],
        codes: NDArray[np.int64],
    ) -> dict[int, float] | None:
        """Region distribution to cover: the user's history regions mixed with the query's."""
        if not history.rows.size:
            return None
        user = _history_region_weights(history, codes.tolist())
        total = sum(user.values())
        target = {r: w / total for r, w in user.items()}
        mass: Counter[int] = Counter()
        for row, score in zip(pool_rows.tolist(), relevance.tolist(), strict=True):
            mass[int(codes[row])] += max(score, 0.0) + 1e-6
        mass_total = sum(mass.values())
        for r, m in mass.items():
            target[r] = 0.5 * target.get(r, 0.0) + 0.5 * m / mass_total
        return target

    def _matched_categories(self, q_text: NDArray[np.float32] | None) -> list[str]:
        c = self.catalog
        if q_text is None or c.category_text is None:
            return []
        sims = c.category_text @ q_text
        top = np.argsort(-sims)[:MATCHED_CATEGORIES]
        return [c.category_ids[i] for i in top if sims[i] > 0.3]

    def _explain(
        self,
        pid: str,
        query: str,
        matched: list[str],
        history: _History,
        promoted: bool,
        region: str,
        region_name: str,
        rank: int,
    ) -> list[Explanation]:
        out: list[Explanation] = []
        if promoted:
            out.append(self.explainer.region_path(pid, region, region_name, rank))
        if query and (chain := self.explainer.category_chain(pid, matched, query)) is not None:
            out.append(chain)
        out.extend(self.explainer.history_paths(pid, history.items[:10], history.user, limit=3 - len(out)))
        if not out:
            out.append(self.explainer.fallback(pid, query or None))
        return out[:3]

    def _item(
        self, pid: str, score: float, comp: Components, idx: int, region: str, names: dict[str, str]
    ) -> dict[str, Any]:
        g = self.projection
        category = g.product_category.get(pid)
        brand = g.product_brand.get(pid)
        price = g.product_price.get(pid)
        return {
            "id": pid,
            "title": g.name("Product", pid),
            "brand": g.name("Brand", brand) if brand else None,
            "price": price,
            "category_path": g.name("Category", category) if category else None,
            "score": round(score, 5),
            "relevance": {
                "text": round(float(comp.text[idx]), 5),
                "kg": round(float(comp.kg[idx]), 5),
                "history": round(float(comp.history[idx]), 5),
                "popularity": round(float(comp.popularity[idx]), 5),
            },
            "region": {"id": region, "name": names.get(region, region)},
        }

    def _response(
        self,
        items: list[dict[str, Any]],
        rows: Sequence[int],
        request: RecommendationRequest,
        history: _History,
        notes: list[str],
        ignored: list[str],
        timings: dict[str, float],
    ) -> dict[str, Any]:
        c = self.catalog
        region_ids = c.regions[request.region_kind][0]
        regions = [region_ids[r] for r in rows]
        top_user = {r for r, _ in _history_region_weights(history, region_ids).most_common(3)}
        return {
            "items": items,
            "regions_covered": len(set(regions)),
            "ild": round(intra_list_distance(c.kg[list(rows)]) if rows else 0.0, 5),
            "filter_bubble_share": filter_bubble_share(regions, top_user) if top_user else None,
            "strategy": request.strategy,
            "diversity": request.diversity,
            "region_kind": request.region_kind,
            "notes": notes,
            "ignored_history": ignored,
            "artifact": self.artifact.name,
            "timings_ms": timings,
        }
