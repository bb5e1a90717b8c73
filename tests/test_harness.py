"""The evaluation harness on the synthetic catalogue (no training): it scores, and it leaves the
recommender it is given as it was."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kgrec.evaluation.baselines import neighbour_settings
from kgrec.evaluation.harness import (
    DIVERSITY_GRID,
    Evaluator,
    choose_default,
    ndcg_share,
    pick_diversity,
    single_source_starts,
    weight_grid,
)
from kgrec.evaluation.run import RunOptions, preset_folder, tuned_recommender
from kgrec.evaluation.splits import EvalCase
from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.collaborative.neighbours import SOURCES, NeighbourSettings
from kgrec.recommender.fusion import FusionWeights
from tests.synthetic import ENCODER, build

CASES = [
    EvalCase("a", "a", ["10-0"], {"10-1"}),
    EvalCase("b", "b", ["20-0", "20-1"], {"20-2"}),
    EvalCase("c", "c", ["30-0"], {"40-0"}),
]


def test_the_weight_sweep_picks_the_best_setting_without_touching_the_recommender(tmp_path: Path) -> None:
    rec = build(tmp_path)
    before = rec.weights
    grid = [FusionWeights(history=0.0, collaborative=0.0, popularity_without_query=1.0), FusionWeights()]
    sweep = Evaluator(rec, CASES).sweep_weights(grid)
    assert rec.weights is before
    assert [row["weights"]["history"] for row in sweep.rows] == [0.0, FusionWeights().history]
    best = max(sweep.rows, key=lambda row: row["ndcg@10"])
    assert sweep.best.history == best["weights"]["history"]
    assert sweep.rows[1]["ndcg@10"] > sweep.rows[0]["ndcg@10"]


def test_weight_ascent_keeps_each_axis_best_value_without_touching_the_recommender(tmp_path: Path) -> None:
    rec = build(tmp_path)
    before = rec.weights
    start = replace(before, history=0.0, collaborative=0.0, popularity_without_query=1.0)
    sweep = Evaluator(rec.with_weights(start), CASES).ascend_weights(
        {"collaborative": (0.0, 1.0), "history": (0.0, 0.8)}, rounds=1
    )
    assert rec.weights is before
    scores = {(r["weights"]["collaborative"], r["weights"]["history"]): r["ndcg@10"] for r in sweep.rows}
    assert scores[(1.0, 0.0)] > scores[(0.0, 0.0)]
    assert sweep.best.collaborative == 1.0
    assert max(scores.values()) == scores[(sweep.best.collaborative, sweep.best.history)]


def test_the_one_standard_error_rule_keeps_a_weight_unless_the_gain_is_clear(tmp_path: Path) -> None:
    rec = build(tmp_path)
    start = replace(rec.weights, history=0.0, collaborative=0.0, popularity_without_query=1.0)
    evaluator = Evaluator(rec.with_weights(start), CASES)
    axes = {"collaborative": (0.0, 1.0)}
    groups = [(evaluator.rec, CASES)]
    per_case = {w: evaluator._tuning_ndcg(replace(start, collaborative=w), groups) for w in (0.0, 1.0)}
    diff = per_case[1.0] - per_case[0.0]
    assert diff.mean() > 0
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    # A gain within the margin leaves the weight where it was; a smaller margin lets it move.
    margin = float(diff.mean() / se)
    assert evaluator.ascend_weights(axes, rounds=1, min_gain_se=margin + 0.01).best == start
    assert evaluator.ascend_weights(axes, rounds=1, min_gain_se=0.5 * margin).best.collaborative == 1.0


def test_the_ascent_tunes_on_tuning_and_validation_cases_from_the_best_start(tmp_path: Path) -> None:
    """The test cases (the evaluator's own) are never scored; each validation group runs on its
    own recommender; the ascent starts from the best of the given starts."""
    rec = build(tmp_path)
    weak = replace(rec.weights, history=0.0, collaborative=0.0, popularity_without_query=1.0)
    test_cases = [EvalCase("t", "t", ["10-0"], {"99-9"})]
    evaluator = Evaluator(rec.with_weights(weak), test_cases)
    groups = [(rec.with_weights(weak), CASES[1:])]
    sweep = evaluator.ascend_weights(
        {"history": (0.0,)}, cases=CASES[:1], validation=groups, starts=[rec.weights]
    )
    per_case = evaluator._tuning_ndcg(rec.weights, [(rec, CASES[:1]), *groups])
    assert per_case.size == len(CASES)
    assert sweep.rows[1]["ndcg@10"] == round(float(per_case.mean()), 5)
    assert sweep.rows[1]["ndcg@10"] > sweep.rows[0]["ndcg@10"]
    assert sweep.best.collaborative == rec.weights.collaborative


def test_the_kg_history_weight_is_judged_on_the_tuning_cases_alone(tmp_path: Path) -> None:
    """The KG saw the validation cases' hidden events, so they must not move the weight of the
    component that reads KG vectors: case b favours history 0.8, case a is indifferent."""
    rec = build(tmp_path)
    weak = replace(rec.weights, history=0.0, collaborative=0.0, popularity_without_query=1.0)
    evaluator = Evaluator(rec.with_weights(weak), [EvalCase("t", "t", ["10-0"], {"99-9"})])
    axes = {"history": (0.0, 0.8)}
    assert evaluator.ascend_weights(axes, cases=CASES[1:2]).best.history == 0.8
    validation = [(rec.with_weights(weak), CASES[1:2])]
    assert evaluator.ascend_weights(axes, cases=CASES[:1], validation=validation).best.history == 0.0


def test_single_source_starts_keep_one_item_item_model_each() -> None:
    starts = single_source_starts(FusionWeights())
    shares = [
        (w.walk_weight, w.ease_weight, w.itemknn_weight, w.shopperknn_weight, w.ials_weight)
        for w in starts[:5]
    ]
    assert shares == [tuple(float(i == j) for j in range(5)) for i in range(5)]
    assert all(w.knowledge_walk == w.history == w.popularity_without_query == 0 for w in starts[:5])
    assert (starts[5].collaborative, starts[5].popularity_without_query) == (0.0, 1.0)


def test_every_system_is_scored_on_every_case(tmp_path: Path) -> None:
    results = Evaluator(build(tmp_path), CASES).run()
    assert {r.name for r in results} >= {"random", "popularity", "fused", "default", "xquad@0.6"}
    assert all(len(r.per_case["ndcg@10"]) == len(CASES) for r in results)
    fused = next(r for r in results if r.name == "fused")
    assert fused.per_case["hit@10"][:2] == [1.0, 1.0]
    assert len(weight_grid()) == 12


def test_a_preset_folder_comes_from_the_argument_or_the_setting(tmp_path: Path) -> None:
    assert preset_folder("giftcards", tmp_path, None) == tmp_path
    assert preset_folder("giftcards", None, tmp_path) == tmp_path / "amazon_giftcards_2018"
    with pytest.raises(InvalidArgumentError, match="KGREC_SHARED_DATA"):
        preset_folder("giftcards", None, None)
    with pytest.raises(InvalidArgumentError, match="unknown preset 'movielens'"):
        preset_folder("movielens", None, tmp_path)


def _summary(name: str, strategy: str, ndcg: float, coverage: float, bubble: float) -> dict[str, Any]:
    metrics = {"ndcg@10": ndcg, "alpha_ndcg@10": ndcg, "coverage@10": coverage, "filter_bubble@10": bubble}
    return {"name": name, "strategy": strategy, "diversity": 0.6, "metrics": metrics}


def test_the_suggested_default_never_deepens_the_filter_bubble() -> None:
    fused = _summary("fused", "none", 0.100, 5.0, 0.50)
    # Widest coverage within 5 % of fused, but its list sits deeper in the shopper's own regions.
    deeper = _summary("calibrated@0.6", "calibrated", 0.097, 6.5, 0.66)
    wider = _summary("xquad@0.6", "xquad", 0.096, 5.9, 0.45)
    too_costly = _summary("mmr@1.0", "mmr", 0.090, 7.0, 0.30)
    chosen = choose_default([fused, deeper, wider, too_costly])
    assert chosen["system"] == "xquad@0.6"
    # Equal share is allowed; with no setting left the rule keeps the relevance order.
    assert choose_default([fused, _summary("dpp@0.2", "dpp", 0.099, 5.2, 0.50)])["system"] == "dpp@0.2"
    assert choose_default([fused, deeper, too_costly])["strategy"] == "none"


def test_ndcg_share_by_hand() -> None:
    # Fused finds 1 + .5; the setting keeps .5 + .5: two thirds, and a bound no higher.
    share, low = ndcg_share([0.5, 0.0, 0.5], [1.0, 0.0, 0.5])
    assert share == pytest.approx(2 / 3) and low <= share
    # The same lists leave no doubt; a fused list with no hits leaves nothing to lose.
    assert ndcg_share([0.3, 0.0, 0.2], [0.3, 0.0, 0.2]) == (1.0, 1.0)
    assert ndcg_share([0.2, 0.1], [0.0, 0.0]) == (1.0, 1.0)


def test_the_share_predicted_for_a_fresh_sample_is_less_sure_than_the_pooled_one() -> None:
    # SYNTHETIC: 100 cases, fused's hit (.5) in every fifth; the setting loses it in 2 of those 20.
    fused = np.where(np.arange(100) % 5 == 0, 0.5, 0.0)
    ours = fused.copy()
    ours[[0, 5]] = 0.0
    share, low = ndcg_share(ours, fused)
    _, predicted = ndcg_share(ours, fused, serve=50)
    _, predicted_more = ndcg_share(ours, fused, serve=5000)
    assert share == pytest.approx(0.9)
    # A sample of 50 cases varies more than the 100 pooled ones; a huge one hardly adds to it.
    assert predicted < low < share and predicted < predicted_more <= share
    assert low - predicted_more < predicted_more - predicted
    # A fresh sample never makes the share surer than the pooled cases do; serve 0 is that bound.
    assert predicted < ndcg_share(ours, fused, serve=300)[1] <= low
    assert predicted_more <= low and ndcg_share(ours, fused, serve=0) == (share, low)
    # A loss spread evenly over every hit leaves no doubt either way: every draw keeps 90 %.
    assert ndcg_share(fused * 0.9, fused, serve=50) == (pytest.approx(0.9), pytest.approx(0.9))


# SYNTHETIC per-case NDCG@10 of 100 cases (the first 40 "tuning", the rest "validation"): fused
# has 20 hits worth .5 each, one in every fifth case.
FUSED_NDCG = np.where(np.arange(100) % 5 == 0, 0.5, 0.0)


def _row(
    strategy: str, diversity: float, ndcg: np.ndarray, coverage: float, bubbles: tuple[float, float]
) -> dict[str, Any]:
    """A setting as `choose_diversity` measures it: group means, pooled means, the share's bound."""
    groups = [
        {
            "name": name,
            "cases": len(part),
            "ndcg@10": float(part.mean()),
            "coverage@10": coverage,
            "filter_bubble@10": bubble,
        }
        for name, part, bubble in (("tuning", ndcg[:40], bubbles[0]), ("validation", ndcg[40:], bubbles[1]))
    ]
    share, low = ndcg_share(ndcg, FUSED_NDCG)
    pooled = {
        "ndcg@10": float(ndcg.mean()),
        "coverage@10": coverage,
        "filter_bubble@10": float(np.mean(bubbles)),
    }
    return {
        "strategy": strategy,
        "diversity": diversity,
        **pooled,
        "groups": groups,
        "ndcg_share": share,
        "ndcg_share_low": low,
    }


def test_the_default_diversity_keeps_its_share_of_fused_ndcg_at_the_lower_bound() -> None:
    fused = _row("none", 0.0, FUSED_NDCG, 5.0, (0.5, 0.4))
    # 97 % of fused's NDCG either way: 3 % off every hit, or one hit's worth lost in a single case.
    evenly = _row("swap", 0.1, FUSED_NDCG * 0.97, 5.6, (0.45, 0.35))
    one_case = FUSED_NDCG.copy()
    one_case[0] = 0.2
    concentrated = _row("xquad", 0.3, one_case, 6.2, (0.45, 0.35))
    # Every hit kept, but the tuning shoppers' bubble deepens.
    deeper = _row("swap", 0.2, FUSED_NDCG, 7.0, (0.55, 0.30))
    rows = [evenly, concentrated, deeper]
    assert evenly["ndcg_share"] == pytest.approx(concentrated["ndcg_share"]) == pytest.approx(0.97)
    assert evenly["ndcg_share_low"] == pytest.approx(0.97) and concentrated["ndcg_share_low"] < 0.95
    chosen = pick_diversity(fused, rows, keep=0.95, cases=100)
    assert (chosen.strategy, chosen.diversity) == ("swap", 0.1)
    assert "share 97.0%, bound 97.0%" in chosen.reason and chosen.as_dict()["settings"] == rows
    # A looser floor lets the concentrated loss through; none kept falls back to the relevance order.
    assert pick_diversity(fused, rows, keep=concentrated["ndcg_share_low"], cases=100).diversity == 0.3
    nothing = pick_diversity(fused, [concentrated, deeper], keep=0.95, cases=100)
    assert (nothing.strategy, nothing.diversity) == ("none", 0.0)


def test_each_group_weighs_the_same_in_the_coverage_that_ranks_the_eligible_settings() -> None:
    fused = _row("none", 0.0, FUSED_NDCG, 5.0, (0.5, 0.4))
    small_wide = _row("xquad", 0.2, FUSED_NDCG, 6.0, (0.45, 0.35))
    many_wide = _row("xquad", 0.4, FUSED_NDCG, 6.0, (0.45, 0.35))
    small_wide["groups"][0]["coverage@10"], many_wide["groups"][1]["coverage@10"] = 7.0, 6.6
    assert pick_diversity(fused, [small_wide, many_wide], keep=0.95, cases=100).diversity == 0.2


class UnreadCase:
    """A test case that fails the test when anything reads it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a test case was read ({name}) while choosing the default diversity")


def test_the_default_diversity_is_chosen_on_tuning_and_validation_cases_only(tmp_path: Path) -> None:
    rec = build(tmp_path)
    evaluator = Evaluator(rec, [UnreadCase()])  # type: ignore[list-item]
    validation = [(rec, CASES[1:])]
    choice = evaluator.choose_diversity(cases=CASES[:1], validation=validation, keep=0.95)
    assert choice.cases == len(CASES)
    assert [(r["strategy"], r["diversity"]) for r in choice.settings] == list(DIVERSITY_GRID)
    fused = evaluator._on_groups("none", 0.0, [(rec, CASES[:1]), *validation])
    assert choice.fused["ndcg@10"] == round(float(np.mean(fused.per_case["ndcg@10"])), 5)
    setting = (choice.strategy, choice.diversity)
    chosen = next(r for r in choice.settings if (r["strategy"], r["diversity"]) == setting)
    assert [(g["name"], g["cases"]) for g in chosen["groups"]] == [
        ("tuning", 1),
        ("validation", len(CASES) - 1),
    ]
    assert chosen["ndcg_share_low"] >= 0.95
    for group, base in zip(chosen["groups"], choice.fused["groups"], strict=True):
        assert group["filter_bubble@10"] <= base["filter_bubble@10"]


def test_an_evaluation_builds_its_neighbour_lists_once_with_the_tuned_settings(tmp_path: Path) -> None:
    """The same lists as building at load with the defaults and rebuilding with the tuned ones."""
    loaded = build(tmp_path)
    grids = {
        "itemknn": [{"shrink": 0.0, "top_k": 50}],
        "ease": [{"l2": 25.0}],
        "rp3beta": [{"alpha": 1.0, "beta": 0.0}],
        "ials": [{"factors": 2, "l2": 1.0, "confidence": 5.0, "top_k": 50}],
    }
    options = RunOptions(baseline_grids=grids)
    tuned, baselines = tuned_recommender(loaded.store, tmp_path / "home", ENCODER, CASES, options)
    settings = neighbour_settings(baselines)
    assert settings != NeighbourSettings()
    assert tuned.collaborative.settings == tuned.collaborative.lists.settings == settings
    loaded.collaborative.use_settings(settings, ease=baselines["ease"].model)
    assert set(tuned.collaborative.lists.lists) == set(loaded.collaborative.lists.lists) == set(SOURCES)
    for source, matrix in loaded.collaborative.lists.lists.items():
        assert np.allclose(tuned.collaborative.lists.lists[source].toarray(), matrix.toarray(), atol=1e-6)
    assert tuned.catalog.popularity.tolist() == loaded.catalog.popularity.tolist()


@pytest.mark.parametrize(
    ("grids", "message"),
    [({"svd": [{"k": 8.0}]}, "unknown baseline 'svd'"), ({"ease": []}, "ease: give at least one")],
)
def test_baseline_grids_name_known_baselines_with_points(grids: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        RunOptions(baseline_grids=grids).check()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (RunOptions(weight_axes={"colour": (1.0,)}), "unknown weight 'colour'"),
        (RunOptions(weight_axes={"history": ()}), "history: give at least one value"),
        (RunOptions(ascent_rounds=0), "ascent-rounds: must be at least 1"),
    ],
)
def test_weight_ascent_options_are_checked(options: RunOptions, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        options.check()
