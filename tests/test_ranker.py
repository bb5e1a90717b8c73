"""The learned second stage: what it can learn that the linear fusion cannot, where it learns it
from, and how a shop serves it (SYNTHETIC feature matrices and the synthetic catalogue)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from kgrec.evaluation.harness import Evaluator, clearly_better
from kgrec.evaluation.ranker_training import (
    KEEP_MIN_GAIN_SE,
    RankingData,
    choose_ranker,
    fit_ranker,
    held_back,
    train_ranker,
)
from kgrec.evaluation.splits import EvalCase
from kgrec.evaluation.validation import build_validation, ranker_validations
from kgrec.graph.errors import ArtifactError
from kgrec.graph.interaction_parsing import RawInteraction
from kgrec.graph.pseudonym import pseudonymise
from kgrec.recommender.candidates import Candidates
from kgrec.recommender.fusion import fused_relevance
from kgrec.recommender.ranker import (
    BASE_FEATURES,
    CONTENT_FEATURES,
    FEATURES,
    FILE,
    install_ranker,
    load_ranker,
    pool_rows,
    ranked_rows,
    read_ranker,
    save_ranker,
)
from kgrec.recommender.request import Filters, RecommendationRequest
from kgrec.recommender.service import Recommender
from tests.synthetic import ENCODER, KEY, build, product_rows

COLUMN = {name: i for i, name in enumerate(FEATURES)}
CASES = [
    EvalCase("a", "a", ["10-0"], {"10-1"}),
    EvalCase("b", "b", ["20-0", "20-1"], {"20-2"}),
    EvalCase("c", "c", ["30-0"], {"40-0"}),
]


def _requests(n: int, seed: int, relevant: Any) -> RankingData:
    """SYNTHETIC requests of 20 candidates with random popularity and category share; the one
    relevant candidate is `relevant(features, short_history)`."""
    rng = np.random.default_rng(seed)
    data = RankingData()
    for i in range(n):
        features = np.zeros((20, len(FEATURES)), np.float32)
        features[:, COLUMN["popularity"]] = rng.uniform(0.0, 0.5, 20)
        features[:, COLUMN["category_share"]] = rng.uniform(0.0, 0.5, 20)
        short = i % 2 == 0
        features[:, COLUMN["history_length"]] = np.log1p(2 if short else 30)
        labels = np.zeros(20, np.float32)
        labels[relevant(features, short)] = 1.0
        data.add(features, labels, np.zeros(20, np.float32), f"shopper {i}")
    return data


def _interaction(features: np.ndarray, short: bool) -> int:
    """Short histories want the popular candidate, long ones the one in the history's category."""
    features[0, COLUMN["popularity"]], features[0, COLUMN["category_share"]] = 0.9, 0.1
    features[1, COLUMN["popularity"]], features[1, COLUMN["category_share"]] = 0.1, 0.9
    return 0 if short else 1


def _hit_rate(scores: list[np.ndarray], data: RankingData) -> float:
    return float(np.mean([labels[int(np.argmax(s))] for s, labels in zip(scores, data.labels, strict=True)]))


def test_the_ranker_learns_an_interaction_no_linear_mix_can_express() -> None:
    train, stop, test = (_requests(n, seed, _interaction) for n, seed in ((200, 1), (100, 2), (100, 3)))
    ranker = train_ranker(train, stop, scale=0.0, seed=7, source="synthetic")
    learned = _hit_rate([ranker.score(f, b) for f, b in zip(test.features, test.bases, strict=True)], test)
    pop, cat = COLUMN["popularity"], COLUMN["category_share"]
    linear = max(
        _hit_rate([a * f[:, pop] + (1 - a) * f[:, cat] for f in test.features], test)
        for a in np.linspace(0.0, 1.0, 21)
    )
    assert learned >= 0.95
    assert linear <= 0.6


def _least_popular(features: np.ndarray, short: bool) -> int:
    return int(np.argmin(features[:, COLUMN["popularity"]]))


def test_a_saved_ranker_scores_as_the_trained_one_and_a_bad_file_is_named(tmp_path: Path) -> None:
    ranker = train_ranker(
        _requests(100, 1, _least_popular), _requests(50, 2, _least_popular), scale=3.0, seed=7, source="s"
    )
    path = save_ranker(tmp_path / FILE, ranker)
    probe, linear = _requests(1, 3, _least_popular).features[0], np.linspace(0.0, 1.0, 20)
    loaded = load_ranker(tmp_path)
    assert loaded is not None and loaded.source == "s" and loaded.base_scale == 3.0
    np.testing.assert_allclose(loaded.score(probe, linear), ranker.score(probe, linear), rtol=1e-6)
    assert load_ranker(tmp_path / "elsewhere") is None
    path.write_text('{"features": ["walk", "colour"], "model": ""}', encoding="utf-8")
    with pytest.raises(ArtifactError, match=FILE):
        read_ranker(path)
    # A list that names a feature twice, or fewer features than the model reads, is refused at
    # load, not at the first history request.
    saved = json.loads(save_ranker(tmp_path / "full.json", ranker).read_text(encoding="utf-8"))
    for features in ([*saved["features"][:-1], saved["features"][0]], saved["features"][:-1], []):
        path.write_text(json.dumps({**saved, "features": features}), encoding="utf-8")
        with pytest.raises(ArtifactError, match=FILE):
            read_ranker(path)


