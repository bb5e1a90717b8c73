"""The evaluation harness on real public data (kept outside the repo; skipped without it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgrec.embeddings.text_encoder import HashingTextEncoder
from kgrec.evaluation.baselines import GRIDS, HYBRID, TunedBaseline, neighbour_settings
from kgrec.evaluation.harness import WEIGHT_AXES
from kgrec.evaluation.presets.giftcards import prepare_giftcards
from kgrec.evaluation.presets.instacart import prepare_instacart
from kgrec.evaluation.presets.lastfm import prepare_lastfm
from kgrec.evaluation.run import RunOptions, evaluate_interactions, evaluate_preset
from kgrec.evaluation.splits import split_interactions
from kgrec.graph.errors import InputFileError
from kgrec.graph.interaction_parsing import iter_interactions
from kgrec.graph.loaders import load_products
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.neo4j_store import Neo4jGraphStore
from tests.conftest import shared_data

ENCODER = HashingTextEncoder(dim=32)
# Test-size runs: two points of each baseline's grid (each EASE point is a dense inverse) and a
# small link-prediction sample; these tests check the report and the protocol, not the figures.
SMALL_GRIDS = {
    "itemknn": [{"shrink": 10.0, "top_k": 50}, {"shrink": 50.0, "top_k": 200}],
    "ease": [{"l2": 100.0}, {"l2": 500.0}],
    "rp3beta": [{"alpha": 0.5, "beta": 0.2}, {"alpha": 1.0, "beta": 0.6}],
    "shopperknn": [{"shrink": 10.0, "top_k": 100}, {"shrink": 50.0, "top_k": 30}],
    "ials": [
        {"factors": 8, "l2": 10.0, "confidence": 10.0, "top_k": 50},
        {"factors": 16, "l2": 100.0, "confidence": 40.0, "top_k": 100},
    ],
}

# Every fusion weight still moves in the ascent, between its smallest and largest value, once
# over (a full run: every value, twice over; tests/test_harness.py checks the ascent's rules).
SMALL_AXES = {name: (values[0], values[-1]) for name, values in WEIGHT_AXES.items()}


def small_run(*, cases: int, epochs: int) -> RunOptions:
    """Ten tuning and ten validation cases, one validation split for the ranker: each weight the
    ascent tries is measured on both, and the tests read the protocol, not how well the weights
    were chosen (tests/test_ranker.py covers several splits)."""
    return RunOptions(
        cases=cases,
        tune=10,
        epochs=epochs,
        validation=10,
        baseline_grids=SMALL_GRIDS,
        kg_eval_sample=200,
        ranker_splits=1,
        weight_axes=SMALL_AXES,
        ascent_rounds=1,
        knowledge_weights=(1.0,),
        shopperknn_knowledge_weights=(0.2,),
    )


def test_instacart_orders_become_sessions_and_test_orders_stay_out_of_training(tmp_path: Path) -> None:
    data = prepare_instacart(shared_data("instacart_dev"), tmp_path)
    rows = list(iter_interactions(data.interactions))
    assert len(rows) == data.lines
    assert len({r.session_id for r in rows}) == data.orders
    split = split_interactions(rows, "basket", cases=50, seed=3)
    assert len(split.cases) == 50
    assert not {c.case_id for c in split.cases} & {r.session_id for r in split.train}
    for case in split.cases:
        total = len(case.visible) + len(case.hidden)
        assert total >= 4
        assert len(case.hidden) == max(1, round(total / 3))


@pytest.mark.parametrize(("top_k", "neighbours"), [(200, 200), (50, 100)])
def test_kgrec_lists_keep_at_least_the_tuned_itemknn_neighbour_count(top_k: int, neighbours: int) -> None:
    def tuned(name: str, params: dict[str, float]) -> TunedBaseline:
        return TunedBaseline(name, params, lambda case: [])

    settings = neighbour_settings(
        {
            "itemknn": tuned("itemknn", {"shrink": 10.0, "top_k": top_k}),
            "ease": tuned("ease", {"l2": 250.0}),
            "rp3beta": tuned("rp3beta", {"alpha": 1.0, "beta": 0.6}),
            "ials": tuned("ials", {"factors": 64, "l2": 100.0, "confidence": 40.0, "top_k": top_k}),
        }
    )
    assert settings.neighbours == neighbours
    assert (settings.itemknn_shrink, settings.ease_l2) == (10.0, 250.0)
    assert (settings.walk_alpha, settings.walk_beta) == (1.0, 0.6)
    assert (settings.ials_factors, settings.ials_l2, settings.ials_confidence) == (64, 100.0, 40.0)
    assert settings.ials_top_k == top_k  # the lists are the tuned iALS baseline's own


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"missing products\.csv"):
        prepare_instacart(tmp_path, tmp_path / "w")
    with pytest.raises(InputFileError, match=r"missing meta_Gift_Cards\.json\.gz"):
        prepare_giftcards(tmp_path, tmp_path / "w")
    with pytest.raises(InputFileError, match=r"missing kg\.txt"):
        prepare_lastfm(tmp_path, tmp_path / "w")


def test_giftcards_metadata_and_reviews_load_as_they_are(tmp_path: Path) -> None:
    data = prepare_giftcards(shared_data("amazon_giftcards_2018"), tmp_path)
    store = MemoryGraphStore()
    load_products(store, data.products, taxonomy="amazon_giftcards")
    stats = store.stats()
    assert stats.nodes["Product"] == data.products_count
    paths = {c.path for c in store.iter_category_texts()}
    assert "Gift Cards > Gift Cards" in paths
    assert all(len(p.split(" > ")) <= 2 and "<" not in p for p in paths)
    rows = list(iter_interactions(data.interactions))
    assert len(rows) == data.reviews
    assert {r.kind for r in rows} == {"rating"}
    assert all(r.value is not None and 1 <= r.value <= 5 for r in rows)


def test_lastfm_follows_the_kgcn_split(tmp_path: Path) -> None:
    data = prepare_lastfm(shared_data("lastfm_kg"), tmp_path, cases=50, seed=2)
    assert data.items == 3846
    assert len(data.auc_rows) == data.ratings - int(data.ratings * 0.8)
    assert {label for _, _, label in data.auc_rows} == {0, 1}
    train = {(r.user_id, r.item_id) for r in iter_interactions(data.train_interactions)}
    assert not train & {(u, i) for u, i, label in data.auc_rows if label == 1}
    for case in data.cases + data.tune_cases:
        assert not case.hidden & set(case.visible)
        assert case.visible == data.train_history[case.user_id]
    store = MemoryGraphStore()
    load_products(store, data.products)
    assert store.stats().relationships["HAS_ATTRIBUTE"] == data.triples


@pytest.mark.slow
def test_instacart_report_has_every_system_metric_and_plot(tmp_path: Path) -> None:
    options = small_run(cases=20, epochs=1)
    report = evaluate_preset("instacart", shared_data("instacart_dev"), tmp_path / "out", ENCODER, options)
    names = [s["name"] for s in report["systems"]]
    assert names[:12] == [
        "random",
        "popularity",
        "text",
        "kg",
        "itemknn",
        "ease",
        "rp3beta",
        "shopperknn",
        "ials",
        HYBRID,
        "fused",
        "default",
    ]
    assert set(report["baselines_tuned"]) == {*GRIDS, HYBRID}
    hybrid = report["baselines_tuned"].pop(HYBRID)
    assert [row["weight"] for row in hybrid["sweep"]] == [0.0, 1.0]
    assert hybrid["params"]["passing_weight"] in (0.0, hybrid["params"]["best_weight"])
    own = report["baselines_tuned"]["shopperknn"]["kgrec_knowledge"]  # kgrec's, not the baseline's
    assert [row["weight"] for row in own["sweep"]] == [0.0, 0.2] and own["weight"] in (0.0, 0.2)
    assert all("knowledge_weight" not in point for point in GRIDS["shopperknn"])  # a plain baseline
    for name, tuned in report["baselines_tuned"].items():
        assert tuned["params"] in SMALL_GRIDS[name]
        assert [row["params"] for row in tuned["sweep"]] == SMALL_GRIDS[name]
        assert name in report["versus_fused"]
    assert {"xquad@0.8", "mmr@0.2", "dpp@1.0", "calibrated@0.6"} <= set(names)
    for system in report["systems"]:
        for key in ("ndcg@10", "recall@10", "alpha_ndcg@10", "ild@10", "ild_text@10", "coverage@10"):
            low, high = system["ci95"][key]
            assert low <= system["metrics"][key] <= high
    fused = next(s for s in report["systems"] if s["name"] == "fused")["metrics"]
    random = next(s for s in report["systems"] if s["name"] == "random")["metrics"]
    assert fused["ndcg@10"] > random["ndcg@10"]
    assert set(report["defaults"]) >= {"strategy", "diversity", "fusion_weights", "diversity_tuning"}
    served, chosen = report["defaults"]["neighbour_lists"], report["defaults"]["fusion_weights"]
    assert {"walk", "ease", "itemknn", "knowledge"} <= set(served)
    assert ("ials" in served) == (chosen["ials_weight"] > 0)  # iALS is fitted only where it is weighed
    for name, values in SMALL_AXES.items():  # the ascent tried every value of every weight
        assert {row["weights"][name] for row in report["fusion_weight_sweep"]} >= set(values), name
    tuning = report["defaults"]["diversity_tuning"]
    assert tuning["cases"] == 20  # the 10 tuning and 10 validation cases, none of the 20 test cases
    default = next(s for s in report["systems"] if s["name"] == "default")
    assert (default["strategy"], default["diversity"]) == (tuning["strategy"], tuning["diversity"])
    assert report["fusion_weights_tuned_on"].startswith("10 held-out tuning cases")
    tuned_on = report["fusion_weights_tuned_on"]
    assert "and 10 validation cases from the training part (basket completion" in tuned_on
    assert "10 more held out to tune on" in report["protocol"]
    out = tmp_path / "out"
    assert json.loads((out / "report.json").read_text())["name"] == "instacart"
    assert (out / "pareto_alpha_ndcg.png").stat().st_size > 1000
    assert "| fused |" in (out / "report.md").read_text()


@pytest.mark.slow
def test_lastfm_reports_click_through_auc(tmp_path: Path) -> None:
    options = small_run(cases=10, epochs=2)
    report = evaluate_preset("lastfm", shared_data("lastfm_kg"), tmp_path, ENCODER, options)
    auc = report["ctr_auc"]
    assert set(auc) == {"random", "popularity", "kg", "fused"}
    assert abs(auc["random"] - 0.5) < 0.03
    assert auc["fused"] > auc["random"] + 0.1
    assert "Click-through AUC" in (tmp_path / "report.md").read_text()
    assert report["fusion_weights_tuned_on"].startswith("10 held-out tuning cases")
    assert "and 10 validation cases from the training part (random:" in report["fusion_weights_tuned_on"]


@pytest.mark.slow
@pytest.mark.neo4j
def test_any_loaded_catalogue_evaluates_against_an_interactions_file(
    neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    data = prepare_giftcards(shared_data("amazon_giftcards_2018"), tmp_path / "data")
    load_products(neo4j_store, data.products, taxonomy="amazon_giftcards")
    before = neo4j_store.stats().as_dict()
    report = evaluate_interactions(
        neo4j_store,
        data.interactions,
        tmp_path / "out",
        ENCODER,
        split="leave-last",
        options=small_run(cases=20, epochs=1),
    )
    assert report["cases"] == 20
    assert "leave-last" in report["protocol"]
    assert report["region_kind"] == "community"
    popularity = next(s for s in report["systems"] if s["name"] == "popularity")["metrics"]
    random = next(s for s in report["systems"] if s["name"] == "random")["metrics"]
    assert popularity["hit@10"] > random["hit@10"]
    ease = next(s for s in report["systems"] if s["name"] == "ease")["metrics"]
    assert ease["hit@10"] > random["hit@10"]
    assert neo4j_store.stats().as_dict() == before


@pytest.mark.neo4j
def test_interactions_for_unknown_products_are_refused_with_their_line(
    neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    data = prepare_giftcards(shared_data("amazon_giftcards_2018"), tmp_path / "data")
    load_products(neo4j_store, data.products, taxonomy="amazon_giftcards")
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,item_id,kind,timestamp\nu1,B004LLIKVU,view,1\nu1,NOPE,view,2\n")
    with pytest.raises(InputFileError, match=r"bad\.csv:3.*NOPE"):
        evaluate_interactions(neo4j_store, bad, tmp_path / "out", ENCODER)
