"""Concurrent one-query encodes share forward passes and get exactly their own vectors."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from kgrec.embeddings.batching_encoder import BatchingEncoder
from kgrec.embeddings.text_encoder import HashingTextEncoder, Matrix


class SlowEncoder:
    """The real hashing encoder, made to take 20 ms a call like a model's forward pass does."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.inner = HashingTextEncoder(dim=16)
        self.name, self.dim = self.inner.name, self.inner.dim
        self.calls: list[int] = []
        self.fail_on = fail_on

    def encode(self, texts: Sequence[str]) -> Matrix:
        self.calls.append(len(texts))
        time.sleep(0.02)
        if self.fail_on in texts:
            raise ValueError(f"cannot encode {self.fail_on!r}")
        return self.inner.encode(texts)


def _encode_concurrently(encoder: BatchingEncoder, texts: list[str]) -> dict[str, object]:
    results: dict[str, object] = {}
    start = threading.Barrier(len(texts))

    def one(text: str) -> None:
        start.wait()
        try:
            results[text] = encoder.encode([text])
        except ValueError as exc:
            results[text] = exc

    threads = [threading.Thread(target=one, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    return results


def test_concurrent_queries_share_passes_and_get_their_own_vectors() -> None:
    slow = SlowEncoder()
    encoder = BatchingEncoder(slow, max_batch=8)
    texts = [f"query number {i}" for i in range(24)]
    results = _encode_concurrently(encoder, texts)
    reference = HashingTextEncoder(dim=16)
    for text in texts:
        vector = results[text]
        assert isinstance(vector, np.ndarray) and vector.shape == (1, 16)
        np.testing.assert_array_equal(vector, reference.encode([text]))
    assert encoder.encoded == 24
    assert encoder.batches < 24
    assert max(slow.calls) <= 8


def test_an_encoder_error_reaches_every_caller_of_its_batch_and_the_next_call_works() -> None:
    encoder = BatchingEncoder(SlowEncoder(fail_on="bad"), max_batch=64)
    results = _encode_concurrently(encoder, ["bad", *(f"q{i}" for i in range(7))])
    assert isinstance(results["bad"], ValueError)
    assert all(isinstance(v, (ValueError, np.ndarray)) for v in results.values())
    assert encoder.encode(["fine"]).shape == (1, 16)
    with pytest.raises(ValueError, match="cannot encode 'bad'"):
        encoder.encode(["bad"])


def test_bulk_encodes_pass_straight_through() -> None:
    slow = SlowEncoder()
    encoder = BatchingEncoder(slow)
    assert encoder.encode(["a", "b", "c"]).shape == (3, 16)
    assert slow.calls == [3]
    assert encoder.batches == 0