class UnreadCase:
    """A test case that fails the test when anything reads it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a test case was read ({name}) while training the ranker")


def test_the_ranker_is_trained_on_validation_cases_and_judged_on_tuning_cases_only(tmp_path: Path) -> None:
    rec = build(tmp_path)
    judge = Evaluator(rec, [UnreadCase()])  # type: ignore[list-item]
    judged: list[Recommender] = []

    def ndcg_of(candidate: Recommender) -> NDArray[np.float64]:
        judged.append(candidate)
        return judge.fused_ndcg(candidate, CASES[:1])

    # Shopper "f" falls among the held-back fifth (`held_back`), "b" and "c" do not.
    validation = [*CASES[1:], EvalCase("f", "f", ["10-0"], {"10-1"})]
    fit = fit_ranker(rec, CASES[:1], [(rec, validation)], ndcg_of, seed=7, source="synthetic")
    assert fit.ranker is not None
    assert fit.report["trained_on"].startswith("2 validation cases")  # "c": its hidden item is not ranked
    assert fit.report["held_back"].startswith("1 requests")
    assert [c.ranker for c in judged] == [None, fit.ranker]
    linear, learned = (judge.fused_ndcg(c, CASES[:1]) for c in judged)
    assert fit.kept == clearly_better(learned, linear, KEEP_MIN_GAIN_SE)
    assert fit_ranker(rec, [], [(rec, CASES)], ndcg_of, seed=7, source="s").ranker is None


def test_history_requests_follow_the_saved_ranker_and_query_requests_do_not(tmp_path: Path) -> None:
    rec = build(tmp_path)
    home = tmp_path / "home"  # where tests.synthetic.build writes the artifact
    history = RecommendationRequest(history=["10-0"], k=5, diversity=0.0, strategy="none", explain=True)
    query = RecommendationRequest(query="wooden train", k=5, diversity=0.0, strategy="none")
    plain = Recommender.load(rec.store, home, ENCODER, pseudonym_key=KEY)
    assert plain.ranker is None
    assert plain.recommend(history).ids == rec.recommend(history).ids

    # A ranker that wants the least popular candidate first: far from the linear order.
    trained = tmp_path / "trained.json"
    save_ranker(
        trained,
        train_ranker(
            _requests(100, 1, _least_popular), _requests(50, 2, _least_popular), scale=0.0, seed=7, source="s"
        ),
    )
    assert install_ranker(home, trained) == str(home / FILE)
    served = Recommender.load(rec.store, home, ENCODER, pseudonym_key=KEY)
    assert served.ranker is not None
    pids, features, relevance = served.pool_features(["10-0"])
    expected = [pids[i] for i in np.argsort(-served.ranker.score(features, relevance), kind="stable")[:5]]
    answer = served.recommend(history)
    assert answer.ids == expected != plain.recommend(history).ids
    assert all(item.explanations for item in answer.items)
    assert served.recommend(query).ids == plain.recommend(query).ids
    # Candidates only the KG vectors proposed (the garden tool 40-0 for a doll) are neither
    # trained on nor ranked: they follow every ranked one.
    ranked = set(served.pool_features(["30-0"])[0])
    whole = served.recommend(RecommendationRequest(history=["30-0"], k=23, diversity=0.0, strategy="none"))
    assert "40-0" in whole.ids and "40-0" not in ranked
    assert set(whole.ids[: len(ranked)]) == ranked

    install_ranker(home, None)
    assert not (home / FILE).exists()
    assert Recommender.load(rec.store, home, ENCODER, pseudonym_key=KEY).ranker is None


def test_trees_that_add_nothing_leave_the_linear_order() -> None:
    """Boosted from the linear fusion's score: trees that cannot split (every candidate looks the
    same) leave the linear order as it was; from nothing, they leave no order at all."""
    flat = RankingData()
    for i in range(40):
        labels = np.zeros(20, np.float32)
        labels[i % 20] = 1.0
        flat.add(np.zeros((20, len(FEATURES)), np.float32), labels, np.zeros(20, np.float32), f"s{i}")
    linear = np.random.default_rng(3).uniform(0.0, 5.0, 20)
    boosted = train_ranker(flat, None, scale=10.0, seed=7, source="s", rounds=5)
    scores = boosted.score(flat.features[0], linear)
    assert list(np.argsort(-scores, kind="stable")) == list(np.argsort(-linear, kind="stable"))
    assert (
        np.ptp(
            train_ranker(flat, None, scale=0.0, seed=7, source="s", rounds=5).score(flat.features[0], linear)
        )
        == 0
    )


def test_more_validation_splits_give_more_requests_each_fitted_without_its_own(tmp_path: Path) -> None:
    """Leave-last on ten shoppers of five items: the first split draws every shopper, so the next
    splits roll back to each shopper's next-to-last items; no case is drawn twice, and no split's
    recommender holds its own cases' hidden items (nor anything after them)."""
    rec = build(tmp_path)
    items = [pid for pid, *_ in product_rows()]
    train = [
        RawInteraction(
            n, f"u{u}", items[(3 * u + i) % len(items)], "purchase", 1_700_000_000 + 10 * i, None, None
        )
        for n, (u, i) in enumerate((u, i) for u in range(10) for i in range(5))
    ]
    first = build_validation(
        rec.store, train, rec, ENCODER, tmp_path / "v", split="leave-last", seed=7, pseudonym_key=KEY
    )
    splits = ranker_validations(
        rec.store,
        train,
        rec,
        ENCODER,
        tmp_path / "v",
        first,
        split="leave-last",
        splits=3,
        seed=7,
        pseudonym_key=KEY,
    )
    assert len(splits) == 3 and len(first.cases) == 10
    keys = [(c.user_id, tuple(sorted(c.hidden))) for v in splits for c in v.cases]
    assert len(keys) == len(set(keys)) > len(first.cases)
    by_user = {f"u{u}": [items[(3 * u + i) % len(items)] for i in range(5)] for u in range(10)}
    for depth, validation in enumerate(splits, start=1):
        histories = validation.recommender.projection.item_histories()
        for case in validation.cases:
            taken = by_user[case.user_id]
            assert case.hidden == {taken[-depth]}
            assert case.visible == taken[:-depth]
            assert not set(taken[-depth:]) & set(histories[pseudonymise(case.user_id, KEY)])


