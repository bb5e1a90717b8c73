"""Each stage of the recommendation pipeline on its own, on a small synthetic catalogue (no
PyKEEN, no Neo4j): tests/synthetic.py builds it with known neighbours."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender import candidates as candidates_module
from kgrec.recommender.candidates import (
    CANDIDATE_SOURCES,
    Candidates,
    gather_candidates,
    get_candidate_source,
    popular_across_regions,
)
from kgrec.recommender.diversity import diversify, protected_head, region_target
from kgrec.recommender.filters import allowed_rows, excluded_items
from kgrec.recommender.fusion import FusionWeights, fused_relevance
from kgrec.recommender.history import History, build_history
from kgrec.recommender.query import query_vectors
from kgrec.recommender.request import Filters, RecommendationRequest
from kgrec.recommender.service import Recommender
from kgrec.recommender.signals import Signals
from tests.synthetic import KEY, build


@pytest.fixture(scope="module")
def rec(tmp_path_factory: pytest.TempPathFactory) -> Recommender:
    return build(tmp_path_factory.mktemp("synthetic"))


def history_of(rec: Recommender, items: list[str], user: str | None = None) -> Signals:
    history = build_history(
        rec.projection, rec.catalog.row, user_id=user, history=items, pseudonym_key=KEY, half_life_days=30
    )
    return Signals(rec.catalog, rec.store, None, history)


@pytest.mark.parametrize(
    ("k", "diversity", "head"),
    [(10, 0.0, 0), (10, 0.2, 4), (10, 0.6, 2), (10, 0.8, 1), (10, 1.0, 0), (3, 0.2, 1)],
)
def test_protected_head_keeps_more_of_the_top_the_lower_the_diversity(
    k: int, diversity: float, head: int
) -> None:
    assert protected_head(k, diversity) == head


def test_a_request_plan_fills_in_the_shops_defaults_and_validation_names_the_field() -> None:
    plan = RecommendationRequest(k=5).plan("mmr", 0.3)
    assert (plan.k, plan.strategy, plan.diversity) == (5, "mmr", 0.3)
    assert RecommendationRequest(strategy="dpp", diversity=0.0).plan("mmr", 0.3).strategy == "dpp"
    for bad, field in (
        (RecommendationRequest(k=0), "k"),
        (RecommendationRequest(diversity=1.5), "diversity"),
        (RecommendationRequest(strategy="best"), "strategy"),
        (RecommendationRequest(region_kind="colour"), "region_kind"),
        (RecommendationRequest(filters=Filters(price_min=5, price_max=1)), "filters.price_min"),
    ):
        with pytest.raises(InvalidArgumentError) as caught:
            bad.plan("xquad", 0.6)
        assert caught.value.field == field


def test_history_weighs_the_newest_request_item_most_and_lists_unknown_ids(rec: Recommender) -> None:
    history = history_of(rec, ["20-1", "nope", "30-2"]).history
    assert history.items == ["30-2", "20-1"]
    assert history.weights[0] == 1.0 and history.weights[1] == pytest.approx(0.5 ** (2 / 5))
    assert history.ignored == ["nope"]
    assert history.user is None


@pytest.mark.parametrize("user", [None, "bob"])
def test_without_history_weighting_every_item_weighs_the_same_in_the_weighted_order(
    rec: Recommender, user: str | None
) -> None:
    def history(weighting: float) -> History:
        items = ["20-1", "30-2", "20-1", "40-0"]
        return build_history(
            rec.projection,
            rec.catalog.row,
            user_id=user,
            history=items,
            pseudonym_key=KEY,
            half_life_days=30,
            weighting=weighting,
        )

    weighted, even, half = history(1.0), history(0.0), history(0.5)
    assert len(set(weighted.weights.tolist())) > 1
    assert even.items == weighted.items and even.weights.tolist() == [1.0] * len(even.items)
    assert np.allclose(half.weights, 0.5 + 0.5 * weighted.weights)


def test_a_known_shoppers_events_join_the_history_and_purchases_are_excluded(rec: Recommender) -> None:
    history = history_of(rec, [], user="bob").history
    assert set(history.items) == {"10-0", "10-1", "20-0"}
    assert history.purchased == {"10-0", "10-1", "20-0"}
    assert excluded_items(history, Filters()) == {"10-0", "10-1", "20-0"}
    assert history_of(rec, [], user="carol").history.notes == ["unknown user: treated as anonymous"]


def test_filters_mask_rows_by_subtree_brand_and_price(rec: Recommender) -> None:
    c = rec.catalog
    assert allowed_rows(Filters(), c) is None
    toys = allowed_rows(Filters(category="shop:1"), c)
    assert toys is not None and {c.pids[i][:2] for i in np.flatnonzero(toys)} == {"10", "20", "30"}
    cheap_brio = allowed_rows(Filters(brand="Brio", price_max=20), c)
    assert cheap_brio is not None
    for i in np.flatnonzero(cheap_brio):
        assert rec.projection.name("Brand", rec.projection.product_brand[c.pids[i]]) == "Brio"
        assert c.price[i] <= 20


def test_sources_without_their_input_propose_nothing_and_names_resolve(rec: Recommender) -> None:
    empty = history_of(rec, [])
    assert all(source(empty) == {} for source in CANDIDATE_SOURCES.values())
    assert get_candidate_source("text") is CANDIDATE_SOURCES["text"]
    with pytest.raises(InvalidArgumentError, match="unknown candidate source 'magic'"):
        get_candidate_source("magic")


def test_the_neighbourhood_source_proposes_the_history_items_category_and_brand(rec: Recommender) -> None:
    proposed = {rec.catalog.pids[i] for i in CANDIDATE_SOURCES["neighbourhood"](history_of(rec, ["30-0"]))}
    brand = rec.projection.product_brand["30-0"]
    assert {f"30-{i}" for i in range(6)} <= proposed
    assert all(p.startswith("30-") or rec.projection.product_brand[p] == brand for p in proposed)


def test_the_most_popular_rows_follow_a_live_event(rec: Recommender) -> None:
    """The sorted rows are kept between requests, yet an event that makes a product the most
    popular puts it first on the next call."""
    catalog = rec.catalog
    before = catalog.most_popular(3).tolist()
    assert before == np.argsort(-catalog.popularity, kind="stable")[:3].tolist()
    pid = next(p for p in catalog.pids if catalog.row[p] not in before)
    saved = rec.projection.popularity[pid], catalog.popularity.copy(), catalog._raw_popularity.copy()
    try:
        rec.projection.popularity[pid] = float(catalog._raw_popularity.max()) + 10.0
        catalog.update_popularity(pid)
        assert catalog.most_popular(3).tolist() == [catalog.row[pid], *before[:2]]
    finally:
        rec.projection.popularity[pid], catalog.popularity, catalog._raw_popularity = saved
        catalog.update_popularity(pid)
    assert catalog.most_popular(3).tolist() == before


def test_the_popular_source_fills_history_requests_only(
    rec: Recommender, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A history whose neighbour lists run out still gets the baselines' fill: the most popular."""
    monkeypatch.setattr(candidates_module, "POPULAR_ITEMS", 5)
    popularity = rec.catalog.popularity
    proposed = CANDIDATE_SOURCES["popular"](history_of(rec, ["10-0"]))
    assert len(proposed) == min(5, int((popularity > 0).sum())) > 0
    left_out = np.delete(popularity, list(proposed))
    assert min(popularity[list(proposed)]) >= left_out.max()
    assert all(score == pytest.approx(float(popularity[row])) for row, score in proposed.items())
    query = query_vectors("trains", rec.queries, rec.catalog.artifact.alignment)
    with_query = Signals(rec.catalog, rec.store, query, history_of(rec, ["10-0"]).history)
    assert CANDIDATE_SOURCES["popular"](with_query) == {}


