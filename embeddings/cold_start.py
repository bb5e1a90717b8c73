"""KG-space vectors for products loaded after training, from their text and graph neighbours."""

from __future__ import annotations

import logging
from collections.abc import Collection

import numpy as np

from kgrec.embeddings.alignment import apply_alignment
from kgrec.embeddings.artifacts import Artifact
from kgrec.embeddings.build import write_back
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.embeddings.texts import product_text
from kgrec.embeddings.triples import entity_label
from kgrec.graph.records import brand_id
from kgrec.graph.store import GraphStore

log = logging.getLogger(__name__)
TEXT_WEIGHT = 0.5


def embed_new_products(
    store: GraphStore,
    artifact: Artifact,
    encoder: TextEncoder,
    *,
    product_ids: Collection[str] | None = None,
) -> int:
    """Aligned text vector blended with the mean of its category and brand KG vectors."""
    artifact.require_encoder(encoder.name, encoder.dim)
    known = artifact.entity_index
    old_ids, old_kg, old_text = artifact.load_overlay()
    done = set(old_ids)
    fresh = [
        p
        for p in store.iter_product_texts()
        if entity_label("Product", p.id) not in known
        and entity_label("Product", p.id) not in done
        and (product_ids is None or p.id in product_ids)
    ]
    if not fresh:
        return 0
    text = encoder.encode([product_text(p) for p in fresh])
    aligned = apply_alignment(artifact.alignment, text)
    kg = np.empty_like(aligned)
    for row, product in enumerate(fresh):
        neighbours = [entity_label("Category", product.category_id)] if product.category_id else []
        if product.brand:
            neighbours.append(entity_label("Brand", brand_id(product.brand)))
        vectors = [artifact.entity_vectors[known[n]] for n in neighbours if n in known]
        if vectors:
            kg[row] = TEXT_WEIGHT * aligned[row] + (1 - TEXT_WEIGHT) * np.mean(vectors, axis=0)
        else:
            kg[row] = aligned[row]
    names = [entity_label("Product", p.id) for p in fresh]
    artifact.save_overlay(old_ids + names, np.vstack([old_kg, kg]), np.vstack([old_text, text]))
    ids = [p.id for p in fresh]
    write_back(store, "Product", "kg_embedding", ids, kg)
    write_back(store, "Product", "text_embedding", ids, text)
    log.info("gave %d new products cold-start vectors", len(fresh))
    return len(fresh)
