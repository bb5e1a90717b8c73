"""The learned second stage: a LightGBM ranker re-scores a history request's candidate pool.

The linear fusion adds its components with one weight each, so it cannot use what matters only
together ("popularity helps when the history is short", "the candidate's aisle holds much of the
basket"). A shop's evaluation (`kgrec evaluate ... --apply`) trains a ranking model over the
evidence the pipeline already has for each candidate (the collaborative sources and their ranks,
co-occurrence, popularity, the linear score) and over graph features the simple baselines lack
(the share of the history in the candidate's category, its parent, its region, its brand; how many
history items list it as a neighbour; its title's cosine to the history's titles; its share of its
category's events), and saves it beside the artifacts (`ranker.json`).
`Recommender.load` reads it; history requests without a query are then ranked by it, query
requests keep the linear fusion. The KG vectors are left out of the features: they were trained
on events that the training cases hide (evaluation/validation.py).

The trees are boosted from the linear fusion's own score (`base_scale` times its per-pool
min-max), so they learn corrections to the linear order rather than an order from nothing: a
ranker whose trees add little ranks as the linear fusion does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from kgrec.graph.atomic_write import write_text_atomically
from kgrec.graph.errors import ArtifactError
from kgrec.recommender.fusion import evidence_at

if TYPE_CHECKING:
    import lightgbm as lgb

    from kgrec.recommender.candidates import Candidates
    from kgrec.recommender.catalog_index import CatalogIndex
    from kgrec.recommender.fusion import FusionWeights, Scores
    from kgrec.recommender.signals import Signals

FILE = "ranker.json"
SOURCES = ("walk", "ease", "itemknn", "knowledge")
GROUPS = ("category", "parent", "brand", "taxonomy", "community")
BASE_FEATURES: tuple[str, ...] = (
    *SOURCES,
    *(f"{s}_rank" for s in SOURCES),
    "collaborative",
    "cooccurrence",
    "popularity",
    "popularity_rank",
    "linear",
    "linear_rank",
    "history_length",
    "pool_size",
    *(f"{g}_share" for g in GROUPS),
    "neighbour_of_history",
    "neighbour_of_history_share",
)
# Titles and within-category popularity (session 12): offered to the ranker as a block that the
# held-back requests take or leave (evaluation/ranker_training.py `FEATURE_SETS`).
CONTENT_FEATURES: tuple[str, ...] = (
    "text_history_mean",
    "text_history_max",
    "category_popularity",
    "category_popularity_in_history",
)
FEATURES: tuple[str, ...] = (*BASE_FEATURES, *CONTENT_FEATURES)
Matrix = NDArray[np.float32]
# Candidate sources whose candidates alone the ranker neither learns from nor ranks; they follow
# the ranked ones in the served list. The KG vectors' sources: the KG is trained on the events the
# validation cases hide, so in their pools a candidate only these sources propose is far more often
# a hidden item than in the tuning or test pools (Instacart: 34 % of the hidden items in the
# validation pools against 2 % in the tuning pools, docs/evaluation.md session 9).
UNRANKED_SOURCES = frozenset({"kg", "history_kg", "popular"})
# The popular fill only completes a list the evidence could not, so a candidate only it proposed
# is not even part of the pool the ranker's features (ranks, pool size) are computed over: with
# it there, the Gift Cards ranker lost its gain (tuning NDCG@10 0.2168 against 0.2283 without).
FILL_SOURCES = frozenset({"popular"})
# Where the ranked candidates' scores start, above those the ranker leaves out.
RANKED_FLOOR = 1e-3


def feature_columns(matrix: Matrix, names: tuple[str, ...]) -> Matrix:
    """The columns of `names` in `matrix`, whose rows are `FEATURES` rows (itself for all of them):
    what a ranker over some of the features reads, in training and in serving alike."""
    if names == FEATURES:
        return matrix
    return matrix[:, np.array([FEATURES.index(n) for n in names], dtype=np.int64)]


def linear_base(relevance: NDArray[np.floating]) -> Matrix:
    """The linear fusion's relevance over one pool on 0..1, the start the trees boost from: the
    fused scores' range differs from pool to pool, a per-pool scale does not."""
    values = np.asarray(relevance, dtype=np.float64)
    if not values.size:
        return np.zeros(0, np.float32)
    low, high = float(values.min()), float(values.max())
    out: Matrix = ((values - low) / (high - low) if high > low else np.zeros_like(values)).astype(np.float32)
    return out


def _proposed_by_others(
    candidates: Candidates, rows: NDArray[np.int64], left_out: frozenset[str]
) -> NDArray[np.bool_]:
    other: set[int] = set()
    for name, evidence in candidates.evidence.items():
        if name not in left_out:
            other.update(evidence)
    return np.fromiter((r in other for r in rows.tolist()), dtype=np.bool_, count=rows.size)