def test_cooccurrence_finds_what_the_other_shopper_also_bought(rec: Recommender) -> None:
    scores = CANDIDATE_SOURCES["cooccurrence"](history_of(rec, ["10-0"]))
    by_id = {rec.catalog.pids[i]: s for i, s in scores.items()}
    assert by_id["10-1"] == 1.0
    assert 0 < by_id["20-0"] < 1.0


def test_the_collaborative_source_follows_shoppers_and_query_only_lists_ignore_it(rec: Recommender) -> None:
    signals = rec._signals(None, history_of(rec, ["10-0"]).history)
    proposed = {rec.catalog.pids[i]: s for i, s in CANDIDATE_SOURCES["collaborative"](signals).items()}
    assert proposed["10-1"] > 0 and max(proposed.values()) == 1.0
    assert "10-0" not in proposed or proposed["10-0"] < 1.0
    lists = [
        rec.with_weights(replace(rec.weights, collaborative=w))
        .recommend(RecommendationRequest(query="trains", diversity=0.6))
        .ids
        for w in (0.0, 16.0)
    ]
    assert lists[0] == lists[1]


def test_a_filter_falls_back_to_scoring_the_allowed_rows(rec: Recommender) -> None:
    c = rec.catalog
    query = query_vectors("trains", rec.queries, c.artifact.alignment)
    signals = Signals(c, rec.store, query, history_of(rec, []).history)
    garden = allowed_rows(Filters(category="shop:2"), c)
    found = gather_candidates(signals, garden, c.regions["taxonomy"])
    assert garden is not None
    assert {c.pids[i] for i in found.rows if garden[i]} == {f"40-{i}" for i in range(6)}


