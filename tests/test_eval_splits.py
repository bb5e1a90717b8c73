"""The evaluation splits: deterministic, and nothing held out leaks into training."""

from __future__ import annotations

import pytest

from kgrec.evaluation.splits import split_interactions
from kgrec.evaluation.validation import MAX_HELD_SHARE, validation_split
from kgrec.graph.errors import InvalidArgumentError
from kgrec.graph.interaction_parsing import RawInteraction


def _rows() -> list[RawInteraction]:
    """A small hand-made log (synthetic, for the split logic only): 12 users, each with
    4 baskets of 5 items bought at increasing times."""
    rows = []
    line = 2
    for u in range(12):
        for b in range(4):
            for i in range(5):
                item = f"p{(u * 7 + b * 3 + i) % 40}"
                rows.append(RawInteraction(line, f"u{u}", item, "purchase", 1000 * b + u, None, f"o{u}-{b}"))
                line += 1
    return rows


def test_basket_split_holds_out_whole_baskets_and_hides_a_third() -> None:
    rows = _rows()
    split = split_interactions(rows, "basket", cases=10, seed=3)
    again = split_interactions(rows, "basket", cases=10, seed=3)
    assert [c.case_id for c in split.cases] == [c.case_id for c in again.cases]
    assert [c.visible for c in split.cases] == [c.visible for c in again.cases]
    assert len(split.cases) == 10
    held = {c.case_id for c in split.cases}
    assert not held & {r.session_id for r in split.train}
    for case in split.cases:
        assert len(case.hidden) == 2 and len(case.visible) == 3
        assert not set(case.visible) & case.hidden
    assert len(split.train) == len(rows) - 10 * 5
    other = split_interactions(rows, "basket", cases=10, seed=4)
    assert {c.case_id for c in other.cases} != held


def test_leave_last_hides_each_users_latest_item_from_training() -> None:
    rows = _rows()
    split = split_interactions(rows, "leave-last", cases=5, seed=1)
    assert len(split.cases) == 5
    for case in split.cases:
        (last,) = case.hidden
        mine = [r for r in rows if r.user_id == case.user_id]
        assert max(mine, key=lambda r: (r.timestamp, r.item_id)).timestamp == max(
            r.timestamp for r in mine if r.item_id == last
        )
        assert not any(r.user_id == case.user_id and r.item_id == last for r in split.train)
        assert last not in case.visible
    untouched = {r.user_id for r in rows} - {c.user_id for c in split.cases}
    assert sum(r.user_id in untouched for r in split.train) == sum(r.user_id in untouched for r in rows)


def test_temporal_split_trains_only_on_the_past() -> None:
    rows = _rows()
    split = split_interactions(rows, "temporal", cases=50, seed=1)
    cut = min(r.timestamp for r in rows if r not in split.train)
    assert all(r.timestamp < cut for r in split.train)
    assert split.cases
    for case in split.cases:
        future = {r.item_id for r in rows if r.user_id == case.user_id and r.timestamp >= cut}
        assert case.hidden <= future
        assert not case.hidden & set(case.visible)


def test_unknown_split_names_the_field() -> None:
    with pytest.raises(InvalidArgumentError, match="split"):
        split_interactions(_rows(), "shuffled", cases=3)


@pytest.mark.parametrize("split", ["basket", "leave-last", "temporal", "random"])
def test_tuning_cases_are_disjoint_held_out_and_leave_the_test_cases_alone(split: str) -> None:
    rows = _rows()
    plain = split_interactions(rows, split, cases=4, seed=5)
    tuned = split_interactions(rows, split, cases=4, tune=3, seed=5)
    assert [(c.case_id, c.visible, c.hidden) for c in tuned.cases] == [
        (c.case_id, c.visible, c.hidden) for c in plain.cases
    ]
    assert plain.tune_cases == []
    assert len(tuned.tune_cases) == 3
    assert not {c.case_id for c in tuned.tune_cases} & {c.case_id for c in tuned.cases}
    trained = {(r.user_id, r.item_id, r.session_id) for r in tuned.train}
    for case in tuned.tune_cases:
        for item in case.hidden:
            if split == "basket":
                assert (case.user_id, item, case.case_id) not in trained
            else:
                assert not any(r.user_id == case.user_id and r.item_id == item for r in tuned.train)


def test_random_split_hides_a_quarter_of_each_sampled_users_items() -> None:
    split = split_interactions(_rows(), "random", cases=4, seed=5)
    assert len(split.cases) == 4
    for case in split.cases:
        items = set(case.visible) | case.hidden
        assert len(case.hidden) == max(1, round(len(items) / 4))
        assert not case.hidden & set(case.visible)
        assert not any(r.user_id == case.user_id and r.item_id in case.hidden for r in split.train)
    assert split == split_interactions(_rows(), "random", cases=4, seed=5)



def test_rows_split_hides_each_item_on_its_own_draw() -> None:
    """KGCN's protocol: the hidden count follows each item's draw, where the random split hides
    a fixed quarter of every sampled user's 14 items (4 each)."""
    rows = _rows()
    split = split_interactions(rows, "rows", cases=10, seed=5)
    assert split == split_interactions(rows, "rows", cases=10, seed=5)
    assert len(split.cases) == 10
    assert len({len(case.hidden) for case in split.cases}) > 1
    for case in split.cases:
        assert case.hidden and case.visible and not case.hidden & set(case.visible)
        assert not any(r.user_id == case.user_id and r.item_id in case.hidden for r in split.train)
    untouched = {r.user_id for r in rows} - {c.user_id for c in split.cases}
    assert sum(r.user_id in untouched for r in split.train) == sum(r.user_id in untouched for r in rows)
    hidden = sum(len(case.hidden) for case in split.cases)
    assert 0.1 < hidden / sum(len(case.hidden) + len(case.visible) for case in split.cases) < 0.4

@pytest.mark.parametrize("split", ["basket", "leave-last", "random", "rows", None])
def test_validation_cases_come_from_training_events_only(split: str | None) -> None:
    """What the fusion weights are tuned on never holds a test (or tuning) case's hidden event."""
    rows = _rows()
    outer = split_interactions(rows, split or "random", cases=4, tune=3, seed=5)
    inner = validation_split(outer.train, split, cases=5, seed=5)
    assert inner.cases
    assert len(outer.train) - len(inner.train) <= MAX_HELD_SHARE * len(outer.train)
    trained = {(r.user_id, r.item_id) for r in outer.train}
    held = {(c.user_id, item) for c in outer.cases + outer.tune_cases for item in c.hidden} - trained
    assert held
    fitted = {(r.user_id, r.item_id) for r in inner.train}
    seen = {(c.user_id, item) for c in inner.cases for item in [*c.visible, *c.hidden]}
    assert fitted <= trained and seen <= trained
    assert not (fitted | seen) & held
    for case in inner.cases:  # a basket's items may be bought again in the shopper's other baskets
        same = {r.item_id for r in inner.train if r.user_id == case.user_id}
        if split == "basket":
            same = {r.item_id for r in inner.train if r.session_id == case.case_id}
        assert not case.hidden & same
