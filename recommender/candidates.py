"""The candidate stage: sources that each propose catalogue rows, registered by name.

A source is a function `source(signals) -> {row: evidence}`: the rows it proposes, with a
score in [0, 1] (a similarity, or a share of the best) that the scoring stage may use. A
source without its input (no query, no history) proposes nothing. New sources register in
`CANDIDATE_SOURCES`, like the re-rankers in `RERANKERS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.catalog_index import CatalogIndex
from kgrec.recommender.history import History, history_centroid
from kgrec.recommender.regions import ProductRegions
from kgrec.recommender.signals import Signals

CANDIDATES_PER_SOURCE = 150
LEXICAL_HITS = 100
NEIGHBOURHOOD_ITEMS = 20
NEIGHBOURS_PER_GROUP = 50
CO_INTERACTED_ITEMS = 20
POPULAR_ITEMS = 50

Evidence = dict[int, float]


class CandidateSource(Protocol):
    def __call__(self, signals: Signals) -> Evidence: ...


def _nearest(index_search: tuple[NDArray[np.int64], NDArray[np.float32]]) -> Evidence:
    rows, sims = index_search
    return {int(r): float(s) for r, s in zip(rows.tolist(), sims.tolist(), strict=True)}


def text_source(signals: Signals) -> Evidence:
    """Products whose text is nearest the query's (BERT)."""
    if signals.query is None:
        return {}
    return _nearest(signals.catalog.text_index.search(signals.query.text_vector, CANDIDATES_PER_SOURCE))


def kg_source(signals: Signals) -> Evidence:
    """Products nearest the query aligned into the KG space."""
    if signals.query is None:
        return {}
    return _nearest(signals.catalog.kg_index.search(signals.query.kg_vector, CANDIDATES_PER_SOURCE))


def lexical_source(signals: Signals) -> Evidence:
    """BM25 over product titles (Lucene's formula, in process), scaled to the best hit."""
    if signals.query is None:
        return {}
    hits = signals.catalog.lexical.search(signals.query.text, LEXICAL_HITS)
    top = max((s for _, s in hits), default=1.0)
    return {row: score / top for row, score in hits}


def cooccurrence_scores(catalog: CatalogIndex, history: History, limit: int) -> Evidence:
    """Products the history's other shoppers took (two hops through `User`), scaled to the best."""
    if not history.rows.size:
        return {}
    co = catalog.projection.co_interacted(
        history.items[:CO_INTERACTED_ITEMS], history.weights[:CO_INTERACTED_ITEMS].tolist()
    )
    top = sorted(co.items(), key=lambda kv: -kv[1])[:limit]
    best = top[0][1] if top else 1.0
    return {catalog.row[p]: s / best for p, s in top if p in catalog.row}


def cooccurrence_source(signals: Signals) -> Evidence:
    return cooccurrence_scores(signals.catalog, signals.history, CANDIDATES_PER_SOURCE)


def history_kg_source(signals: Signals) -> Evidence:
    """Products nearest the history's centroid in the KG space."""
    centroid = history_centroid(signals.history, signals.catalog.kg)
    if centroid is None:
        return {}
    return _nearest(signals.catalog.kg_index.search(centroid, CANDIDATES_PER_SOURCE))


def neighbourhood_source(signals: Signals) -> Evidence:
    """Products sharing a category or a brand with the most weighted history items (one graph hop)."""
    c, g = signals.catalog, signals.catalog.projection
    out: Evidence = {}
    for pid in signals.history.items[:NEIGHBOURHOOD_ITEMS]:
        for group in (
            g.category_products.get(g.product_category.get(pid, ""), []),
            g.brand_products.get(g.product_brand.get(pid, ""), []),
        ):
            out.update((c.row[p], 1.0) for p in group[:NEIGHBOURS_PER_GROUP] if p in c.row)
    return out


def collaborative_source(signals: Signals) -> Evidence:
    """The best products by the neighbour lists (walks through shoppers and through the
    catalogue graph; recommender/collaborative/), scaled to the best."""
    combined = signals.collaborative.get("combined")
    if combined is None or not signals.history.rows.size:
        return {}
    top = np.argsort(-combined, kind="stable")[:CANDIDATES_PER_SOURCE]
    best = float(combined[top[0]]) if top.size else 0.0
    return {int(i): float(combined[i]) / best for i in top.tolist() if combined[i] > 0}


