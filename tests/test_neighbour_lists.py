"""kgrec's collaborative neighbour lists, built from a graph projection, stored and refreshed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kgrec.recommender.collaborative import InteractionMatrix, fit_ease
from kgrec.recommender.collaborative import neighbours as neighbours_module
from kgrec.recommender.collaborative import source as source_module
from kgrec.recommender.collaborative.neighbours import NeighbourLists, NeighbourSettings
from kgrec.recommender.collaborative.source import CollaborativeSource
from kgrec.recommender.explain import Explainer
from kgrec.recommender.fusion import FusionWeights
from kgrec.recommender.projection import GraphProjection

ITEMS = ["milk", "bread", "jam", "tea", "new-jam"]


def shop() -> GraphProjection:
    """Three shoppers; `new-jam` is cold (nobody took it) but shares a brand with `jam`."""
    g = GraphProjection()
    for pid, category, brand in (
        ("milk", "dairy", "Farm"),
        ("bread", "bakery", "Oven"),
        ("jam", "spreads", "Berry"),
        ("tea", "drinks", "Leaf"),
        ("new-jam", "spreads", "Berry"),
    ):
        g.add_product(pid, pid.title(), category, brand, 1.0)
    for user, items in (("a", ["milk", "bread"]), ("b", ["milk", "bread", "jam"]), ("c", ["tea"])):
        for item in items:
            g.add_interaction(user, item, "purchase", 1, 1_700_000_000)
    return g


def popularity(g: GraphProjection) -> np.ndarray:
    return np.array([g.popularity.get(p, 0.0) for p in ITEMS], dtype=np.float32)


def test_walks_follow_shoppers_and_knowledge_reaches_a_cold_item() -> None:
    g = shop()
    lists = NeighbourLists.build(g, ITEMS, popularity(g))
    history = np.array([ITEMS.index("milk")])
    walk = lists.scores("walk", history, np.ones(1, dtype=np.float32))
    assert ITEMS[int(np.argmax(walk))] == "bread"
    assert walk[ITEMS.index("tea")] == 0.0 and walk[ITEMS.index("new-jam")] == 0.0
    knowledge = lists.scores("knowledge", np.array([ITEMS.index("jam")]), np.ones(1, dtype=np.float32))
    assert ITEMS[int(np.argmax(knowledge))] == "new-jam"
    ease = lists.scores("ease", history, np.ones(1, dtype=np.float32))
    assert ease[ITEMS.index("bread")] == pytest.approx(1.0)
    assert lists.strongest("walk", [ITEMS.index("tea"), ITEMS.index("milk")], ITEMS.index("bread")) == 0


def test_a_given_ease_fit_is_used_only_for_the_same_items() -> None:
    g = shop()
    settings = NeighbourSettings(ease_l2=5.0)
    fitted = NeighbourLists.build(g, ITEMS, popularity(g), settings).lists["ease"]
    data = InteractionMatrix.from_histories({"z": ["tea", "jam"]}, ITEMS)
    other = fit_ease(data, l2=5.0)
    reused = NeighbourLists.build(g, ITEMS, popularity(g), settings, ease=other).lists["ease"]
    assert not np.allclose(reused.toarray(), fitted.toarray()), "a given fit replaces fitting"
    foreign = fit_ease(InteractionMatrix.from_histories({"z": ["tea", "jam"]}, ITEMS[:4]), l2=5.0)
    refit = NeighbourLists.build(g, ITEMS, popularity(g), settings, ease=foreign).lists["ease"]
    assert np.allclose(refit.toarray(), fitted.toarray()), "another item list is ignored"


def test_lists_round_trip_through_the_artifact_and_refuse_another_catalogue(tmp_path: Path) -> None:
    g = shop()
    built = NeighbourLists.build(g, ITEMS, popularity(g))
    built.save(tmp_path)
    loaded = NeighbourLists.load(tmp_path, ITEMS)
    assert loaded is not None and sorted(loaded.lists) == ["ease", "itemknn", "knowledge", "walk"]
    for name, matrix in built.lists.items():
        assert np.allclose(loaded.lists[name].toarray(), matrix.toarray(), atol=1e-6)
    assert NeighbourLists.load(tmp_path, list(reversed(ITEMS))) is None


def test_live_events_rebuild_the_lists_once_they_are_stale(tmp_path: Path) -> None:
    g = shop()
    source = CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    tea = np.array([ITEMS.index("tea")])
    before = source.scores(tea, np.ones(1, dtype=np.float32), FusionWeights())["walk"]
    assert not before.any()
    g.record_event("c", "jam", "purchase", 1_700_000_100)
    assert not source.record_event(now=1000.0)  # fresh enough: the lists stay as they were
    assert source.record_event(now=1000.0 + source_module.REFRESH_SECONDS)
    source.wait(30)
    after = source.scores(tea, np.ones(1, dtype=np.float32), FusionWeights())["walk"]
    assert ITEMS[int(np.argmax(after))] == "jam"
    assert NeighbourLists.load(tmp_path, ITEMS) is not None


def test_combined_score_mixes_sources_by_the_fusion_weights(tmp_path: Path) -> None:
    g = shop()
    source = CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    jam = np.array([ITEMS.index("jam")])
    only_knowledge = FusionWeights(ease_weight=0.0, itemknn_weight=0.0, knowledge_walk=1.0)
    scores = source.scores(jam, np.ones(1, dtype=np.float32), only_knowledge)
    assert np.allclose(scores["combined"], scores["walk"] + scores["knowledge"])
    ensemble = FusionWeights(walk_weight=1.0, ease_weight=1.0, itemknn_weight=2.0, knowledge_walk=0.0)
    scores = source.scores(jam, np.ones(1, dtype=np.float32), ensemble)
    expected = (scores["walk"] + scores["ease"] + 2 * scores["itemknn"]) / 4
    assert np.allclose(scores["combined"], expected)
    assert scores["combined"].max() == pytest.approx(1.0)  # each model's best is 1, and they agree on it


def test_itemknn_list_is_the_shrunk_cosine_of_the_shoppers_sets() -> None:
    g = shop()
    lists = NeighbourLists.build(g, ITEMS, popularity(g), NeighbourSettings(itemknn_shrink=1.0))
    knn = lists.lists["itemknn"].toarray()
    milk, bread, jam = ITEMS.index("milk"), ITEMS.index("bread"), ITEMS.index("jam")
    # milk and bread share both their shoppers: 2 / (√2·√2 + 1); milk and jam share one: 1 / (√2·1 + 1)
    assert knn[milk, bread] == pytest.approx(2 / 3)
    assert knn[milk, jam] == pytest.approx(1 / (np.sqrt(2) + 1))
    assert knn[jam, ITEMS.index("tea")] == 0.0 and knn[milk, ITEMS.index("new-jam")] == 0.0


def test_lists_of_another_build_version_are_rebuilt(tmp_path: Path) -> None:
    g = shop()
    NeighbourLists.build(g, ITEMS, popularity(g)).save(tmp_path)
    manifest = json.loads((tmp_path / neighbours_module.MANIFEST).read_text(encoding="utf-8"))
    assert NeighbourLists.load(tmp_path, ITEMS) is not None
    del manifest["version"]  # lists built before ItemKNN kept the baseline's own pruning
    (tmp_path / neighbours_module.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert NeighbourLists.load(tmp_path, ITEMS) is None


def test_an_artifact_without_an_itemknn_list_is_rebuilt(tmp_path: Path) -> None:
    g = shop()
    built = NeighbourLists.build(g, ITEMS, popularity(g))
    del built.lists["itemknn"]
    built.save(tmp_path)
    assert NeighbourLists.load(tmp_path, ITEMS) is None
    source = CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    assert "itemknn" in source.lists.lists


def test_itemknn_with_knowledge_reaches_the_cold_brand_mate_and_says_why() -> None:
    g = shop()
    settings = NeighbourSettings(itemknn_shrink=1.0, itemknn_knowledge=1.0)
    knn = NeighbourLists.build(g, ITEMS, popularity(g), settings).lists["itemknn"].toarray()
    jam, new_jam = ITEMS.index("jam"), ITEMS.index("new-jam")
    # jam = (shopper b, spreads, Berry), new-jam = (spreads, Berry): 2 / (√3·√2 + 1)
    assert knn[jam, new_jam] == pytest.approx(2 / (np.sqrt(6) + 1))
    paths = Explainer(g).explain(
        "new-jam", query="", matched=[], history=["jam"], user=None, promoted=None, anchor=("jam", "shoppers")
    )
    assert paths[0].kind == "collaborative"
    assert [n.label for n in paths[0].nodes] == ["Product", "Brand", "Product"]


def test_ials_list_is_built_on_request_and_weighs_in_the_combined_score(tmp_path: Path) -> None:
    g = shop()
    assert "ials" not in NeighbourLists.build(g, ITEMS, popularity(g)).lists  # off by default
    settings = NeighbourSettings(ials_factors=2, ials_l2=1.0, ials_confidence=5.0)
    source = CollaborativeSource(g, ITEMS, popularity(g), tmp_path, settings)
    assert "ials" in source.lists.lists
    milk = np.array([ITEMS.index("milk")])
    scores = source.scores(milk, np.ones(1, dtype=np.float32), FusionWeights())
    ensemble = (scores["walk"] + scores["ease"] + scores["itemknn"]) / 3
    assert np.allclose(scores["combined"], ensemble + 0.15 * scores["knowledge"])  # ials_weight 0
    only_ials = FusionWeights(
        walk_weight=0.0, ease_weight=0.0, itemknn_weight=0.0, ials_weight=1.0, knowledge_walk=0.0
    )
    scores = source.scores(milk, np.ones(1, dtype=np.float32), only_ials)
    assert np.allclose(scores["combined"], scores["ials"])
    assert ITEMS[int(np.argmax(scores["ials"]))] == "bread"
    assert scores["ials"][ITEMS.index("new-jam")] == 0.0


def test_a_source_reopened_without_settings_serves_and_rebuilds_with_the_saved_ones(tmp_path: Path) -> None:
    """What `kgrec serve` does after an evaluation or a tuning saved its lists: the tuned iALS list
    and shopper-kNN settings survive the reopening and the next background rebuild."""
    g = shop()
    tuned = NeighbourSettings(ials_factors=2, ials_l2=1.0, ials_confidence=5.0, shopperknn_shrink=3.0)
    CollaborativeSource(g, ITEMS, popularity(g), tmp_path, tuned)
    reopened = CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    assert reopened.settings == tuned and "ials" in reopened.lists.lists
    assert reopened.shoppers.shrink == 3.0
    g.add_interaction("d", "tea", "purchase", 1, 1_700_000_001)
    reopened.refresh()
    assert "ials" in reopened.lists.lists and reopened.shoppers.shrink == 3.0
    assert "d" in reopened.shoppers.users
    other = CollaborativeSource(g, ITEMS, popularity(g), tmp_path, NeighbourSettings())
    assert "ials" not in other.lists.lists  # settings passed explicitly rebuild lists built otherwise


def test_warming_fits_shopper_knn_before_any_request(tmp_path: Path) -> None:
    g = shop()
    source = CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    assert not source.shoppers_ready
    source.warm_shoppers().join(timeout=60)
    assert source.shoppers_ready and source.shoppers.users == sorted(["a", "b", "c"])


def test_weights_that_leave_ials_and_shopper_knn_out_drop_them_from_the_rebuilds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An evaluation's ascent chose weight 0 for both: neither the saved lists, a reopening, a
    recommender built with the source's settings nor a background rebuild fits them again."""
    g = shop()
    tuned = NeighbourSettings(ials_factors=2, ials_l2=1.0, ials_confidence=5.0)
    source = CollaborativeSource(g, ITEMS, popularity(g), tmp_path, tuned)
    assert source.shoppers.users  # the ascent tried a shopper-kNN weight
    weighed = FusionWeights(ials_weight=0.5, shopperknn_weight=0.5)
    source.keep_weighted(weighed)
    assert "ials" in source.lists.lists and source.shoppers_ready and source.settings == tuned
    source.keep_weighted(FusionWeights())
    assert "ials" not in source.lists.lists and not source.shoppers_ready
    assert source.settings.ials_factors == 0 and source.settings.ials_l2 == 1.0
    reopened = CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    assert reopened.settings == source.settings and "ials" not in reopened.lists.lists
    fits: list[int] = []
    original = neighbours_module.fit_ials
    monkeypatch.setattr(neighbours_module, "fit_ials", lambda *a, **k: fits.append(1) or original(*a, **k))
    g.add_interaction("d", "tea", "purchase", 1, 1_700_000_001)
    source.refresh()
    CollaborativeSource(g, ITEMS, popularity(g), tmp_path / "split", source.settings)
    assert fits == [] and "ials" not in source.lists.lists and not source.shoppers_ready