def test_popular_across_regions_takes_each_regions_best_in_turn(rec: Recommender) -> None:
    c = rec.catalog
    order = popular_across_regions(c, np.arange(len(c.pids)), c.regions["taxonomy"], 8)
    regions = [c.regions["taxonomy"].ids[i] for i in order.tolist()]
    assert c.pids[order[0]] in {"10-0", "10-1"}
    assert len(set(regions[:4])) == 4


def test_scoring_mixes_lexical_evidence_and_co_occurrence_as_the_weights_say(rec: Recommender) -> None:
    c = rec.catalog
    query = query_vectors("garden", rec.queries, c.artifact.alignment)
    signals = Signals(c, rec.store, query, history_of(rec, []).history)
    rows = np.array([c.row["40-0"], c.row["40-1"]], dtype=np.int64)
    lexical = Candidates(set(), {"lexical": {int(rows[0]): 1.0}})
    with_lex = fused_relevance(signals, rows, lexical, FusionWeights(lexical_share=0.9))
    without = fused_relevance(signals, rows, Candidates(set(), {}), FusionWeights(lexical_share=0.9))
    assert with_lex.components.text[0] > without.components.text[0]
    assert with_lex.components.text[1] == pytest.approx(without.components.text[1])
    assert not with_lex.components.history.any()
    hist = history_of(rec, ["10-0"])
    co = Candidates(set(), {"cooccurrence": {c.row["20-0"]: 1.0}})
    pair = np.array([c.row["20-0"], c.row["20-1"]], dtype=np.int64)
    only_co = fused_relevance(hist, pair, co, FusionWeights(cooccurrence_share=1.0))
    assert only_co.components.history.tolist() == [1.0, 0.0]


def test_diversify_keeps_the_head_and_reranks_the_tail(rec: Recommender) -> None:
    c = rec.catalog
    rows = np.arange(len(c.pids), dtype=np.int64)
    relevance = np.linspace(1.0, 0.0, rows.size).astype(np.float32)
    history = history_of(rec, []).history
    plain = diversify(
        relevance,
        rows,
        c.kg,
        c.regions["taxonomy"],
        history,
        RecommendationRequest(diversity=0.0).plan("xquad", 0),
    )
    assert plain.chosen.tolist() == list(range(10))
    plan = RecommendationRequest(diversity=0.6).plan("xquad", 0)
    wide = diversify(relevance, rows, c.kg, c.regions["taxonomy"], history, plan)
    assert wide.chosen[:2].tolist() == [0, 1]
    regions = c.regions["taxonomy"].ids
    assert len({regions[i] for i in wide.chosen.tolist()}) > len({regions[i] for i in plain.chosen.tolist()})
    assert [wide.relevance_rank(int(i)) for i in wide.chosen[2:5]] == [3, 7, 13]


