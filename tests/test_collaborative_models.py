"""ItemKNN, EASE^R, RP3beta and iALS against weights worked out by hand on tiny matrices."""

from __future__ import annotations

import math
import tracemalloc
from collections.abc import Callable

import numpy as np
import pytest
import scipy.sparse as sp

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.collaborative import (
    InteractionMatrix,
    ItemItemModel,
    fit_ease,
    fit_ials,
    fit_itemknn,
    fit_rp3beta,
)
from kgrec.recommender.collaborative.ease import _spd_inverse, regularised_inverse
from kgrec.recommender.collaborative.ials import least_squares as ials_least_squares
from kgrec.recommender.collaborative.ials import ridge_projection
from kgrec.recommender.collaborative.shopperknn import fit_shopperknn


def _dense(model: ItemItemModel) -> np.ndarray:
    """The full item × item weights, read back through the model's own scoring."""
    return np.stack([model.scores(row) for row in np.eye(len(model.items))])


# u1 {a, b}, u2 {a, b, c}, u3 {c}, u4 {b, c}: degrees a 2, b 3, c 3; overlaps ab 2, ac 1, bc 2.
FOUR = {"u1": ["a", "b"], "u2": ["a", "b", "c"], "u3": ["c"], "u4": ["b", "c"]}


def test_matrix_is_binary_and_drops_unknown_items() -> None:
    data = InteractionMatrix.from_histories({"u": ["a", "a", "zz"], "v": ["b"]}, ["a", "b"])
    assert data.users == ["u", "v"]
    assert data.matrix.toarray().tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_itemknn_is_cosine_over_shared_users() -> None:
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c"])
    w = _dense(fit_itemknn(data, shrink=0.0, top_k=10))
    assert w[0, 1] == pytest.approx(2 / math.sqrt(6))
    assert w[0, 2] == pytest.approx(1 / math.sqrt(6))
    assert w[1, 2] == pytest.approx(2 / 3)
    assert np.diag(w).tolist() == [0.0, 0.0, 0.0]


def test_itemknn_shrink_damps_the_similarity() -> None:
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c"])
    w = _dense(fit_itemknn(data, shrink=10.0, top_k=10))
    assert w[0, 1] == pytest.approx(2 / (math.sqrt(6) + 10))


def test_itemknn_keeps_each_items_top_neighbours_only() -> None:
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c"])
    model = fit_itemknn(data, shrink=0.0, top_k=1)
    # Column c keeps b (2/3) and drops a (0.41): a history {a} no longer speaks for c.
    scores = model.scores(np.array([1.0, 0.0, 0.0]))
    assert scores.tolist() == pytest.approx([0.0, 2 / math.sqrt(6), 0.0])


def test_ease_two_items_is_the_ridge_regression_weight() -> None:
    # u1 {a, b}, u2 {a, b}, u3 {a}: predicting b from a minimises Σ(x_b − w·x_a)² + λw²,
    # so w = (x_a·x_b) / (x_a·x_a + λ) = 2 / (3 + 1); the other way 2 / (2 + 1).
    data = InteractionMatrix.from_histories({"u1": ["a", "b"], "u2": ["a", "b"], "u3": ["a"]}, ["a", "b"])
    w = _dense(fit_ease(data, l2=1.0))
    assert w[0, 1] == pytest.approx(0.5)
    assert w[1, 0] == pytest.approx(2 / 3)
    assert w[0, 0] == w[1, 1] == 0.0


@pytest.mark.parametrize(("users", "items"), [(30, 120), (120, 30), (40, 40), (300, 600), (600, 300)])
def test_ease_inverse_is_the_direct_inverse_with_more_items_or_more_users(users: int, items: int) -> None:
    """Woodbury's users-side inverse (fewer users) and the Cholesky one (otherwise) are
    (XᵀX + λI)⁻¹ as a general inverse computes it; the larger sizes span several of the
    in-place fill's and transpose's tiles. SYNTHETIC random binary matrices."""
    x = sp.random(users, items, density=0.1, random_state=users + items, format="csr")
    x.data[:] = 1.0
    for l2 in (0.5, 100.0):
        direct = np.linalg.inv((x.T @ x).toarray() + l2 * np.eye(items))
        assert regularised_inverse(x, l2) == pytest.approx(direct, abs=1e-12)


