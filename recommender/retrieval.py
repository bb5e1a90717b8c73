"""Nearest-neighbour retrieval: an exact numpy scan, or HNSW (hnswlib) for large catalogues.

Memory: the catalogue's normalised matrix is held once. The exact index scans that very
matrix (no copy); an HNSW index holds the vectors in hnswlib's own storage, so the catalogue
then drops its matrix and reads rows back from the index (`CatalogIndex.text_rows`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]
# From `python -m bench.ann_threshold_bench` (docs/benchmarks.md, session 6): an exact scan
# costs ~0.15-0.3 ms per million stored floats a query, HNSW 0.1-0.5 ms at any size (recall@50
# 0.97-1.0 from ~20k rows). From this many floats (rows × dim: 20.8k text vectors of 384 dims,
# 125k KG vectors of 64) the scan passes ~1.5 ms a request and HNSW is worth its build time.
ANN_SCAN_FLOATS = 8_000_000
CHUNK_ROWS = 65_536


def normalise_rows(matrix: NDArray[np.floating]) -> Matrix:
    """A new float32 matrix of unit rows (zero rows stay zero)."""
    out = np.array(matrix, dtype=np.float32)
    normalise_in_place(out)
    return out


def normalise_in_place(matrix: Matrix) -> None:
    """Unit rows without a second full-size temporary: large catalogues go chunk by chunk."""
    for start in range(0, matrix.shape[0], CHUNK_ROWS):
        block = matrix[start : start + CHUNK_ROWS]
        block /= np.maximum(np.linalg.norm(block, axis=1, keepdims=True), 1e-9)


class ExactIndex:
    """Scans `vectors`, which must already have unit rows; it is shared, not copied."""

    def __init__(self, vectors: Matrix) -> None:
        self.vectors = vectors
        self.size = vectors.shape[0]

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

    def rows(self, rows: NDArray[np.int64]) -> Matrix:
        out: Matrix = self.vectors[rows]
        return out


class HnswIndex:
    """hnswlib cosine index over unit rows; ef is sized for recall ≥ 0.95 against the exact scan
    (see bench). hnswlib keeps its own float32 copy of every vector."""

    def __init__(self, vectors: Matrix, *, m: int = 16, ef_construction: int = 200, ef: int = 128) -> None:
        import hnswlib

        self.dim = vectors.shape[1]
        self.index = hnswlib.Index(space="ip", dim=self.dim)
        self.index.init_index(
            max_elements=vectors.shape[0], M=m, ef_construction=ef_construction, random_seed=7
        )
        for start in range(0, vectors.shape[0], CHUNK_ROWS):
            block = np.ascontiguousarray(vectors[start : start + CHUNK_ROWS], dtype=np.float32)
            self.index.add_items(block, np.arange(start, start + block.shape[0]))
        self.index.set_ef(ef)
        self.size = vectors.shape[0]

    def search(self, query: NDArray[np.float32], k: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        k = min(k, self.size)
        q = query / max(float(np.linalg.norm(query)), 1e-9)
        labels, distances = self.index.knn_query(q.reshape(1, -1).astype(np.float32), k=k)
        return labels[0].astype(np.int64), (1.0 - distances[0]).astype(np.float32)

    def rows(self, rows: NDArray[np.int64]) -> Matrix:
        """The stored vectors of these rows (a copy: for evaluation, not the request path)."""
        if len(rows) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out: Matrix = np.asarray(self.index.get_items(rows.tolist(), return_type="numpy"), dtype=np.float32)
        return out


def uses_ann(vectors: Matrix, *, scan_floats: int = ANN_SCAN_FLOATS) -> bool:
    return int(vectors.shape[0]) * int(vectors.shape[1]) >= scan_floats


def build_index(vectors: Matrix, *, scan_floats: int = ANN_SCAN_FLOATS) -> ExactIndex | HnswIndex:
    """`vectors` must have unit rows (`normalise_rows`)."""
    return HnswIndex(vectors) if uses_ann(vectors, scan_floats=scan_floats) else ExactIndex(vectors)
