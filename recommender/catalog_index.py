"""Per-product arrays for serving: vectors, regions, prices, brands, popularity."""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import NDArray

from embeddings.artifacts import Artifact
from recommender.lexical import Bm25Index
from recommender.projection import GraphProjection
from recommender.regions import Regions, community_regions, load_regions, taxonomy_regions
from recommender.retrieval import ExactIndex, HnswIndex, build_index, normalise_rows

log = logging.getLogger(__name__)
REGION_KINDS = ("taxonomy", "community")


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
        self._fill(kg, artifact.entity_index, np.asarray(artifact.entity_vectors))
        self._fill(text, artifact.text_index, np.asarray(artifact.text_vectors))
        overlay_ids, overlay_kg, overlay_text = artifact.load_overlay()
        overlay_index = {name: i for i, name in enumerate(overlay_ids)}
        self._fill(kg, overlay_index, overlay_kg)
        self._fill(text, overlay_index, overlay_text)
        self.has_vectors = np.linalg.norm(kg, axis=1) > 0
        missing = int((~self.has_vectors).sum())
        if missing:
            log.warning("%d products have no vectors yet: run `kgrec embed-new`", missing)
        self.kg = normalise_rows(kg)
        self.text = normalise_rows(text)
        self.kg_index: ExactIndex | HnswIndex = build_index(self.kg)
        self.text_index: ExactIndex | HnswIndex = build_index(self.text)
        self.lexical = Bm25Index([projection.name("Product", p) for p in self.pids])
        self.price = np.array([projection.product_price.get(p, np.nan) for p in self.pids], dtype=np.float64)
        pop = np.array([projection.popularity.get(p, 0.0) for p in self.pids], dtype=np.float64)
        top = pop.max() if pop.size else 0.0
        self.popularity = (np.log1p(pop) / np.log1p(top) if top > 0 else pop).astype(np.float32)
        self._categories(artifact)
        self.regions = self._regions(artifact, taxonomy_depth)

    def _fill(self, target: NDArray[np.float32], index: dict[str, int], source: NDArray[np.float32]) -> None:
        rows, src = [], []
        for i, pid in enumerate(self.pids):
            j = index.get(f"Product:{pid}")
            if j is not None:
                rows.append(i)
                src.append(j)
        if rows:
            target[np.array(rows)] = source[np.array(src)]

    def _categories(self, artifact: Artifact) -> None:
        names = [n for n in artifact.text_ids if n.startswith("Category:")]
        self.category_ids = [n.removeprefix("Category:") for n in names]
        rows = np.array([artifact.text_index[n] for n in names], dtype=np.int64)
        self.category_text = normalise_rows(np.asarray(artifact.text_vectors)[rows]) if len(rows) else None

    def _regions(
        self, artifact: Artifact, depth: int
    ) -> dict[str, tuple[list[str], NDArray[np.int64], dict[str, str]]]:
        """For each region kind: the region id per product, int codes, and names."""
        tax, tax_names = taxonomy_regions(self.projection, depth)
        stored = load_regions(artifact.path)
        if stored is None:
            com, com_names = community_regions(self.projection)
        else:
            com, com_names = stored.community, {k: v for k, v in stored.names.items() if k.startswith("com:")}
        out = {}
        for kind, mapping, names in (("taxonomy", tax, tax_names), ("community", com, com_names)):
            ids = [mapping.get(pid) or tax[pid] for pid in self.pids]
            all_names = {**tax_names, **names}
            codes = {r: i for i, r in enumerate(sorted(set(ids)))}
            out[kind] = (ids, np.array([codes[r] for r in ids], dtype=np.int64), all_names)
        return out

    def stored_regions(self) -> Regions:
        tax_ids, _, names = self.regions["taxonomy"]
        com_ids, _, com_names = self.regions["community"]
        return Regions(
            taxonomy=dict(zip(self.pids, tax_ids, strict=True)),
            community=dict(zip(self.pids, com_ids, strict=True)),
            names={**names, **com_names},
        )