@pytest.mark.parametrize("order", ["C", "F"])
def test_spd_inverse_works_in_the_matrix_own_memory(order: str) -> None:
    """LAPACK gets the symmetric matrix's Fortran-ordered view and the inverse is mirrored in
    place: the result is the input's memory and the traced peak stays far below one more n × n
    array (LAPACK's copy and the symmetric fill made it up to four more). SYNTHETIC."""
    n = 1000
    a = np.random.default_rng(0).random((n, n))
    spd = np.asarray((a + a.T) / 2 + n * np.eye(n), order=order)
    direct = np.linalg.inv(spd)
    tracemalloc.start()
    inverse = _spd_inverse(spd)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert np.shares_memory(inverse, spd)
    assert peak < 0.5 * n * n * 8
    assert np.array_equal(inverse, inverse.T)
    assert inverse == pytest.approx(direct, abs=1e-12)


def test_ease_columns_solve_the_constrained_regression() -> None:
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c", "never"])
    w = _dense(fit_ease(data, l2=2.0))
    x = data.matrix.toarray()[:, :3]
    for j in range(3):
        others = [i for i in range(3) if i != j]
        a = x[:, others]
        solved = np.linalg.solve(a.T @ a + 2.0 * np.eye(2), a.T @ x[:, j])
        assert w[others, j] == pytest.approx(solved)
    assert not w[3].any() and not w[:, 3].any()


def test_rp3beta_walks_item_user_item() -> None:
    # u1 {a, b}, u2 {a}: a→(u1 ½, u2 ½)→b (u1 ½): ¼; b→u1 (1)→a (½): ½.
    data = InteractionMatrix.from_histories({"u1": ["a", "b"], "u2": ["a"]}, ["a", "b"])
    plain = _dense(fit_rp3beta(data, alpha=1.0, beta=0.0))
    assert plain[0, 1] == pytest.approx(0.25)
    assert plain[1, 0] == pytest.approx(0.5)
    damped = _dense(fit_rp3beta(data, alpha=1.0, beta=1.0))
    assert damped[1, 0] == pytest.approx(0.5 / 2)  # a has degree 2
    assert damped[0, 1] == pytest.approx(0.25 / 1)
    sharpened = _dense(fit_rp3beta(data, alpha=0.5, beta=0.0))
    assert sharpened[1, 0] == pytest.approx(math.sqrt(1.0) * math.sqrt(0.5))


def test_rp3beta_prunes_each_items_walk_to_top_k() -> None:
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c"])
    full = _dense(fit_rp3beta(data, alpha=1.0, beta=0.0, top_k=10))
    pruned = _dense(fit_rp3beta(data, alpha=1.0, beta=0.0, top_k=1))
    for i in range(3):
        kept = np.flatnonzero(pruned[i])
        assert len(kept) == 1
        assert pruned[i, kept[0]] == pytest.approx(full[i].max())


def test_models_reject_bad_hyper_parameters() -> None:
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c"])
    with pytest.raises(InvalidArgumentError, match="shrink"):
        fit_itemknn(data, shrink=-1.0)
    with pytest.raises(InvalidArgumentError, match="l2"):
        fit_ease(data, l2=0.0)
    with pytest.raises(InvalidArgumentError, match="beta"):
        fit_rp3beta(data, beta=-0.1)
    with pytest.raises(InvalidArgumentError, match="top_k"):
        fit_itemknn(data, top_k=0)


def test_neighbours_are_the_strongest_positive_weights() -> None:
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c"])
    model = fit_itemknn(data, shrink=0.0, top_k=10)
    assert [j for j, _ in model.neighbours(0, 2)] == [1, 2]


def test_itemknn_with_knowledge_counts_shared_nodes_in_overlap_and_norm() -> None:
    # u1 {a, b}, u2 {a}; a and c share catalogue node n1, c has no shopper. Stacked at w = 0.5:
    # a = (1, 1, 0.5) has norm 1.5, b = (1, 0, 0) norm 1, c = (0, 0, 0.5) norm 0.5.
    data = InteractionMatrix.from_histories({"u1": ["a", "b"], "u2": ["a"]}, ["a", "b", "c"])
    knowledge = sp.csr_matrix(np.array([[1.0], [0.0], [1.0]]))
    w = _dense(fit_itemknn(data, shrink=0.0, top_k=10, knowledge=knowledge, knowledge_weight=0.5))
    assert w[0, 1] == pytest.approx(1 / 1.5)
    assert w[0, 2] == pytest.approx(0.25 / (1.5 * 0.5))
    assert w[1, 2] == 0.0
    shoppers_only = _dense(fit_itemknn(data, shrink=0.0, top_k=10, knowledge=knowledge, knowledge_weight=0.0))
    assert shoppers_only[0, 1] == pytest.approx(1 / math.sqrt(2)) and shoppers_only[0, 2] == 0.0


