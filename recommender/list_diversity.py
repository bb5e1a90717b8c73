"""How varied one list is: what every response reports (evaluation/metrics.py re-exports these)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from numpy.typing import NDArray


def intra_list_distance(vectors: NDArray[np.floating]) -> float:
    """Mean pairwise 1 - cosine (0 for fewer than two items)."""
    n = vectors.shape[0]
    if n < 2:
        return 0.0
    v = np.asarray(vectors, dtype=np.float64)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return float((1.0 - (v @ v.T)[np.triu_indices(n, k=1)]).mean())


def filter_bubble_share(regions: Sequence[str], user_top_regions: Collection[str]) -> float:
    """Share of the list inside the user's top history regions."""
    if not regions:
        return 0.0
    return sum(1 for r in regions if r in user_top_regions) / len(regions)