def test_the_tail_widens_beyond_the_regions_the_head_shows(rec: Recommender) -> None:
    c = rec.catalog
    rows = np.arange(len(c.pids), dtype=np.int64)
    relevance = np.linspace(1.0, 0.0, rows.size).astype(np.float32)
    history = history_of(rec, [c.pids[-1]]).history
    codes = c.regions["taxonomy"].codes
    plan = RecommendationRequest(diversity=0.6).plan("xquad", 0)
    head = protected_head(plan.k, plan.diversity)
    picks = diversify(relevance, rows, c.kg, c.regions["taxonomy"], history, plan)
    shown = {int(codes[i]) for i in picks.chosen[:head].tolist()}
    # The most relevant tail item shares the head's region: xQuAD's selected set starts with the
    # head, so the first re-ranked pick must come from a region the head does not show.
    assert int(codes[head]) in shown
    assert int(codes[picks.chosen[head]]) not in shown
    assert picks.chosen[:head].tolist() == list(range(head))
    # Served with explanations, every promoted item names a region no item above it shows.
    result = rec.recommend(RecommendationRequest(history=[c.pids[-1]], diversity=0.6, strategy="xquad"))
    promoted = [i for i, item in enumerate(result.items) if item.promoted_from_rank is not None]
    assert promoted
    for i in promoted:
        item = result.items[i]
        assert item.region.id not in {above.region.id for above in result.items[:i]}
        assert item.explanations[0].kind == "diversity" and item.region.name in item.explanations[0].text


def test_swap_gives_up_low_places_for_unshown_regions_and_keeps_the_relevance_order(rec: Recommender) -> None:
    c = rec.catalog
    rows = np.arange(len(c.pids), dtype=np.int64)
    # 24 products in relevance order, regions 0 0 0 0 0 0 1 1 1 1 1 1 2 ... 3: scaled relevance 1 - i/23.
    relevance = np.linspace(1.0, 0.0, rows.size).astype(np.float32)
    codes = c.regions["taxonomy"].codes
    assert codes.tolist() == [r for r in range(4) for _ in range(6)]
    history = history_of(rec, [c.pids[-1]]).history
    assert protected_head(10, 0.3, "swap") == 0

    def picked(diversity: float) -> list[int]:
        plan = RecommendationRequest(diversity=diversity).plan("swap", 0)
        return diversify(relevance, rows, c.kg, c.regions["taxonomy"], history, plan).chosen.tolist()

    assert picked(0.0) == list(range(10))
    # d=.2: item 9 (region 1, shown four times; .609) for item 12 (region 2; .478) costs .13; item
    # 8 for item 18 (region 3; .217) would cost .43 more: stop. At d=.5 the two together (.56) are
    # too dear; at d=1 both swaps, then no region is left.
    assert picked(0.2) == [*range(9), 12]
    assert picked(0.5) == [*range(9), 12]
    assert picked(1.0) == [*range(8), 12, 18]


def test_swap_reads_the_shoppers_regions_from_the_history(rec: Recommender) -> None:
    c = rec.catalog
    rows = np.arange(len(c.pids), dtype=np.int64)
    relevance = np.linspace(1.0, 0.0, rows.size).astype(np.float32)
    codes = c.regions["taxonomy"].codes
    # The history is in region 1, which the top 10 shows four times (items 6-9); region 0 six times.
    history = history_of(rec, [c.pids[6]]).history
    assert int(codes[history.rows[0]]) == 1

    def picked(diversity: float) -> list[int]:
        plan = RecommendationRequest(diversity=diversity).plan("swap", 0)
        return diversify(relevance, rows, c.kg, c.regions["taxonomy"], history, plan).chosen.tolist()

    # Region 0's least relevant item (5; .783) goes first, for item 12 (region 2; .478): .304, too
    # dear at d=.2, where a shopper of region 3 swapped item 9 for .130 (the test above).
    assert picked(0.2) == list(range(10))
    # Item 4 (.826) for item 18 (region 3; .217) would cost .609 more: d=.5 buys one swap, 1.0 both.
    assert picked(0.5) == [*range(5), *range(6, 10), 12]
    assert picked(1.0) == [*range(4), *range(6, 10), 12, 18]