def test_the_ranker_ranks_candidates_with_evidence_and_leaves_the_fill_after_them() -> None:
    """A candidate only the popular fill or the KG vectors proposed is not ranked; one that a
    collaborative source also proposed is, whatever else proposed it."""
    found = Candidates(
        {1, 2, 3, 4},
        {
            "collaborative": {1: 0.5},
            "popular": {1: 0.2, 2: 0.9},
            "history_kg": {3: 0.4},
            "cooccurrence": {4: 1.0},
        },
    )
    rows = np.array([1, 2, 3, 4], dtype=np.int64)
    assert ranked_rows(found, rows).tolist() == [True, False, False, True]
    # The fill alone is not even in the pool the features' ranks are taken over; the KG's is.
    assert pool_rows(found, rows).tolist() == [True, False, True, True]


def test_title_and_within_category_popularity_features_by_hand(tmp_path: Path) -> None:
    """Shoppers bought trains 10-0 and 10-1 twice each and puzzle 20-0 once (`EVENTS`): within
    its category 10-1 holds 2 of the trains' 4 events and 20-0 all of the puzzles' 1."""
    rec = build(tmp_path)
    pids, features, _ = rec.pool_features(["10-0"])
    row = {pid: i for i, pid in enumerate(pids)}
    within, in_history = COLUMN["category_popularity"], COLUMN["category_popularity_in_history"]
    assert features[row["10-1"], within] == pytest.approx(0.5)
    assert features[row["10-1"], in_history] == pytest.approx(0.5)  # the whole history is trains
    assert features[row["20-0"], within] == pytest.approx(1.0)
    assert features[row["20-0"], in_history] == 0.0  # no puzzle in the history
    never_bought = [p for p in pids if p not in {"10-0", "10-1", "20-0"}]
    assert never_bought and all(features[row[p], within] == 0.0 for p in never_bought)
    # A live purchase of 10-1: 3 of the trains' 5 events now (the category totals are not stale).
    assert rec.record_event(pseudonymise("cy", KEY), "10-1", "purchase", 1_800_000_000)
    # The event moved the kept totals (no request summed them again) to what a fresh sum gives.
    version, codes, totals = rec.catalog._group_events["category"]
    assert version == rec.catalog._popularity_version and codes is rec.group_codes["category"]
    known = codes >= 0
    fresh = np.bincount(codes[known], weights=rec.catalog.raw_popularity[known], minlength=totals.size)
    np.testing.assert_allclose(totals, fresh)
    pids, features, _ = rec.pool_features(["10-0"])
    assert features[pids.index("10-1"), within] == pytest.approx(0.6)

    # Title cosines: one history item, so its mean title is its own and both features agree.
    text = rec.catalog.text
    own = text[rec.catalog.row["10-0"]]
    for pid in pids:
        cosine = float(text[rec.catalog.row[pid]] @ own)
        assert features[row[pid], COLUMN["text_history_mean"]] == pytest.approx(cosine, abs=1e-5)
        assert features[row[pid], COLUMN["text_history_max"]] == pytest.approx(cosine, abs=1e-5)
    # Two history items: the closest title is the larger of the two cosines; the mean title is
    # the history's weighted sum of its titles, made unit length.
    pids, features, _ = rec.pool_features(["10-0", "20-0"])
    weighted = rec._history(None, ["10-0", "20-0"])
    history = text[weighted.rows]
    assert sorted(weighted.rows.tolist()) == sorted(rec.catalog.row[p] for p in ("10-0", "20-0"))
    centre = weighted.weights[0] * history[0] + weighted.weights[1] * history[1]
    centre /= np.linalg.norm(centre)
    for i, pid in enumerate(pids):
        cosines = history @ text[rec.catalog.row[pid]]
        assert features[i, COLUMN["text_history_max"]] == pytest.approx(float(cosines.max()), abs=1e-5)
        mean = float(centre @ text[rec.catalog.row[pid]])
        assert features[i, COLUMN["text_history_mean"]] == pytest.approx(mean, abs=1e-5)


