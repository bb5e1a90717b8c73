"""Re-rankers against small cases worked out by hand, and their shared `diversity` knob."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.rerankers import RERANKERS, get_reranker

# Three items: 0 and 1 are identical vectors in region 0, item 2 is orthogonal in region 1.
REL = np.array([1.0, 0.9, 0.5])
VECS = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
REGIONS = np.array([0, 0, 1])


@pytest.mark.parametrize("name", list(RERANKERS))
def test_zero_diversity_is_the_relevance_order(name: str) -> None:
    rng = np.random.default_rng(3)
    rel = rng.random(50)
    vecs = rng.normal(size=(50, 8))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    picked = get_reranker(name)(rel, vecs, rng.integers(0, 6, 50), 10, 0.0)
    assert picked.tolist() == np.argsort(-rel)[:10].tolist()


def test_mmr_by_hand() -> None:
    # Scaled relevance [1, .8, 0]. d=.5, step 1: scores .5, .4, 0 -> item 0.
    # Step 2: item 1: .5*.8 - .5*cos(1,0)=.4-.5=-.1 ; item 2: 0 - .5*0 = 0 -> item 2, then item 1.
    assert get_reranker("mmr")(REL, VECS, REGIONS, 3, 0.5).tolist() == [0, 2, 1]


def test_dpp_by_hand() -> None:
    # d=.5 -> alpha=.5, q = exp(.5*(rel-1)) = [1, .905, .607]; S = (1+cos)/2 -> S01=1, S02=S12=.5.
    # Greedy MAP: first argmax q_i^2 -> item 0. Gain of i after {0}: L_ii - L_0i^2/L_00:
    # item 1: .819 - .819 = 0 ; item 2: .368 - (.5*.607)^2 = .276 -> item 2, then item 1.
    assert get_reranker("dpp")(REL, VECS, REGIONS, 3, 0.5).tolist() == [0, 2, 1]


def test_xquad_by_hand() -> None:
    target = {0: 0.5, 1: 0.5}
    # Region weights scaled by the largest: (1, 1). Step 1 at d=.9: item 0: .1*1 + .9*1*1 = 1.0;
    # item 1: .08 + .9*.9 = .89; item 2: 0 + .9*.5 = .45 -> item 0.
    # Step 2 (region 0 covered): item 1: .08; item 2: .45 -> item 2.
    assert get_reranker("xquad")(REL, VECS, REGIONS, 3, 0.9, target).tolist() == [0, 2, 1]
    # At d=.5 step 2: item 1: .5*.8 = .4 ; item 2: .5*1*.5 = .25 -> relevance wins.
    assert get_reranker("xquad")(REL, VECS, REGIONS, 3, 0.5, target).tolist() == [0, 1, 2]


def test_calibrated_matches_the_target_distribution() -> None:
    target = {0: 0.5, 1: 0.5}
    assert sorted(get_reranker("calibrated")(REL, VECS, REGIONS, 2, 0.9, target).tolist()) == [0, 2]
    # A user who only knows region 0: at d=.3 the exploration share is .06, so p = (.94, .06).
    # [0,1]: .7*.9 - .3*KL(p||(1,0)~) = .63 - .3*.218 = .565; [0,2]: .7*.5 - .3*.467 = .21.
    skewed = {0: 1.0}
    assert get_reranker("calibrated")(REL, VECS, REGIONS, 2, 0.3, skewed).tolist() == [0, 1]
    # At d=.9 the exploration share (.18) is worth the other region.
    assert get_reranker("calibrated")(REL, VECS, REGIONS, 2, 0.9, skewed).tolist() == [0, 2]


def test_swap_by_hand() -> None:
    # Scaled relevance [1, .75, .5, .375, 0]; the top 3 all show region 0.
    rel = np.array([1.0, 0.9, 0.8, 0.75, 0.6])
    regions = np.array([0, 0, 0, 1, 2])
    vecs = np.eye(5)
    # d=.2: item 2 (the least relevant of region 0) for item 3 (region 1) costs .5-.375=.125;
    # then item 1 for item 4 (region 2) would cost .75 > .2: stop.
    assert get_reranker("swap")(rel, vecs, regions, 3, 0.2).tolist() == [0, 1, 3]
    # d=.9 pays for both swaps (.125 + .75); the newcomers follow the item they did not displace.
    assert get_reranker("swap")(rel, vecs, regions, 3, 0.9).tolist() == [0, 3, 4]
    # d=.8 would pay for each swap alone, but not for both: the bound is on the list's total.
    assert get_reranker("swap")(rel, vecs, regions, 3, 0.8).tolist() == [0, 1, 3]
    # A target without region 1: only region 2 may come in (.5 - 0 = .5 <= .8), then none is left.
    assert get_reranker("swap")(rel, vecs, regions, 3, 0.8, {0: 0.5, 2: 0.5}).tolist() == [0, 1, 4]


def test_swap_gives_up_repeats_of_regions_the_shopper_does_not_know_first_by_hand() -> None:
    # Scaled relevance [1, .9, .8, .7, .6, 0]; the top 4 show regions 0 0 1 1.
    rel = np.array([1.0, 0.9, 0.8, 0.7, 0.6, 0.0])
    regions = np.array([0, 0, 1, 1, 2, 3])
    swap = get_reranker("swap")
    # Nothing known: the least relevant repeat (item 3, region 1) for item 4 costs .1; item 1 for
    # item 5 would cost .9 more.
    assert swap(rel, np.eye(6), regions, 4, 0.35).tolist() == [0, 1, 2, 4]
    # Region 1 known: region 0's repeat (item 1) goes first, for .9 - .6 = .3, though item 3 is
    # less relevant (d=.35); at d=.2 that swap is too dear and the list stays as it was.
    assert swap(rel, np.eye(6), regions, 4, 0.35, known={1}).tolist() == [0, 2, 3, 4]
    assert swap(rel, np.eye(6), regions, 4, 0.2, known={1}).tolist() == [0, 1, 2, 3]
    # Once no unknown region repeats, the known region's least relevant repeat goes: item 3 for
    # item 5 (.7), .3 + .7 within 1.1.
    assert swap(rel, np.eye(6), regions, 4, 1.1, known={1}).tolist() == [0, 2, 4, 5]
    # Every region known: the same as none known.
    assert swap(rel, np.eye(6), regions, 4, 0.35, known={0, 1, 2, 3}).tolist() == [0, 1, 2, 4]


def test_swap_returns_the_chosen_items_in_relevance_order() -> None:
    # Candidates out of order: relevance order is 1, 3, 0, 2; regions 0, 0, 1, 0.
    rel = np.array([0.7, 1.0, 0.0, 0.9])
    regions = np.array([1, 0, 0, 0])
    # Top 2 = [1, 3], both region 0: swap 3 (scaled .9) for 0 (scaled .7), cost .2.
    assert get_reranker("swap")(rel, np.eye(4), regions, 2, 0.3).tolist() == [1, 0]
    assert get_reranker("swap")(rel, np.eye(4), regions, 2, 0.1).tolist() == [1, 3]


def clustered_candidates(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fixed candidate set: 12 regions, vectors near their region centre, relevance skewed."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, 16))
    regions = rng.choice(12, size=150, p=np.linspace(3, 0.2, 12) / np.linspace(3, 0.2, 12).sum())
    vecs = centres[regions] + 0.3 * rng.normal(size=(150, 16))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    rel = rng.random(150) + 0.6 * (regions == 0)
    return rel, vecs, regions


@pytest.mark.parametrize("name", ["xquad", "calibrated", "swap"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coverage_rises_monotonically_with_diversity(name: str, seed: int) -> None:
    rel, vecs, regions = clustered_candidates(seed)
    coverage = [
        len(set(regions[get_reranker(name)(rel, vecs, regions, 10, d)].tolist()))
        for d in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    ]
    assert coverage == sorted(coverage)
    assert coverage[-1] > coverage[0]


@pytest.mark.parametrize("name", ["mmr", "dpp"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_similarity_based_rerankers_widen_coverage(name: str, seed: int) -> None:
    rel, vecs, regions = clustered_candidates(seed)
    base = len(set(regions[get_reranker(name)(rel, vecs, regions, 10, 0.0)].tolist()))
    wide = len(set(regions[get_reranker(name)(rel, vecs, regions, 10, 0.8)].tolist()))
    assert wide > base


@pytest.mark.parametrize("name", list(RERANKERS))
def test_returns_k_distinct_items_or_all_when_fewer(name: str) -> None:
    rel, vecs, regions = clustered_candidates(4)
    picked = get_reranker(name)(rel, vecs, regions, 10, 0.6)
    assert len(set(picked.tolist())) == 10
    one = get_reranker(name)(rel[:1], vecs[:1], regions[:1], 10, 0.6)
    assert one.tolist() == [0]


def test_unknown_strategy_names_the_valid_ones() -> None:
    with pytest.raises(InvalidArgumentError, match=r"strategy: unknown strategy 'random'.*mmr"):
        get_reranker("random")
