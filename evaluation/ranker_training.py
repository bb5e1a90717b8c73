"""Training the learned second stage (recommender/ranker.py) on cases the test never sees.

The ranker learns from the validation cases split off the training part, each scored by the
validation recommender fitted without their hidden items (evaluation/validation.py); the
tuning cases stop its boosting and then decide whether it serves at all: it is kept only
where its lists beat the linear fusion's on them by more than one standard error of the paired
difference (the weight ascent's rule: the cases that stopped the boosting favour it, and a
gain within the noise of ~150 cases did not hold on the test cases, docs/evaluation.md).
The test cases are never read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from kgrec.evaluation.harness import clearly_better
from kgrec.evaluation.splits import EvalCase
from kgrec.recommender.ranker import FEATURES, LearnedRanker
from kgrec.recommender.service import Recommender

MAX_ROUNDS = 400
ROUNDS_WITHOUT_GAIN = 40
# The ranker serves only where it beats the linear fusion on the tuning cases by this many
# standard errors of the paired difference.
KEEP_MIN_GAIN_SE = 1.0
# Small trees, strongly regularised, slow: a few hundred requests of a few hundred candidates
# each. XE-NDCG (Bruch 2019) rather than LambdaRank: on Gift Cards' validation cases (one hidden
# item each) it was the only objective whose 5-fold cross-validated NDCG@10 rose above the
# linear fusion's (docs/evaluation.md, session 8).
PARAMS: dict[str, Any] = {
    "objective": "rank_xendcg",
    "metric": "ndcg",
    "eval_at": [10],
    "learning_rate": 0.02,
    "num_leaves": 7,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 1,
    "deterministic": True,
    "verbosity": -1,
}


@dataclass(slots=True)
class RankingData:
    """Candidates of many requests: features, 1 for a hidden item, and each request's count."""

    features: list[NDArray[np.float32]] = field(default_factory=list)
    labels: list[NDArray[np.float32]] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)

    def dataset(self, reference: lgb.Dataset | None = None) -> lgb.Dataset:
        return lgb.Dataset(
            np.vstack(self.features),
            np.concatenate(self.labels),
            group=self.groups,
            feature_name=list(FEATURES),
            reference=reference,
        )


def ranking_data(
    groups: Sequence[tuple[Recommender, Sequence[EvalCase]]], *, progress: bool = False
) -> RankingData:
    """Each case's candidate pool on its own recommender; cases whose pool holds none of their
    hidden items teach nothing about the order and are left out."""
    data = RankingData()
    total = sum(len(cases) for _, cases in groups)
    with tqdm(total=total, desc="ranker features", disable=not progress) as bar:
        for recommender, cases in groups:
            for case in cases:
                pids, features = recommender.pool_features(case.visible)
                labels = np.array([p in case.hidden for p in pids], dtype=np.float32)
                if labels.any():
                    data.features.append(features)
                    data.labels.append(labels)
                    data.groups.append(len(pids))
                bar.update(1)
    return data


def train_ranker(train: RankingData, stop: RankingData, *, seed: int, source: str) -> LearnedRanker:
    """A ranking model on `train`, boosted while NDCG@10 on `stop` still rises."""
    training = train.dataset()
    booster = lgb.train(
        {**PARAMS, "seed": seed},
        training,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[stop.dataset(reference=training)],
        callbacks=[lgb.early_stopping(ROUNDS_WITHOUT_GAIN, verbose=False)],
    )
    return LearnedRanker(booster, source)


@dataclass(frozen=True, slots=True)
class RankerFit:
    """The trained ranker, whether it serves, and why."""

    ranker: LearnedRanker | None
    kept: bool
    report: dict[str, Any]


def fit_ranker(
    recommender: Recommender,
    tune_cases: Sequence[EvalCase],
    validation: Sequence[tuple[Recommender, Sequence[EvalCase]]],
    ndcg_of: Callable[[Recommender], NDArray[np.float64]],
    *,
    seed: int,
    source: str,
    progress: bool = False,
) -> RankerFit:
    """Train on the `validation` groups, stop on the tuning cases, keep the ranker where
    `ndcg_of` (the NDCG@10 of a recommender's list for each tuning case) is clearly higher with
    it than with the linear fusion alone."""
    if not tune_cases or not validation:
        return RankerFit(None, False, {"kept": False, "reason": "needs tuning and validation cases"})
    train = ranking_data(validation, progress=progress)
    stop = ranking_data([(recommender, tune_cases)], progress=progress)
    if not train.groups or not stop.groups:
        return RankerFit(None, False, {"kept": False, "reason": "no hidden item among the candidates"})
    ranker = train_ranker(train, stop, seed=seed, source=source)
    linear_cases, learned_cases = ndcg_of(recommender), ndcg_of(recommender.with_ranker(ranker))
    kept = clearly_better(learned_cases, linear_cases, KEEP_MIN_GAIN_SE)
    linear, learned = float(linear_cases.mean()), float(learned_cases.mean())
    gains = ranker.booster.feature_importance(importance_type="gain")
    by_gain = sorted(zip(FEATURES, gains, strict=True), key=lambda pair: -pair[1])
    report = {
        "kept": kept,
        "reason": (
            f"NDCG@10 on {len(tune_cases)} tuning cases: ranker {learned:.5f}, linear fusion {linear:.5f}"
            f" (kept only for a gain above {KEEP_MIN_GAIN_SE:g} standard error of the paired difference)"
        ),
        "trained_on": f"{len(train.groups)} validation cases with a hidden item among the candidates",
        "stopped_on": f"{len(stop.groups)} tuning cases",
        "candidates": int(sum(train.groups)),
        "rounds": int(ranker.booster.best_iteration or ranker.booster.current_iteration()),
        "tuning_ndcg@10": {"ranker": round(learned, 5), "linear": round(linear, 5)},
        "feature_gain": {name: round(float(gain), 1) for name, gain in by_gain},
    }
    return RankerFit(ranker, kept, report)
