"""The collaborative candidate source of a running recommender, and how it stays fresh.

A shopper's own new events count at once (their history is read from the projection on
every request). The neighbour lists (which items go with which) are rebuilt in the
background once `REFRESH_EVENTS` new events have arrived, or once the oldest event they miss
is `REFRESH_SECONDS` old, whichever comes first: that is their documented staleness.
Shopper-kNN's profiles (the other shoppers' baskets, collaborative/shopperknn.py), fitted on
first use, are refitted in the same rebuild, so another shopper's `POST /v1/events` reaches them
within the same staleness; the requesting shopper's own row is left out of their neighbours.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kgrec.recommender.collaborative.knowledge_walk import knowledge_nodes
from kgrec.recommender.collaborative.matrix import InteractionMatrix, ItemItemModel
from kgrec.recommender.collaborative.neighbours import NeighbourLists, NeighbourSettings
from kgrec.recommender.collaborative.shopperknn import ShopperKNN, ShopperNeighbours, fit_shopperknn
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
        loaded = NeighbourLists.load(artifact_dir, self.items)
        # Without settings of its own, a source serves (and rebuilds with) the ones its saved
        # lists were built with: an evaluation's or a tuning's, not the defaults.
        self.settings = settings or (loaded.settings if loaded is not None else NeighbourSettings())
        if loaded is None or loaded.settings != self.settings:
            loaded = NeighbourLists.build(projection, self.items, popularity, self.settings)
            loaded.save(artifact_dir)
        self.lists = loaded
        self._shoppers: ShopperKNN | None = None
        self.pending_events = 0
        self.oldest_pending: float | None = None
        self._lock = threading.Lock()
        # One shopper-kNN fit at a time, outside `_lock`: events and requests do not wait for it.
        self._fitting = threading.Lock()
        # Held while the lists in use are replaced and saved, so the saved lists are the served
        # ones; events take only `_lock` and never wait for a save.
        self._saving = threading.Lock()
        self._rebuilding: threading.Thread | None = None

    def refresh(self, *, ease: ItemItemModel | None = None) -> None:
        """Rebuild now from the projection as it is (the background rebuild calls this). A build
        whose settings were replaced while it ran (`keep_weighted`, `use_settings`) is not
        installed, so it cannot bring back a list they took away; the build runs again with the
        new settings, so the events it covered still reach the lists. A shopper-kNN dropped
        meanwhile stays dropped."""
        while True:
            with self._lock:
                settings = self.settings
                in_use = self._shoppers is not None
            lists = NeighbourLists.build(self.projection, self.items, self.popularity, settings, ease=ease)
            shoppers = fit_shoppers(self.projection, self.items, settings) if in_use else None
            with self._saving:
                with self._lock:
                    if self.settings != settings:
                        log.info("neighbour settings changed during a rebuild; building again with them")
                        ease = None
                        continue
                    self.lists = lists
                    if shoppers is not None and self._shoppers is not None:
                        self._shoppers = shoppers
                lists.save(self.artifact_dir)
                return

    @property
    def shoppers(self) -> ShopperKNN:
        """Shopper-kNN, fitted on first use (a shop whose fusion gives it no weight never pays for
        it), then refitted with every rebuild of the lists."""
        return self._fitted_shoppers()

    def _fitted_shoppers(self) -> ShopperKNN:
        with self._lock:
            fitted = self._shoppers
        if fitted is not None:
            return fitted
        with self._fitting:
            with self._lock:
                fitted, settings = self._shoppers, self.settings
            if fitted is None:
                fitted = fit_shoppers(self.projection, self.items, settings)
                with self._lock:
                    # Settings replaced during the fit: this request uses it, nothing keeps it.
                    if self.settings == settings:
                        self._shoppers = self._shoppers or fitted
                        fitted = self._shoppers
            return fitted

    @property
    def shoppers_ready(self) -> bool:
        with self._lock:
            return self._shoppers is not None

    def warm_shoppers(self) -> threading.Thread:
        """Fit shopper-kNN in the background now: a shop whose fusion weighs it would otherwise
        make its first history request wait for the whole fit."""
        thread = threading.Thread(target=self._warm, name="kgrec-shoppers", daemon=True)
        thread.start()
        return thread

    def _warm(self) -> None:
        try:
            self._fitted_shoppers()
        except Exception:
            log.exception("fitting shopper-kNN failed; the first request that needs it fits it again")

    def use_settings(self, settings: NeighbourSettings, *, ease: ItemItemModel | None = None) -> None:
        """Rebuild with other walk / EASE hyper-parameters (an evaluation's tuned ones; `ease`:
        its EASE fitted with them on the same interactions, see `NeighbourLists.build`)."""
        with self._lock:
            self.settings = settings
        self.refresh(ease=ease)

    def keep_weighted(self, fusion: FusionWeights) -> None:
        """Drop what `fusion` gives no weight, once an evaluation has chosen it: the iALS list
        (its settings then say 0 factors and are saved with the lists, so neither a recommender
        built with them, a reopening nor a background rebuild fits iALS again) and a shopper-kNN
        the weight ascent fitted (a rebuild refits it only where in use). The ranker reads
        neither (recommender/ranker.py `SOURCES`); `neighbour_shoppers` fits it again should a
        fusion weigh it later."""
        with self._saving:
            with self._lock:
                if fusion.shopperknn_weight <= 0:
                    self._shoppers = None
                if fusion.ials_weight > 0 or self.settings.ials_factors == 0:
                    return
                self.settings = replace(self.settings, ials_factors=0)
                lists = self.lists
                self.lists = replace(
                    lists,
                    lists={name: m for name, m in lists.lists.items() if name != "ials"},
                    settings=self.settings,
                )
                kept = self.lists
            kept.save(self.artifact_dir)

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

    def neighbour_shoppers(
        self, rows: NDArray[np.int64], fusion: FusionWeights, user: str | None = None
    ) -> ShopperNeighbours | None:
        """The shoppers most like this history (`user`, its owner, left out); None when the
        fusion gives shopper-kNN no weight (then it costs nothing)."""
        if fusion.shopperknn_weight <= 0 or not rows.size:
            return None
        return self.shoppers.neighbours(rows, exclude=user)

    def scores(
        self,
        rows: NDArray[np.int64],
        weights: NDArray[np.float32],
        fusion: FusionWeights,
        shoppers: ShopperNeighbours | None = None,
    ) -> dict[str, NDArray[np.float64]]:
        """Each source's score of every item for this history, plus their weighted `combined`:
        the item-item models' and shopper-kNN's (`shoppers`, `neighbour_shoppers`) weighted mean
        (over the sources held; each scaled so its best item is 1), plus the knowledge walk."""
        lists = self.lists
        out = {source: lists.scores(source, rows, weights) for source in lists.lists}
        if shoppers is not None:
            out["shopperknn"] = shoppers.scaled()
        shares = {
            "walk": fusion.walk_weight,
            "ease": fusion.ease_weight,
            "itemknn": fusion.itemknn_weight,
            "shopperknn": fusion.shopperknn_weight,
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


def fit_shoppers(
    projection: GraphProjection, items: Sequence[str], settings: NeighbourSettings
) -> ShopperKNN:
    """Shopper-kNN over the projection's shoppers (their pseudonyms), with `settings`' shrink,
    neighbours and catalogue-node weight."""
    data = InteractionMatrix.from_histories(projection.item_histories(), items)
    weight = settings.shopperknn_knowledge
    return fit_shopperknn(
        data,
        shrink=settings.shopperknn_shrink,
        top_k=settings.shopperknn_top_k,
        knowledge=knowledge_nodes(projection, items) if weight > 0 else None,
        knowledge_weight=weight,
    )
