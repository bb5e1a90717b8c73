"""ItemKNN with the catalogue's nodes stacked under the shoppers: measured beside the baselines.

The knowledge reaches the item-item model itself (`fit_itemknn(knowledge=...)`): two items that
share an aisle or an attribute value become neighbours even where few shoppers took both. Each
weight of `KNOWLEDGE_WEIGHTS` is tried with the tuned ItemKNN baseline's shrink and neighbour
count, on the tuning cases and on validation cases from the training part; each group weighs
the same. The evaluation reports the hybrid at the best weight as a baseline (the baselines
could use the same input), and whether that weight passes the keep rule: a paired gain above
`KNOWLEDGE_MIN_GAIN_SE` standard errors on the tuning cases and a gain on the validation cases.
kgrec's own ItemKNN lists stay the shoppers' (`NeighbourSettings.itemknn_knowledge` 0): on
Instacart, where the rule passed, the served lists gained nothing on the test cases and covered
fewer aisles (docs/evaluation.md, session 11).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from kgrec.evaluation import metrics as m
from kgrec.evaluation.baselines import Ranker, Scorer, model_ranker
from kgrec.evaluation.splits import EvalCase
from kgrec.recommender.collaborative import InteractionMatrix, fit_itemknn
from kgrec.recommender.collaborative.shopperknn import fit_shopperknn

KNOWLEDGE_WEIGHTS = (0.1, 0.2, 0.3, 0.5, 1.0)
KNOWLEDGE_MIN_GAIN_SE = 1.0
# kgrec's own shopper-kNN (the nodes in the shoppers' profiles): the weights docs/evaluation.md
# (know14) measured on the tuning and validation cases.
SHOPPERKNN_KNOWLEDGE_WEIGHTS = (0.1, 0.2, 0.4)
# A model fitted on one group's shoppers, with the catalogue nodes at a weight (0: none).
KnowledgeFit = Callable[[InteractionMatrix, sp.spmatrix, float], Scorer]


@dataclass(slots=True)
class CaseGroup:
    """Cases and the histories their models are fitted on (the tuning cases: the whole training
    part; validation cases: the training part without their hidden items). `popularity`: how
    ties are broken where it is not the served popularity (validation cases: their own fit's
    event counts, since the whole part's would count the items they hide)."""

    name: str
    histories: Mapping[str, Sequence[str]]
    cases: Sequence[EvalCase]
    popularity: Mapping[str, float] | None = None


@dataclass(slots=True)
class KnowledgeChoice:
    """`best`: the weight the cases favoured, which `rank` serves; `weight`: the same where it
    passes the keep rule, else 0."""

    weight: float
    reason: str
    best: float = 0.0
    sweep: list[dict[str, Any]] = field(default_factory=list)
    rank: Ranker | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"weight": self.weight, "best": self.best, "reason": self.reason, "sweep": self.sweep}


def _fitted_inputs(
    group: CaseGroup, items: Sequence[str], popularity: NDArray[np.float32]
) -> tuple[InteractionMatrix, NDArray[np.float32]]:
    """What every weight's model of `group` is fitted on, and how its ties are broken."""
    data = InteractionMatrix.from_histories(group.histories, items)
    if group.popularity is not None:
        counts = group.popularity
        popularity = np.array([counts.get(item, 0.0) for item in items], dtype=np.float32)
    return data, popularity


def _per_case(
    group: CaseGroup,
    data: InteractionMatrix,
    popularity: NDArray[np.float32],
    knowledge: sp.spmatrix,
    fit: KnowledgeFit,
    weight: float,
    k: int,
) -> tuple[NDArray[np.float64], Ranker]:
    rank = model_ranker(fit(data, knowledge, weight), popularity, k)
    return np.array([m.ndcg_at_k(rank(case), case.hidden, k) for case in group.cases]), rank