def ranked_rows(candidates: Candidates, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which of `rows` the ranker scores: those a source outside `UNRANKED_SOURCES` proposed."""
    return _proposed_by_others(candidates, rows, UNRANKED_SOURCES)


def pool_rows(candidates: Candidates, rows: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which of `rows` the ranker's features are computed over: all but the fill's alone."""
    return _proposed_by_others(candidates, rows, FILL_SOURCES)


def _rank_share(values: NDArray[np.floating]) -> Matrix:
    """Each value's place among the candidates, 0 for the best, 1 for the last."""
    order = np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")
    ranks = np.empty(order.size, dtype=np.float32)
    ranks[order] = np.arange(order.size, dtype=np.float32)
    return ranks / np.float32(max(order.size - 1, 1))


def group_codes(catalog: CatalogIndex) -> dict[str, NDArray[np.int64]]:
    """Per catalogue row, a dense code of its category, the category's parent, its brand and its
    taxonomy and community regions (-1: none)."""
    g = catalog.projection
    values = {
        "category": [g.product_category.get(p) for p in catalog.pids],
        "brand": [g.product_brand.get(p) for p in catalog.pids],
    }
    values["parent"] = [g.category_parent.get(c) if c else None for c in values["category"]]
    out: dict[str, NDArray[np.int64]] = {}
    for name, ids in values.items():
        codes = {v: i for i, v in enumerate(sorted({v for v in ids if v}))}
        out[name] = np.array([codes[v] if v else -1 for v in ids], dtype=np.int64)
    out["taxonomy"] = catalog.regions["taxonomy"].codes
    out["community"] = catalog.regions["community"].codes
    return out


def _history_share(codes: NDArray[np.int64], signals: Signals, rows: NDArray[np.int64]) -> Matrix:
    """The share of the history's weight that falls in each candidate's group."""
    history = signals.history
    hist_codes = codes[history.rows]
    known = hist_codes >= 0
    if not known.any():
        return np.zeros(rows.size, np.float32)
    mass = np.bincount(hist_codes[known], weights=history.weights[known], minlength=int(codes.max()) + 1)
    table = mass / float(history.weights.sum())
    cand = codes[rows]
    out: Matrix = np.where(cand >= 0, table[np.maximum(cand, 0)], 0.0).astype(np.float32)
    return out


def _neighbour_counts(signals: Signals, rows: NDArray[np.int64]) -> Matrix:
    """How many history items hold each candidate in their neighbour lists (ItemKNN's, else the walk's)."""
    lists = signals.neighbours
    matrix = None if lists is None else lists.lists.get("itemknn", lists.lists.get("walk"))
    if matrix is None or not signals.history.rows.size:
        return np.zeros(rows.size, np.float32)
    block = matrix[signals.history.rows][:, rows]
    out: Matrix = np.asarray((block > 0).sum(axis=0), dtype=np.float32).ravel()
    return out


def _text_similarity(signals: Signals, rows: NDArray[np.int64]) -> tuple[Matrix, Matrix]:
    """Each candidate's title cosine to the history's weighted mean title and to its closest
    history title: what a basket is about, which co-occurrence counts miss for rarely bought items."""
    history = signals.history
    if not history.rows.size or not rows.size:
        return np.zeros(rows.size, np.float32), np.zeros(rows.size, np.float32)
    catalog = signals.catalog
    cand, hist = catalog.text_rows(rows), catalog.text_rows(history.rows)
    sims = cand @ hist.T
    centre = history.weights @ hist
    norm = float(np.linalg.norm(centre))
    mean = cand @ (centre / norm) if norm > 0 else np.zeros(rows.size, np.float32)
    return np.asarray(mean, np.float32), np.asarray(sims.max(axis=1), np.float32)


def _category_popularity(codes: NDArray[np.int64], signals: Signals, rows: NDArray[np.int64]) -> Matrix:
    """Each candidate's share of its category's events (0 without a category): how popular it is
    among the items a shopper in that category chooses from, rather than across the shop."""
    counts = signals.catalog.raw_popularity
    totals = signals.catalog.events_per_group("category", codes)
    cand = codes[rows]
    total = np.where(cand >= 0, totals[np.maximum(cand, 0)] if totals.size else 0.0, 0.0)
    out: Matrix = np.where(total > 0, counts[rows] / np.maximum(total, 1e-12), 0.0).astype(np.float32)
    return out


def candidate_features(
    signals: Signals,
    rows: NDArray[np.int64],
    candidates: Candidates,
    scores: Scores,
    weights: FusionWeights,
    codes: dict[str, NDArray[np.int64]],
    *,
    content: bool = True,
) -> Matrix:
    """One row of `FEATURES` per candidate of a history request; without `content`, the
    `CONTENT_FEATURES` columns are zeros (a ranker that reads none of them need not pay for the
    title products and the category totals on every request)."""
    n = rows.size
    collab = signals.collaborative
    columns: list[NDArray[np.floating]] = []
    per_source = [collab[s][rows] if s in collab else np.zeros(n) for s in SOURCES]
    columns += per_source
    columns += [_rank_share(v) for v in per_source]
    components = scores.components
    # The linear score without its KG-vector part (see the module docstring).
    linear = weights.collaborative * components.collaborative + (
        weights.popularity_without_query * components.popularity
    )
    columns += [
        components.collaborative,
        evidence_at(candidates.of("cooccurrence"), rows),
        components.popularity,
        _rank_share(components.popularity),
        linear,
        _rank_share(linear),
        np.full(n, np.log1p(signals.history.rows.size), np.float32),
        np.full(n, np.log1p(n), np.float32),
    ]
    shares = [_history_share(codes[g], signals, rows) for g in GROUPS]
    columns += shares
    counts = _neighbour_counts(signals, rows)
    columns += [counts, counts / max(signals.history.rows.size, 1)]
    if content:
        columns += _text_similarity(signals, rows)
        within = _category_popularity(codes["category"], signals, rows)
        columns += [within, within * shares[GROUPS.index("category")]]
    else:
        columns += [np.zeros(n, np.float32)] * len(CONTENT_FEATURES)
    return np.column_stack(columns).astype(np.float32)


@dataclass(frozen=True, slots=True)
class LearnedRanker:
    """A trained ranking model over `features` (some of `FEATURES`), the weight of
    the linear fusion's score it was boosted from (`base_scale`; 0: trees from nothing), and where
    it came from."""

    booster: lgb.Booster
    base_scale: float
    source: str
    features: tuple[str, ...] = FEATURES

    @property
    def reads_content(self) -> bool:
        return any(name in CONTENT_FEATURES for name in self.features)

    def score(self, features: Matrix, linear: NDArray[np.floating]) -> Matrix:
        """Each candidate's relevance on 0..1 from its `FEATURES` row and its linear fused relevance
        (min-max over the pool: the re-rankers and the region targets expect non-negative scores)."""
        used = feature_columns(features, self.features)
        trees = np.asarray(self.booster.predict(used, raw_score=True, num_threads=1), dtype=np.float64)
        raw = trees + self.base_scale * linear_base(linear)
        low, high = (float(raw.min()), float(raw.max())) if raw.size else (0.0, 0.0)
        out: Matrix = ((raw - low) / (high - low) if high > low else np.ones_like(raw)).astype(np.float32)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "features": list(self.features),
            "base_scale": self.base_scale,
            "source": self.source,
            "model": self.booster.model_to_string(),
        }