def shopperknn_source(signals: Signals) -> Evidence:
    """The best products by shopper-kNN (what the shoppers most like this history took;
    recommender/collaborative/shopperknn.py), scaled to the best; nothing where the fusion
    gives it no weight."""
    shoppers = signals.shoppers
    if shoppers is None:
        return {}
    scores = shoppers.scores
    scored = np.flatnonzero(scores > 0)
    top = scored[np.lexsort((scored, -scores[scored]))][:CANDIDATES_PER_SOURCE]
    best = float(scores[top[0]]) if top.size else 0.0
    return {int(i): float(scores[i]) / best for i in top.tolist()}


def popular_source(signals: Signals) -> Evidence:
    """The catalogue's most popular products, for a history request without a query: when the
    history's neighbour lists run out of evidence, the list fills with them, as the baselines'
    lists do (without them a shopper whose items have few neighbours got a short or weak list)."""
    if signals.query is not None or not signals.history.rows.size:
        return {}
    popularity = signals.catalog.popularity
    return {int(i): float(popularity[i]) for i in signals.catalog.most_popular(POPULAR_ITEMS).tolist()}


CANDIDATE_SOURCES: dict[str, CandidateSource] = {
    "text": text_source,
    "kg": kg_source,
    "lexical": lexical_source,
    "cooccurrence": cooccurrence_source,
    "history_kg": history_kg_source,
    "neighbourhood": neighbourhood_source,
    "collaborative": collaborative_source,
    "shopperknn": shopperknn_source,
    "popular": popular_source,
}


def get_candidate_source(name: str) -> CandidateSource:
    try:
        return CANDIDATE_SOURCES[name]
    except KeyError:
        raise InvalidArgumentError(
            "source", f"unknown candidate source {name!r}; use one of {', '.join(CANDIDATE_SOURCES)}"
        ) from None


@dataclass(slots=True)
class Candidates:
    """The union of every source's rows, and each source's evidence (scoring reads some of it)."""

    rows: set[int]
    evidence: dict[str, Evidence]

    def of(self, source: str) -> Mapping[int, float]:
        return self.evidence.get(source, {})


def popular_across_regions(
    catalog: CatalogIndex, pool: NDArray[np.int64], regions: ProductRegions, limit: int
) -> NDArray[np.int64]:
    """The most popular items of every region in turn: a popular list that is not one region."""
    ranked = pool[np.argsort(-catalog.popularity[pool], kind="stable")]
    by_region: dict[int, list[int]] = {}
    for row in ranked.tolist():
        by_region.setdefault(int(regions.codes[row]), []).append(row)
    queues = sorted(by_region.values(), key=lambda rows: -float(catalog.popularity[rows[0]]))
    out: list[int] = []
    depth = 0
    while len(out) < limit and any(depth < len(q) for q in queues):
        out.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return np.array(out[:limit], dtype=np.int64)


def fallback_rows(
    signals: Signals, allowed: NDArray[np.bool_] | None, regions: ProductRegions
) -> NDArray[np.int64]:
    """The allowed rows scored directly (filters can empty the nearest neighbours), or, with
    neither query nor history, the popular items of every region."""
    c = signals.catalog
    pool = np.flatnonzero(allowed) if allowed is not None else np.arange(len(c.pids))
    limit = CANDIDATES_PER_SOURCE * 2
    if signals.query is not None:
        probe = c.text_rows(pool) @ signals.query.text_vector
    elif (centroid := history_centroid(signals.history, c.kg)) is not None:
        probe = c.kg[pool] @ centroid
    else:
        return popular_across_regions(c, pool, regions, limit)
    ordered: NDArray[np.int64] = pool[np.argsort(-probe, kind="stable")[:limit]]
    return ordered


def gather_candidates(
    signals: Signals,
    allowed: NDArray[np.bool_] | None,
    regions: ProductRegions,
    sources: Mapping[str, CandidateSource] = CANDIDATE_SOURCES,
) -> Candidates:
    evidence = {name: source(signals) for name, source in sources.items()}
    rows: set[int] = set().union(*evidence.values())
    if not rows or allowed is not None:
        rows.update(fallback_rows(signals, allowed, regions).tolist())
    return Candidates(rows, evidence)


def eligible_rows(
    candidates: Candidates, catalog: CatalogIndex, excluded: set[str], allowed: NDArray[np.bool_] | None
) -> NDArray[np.int64]:
    """The candidates a request may show, the more popular first (then by row: deterministic).
    Every ranking of them is a stable sort, so equal scores go to the more popular item, as in
    the baselines' lists."""
    rows = np.array(
        sorted(
            i for i in candidates.rows if catalog.pids[i] not in excluded and (allowed is None or allowed[i])
        ),
        dtype=np.int64,
    )
    ordered: NDArray[np.int64] = rows[np.argsort(-catalog.popularity[rows], kind="stable")]
    return ordered
