"""Beyond-accuracy properties of one list, reported with every recommendation."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from numpy.typing import NDArray


def intra_list_distance(vectors: NDArray[np.floating]) -> float:
    """Mean pairwise 1 - cosine over the list (0 for fewer than two items)."""
    n = vectors.shape[0]
    if n < 2:
        return 0.0
    v = np.asarray(vectors, dtype=np.float64)
    v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    sims = v @ v.T
    return float((1.0 - sims[np.triu_indices(n, k=1)]).mean())


def regions_covered(regions: Sequence[str]) -> int:
    return len(set(regions))


def filter_bubble_share(regions: Sequence[str], user_top_regions: Collection[str]) -> float | None:
    """Share of the list inside the user's top history regions; None without a history."""
    if not user_top_regions or not regions:
        return None
    return sum(1 for r in regions if r in user_top_regions) / len(regions)
