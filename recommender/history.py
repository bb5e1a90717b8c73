"""The history stage: the shopper's known events and the request's history ids, as weighted rows."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from kgrec.graph.pseudonym import pseudonymise
from kgrec.recommender.projection import KIND_WEIGHTS, GraphProjection

RegionKey = TypeVar("RegionKey", int, str)


@dataclass(slots=True)
class History:
    rows: NDArray[np.int64]
    weights: NDArray[np.float32]
    items: list[str]
    purchased: set[str]
    user: str | None
    notes: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def build_history(
    projection: GraphProjection,
    row: dict[str, int],
    *,
    user_id: str | None,
    history: Sequence[str],
    pseudonym_key: bytes,
    half_life_days: float,
    position_half_life: float = 5.0,
    weighting: float = 1.0,
) -> History:
    """Known events weigh by kind, count and recency; request ids by position (newest most).
    `weighting` is the share of that weighting in each item's weight, the rest 1 per item: at 0
    every item weighs the same, as in the item-item baselines (their order stays the weighted
    one). Unknown request ids are listed in `ignored`, an unknown user in `notes`."""
    notes: list[str] = []
    ignored: list[str] = []
    items: list[tuple[str, float]] = []
    purchased: set[str] = set()
    user: str | None = None
    if user_id:
        pseudo = pseudonymise(user_id, pseudonym_key)
        events = projection.user_history.get(pseudo)
        if not events:
            notes.append("unknown user: treated as anonymous")
        else:
            user = pseudo
            newest = max(e.last_ts for e in events)
            half_life = half_life_days * 86400
            for e in events:
                recency = 0.5 ** ((newest - e.last_ts) / half_life)
                items.append((e.item, KIND_WEIGHTS.get(e.kind, 0.25) * (1 + math.log(e.events)) * recency))
                if e.kind == "purchase":
                    purchased.add(e.item)
    n = len(history)
    for position, pid in enumerate(history):
        if pid not in row:
            ignored.append(pid)
            continue
        items.append((pid, 0.5 ** ((n - 1 - position) / position_half_life)))
    merged: dict[str, float] = {}
    for pid, w in items:
        if pid in row:
            merged[pid] = merged.get(pid, 0.0) + w
    ordered = sorted(merged.items(), key=lambda kv: -kv[1])
    rows = np.array([row[p] for p, _ in ordered], dtype=np.int64)
    weights = np.array([(1 - weighting) + weighting * w for _, w in ordered], dtype=np.float32)
    return History(rows, weights, [p for p, _ in ordered], purchased, user, notes, ignored)


def history_region_weights(history: History, region_of_row: Sequence[RegionKey]) -> Counter[RegionKey]:
    """How much of the shopper's (weighted) history falls in each region."""
    weights: Counter[RegionKey] = Counter()
    for row, w in zip(history.rows.tolist(), history.weights.tolist(), strict=True):
        weights[region_of_row[row]] += w
    return weights


def history_centroid(history: History, kg: NDArray[np.float32]) -> NDArray[np.float32] | None:
    """The weighted sum of the history's KG vectors; None without history."""
    if not history.rows.size:
        return None
    centroid: NDArray[np.float32] = (history.weights[:, None] * kg[history.rows]).sum(axis=0)
    return centroid
