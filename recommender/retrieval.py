"""Nearest-neighbour retrieval: an exact numpy scan, or HNSW (hnswlib) for large catalogues."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]
ANN_THRESHOLD = 200_000


def normalise_rows(matrix: NDArray[np.floating]) -> Matrix:
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    out: Matrix = m / np.maximum(norms, 1e-9)
    return out


class ExactIndex:
    def __init__(self, vectors: Matrix) -> None:
        self.vectors = normalise_rows(vectors)

    def scores(self, query: NDArray[np.float32]) -> Matrix:
        q = query / max(float(np.linalg.norm(query)), 1e-9)
        out: Matrix = self.vectors @ q.astype(np.float32)
        return out

    def search(self, query: NDArray[np.float32], k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        scores = self.scores(query)
        k = min(k, scores.size)
        if k == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return top.astype(np.int64), scores[top]


class HnswIndex:
    """hnswlib cosine index; ef is sized for recall ≥ 0.95 against the exact scan (see bench)."""

    def __init__(self, vectors: Matrix, *, m: int = 16, ef_construction: int = 200, ef: int = 128) -> None:
        import hnswlib

        data = normalise_rows(vectors)
        self.index = hnswlib.Index(space="ip", dim=data.shape[1])
        self.index.init_index(max_elements=data.shape[0], M=m, ef_construction=ef_construction, random_seed=7)
        self.index.add_items(data, np.arange(data.shape[0]))
        self.index.set_ef(ef)
        self.size = data.shape[0]

    def search(self, query: NDArray[np.float32], k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        k = min(k, self.size)
        q = query / max(float(np.linalg.norm(query)), 1e-9)
        labels, distances = self.index.knn_query(q.reshape(1, -1).astype(np.float32), k=k)
        return labels[0].astype(np.int64), (1.0 - distances[0]).astype(np.float32)


def build_index(vectors: Matrix, *, threshold: int = ANN_THRESHOLD) -> ExactIndex | HnswIndex:
    return HnswIndex(vectors) if vectors.shape[0] >= threshold else ExactIndex(vectors)
