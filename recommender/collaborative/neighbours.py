"""Precomputed neighbour lists: kgrec's collaborative candidate source and score components.

Built from the graph projection (the store's `INTERACTED`, `IN_CATEGORY`, `HAS_BRAND` and
`HAS_ATTRIBUTE` edges), kept in the artifact beside the vectors, each item's top neighbours
per source:
- `walk`: RP3beta random walks item → shopper → item;
- `ease`: the EASE^R item-item regression (items someone took; skipped above `EASE_MAX_ITEMS`);
- `itemknn`: cosine similarity of the items' shopper sets, shrunk for rare pairs (with
  `itemknn_knowledge` > 0 the sets also hold the items' catalogue nodes, `fit_itemknn`);
- `ials`: iALS's item-item form (only with `ials_factors` > 0 and where EASE is built);
- `knowledge`: walks item → category / brand / attribute value → item, which reach items
  nobody has taken yet.
A request's score for an item is the sum of its history items' weights towards it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from kgrec.graph.atomic_write import write_text_atomically
from kgrec.recommender.collaborative.ease import fit_ease
from kgrec.recommender.collaborative.ials import fit_ials
from kgrec.recommender.collaborative.itemknn import fit_itemknn
from kgrec.recommender.collaborative.knowledge_walk import fit_knowledge_walk, knowledge_nodes
from kgrec.recommender.collaborative.matrix import InteractionMatrix, ItemItemModel, keep_top_k_per_column
from kgrec.recommender.collaborative.rp3beta import fit_rp3beta
from kgrec.recommender.projection import GraphProjection

log = logging.getLogger(__name__)
SOURCES = ("walk", "ease", "itemknn", "ials", "knowledge")
# Built for every catalogue (EASE only below EASE_MAX_ITEMS): an artifact missing one is rebuilt.
ALWAYS_BUILT = ("walk", "itemknn", "knowledge")
FILE = "neighbours.npz"
MANIFEST = "neighbours.json"
EASE_MAX_ITEMS = 15_000
# Lists of another version are rebuilt at load (2: ItemKNN no longer pruned on the source side).
VERSION = 2


@dataclass(frozen=True, slots=True)
class NeighbourSettings:
    neighbours: int = 100
    walk_alpha: float = 0.5
    walk_beta: float = 0.3
    ease_l2: float = 100.0
    itemknn_shrink: float = 50.0
    itemknn_top_k: int = 100
    # The weight of the catalogue-node rows stacked under ItemKNN's shopper rows (0: shoppers only).
    itemknn_knowledge: float = 0.0
    # Shopper-kNN (collaborative/shopperknn.py): fitted beside the lists, scored per request.
    shopperknn_shrink: float = 10.0
    shopperknn_top_k: int = 100
    shopperknn_knowledge: float = 0.0
    # iALS's latent factors (0: no `ials` list), its ridge, its confidence in a taken item and
    # the neighbours each target item keeps.
    ials_factors: int = 0
    ials_l2: float = 100.0
    ials_confidence: float = 40.0
    ials_top_k: int = 100


def _as_lists(model: ItemItemModel, k: int) -> sp.csr_matrix:
    """The model's weights over the whole catalogue, as sparse rows. A sparse model is kept as
    its fit pruned it (ItemKNN keeps each target's top neighbours, the walks each source's top
    items): pruning it again on the other side would make the lists rank otherwise than the
    baseline they are tuned as. A dense model (EASE) keeps each source item's top `k`."""
    if model.covered is None:
        return sp.csr_matrix(model.weights, dtype=np.float64)
    n = len(model.items)
    block = np.asarray(model.weights)
    cols = np.argpartition(-block, min(k, block.shape[1]) - 1, axis=1)[:, :k]
    rows = np.repeat(np.arange(block.shape[0]), cols.shape[1])
    values = block[rows, cols.ravel()]
    full = sp.csr_matrix(
        (values, (model.covered[rows], model.covered[cols.ravel()])), shape=(n, n), dtype=np.float64
    )
    return keep_top_k_per_column(full.T, k).T.tocsr()


