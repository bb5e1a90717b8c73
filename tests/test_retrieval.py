"""The vector indexes: one shared copy of the catalogue's vectors, and the size rule for HNSW."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrec.recommender import catalog_index, retrieval
from kgrec.recommender.request import RecommendationRequest
from kgrec.recommender.retrieval import ExactIndex, HnswIndex, build_index, normalise_rows
from tests import synthetic


def clustered(n: int, dim: int) -> np.ndarray:
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(20, dim))
    return normalise_rows(centres[rng.integers(0, 20, n)] + 0.3 * rng.normal(size=(n, dim)))


def test_exact_index_scans_the_callers_matrix_without_a_copy() -> None:
    data = clustered(500, 16)
    index = build_index(data)
    assert isinstance(index, ExactIndex)
    assert np.shares_memory(index.vectors, data)
    rows, scores = index.search(data[7], 3)
    assert rows[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-5)


def test_hnsw_is_chosen_by_stored_floats_and_gives_rows_back() -> None:
    data = clustered(2_000, 32)
    assert isinstance(build_index(data, scan_floats=2_000 * 32 + 1), ExactIndex)
    index = build_index(data, scan_floats=2_000 * 32)
    assert isinstance(index, HnswIndex)
    picked = np.array([0, 1999, 5], dtype=np.int64)
    np.testing.assert_allclose(index.rows(picked), data[picked], atol=1e-6)
    exact = ExactIndex(data)
    for probe in (3, 800, 1500):
        assert set(index.search(data[probe], 10)[0]) == set(exact.search(data[probe], 10)[0])


def test_normalise_in_place_keeps_zero_rows_zero() -> None:
    data = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)
    retrieval.normalise_in_place(data)
    np.testing.assert_allclose(data, [[0.6, 0.8], [0.0, 0.0]], atol=1e-6)


def test_catalogue_behind_hnsw_keeps_one_text_copy_and_reads_it_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "exact").mkdir()
    (tmp_path / "ann").mkdir()
    exact = synthetic.build(tmp_path / "exact").catalog
    monkeypatch.setattr(catalog_index, "build_index", lambda v: build_index(v, scan_floats=1))
    ann = synthetic.build(tmp_path / "ann").catalog
    assert isinstance(ann.text_index, HnswIndex) and isinstance(exact.text_index, ExactIndex)
    assert "text" not in vars(ann)  # nothing but the index holds the text vectors until asked
    assert exact.pids == ann.pids
    np.testing.assert_allclose(ann.text, exact.text, atol=1e-6)
    assert np.shares_memory(exact.text, exact.text_index.vectors)
    query = exact.text[3]
    assert exact.text_index.search(query, 5)[0][0] == ann.text_index.search(query, 5)[0][0] == 3


def test_a_query_behind_hnsw_reads_its_candidates_rows_not_the_whole_matrix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request path scores text by `text_rows`: serving a query does not materialise a
    second full copy of the text vectors beside hnswlib's, and ranks as the exact scan does."""
    (tmp_path / "exact").mkdir()
    (tmp_path / "ann").mkdir()
    exact = synthetic.build(tmp_path / "exact")
    monkeypatch.setattr(catalog_index, "build_index", lambda v: build_index(v, scan_floats=1))
    ann = synthetic.build(tmp_path / "ann")
    request = RecommendationRequest(query="dog bed", diversity=0.0)
    served = ann.recommend(request).as_dict()["items"]
    assert served
    assert "text" not in vars(ann.catalog)
    assert [i["id"] for i in served] == [i["id"] for i in exact.recommend(request).as_dict()["items"]]