def _fit_at(
    fit_model: Callable[..., Scorer], params: Mapping[str, float], shrink: float, top_k: int
) -> KnowledgeFit:
    """`fit_model` at the tuned baseline's shrink and neighbour count (`shrink`, `top_k` where
    the baseline has none), with the nodes at a weight."""

    def fit(data: InteractionMatrix, knowledge: sp.spmatrix, weight: float) -> Scorer:
        return fit_model(
            data,
            shrink=float(params.get("shrink", shrink)),
            top_k=int(params.get("top_k", top_k)),
            knowledge=knowledge,
            knowledge_weight=weight,
        )

    return fit


def itemknn_fit(params: Mapping[str, float]) -> KnowledgeFit:
    """ItemKNN over shoppers and catalogue nodes."""
    return _fit_at(fit_itemknn, params, 50.0, 200)


def shopperknn_fit(params: Mapping[str, float]) -> KnowledgeFit:
    """Shopper-kNN, the profiles holding the nodes."""
    return _fit_at(fit_shopperknn, params, 10.0, 100)


def choose_itemknn_knowledge(
    groups: Sequence[CaseGroup],
    items: Sequence[str],
    popularity: NDArray[np.float32],
    knowledge: sp.spmatrix,
    params: Mapping[str, float],
    *,
    weights: Sequence[float] = KNOWLEDGE_WEIGHTS,
    k: int = 10,
) -> KnowledgeChoice:
    """`params`: the tuned ItemKNN baseline's. The choice's `rank` serves the tuning group's
    hybrid at the best weight (reported beside the baselines, which could use the same input)."""
    return choose_knowledge(groups, items, popularity, knowledge, itemknn_fit(params), weights=weights, k=k)


def choose_knowledge(
    groups: Sequence[CaseGroup],
    items: Sequence[str],
    popularity: NDArray[np.float32],
    knowledge: sp.spmatrix,
    fit: KnowledgeFit,
    *,
    weights: Sequence[float] = KNOWLEDGE_WEIGHTS,
    k: int = 10,
) -> KnowledgeChoice:
    """The catalogue-node weight of `fit`'s model against the same model without nodes (weight 0).
    `groups[0]` are the tuning cases (the paired rule is read there), the others validation cases."""
    groups = [g for g in groups if g.cases]
    if not groups or knowledge.shape[1] == 0 or not weights:
        return KnowledgeChoice(0.0, "no tuning cases, no catalogue nodes or no weights to try")
    scores: dict[float, list[NDArray[np.float64]]] = {}
    ranks: dict[float, Ranker] = {}
    inputs = [_fitted_inputs(g, items, popularity) for g in groups]
    for weight in (0.0, *weights):
        results = [
            _per_case(g, data, ties, knowledge, fit, weight, k)
            for g, (data, ties) in zip(groups, inputs, strict=True)
        ]
        scores[weight] = [per_case for per_case, _ in results]
        ranks[weight] = results[0][1]
    sweep = [
        {
            "weight": weight,
            **{f"{g.name} ndcg@{k}": round(float(v.mean()), 5) for g, v in zip(groups, values, strict=True)},
        }
        for weight, values in scores.items()
    ]

    def mean_of_groups(weight: float) -> float:
        return float(np.mean([v.mean() for v in scores[weight]]))

    best = max(weights, key=mean_of_groups)
    gain = scores[best][0] - scores[0.0][0]
    se = float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else 0.0
    others = [float(b.mean() - a.mean()) for a, b in zip(scores[0.0][1:], scores[best][1:], strict=True)]
    detail = (
        f"weight {best}: {groups[0].name} {gain.mean():+.5f} (SE {se:.5f})"
        + "".join(f", {g.name} {d:+.5f}" for g, d in zip(groups[1:], others, strict=True))
        + " against no nodes"
    )
    kept = gain.mean() > KNOWLEDGE_MIN_GAIN_SE * se and all(d > 0 for d in others)
    if not kept:
        return KnowledgeChoice(0.0, f"fails the keep rule: {detail}", best, sweep, ranks[best])
    return KnowledgeChoice(best, f"passes the keep rule: {detail}", best, sweep, ranks[best])
