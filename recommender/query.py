"""Query vectors: the shopper's text encoded once (bounded LRU cache), and aligned into KG space."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from kgrec.embeddings.alignment import apply_alignment
from kgrec.embeddings.text_encoder import TextEncoder

QUERY_CACHE_SIZE = 10_000


class QueryEncoder:
    """Shop traffic repeats its top queries: their vectors are kept (bounded LRU)."""

    def __init__(self, encoder: TextEncoder) -> None:
        self.encoder = encoder
        self._cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, query: str) -> NDArray[np.float32]:
        key = " ".join(query.lower().split())
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        vector: NDArray[np.float32] = self.encoder.encode([key])[0]
        with self._lock:
            self._cache[key] = vector
            if len(self._cache) > QUERY_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    def encode_many(self, queries: Sequence[str], batch: int = 64) -> None:
        """Encode many known queries in batches (an evaluation's), far cheaper than one by one."""
        keys = list(dict.fromkeys(" ".join(q.lower().split()) for q in queries))
        for start in range(0, len(keys), batch):
            chunk = keys[start : start + batch]
            vectors = self.encoder.encode(chunk)
            with self._lock:
                for key, vector in zip(chunk, vectors, strict=True):
                    self._cache[key] = vector
                while len(self._cache) > QUERY_CACHE_SIZE:
                    self._cache.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


@dataclass(frozen=True, slots=True)
class QueryVectors:
    """The query as typed, its text vector, and that vector aligned into the KG space."""

    text: str
    text_vector: NDArray[np.float32]
    kg_vector: NDArray[np.float32]


def query_vectors(
    query: str | None, encoder: QueryEncoder, alignment: NDArray[np.float32]
) -> QueryVectors | None:
    """None for a request without query text."""
    text = (query or "").strip()
    if not text:
        return None
    vector = encoder.encode(text)
    return QueryVectors(text, vector, apply_alignment(alignment, vector))
