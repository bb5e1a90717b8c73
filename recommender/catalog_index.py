"""Per-product arrays for serving: vectors, regions, prices, brands, popularity."""

from __future__ import annotations

import logging
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from kgrec.embeddings.artifacts import Artifact
from kgrec.embeddings.lexical import Bm25Index
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.regions import (
    ProductRegions,
    Regions,
    community_regions,
    load_regions,
    mapped_regions,
    taxonomy_regions,
)
from kgrec.recommender.retrieval import (
    CHUNK_ROWS,
    ExactIndex,
    HnswIndex,
    build_index,
    normalise_in_place,
    normalise_rows,
)

log = logging.getLogger(__name__)
MATCHED_CATEGORIES = 8
MATCH_THRESHOLD = 0.3


def _scaled_popularity(raw: NDArray[np.float64]) -> NDArray[np.float32]:
    """log(1 + count) over log(1 + the top count): 0..1, the long tail not squashed to 0."""
    top = raw.max() if raw.size else 0.0
    return (np.log1p(raw) / np.log1p(top) if top > 0 else raw).astype(np.float32)


def _raw_popularity(projection: GraphProjection, pids: list[str]) -> NDArray[np.float64]:
    return np.array([projection.popularity.get(p, 0.0) for p in pids], np.float64)


def product_popularity(projection: GraphProjection) -> NDArray[np.float32]:
    """The served popularity of `projection.product_ids`, without building the whole index
    (an evaluation tunes its baselines on it before the recommender is built)."""
    return _scaled_popularity(_raw_popularity(projection, list(projection.product_ids)))