def test_a_rebuild_that_ran_while_ials_was_dropped_does_not_bring_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A background rebuild still building with the old settings when an evaluation drops iALS
    is discarded: neither the served nor the saved lists regain the iALS list."""
    g = shop()
    tuned = NeighbourSettings(ials_factors=2, ials_l2=1.0, ials_confidence=5.0)
    source = CollaborativeSource(g, ITEMS, popularity(g), tmp_path, tuned)
    original = NeighbourLists.build

    def build_then_drop(*args: object, **kwargs: object) -> NeighbourLists:
        built = original(*args, **kwargs)  # type: ignore[arg-type]
        source.keep_weighted(FusionWeights())  # the evaluation's choice lands mid-rebuild
        return built

    monkeypatch.setattr(neighbours_module.NeighbourLists, "build", staticmethod(build_then_drop))
    g.add_interaction("d", "tea", "purchase", 1, 1_700_000_001)  # the event the rebuild is for
    source.refresh()
    assert "ials" not in source.lists.lists and source.settings.ials_factors == 0
    assert source.lists.interactions == 7  # built again with the new settings, the event in
    reopened = CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    assert "ials" not in reopened.lists.lists and reopened.settings.ials_factors == 0


def test_an_unreadable_lists_file_is_rebuilt_not_a_crash(tmp_path: Path) -> None:
    """A torn or foreign neighbours file (a crash mid-write on an old version, a disk error)
    makes the source rebuild its lists rather than refuse to start."""
    g = shop()
    CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    (tmp_path / neighbours_module.FILE).write_bytes(b"PK\x03\x04 not a zip file")
    assert NeighbourLists.load(tmp_path, ITEMS) is None
    reopened = CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    assert NeighbourLists.load(tmp_path, ITEMS) is not None and "itemknn" in reopened.lists.lists
    assert not list(tmp_path.glob(".*.tmp"))  # the atomic write left nothing behind


def test_a_shopper_knn_dropped_during_a_rebuild_stays_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The settings do not change when only shopper-kNN is dropped: the rebuild in flight must
    still not put back the model it refitted."""
    g = shop()
    source = CollaborativeSource(g, ITEMS, popularity(g), tmp_path)
    assert source.shoppers.users
    original = NeighbourLists.build

    def build_then_drop(*args: object, **kwargs: object) -> NeighbourLists:
        built = original(*args, **kwargs)  # type: ignore[arg-type]
        source.keep_weighted(FusionWeights())
        return built

    monkeypatch.setattr(neighbours_module.NeighbourLists, "build", staticmethod(build_then_drop))
    source.refresh()
    assert not source.shoppers_ready