@dataclass(slots=True)
class NeighbourLists:
    items: list[str]
    lists: dict[str, sp.csr_matrix]
    interactions: int
    built_at: float
    settings: NeighbourSettings = field(default_factory=NeighbourSettings)

    @classmethod
    def build(
        cls,
        projection: GraphProjection,
        items: Sequence[str],
        popularity: NDArray[np.float32],
        settings: NeighbourSettings | None = None,
        *,
        ease: ItemItemModel | None = None,
    ) -> NeighbourLists:
        """`ease`: EASE already fitted on these interactions with `settings.ease_l2` (an
        evaluation's tuned baseline); its dense inverse is most of a build, so it is not fitted
        twice. Ignored when it covers another item list."""
        settings = settings or NeighbourSettings()
        started = time.perf_counter()
        data = InteractionMatrix.from_histories(projection.item_histories(), items)
        k = settings.neighbours
        walk = fit_rp3beta(data, alpha=settings.walk_alpha, beta=settings.walk_beta, top_k=k)
        itemknn = fit_itemknn(
            data,
            shrink=settings.itemknn_shrink,
            top_k=settings.itemknn_top_k,
            knowledge=knowledge_nodes(projection, items) if settings.itemknn_knowledge > 0 else None,
            knowledge_weight=settings.itemknn_knowledge,
        )
        lists = {
            "walk": _as_lists(walk, k),
            "itemknn": _as_lists(itemknn, k),
            "knowledge": _as_lists(fit_knowledge_walk(projection, items, popularity, top_k=k), k),
        }
        taken = int((data.item_degree() > 0).sum())
        if 0 < taken <= EASE_MAX_ITEMS:
            fitted = ease if ease is not None and ease.items == data.items else None
            lists["ease"] = _as_lists(fitted or fit_ease(data, l2=settings.ease_l2), k)
            if settings.ials_factors > 0:
                ials = fit_ials(
                    data,
                    factors=settings.ials_factors,
                    l2=settings.ials_l2,
                    confidence=settings.ials_confidence,
                    top_k=settings.ials_top_k,
                )
                lists["ials"] = _as_lists(ials, k)
        else:
            log.info("EASE skipped: %d items with interactions (limit %d)", taken, EASE_MAX_ITEMS)
        log.info("neighbour lists for %d items in %.1f s", len(items), time.perf_counter() - started)
        return cls(list(items), lists, int(data.matrix.nnz), time.time(), settings)

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {}
        for name, matrix in self.lists.items():
            arrays[f"{name}_indptr"] = matrix.indptr
            arrays[f"{name}_indices"] = matrix.indices
            arrays[f"{name}_data"] = matrix.data.astype(np.float32)
        # Beside the target, then renamed over it: two workers rebuilding into one artifact after
        # an `--apply`, or a reader starting meanwhile, never see half a file.
        tmp = directory / f".{FILE}-{os.getpid()}-{threading.get_ident()}.tmp"
        try:
            with tmp.open("wb") as handle:
                np.savez_compressed(handle, **arrays)
            os.replace(tmp, directory / FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        manifest = {
            "version": VERSION,
            "items": self.items,
            "sources": sorted(self.lists),
            "interactions": self.interactions,
            "built_at": self.built_at,
            "settings": {f: getattr(self.settings, f) for f in NeighbourSettings.__slots__},
        }
        write_text_atomically(directory / MANIFEST, json.dumps(manifest))
        return directory / FILE

    @classmethod
    def load(cls, directory: Path, items: Sequence[str]) -> NeighbourLists | None:
        """None when the artifact has none, lacks a source, was built for another catalogue order
        or by another version of the build, or cannot be read (the caller rebuilds)."""
        try:
            return cls._read(directory, items)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile) as exc:
            log.warning("neighbour lists in %s unreadable (%s); rebuilding them", directory, exc)
            return None

    @classmethod
    def _read(cls, directory: Path, items: Sequence[str]) -> NeighbourLists | None:
        if not (directory / FILE).is_file() or not (directory / MANIFEST).is_file():
            return None
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("version") != VERSION or manifest["items"] != list(items):
            return None
        if not set(ALWAYS_BUILT) <= set(manifest["sources"]):
            return None
        n = len(items)
        with np.load(directory / FILE) as arrays:
            lists = {
                name: sp.csr_matrix(
                    (
                        arrays[f"{name}_data"].astype(np.float64),
                        arrays[f"{name}_indices"],
                        arrays[f"{name}_indptr"],
                    ),
                    shape=(n, n),
                )
                for name in manifest["sources"]
            }
        settings = NeighbourSettings(**manifest["settings"])
        return cls(list(items), lists, int(manifest["interactions"]), float(manifest["built_at"]), settings)

    def scores(
        self, source: str, rows: NDArray[np.int64], weights: NDArray[np.float32]
    ) -> NDArray[np.float64]:
        """Every item's score from the history `rows` (weighted), scaled so the best is 1."""
        matrix = self.lists.get(source)
        if matrix is None or rows.size == 0:
            return np.zeros(len(self.items), dtype=np.float64)
        out = np.asarray(matrix[rows].T @ np.asarray(weights, dtype=np.float64), dtype=np.float64).ravel()
        best = float(out.max())
        return out / best if best > 0 else out

    def strongest(self, source: str, rows: Sequence[int], target: int) -> int | None:
        """The history row whose neighbour list gives `target` the most weight (for explanations)."""
        matrix = self.lists.get(source)
        if matrix is None or not rows:
            return None
        weights = np.asarray(matrix[list(rows), target].toarray()).ravel()
        best = int(np.argmax(weights))
        return int(rows[best]) if weights[best] > 0 else None