@pytest.mark.parametrize("fit", [fit_itemknn, fit_shopperknn])
def test_knowledge_must_cover_the_items(fit: Callable[..., object]) -> None:
    """ItemKNN and shopper-kNN check their catalogue-node block alike (`knowledge_block`)."""
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c"])
    with pytest.raises(InvalidArgumentError, match="knowledge: has 2 item rows for 3 items"):
        fit(data, knowledge=sp.csr_matrix(np.ones((2, 1))), knowledge_weight=1.0)
    with pytest.raises(InvalidArgumentError, match="knowledge_weight"):
        fit(data, knowledge=sp.csr_matrix(np.ones((3, 1))), knowledge_weight=-1.0)
    fit(data, knowledge=sp.csr_matrix(np.ones((2, 1))), knowledge_weight=0.0)  # weight 0: no block read


def test_ials_half_step_is_the_confidence_weighted_ridge_fit() -> None:
    # Each row's x minimises Σ_j c_j (p_j − x·y_j)² + λ|x|²: solved here with the full diagonal C.
    rng = np.random.default_rng(3)
    columns = rng.normal(size=(5, 2))
    taken = sp.csr_matrix(np.array([[1.0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [0, 1, 1, 1, 0]]))
    got = ials_least_squares(taken, columns, 0.7, 4.0)
    for row in range(3):
        p = taken[[row]].toarray().ravel()
        c = np.diag(1.0 + 3.0 * p)
        want = np.linalg.solve(columns.T @ c @ columns + 0.7 * np.eye(2), columns.T @ c @ p)
        assert got[row] == pytest.approx(want)


def test_ials_fold_in_weights_score_a_history_by_its_ridge_user_vector() -> None:
    # h · W must equal x · Yᵀ with x the ridge fit of h on Y: least squares on [Y; √λ I] x ≈ [h; 0].
    rng = np.random.default_rng(5)
    factors = rng.normal(size=(6, 3))
    history = np.array([1.0, 0, 0, 1, 1, 0])
    stacked = np.vstack([factors, math.sqrt(2.0) * np.eye(3)])
    user, *_ = np.linalg.lstsq(stacked, np.concatenate([history, np.zeros(3)]), rcond=None)
    assert history @ factors @ ridge_projection(factors, 2.0) == pytest.approx(factors @ user)


# A chain a–b–c–d (u1 a b, u2 b c, u3 c d, u6 a b, u7 c d) and a separate pair e f (u4, u5); z untaken.
CHAIN = {
    "u1": ["a", "b"], "u2": ["b", "c"], "u3": ["c", "d"], "u4": ["e", "f"],
    "u5": ["e", "f"], "u6": ["a", "b"], "u7": ["c", "d"],
}  # fmt: skip


def test_ials_links_items_no_shopper_shares_but_not_across_separate_groups() -> None:
    data = InteractionMatrix.from_histories(CHAIN, ["a", "b", "c", "d", "e", "f", "z"])
    model = fit_ials(data, factors=3, l2=1.0, confidence=10.0, top_k=10)
    w = _dense(model)
    assert w[0, 2] > 0  # a speaks for c through b; ItemKNN's cosine of a and c is 0
    assert _dense(fit_itemknn(data, shrink=0.0, top_k=10))[0, 2] == 0.0
    across = max(np.abs(w[:4, 4:6]).max(), np.abs(w[4:6, :4]).max())
    assert across < 1e-6 * w.max()  # the groups' factors separate, up to the solves' rounding
    assert not w[6].any() and not w[:, 6].any()  # nobody took z: no weights either way
    assert np.diag(w).tolist() == [0.0] * 7
    assert w[0, 1] > w[0, 2]  # two shared shoppers beat none
    again = _dense(fit_ials(data, factors=3, l2=1.0, confidence=10.0, top_k=10))
    assert np.array_equal(w, again), "a seeded fit is repeatable"


def test_ials_keeps_each_target_items_top_k_sources() -> None:
    data = InteractionMatrix.from_histories(CHAIN, ["a", "b", "c", "d", "e", "f"])
    full = _dense(fit_ials(data, factors=3, l2=1.0, confidence=10.0, top_k=10))
    pruned = _dense(fit_ials(data, factors=3, l2=1.0, confidence=10.0, top_k=1))
    for j in range(6):
        kept = np.flatnonzero(pruned[:, j])
        assert len(kept) == 1
        assert pruned[kept[0], j] == pytest.approx(full[:, j].max())


def test_ials_rejects_bad_hyper_parameters() -> None:
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c"])
    for bad, name in (({"factors": 0}, "factors"), ({"l2": 0.0}, "l2"), ({"confidence": 0.5}, "confidence"),
                      ({"iterations": 0}, "iterations"), ({"top_k": 0}, "top_k")):  # fmt: skip
        with pytest.raises(InvalidArgumentError, match=name):
            fit_ials(data, **bad)
