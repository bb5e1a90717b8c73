"""ItemKNN, EASE^R and RP3beta against weights worked out by hand on tiny matrices."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.collaborative import (
    InteractionMatrix,
    ItemItemModel,
    fit_ease,
    fit_itemknn,
    fit_rp3beta,
)
from kgrec.recommender.collaborative.ease import _spd_inverse, regularised_inverse


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


def test_itemknn_knowledge_must_cover_the_items() -> None:
    data = InteractionMatrix.from_histories(FOUR, ["a", "b", "c"])
    with pytest.raises(InvalidArgumentError, match="knowledge"):
        fit_itemknn(data, knowledge=sp.csr_matrix(np.ones((2, 1))), knowledge_weight=1.0)
    with pytest.raises(InvalidArgumentError, match="knowledge_weight"):
        fit_itemknn(data, knowledge=sp.csr_matrix(np.ones((3, 1))), knowledge_weight=-1.0)
