"""The collaborative-filtering baselines of `kgrec evaluate`: fitted on the training graph's
interactions, hyper-parameters chosen from a small grid on the tuning cases only."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from tqdm import tqdm

from kgrec.evaluation import metrics as m
from kgrec.evaluation.splits import EvalCase
from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.collaborative import (
    InteractionMatrix,
    ItemItemModel,
    fit_ease,
    fit_ials,
    fit_itemknn,
    fit_rp3beta,
)
from kgrec.recommender.collaborative.neighbours import NeighbourSettings
from kgrec.recommender.collaborative.shopperknn import ShopperKNN, fit_shopperknn

Ranker = Callable[[EvalCase], list[str]]


class Scorer(Protocol):
    """What a baseline's ranker needs: the catalogue order and every item's score for a history."""

    @property
    def items(self) -> list[str]: ...

    def scores(self, history: NDArray[np.float64]) -> NDArray[np.float64]: ...


# ItemKNN over shoppers and catalogue nodes (evaluation/knowledge_choice.py): reported beside the
# baselines, since they could use the same input.
HYBRID = "itemknn_knowledge"
FITS: dict[str, Callable[..., ItemItemModel | ShopperKNN]] = {
    "itemknn": fit_itemknn,
    "ease": fit_ease,
    "rp3beta": fit_rp3beta,
    "shopperknn": fit_shopperknn,
    "ials": fit_ials,
}
# Fits that also read the catalogue's item x node incidence (`knowledge_nodes`).
READS_KNOWLEDGE = frozenset({"shopperknn"})
GRIDS: dict[str, list[dict[str, float]]] = {
    "itemknn": [{"shrink": s, "top_k": k} for s in (0.0, 10.0, 50.0, 200.0) for k in (50, 200)],
    "ease": [{"l2": lam} for lam in (25.0, 50.0, 100.0, 250.0, 500.0)],
    "rp3beta": [{"alpha": a, "beta": b} for a in (0.5, 1.0) for b in (0.0, 0.2, 0.4, 0.6)],
    # Shopper-kNN over shoppers only: a simple baseline. kgrec's own shopper-kNN may add the
    # catalogue nodes, at a weight chosen on the tuning and validation cases (evaluation/run.py).
    "shopperknn": [{"shrink": s, "top_k": k} for s in (10.0, 50.0) for k in (30, 100, 300)],
    # A few points only (each fit is 15 alternating solves): Last.FM's tuning and validation
    # cases chose 128 factors, λ 100, confidence 40 (docs/evaluation.md, lastfm13).
    "ials": [
        {"factors": f, "l2": 100.0, "confidence": 40.0, "top_k": k} for f in (64, 128) for k in (100, 200)
    ],
}


def check_grids(grids: Mapping[str, Sequence[dict[str, float]]]) -> None:
    """Only the baselines of `FITS`, each with at least one grid point."""
    for name, points in grids.items():
        if name not in FITS:
            raise InvalidArgumentError("baseline-grids", f"unknown baseline {name!r}; use {', '.join(FITS)}")
        if not points:
            raise InvalidArgumentError("baseline-grids", f"{name}: give at least one grid point")


@dataclass(slots=True)
class TunedBaseline:
    name: str
    params: dict[str, float]
    rank: Ranker
    sweep: list[dict[str, Any]] = field(default_factory=list)
    model: ItemItemModel | ShopperKNN | None = None
    note: str = ""
    # kgrec's own model built on this baseline with the catalogue nodes: the weight chosen
    # (`KnowledgeChoice.as_dict`); the baseline itself stays without them.
    knowledge: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "sweep": self.sweep,
            **({"note": self.note} if self.note else {}),
            **({"kgrec_knowledge": self.knowledge} if self.knowledge is not None else {}),
        }


def model_ranker(model: Scorer, popularity: NDArray[np.float32], k: int) -> Ranker:
    """Top-k by the model's score for the case's visible items; ties (mostly unscored items)
    go to the more popular item, and the visible items are never recommended back."""
    column = {item: j for j, item in enumerate(model.items)}
    ties = -np.asarray(popularity, dtype=np.float64)

    def rank(case: EvalCase) -> list[str]:
        seen = [column[i] for i in case.visible if i in column]
        history = np.zeros(len(model.items), dtype=np.float64)
        history[seen] = 1.0
        scores = model.scores(history)
        scores[seen] = -np.inf
        order = np.lexsort((ties, -scores))[:k]
        return [model.items[j] for j in order]

    return rank


def tune_baselines(
    histories: Mapping[str, Sequence[str]],
    items: Sequence[str],
    popularity: NDArray[np.float32],
    tune_cases: Sequence[EvalCase],
    *,
    grids: Mapping[str, Sequence[dict[str, float]]] = GRIDS,
    k: int = 10,
    progress: bool = False,
    knowledge: sp.spmatrix | None = None,
) -> dict[str, TunedBaseline]:
    """Each model refitted for every point of its grid (`GRIDS` unless given); the best NDCG@k
    on `tune_cases` wins. `knowledge`: the item x node incidence the fits in `READS_KNOWLEDGE`
    take (a grid may then give them a knowledge weight; `GRIDS` keeps every baseline plain)."""
    check_grids(grids)
    data = InteractionMatrix.from_histories(histories, items)
    out: dict[str, TunedBaseline] = {}
    grid = [(name, params) for name, points in grids.items() for params in points]
    best: dict[str, tuple[float, dict[str, float], Ranker, ItemItemModel | ShopperKNN]] = {}
    sweeps: dict[str, list[dict[str, Any]]] = {name: [] for name in grids}
    for name, params in tqdm(grid, desc="baseline grid", disable=not progress):
        extra = {"knowledge": knowledge} if name in READS_KNOWLEDGE else {}
        model = FITS[name](data, **params, **extra)
        rank = model_ranker(model, popularity, k)
        ndcg = float(np.mean([m.ndcg_at_k(rank(case), case.hidden, k) for case in tune_cases]))
        sweeps[name].append({"params": params, "ndcg@10": round(ndcg, 5)})
        if name not in best or ndcg > best[name][0]:
            best[name] = (ndcg, params, rank, model)
    for name, (_, params, rank, model) in best.items():
        out[name] = TunedBaseline(name, params, rank, sweeps[name], model)
    return out


def neighbour_settings(tuned: Mapping[str, TunedBaseline]) -> NeighbourSettings:
    """kgrec's own walk, EASE, ItemKNN and iALS lists and its shopper-kNN with the
    hyper-parameters the tuning cases chose for the baselines: ItemKNN's and iALS's lists are the
    tuned baselines' own (same settings, same neighbours per item), the others keep at least as
    many neighbours per item; shopper-kNN takes the plain baseline's shrink and neighbours (its
    catalogue-node weight is kgrec's own choice, made after: evaluation/run.py)."""
    defaults = NeighbourSettings()
    walk = tuned["rp3beta"].params if "rp3beta" in tuned else {}
    ease = tuned["ease"].params if "ease" in tuned else {}
    knn = tuned["itemknn"].params if "itemknn" in tuned else {}
    shoppers = tuned["shopperknn"].params if "shopperknn" in tuned else {}
    ials = tuned["ials"].params if "ials" in tuned else {}
    return replace(
        defaults,
        walk_alpha=walk.get("alpha", defaults.walk_alpha),
        walk_beta=walk.get("beta", defaults.walk_beta),
        ease_l2=ease.get("l2", defaults.ease_l2),
        itemknn_shrink=knn.get("shrink", defaults.itemknn_shrink),
        itemknn_top_k=int(knn.get("top_k", defaults.itemknn_top_k)),
        neighbours=max(defaults.neighbours, int(knn.get("top_k", defaults.neighbours))),
        shopperknn_shrink=shoppers.get("shrink", defaults.shopperknn_shrink),
        shopperknn_top_k=int(shoppers.get("top_k", defaults.shopperknn_top_k)),
        shopperknn_knowledge=shoppers.get("knowledge_weight", defaults.shopperknn_knowledge),
        ials_factors=int(ials.get("factors", defaults.ials_factors)),
        ials_l2=ials.get("l2", defaults.ials_l2),
        ials_confidence=ials.get("confidence", defaults.ials_confidence),
        ials_top_k=int(ials.get("top_k", defaults.ials_top_k)),
    )