class CatalogIndex:
    def __init__(self, projection: GraphProjection, artifact: Artifact, *, taxonomy_depth: int = 2) -> None:
        self.projection = projection
        self.artifact = artifact
        self.pids = list(projection.product_ids)
        self.row = {pid: i for i, pid in enumerate(self.pids)}
        n = len(self.pids)
        kg_dim, text_dim = int(artifact.manifest["vector_dim"]), int(artifact.manifest["text_dim"])
        kg = np.zeros((n, kg_dim), dtype=np.float32)
        text = np.zeros((n, text_dim), dtype=np.float32)
        # Fresh memory maps, dropped after the copy: the artifact's pages are not held as well.
        self._fill(kg, artifact.entity_index, artifact.matrix("entity_vectors.npy"))
        self._fill(text, artifact.text_index, artifact.matrix("text_vectors.npy"))
        overlay_ids, overlay_kg, overlay_text = artifact.load_overlay()
        overlay_index = {name: i for i, name in enumerate(overlay_ids)}
        self._fill(kg, overlay_index, overlay_kg)
        self._fill(text, overlay_index, overlay_text)
        self.has_vectors = np.linalg.norm(kg, axis=1) > 0
        missing = int((~self.has_vectors).sum())
        if missing:
            log.warning("%d products have no vectors yet: run `kgrec embed-new`", missing)
        normalise_in_place(kg)
        normalise_in_place(text)
        self.kg = kg
        self.kg_index: ExactIndex | HnswIndex = build_index(kg)
        # One copy of the text vectors: the exact index scans this matrix; behind HNSW the index's
        # own storage is the only copy (`text` reads it back for evaluation).
        self.text_index: ExactIndex | HnswIndex = build_index(text)
        del text
        self.lexical = Bm25Index([projection.name("Product", p) for p in self.pids])
        self.price = np.array([projection.product_price.get(p, np.nan) for p in self.pids], dtype=np.float64)
        self._raw_popularity = _raw_popularity(projection, self.pids)
        self.popularity = _scaled_popularity(self._raw_popularity)
        self._popularity_version = 0
        self._popular: tuple[int, int, NDArray[np.int64]] = (-1, 0, np.zeros(0, np.int64))
        self._group_events: dict[str, tuple[int, NDArray[np.int64], NDArray[np.float64]]] = {}
        self._categories(artifact)
        self.regions = self._regions(artifact, taxonomy_depth)

    def _fill(self, target: NDArray[np.float32], index: dict[str, int], source: NDArray[np.float32]) -> None:
        """Copy each product's row from `source`, a block at a time (no full-size temporary)."""
        rows, src = [], []
        for i, pid in enumerate(self.pids):
            j = index.get(f"Product:{pid}")
            if j is not None:
                rows.append(i)
                src.append(j)
        to, take = np.array(rows, dtype=np.int64), np.array(src, dtype=np.int64)
        for start in range(0, len(to), CHUNK_ROWS):
            target[to[start : start + CHUNK_ROWS]] = source[take[start : start + CHUNK_ROWS]]

    @cached_property
    def text(self) -> NDArray[np.float32]:
        """Every product's unit text vector: the exact index's matrix itself, or, behind HNSW, a
        copy read back from the index on first use (evaluation and benches; requests read
        `text_rows`)."""
        if isinstance(self.text_index, ExactIndex):
            return self.text_index.vectors
        return self.text_index.rows(np.arange(len(self.pids), dtype=np.int64))

    def text_rows(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """The unit text vectors of `rows`, from wherever the index holds them: a request reads
        its candidates' rows without materialising the whole matrix behind HNSW."""
        return self.text_index.rows(rows)

    def _categories(self, artifact: Artifact) -> None:
        names = [n for n in artifact.text_ids if n.startswith("Category:")]
        self.category_ids = [n.removeprefix("Category:") for n in names]
        rows = np.array([artifact.text_index[n] for n in names], dtype=np.int64)
        vectors = artifact.matrix("text_vectors.npy")
        self.category_text = normalise_rows(vectors[rows]) if len(rows) else None

    @property
    def raw_popularity(self) -> NDArray[np.float64]:
        """Each product's event count (live events included), unscaled."""
        return self._raw_popularity

    def events_per_group(self, name: str, codes: NDArray[np.int64]) -> NDArray[np.float64]:
        """The event counts summed per group code (`codes`: one per catalogue row, -1 for none),
        kept under `name` (for these very `codes`) until a live event changes a count: a request
        reads a few groups' totals, a sum over the whole catalogue each time would cost
        milliseconds at a million products."""
        cached = self._group_events.get(name)
        if cached is not None and cached[0] == self._popularity_version and cached[1] is codes:
            return cached[2]
        version, known = self._popularity_version, codes >= 0
        size = int(codes.max(initial=-1)) + 1
        counts = self._raw_popularity[known]
        totals = np.bincount(codes[known], weights=counts, minlength=size).astype(np.float64)
        self._group_events[name] = (version, codes, totals)
        return totals

    def update_popularity(self, pid: str) -> None:
        """A live event changed one product's count (in the projection): rescale its popularity.

        When it becomes the new top, every row rescales into a new array that replaces the old
        one at once; otherwise one element changes. Readers never see a half-rescaled array.
        The per-group event totals that are current move by the change, in a copy that replaces
        them whole, so a steady stream of events does not make every request sum the catalogue
        again. Callers serialise writers (`Recommender.record_event`)."""
        row = self.row.get(pid)
        if row is None:
            return
        raw = self.projection.popularity.get(pid, 0.0)
        change = raw - float(self._raw_popularity[row])
        # Moved before the count changes: a total a reader sums meanwhile carries the old version.
        version = self._popularity_version
        moved = {
            name: (codes, _moved(totals, int(codes[row]), change))
            for name, (kept, codes, totals) in list(self._group_events.items())
            if kept == version
        }
        top = float(self._raw_popularity.max())
        self._raw_popularity[row] = raw
        if raw > top:
            self.popularity = _scaled_popularity(self._raw_popularity)
        elif top > 0:
            self.popularity[row] = np.float32(np.log1p(raw) / np.log1p(top))
        self._popularity_version = version + 1
        for name, (codes, totals) in moved.items():
            self._group_events[name] = (version + 1, codes, totals)

    def most_popular(self, k: int) -> NDArray[np.int64]:
        """The rows of the `k` most popular products with any events, most popular first (ties in
        catalogue order). Sorted once and kept until a live event changes popularity: history
        requests read it on every call. The version read before sorting tags what is kept, so a
        sort that raced an event is redone on the next call."""
        version, sorted_k, rows = self._popular
        if version != self._popularity_version or sorted_k < k:
            version, popularity = self._popularity_version, self.popularity
            order = np.argsort(-popularity, kind="stable")[: max(k, 0)]
            rows = order[popularity[order] > 0]
            self._popular = (version, k, rows)
        return rows[:k]

    def categories_matching(self, text_vector: NDArray[np.float32]) -> list[str]:
        """Category ids whose name is close to a query's text vector, best first."""
        if self.category_text is None:
            return []
        sims = self.category_text @ text_vector
        n = min(MATCHED_CATEGORIES, sims.size)
        if n == 0:
            return []
        # A partial sort: only the best few of thousands of categories are read.
        top = np.argpartition(-sims, n - 1)[:n]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [self.category_ids[i] for i in top if sims[i] > MATCH_THRESHOLD]

    def _regions(self, artifact: Artifact, depth: int) -> dict[str, ProductRegions]:
        """Every region kind over the catalogue's rows."""
        tax, tax_names = taxonomy_regions(self.projection, depth)
        stored = load_regions(artifact.path)
        if stored is None:
            com, com_names = community_regions(self.projection)
        else:
            com, com_names = stored.community, {k: v for k, v in stored.names.items() if k.startswith("com:")}
        mapped, mapped_names = mapped_regions(self.projection)
        if mapped:
            log.info("%d of %d products in mapped regions", len(mapped), len(self.pids))
        out = {}
        kinds = (
            ("taxonomy", tax, tax_names),
            ("community", com, com_names),
            ("mapped", mapped, mapped_names),
        )
        for kind, mapping, names in kinds:
            ids = [mapping.get(pid) or tax[pid] for pid in self.pids]
            all_names = {**tax_names, **names}
            codes = {r: i for i, r in enumerate(sorted(set(ids)))}
            out[kind] = ProductRegions(ids, np.array([codes[r] for r in ids], dtype=np.int64), all_names)
        return out

    def stored_regions(self) -> Regions:
        taxonomy, community = self.regions["taxonomy"], self.regions["community"]
        return Regions(
            taxonomy=dict(zip(self.pids, taxonomy.ids, strict=True)),
            community=dict(zip(self.pids, community.ids, strict=True)),
            names={**taxonomy.names, **community.names},
        )


def _moved(totals: NDArray[np.float64], code: int, change: float) -> NDArray[np.float64]:
    """`totals` with group `code`'s moved by `change`, as a copy (none for code -1)."""
    if code < 0:
        return totals
    out = totals.copy()
    out[code] += change
    return out