def save_ranker(path: Path, ranker: LearnedRanker) -> Path:
    """Atomic: a serving process reading the file never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomically(path, json.dumps(ranker.as_dict()))


def read_ranker(path: Path) -> LearnedRanker:
    """Imports LightGBM only here: a shop without a ranker file serves without it (and without
    the OpenMP runtime it links against)."""
    import lightgbm as lgb

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        used = tuple(data["features"])
        if not set(used) <= set(FEATURES):
            raise ValueError(f"its features {list(used)} are not among this version's {list(FEATURES)}")
        if not used or len(set(used)) != len(used):
            raise ValueError(f"its feature list {list(used)} is empty or names a feature twice")
        scale = float(data["base_scale"])
        booster = lgb.Booster(model_str=data["model"])
        if booster.num_feature() != len(used):
            raise ValueError(f"its model reads {booster.num_feature()} features, its list names {len(used)}")
        return LearnedRanker(booster, scale, str(data.get("source", "")), used)
    except (ValueError, KeyError, TypeError, lgb.basic.LightGBMError) as exc:
        raise ArtifactError(
            f"{path} is not a valid ranker file ({exc}); delete it or re-run --apply"
        ) from exc


def load_ranker(home: Path) -> LearnedRanker | None:
    """The shop's ranker beside its artifacts; None where there is none (linear fusion only)."""
    path = home / FILE
    return read_ranker(path) if path.is_file() else None


def install_ranker(home: Path, trained: Path | None) -> str | None:
    """Serve the ranker an evaluation trained (`trained`, checked by reading it), or, where it kept
    none, stop serving an older one: a ranker learned over other weights must not outlive them."""
    target = home / FILE
    if trained is None:
        target.unlink(missing_ok=True)
        return None
    return str(save_ranker(target, read_ranker(trained)))