def test_region_target_weighs_a_region_by_the_square_root_of_its_relevance(rec: Recommender) -> None:
    c = rec.catalog
    codes = c.regions["taxonomy"].codes
    history = history_of(rec, ["30-0"]).history
    own = int(codes[c.row["30-0"]])
    other = next(row for row in range(codes.size) if int(codes[row]) not in (int(codes[0]), own))
    pool = np.array([0, 1, 2, 3, other])
    assert len({int(codes[r]) for r in pool[:4]}) == 1
    # Four candidates of relevance 1 in one region against one in another: 2 : 1 (the square
    # roots), not 4 : 1, so a region of many middling candidates does not drown the others.
    target = region_target(history, pool, np.ones(5, np.float32), codes, "xquad")
    assert target == pytest.approx({int(codes[0]): 2 / 3, int(codes[other]): 1 / 3})


def test_region_target_widens_beyond_the_history_except_when_calibrating(rec: Recommender) -> None:
    c = rec.catalog
    codes = c.regions["taxonomy"].codes
    ones = np.ones(4, np.float32)
    assert region_target(history_of(rec, []).history, np.arange(4), ones, codes) is None
    history = history_of(rec, ["30-0"]).history
    own = int(codes[c.row["30-0"]])
    # xQuAD: the pool's regions by relevance; the shopper's own region gets nothing for being theirs,
    assert region_target(history, np.arange(4), ones, codes, "xquad") == {int(codes[0]): 1.0}
    # and where the pool reaches it, a quarter of what its relevance would give it (1 : 0.25, summing to 1).
    pool = np.array([0, c.row["30-0"]])
    assert region_target(history, pool, ones[:2], codes, "xquad") == pytest.approx(
        {int(codes[0]): 0.8, own: 0.2}
    )
    # Calibrated: half the history's region mix, half the pool's; a distribution too.
    assert region_target(history, np.arange(4), ones, codes, "calibrated") == {own: 0.5, int(codes[0]): 0.5}


def test_the_whole_pipeline_answers_a_typed_response(rec: Recommender) -> None:
    result = rec.recommend(RecommendationRequest(query="trains", history=["10-0"], k=6, diversity=1.0))
    assert len(result.items) == 6 and "10-0" not in result.ids
    # Diversity 1 protects nothing and damps the shopper's own region (trains): the list opens
    # with a region the history lacks, and the most relevant train still makes it.
    assert result.items[0].promoted_from_rank is not None and "10-1" in result.ids
    assert all(item.explanations for item in result.items)
    promoted = [item for item in result.items if item.promoted_from_rank is not None]
    assert promoted and all(
        item.explanations and item.explanations[0].kind == "diversity" for item in promoted
    )
    body = result.as_dict()
    assert set(body["timings_ms"]) == {"encode", "retrieve", "fuse", "rerank", "explain", "total"}
    assert body["regions_covered"] == len({item.region.id for item in result.items})
    assert "diversity" in body["items"][[i.id for i in result.items].index(promoted[0].id)]


def test_other_weights_make_another_recommender_and_leave_this_one_alone(rec: Recommender) -> None:
    before = rec.weights
    other = rec.with_weights(FusionWeights(popularity_without_query=5.0))
    assert rec.weights is before and other.weights.popularity_without_query == 5.0
    assert other.catalog is rec.catalog
    quiet = rec.recommend(RecommendationRequest(history=["30-0"], diversity=0.0)).ids
    loud = other.recommend(RecommendationRequest(history=["30-0"], diversity=0.0)).ids
    assert quiet != loud