def test_a_ranker_without_content_features_is_served_without_computing_them(tmp_path: Path) -> None:
    rec = build(tmp_path)
    signals = rec._signals(None, rec._history(None, ["10-0", "20-0"]))
    found, rows = rec._candidates(signals, Filters(), rec.catalog.regions["taxonomy"])
    scores = fused_relevance(signals, rows, found, rec.weights)
    ranked, full = rec._ranked_features(signals, rows, found, scores)
    _, lean = rec._ranked_features(signals, rows, found, scores, content=False)
    content = [COLUMN[name] for name in CONTENT_FEATURES]
    base = [COLUMN[name] for name in BASE_FEATURES]
    assert ranked.any() and np.abs(full[:, content]).sum() > 0
    assert not lean[:, content].any()
    np.testing.assert_array_equal(lean[:, base], full[:, base])
    train = _requests(100, 1, _least_popular)
    only_base = train_ranker(train, None, scale=0.0, seed=7, source="s", rounds=20, features=BASE_FEATURES)
    assert not only_base.reads_content
    assert train_ranker(train, None, scale=0.0, seed=7, source="s", rounds=20).reads_content


def _closest_title(features: np.ndarray, short: bool) -> int:
    return int(np.argmax(features[:, COLUMN["text_history_max"]]))


def _with_titles(n: int, seed: int, relevant: Any) -> RankingData:
    """`_requests` with random title cosines as well (SYNTHETIC)."""
    data, rng = _requests(n, seed, lambda f, s: 0), np.random.default_rng(seed + 100)
    out = RankingData()
    for features, base, user in zip(data.features, data.bases, data.users, strict=True):
        features[:, COLUMN["text_history_max"]] = rng.uniform(0.0, 1.0, features.shape[0])
        labels = np.zeros(features.shape[0], np.float32)
        labels[relevant(features, False)] = 1.0
        out.add(features, labels, base, user)
    return out


def test_the_held_back_requests_choose_whether_the_ranker_reads_the_content_features(tmp_path: Path) -> None:
    # Where the hidden item is the one with the closest title, only the content block can find it.
    data = _with_titles(300, 1, _closest_title)
    ranker, report = choose_ranker(data, seed=7, source="s")
    assert ranker is not None and report["features"] == "with content" and ranker.features == FEATURES
    held = report["held_back_ndcg@10"]
    assert max(held[f"with content, from {s:g} x linear"] for s in (0, 3, 10)) > max(
        held[f"base, from {s:g} x linear"] for s in (0, 3, 10)
    )
    assert sum(held_back(u) for u in data.users) == int(report["held_back"].split()[0])

    # A ranker on the base block reads only those columns of a full row, and keeps them when saved.
    train = _with_titles(100, 1, _least_popular)
    base = train_ranker(train, None, scale=0.0, seed=7, source="s", rounds=20, features=BASE_FEATURES)
    probe = _with_titles(1, 3, _least_popular).features[0]
    shuffled = probe.copy()
    for name in CONTENT_FEATURES:
        shuffled[:, COLUMN[name]] = np.random.default_rng(5).uniform(0.0, 1.0, probe.shape[0])
    linear = np.linspace(0.0, 1.0, 20)
    np.testing.assert_array_equal(base.score(probe, linear), base.score(shuffled, linear))
    loaded = read_ranker(save_ranker(tmp_path / FILE, base))
    assert loaded.features == BASE_FEATURES
    np.testing.assert_allclose(loaded.score(probe, linear), base.score(probe, linear), rtol=1e-6)
