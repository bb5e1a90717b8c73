"""Keyword search over product titles with Lucene's BM25, in process.

The scoring is Lucene's `BM25Similarity` (k1 1.2, b 0.75, idf ln(1 + (N − df + 0.5)/(df + 0.5)),
tf/(tf + k1·(1 − b + b·len/avglen)) as Lucene ≥ 8 writes it, query terms OR-ed, a repeated
query term counted again) over tokens cut like Lucene's standard analyzer without stop words
(runs of letters and digits, joined across a `.`, `,` or apostrophe between two of them as in
`3.5`; lower-cased): what Neo4j's full-text index computes, checked against it in
tests/test_lexical.py. Keeping it in process means a recommendation costs no round trip, and
the in-memory store scores as Neo4j does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

K1 = 1.2
B = 0.75
_TOKEN = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*")


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


class Bm25Index:
    """One row per document; `search` returns (row, score) best first."""

    def __init__(self, documents: Sequence[str]) -> None:
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        for row, text in enumerate(documents):
            for token in tokenize(text):
                rows.append(row)
                cols.append(vocabulary.setdefault(token, len(vocabulary)))
        n_docs = len(documents)
        counts = sparse.csr_matrix(
            (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_docs, max(len(vocabulary), 1))
        )
        counts.sum_duplicates()
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        average = float(lengths.mean()) if n_docs else 1.0
        df = np.diff(counts.tocsc().indptr).astype(np.float64)
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        norm = K1 * (1 - B + B * lengths / max(average, 1e-9))
        tf = counts.tocoo()
        weights = tf.data / (tf.data + norm[tf.row])
        # Column-major: a query reads the few columns of its terms.
        self.weights = sparse.csc_matrix((weights.astype(np.float32), (tf.row, tf.col)), shape=counts.shape)
        self.vocabulary = vocabulary
        self.size = n_docs

    def scores(self, query: str) -> NDArray[np.float32]:
        """BM25 of every document for the query (0 where no term matches)."""
        out = np.zeros(self.size, dtype=np.float32)
        for token in tokenize(query):
            col = self.vocabulary.get(token)
            if col is None:
                continue
            start, end = self.weights.indptr[col], self.weights.indptr[col + 1]
            out[self.weights.indices[start:end]] += self.idf[col] * self.weights.data[start:end]
        return out

    def search(self, query: str, limit: int) -> list[tuple[int, float]]:
        scores = self.scores(query)
        hits = np.flatnonzero(scores)
        if hits.size > limit:
            hits = hits[np.argpartition(-scores[hits], limit - 1)[:limit]]
        order = hits[np.lexsort((hits, -scores[hits]))]
        return [(int(i), float(scores[i])) for i in order]
