"""The collaborative candidate source of a running recommender, and how it stays fresh.

A shopper's own new events count at once (their history is read from the projection on
every request). The neighbour lists (which items go with which) are rebuilt in the
background once `REFRESH_EVENTS` new events have arrived, or once the oldest event they miss
is `REFRESH_SECONDS` old, whichever comes first: that is their documented staleness.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kgrec.recommender.collaborative.matrix import ItemItemModel
from kgrec.recommender.collaborative.neighbours import NeighbourLists, NeighbourSettings
from kgrec.recommender.fusion import FusionWeights
from kgrec.recommender.projection import GraphProjection

log = logging.getLogger(__name__)
REFRESH_EVENTS = 500
REFRESH_SECONDS = 600.0


class CollaborativeSource:
    def __init__(
        self,
        projection: GraphProjection,
        items: Sequence[str],
        popularity: NDArray[np.float32],
        artifact_dir: Path,
        settings: NeighbourSettings | None = None,
    ) -> None:
        self.projection = projection
        self.items = list(items)
        self.popularity = popularity
        self.artifact_dir = artifact_dir
        self.settings = settings or NeighbourSettings()
        loaded = NeighbourLists.load(artifact_dir, self.items)
        if loaded is None:
            loaded = NeighbourLists.build(projection, self.items, popularity, self.settings)
            loaded.save(artifact_dir)
        self.lists = loaded
        self.pending_events = 0
        self.oldest_pending: float | None = None
        self._lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None

    def refresh(self, *, ease: ItemItemModel | None = None) -> None:
        """Rebuild now from the projection as it is (the background rebuild calls this)."""
        lists = NeighbourLists.build(self.projection, self.items, self.popularity, self.settings, ease=ease)
        lists.save(self.artifact_dir)
        with self._lock:
            self.lists = lists

    def use_settings(self, settings: NeighbourSettings, *, ease: ItemItemModel | None = None) -> None:
        """Rebuild with other walk / EASE hyper-parameters (an evaluation's tuned ones; `ease`:
        its EASE fitted with them on the same interactions, see `NeighbourLists.build`)."""
        self.settings = settings
        self.refresh(ease=ease)

    def record_event(self, now: float | None = None) -> bool:
        """Count one live event; start a background rebuild when the lists have grown stale.
        True when a rebuild was started."""
        now = time.time() if now is None else now
        with self._lock:
            self.pending_events += 1
            self.oldest_pending = self.oldest_pending or now
            stale = self.pending_events >= REFRESH_EVENTS or now - self.oldest_pending >= REFRESH_SECONDS
            if not stale or (self._rebuilding is not None and self._rebuilding.is_alive()):
                return False
            self.pending_events, self.oldest_pending = 0, None
            self._rebuilding = threading.Thread(target=self._rebuild, name="kgrec-neighbours", daemon=True)
            self._rebuilding.start()
            return True

    def _rebuild(self) -> None:
        try:
            self.refresh()
        except Exception:
            log.exception("rebuilding the neighbour lists failed; the previous ones stay in use")

    def wait(self, timeout: float | None = None) -> None:
        """Until a background rebuild (if any) has finished."""
        thread = self._rebuilding
        if thread is not None:
            thread.join(timeout)

    def scores(
        self, rows: NDArray[np.int64], weights: NDArray[np.float32], fusion: FusionWeights
    ) -> dict[str, NDArray[np.float64]]:
        """Each source's score of every item for this history, plus their weighted `combined`:
        the item-item models' weighted mean (over the sources the lists hold; each already scaled
        so its best item is 1), plus the knowledge walk."""
        lists = self.lists
        out = {source: lists.scores(source, rows, weights) for source in lists.lists}
        shares = {
            "walk": fusion.walk_weight,
            "ease": fusion.ease_weight,
            "itemknn": fusion.itemknn_weight,
            "ials": fusion.ials_weight,
        }
        held = {name: share for name, share in shares.items() if name in out and share > 0}
        combined = np.zeros(len(self.items), dtype=np.float64)
        total = sum(held.values())
        for name, share in held.items():
            combined += share / total * out[name]
        if "knowledge" in out:
            combined += fusion.knowledge_walk * out["knowledge"]
        out["combined"] = combined
        return out
