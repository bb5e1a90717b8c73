"""A small synthetic catalogue served without PyKEEN: for direct tests of the pipeline's stages.

Real loaders fill an in-memory store; the artifact is written by hand with KG vectors that
place each category's products together (one axis per category, plus a brand axis), so that
the expected neighbours are known without training anything.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kgrec.embeddings.artifacts import ArtifactPayload, write_artifact
from kgrec.embeddings.text_encoder import HashingTextEncoder
from kgrec.graph.loaders import load_interactions, load_products, load_taxonomy
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.store import GraphStore
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.service import Recommender
from tests.helpers import write

KEY = b"synthetic"
ENCODER = HashingTextEncoder(dim=32)
CATEGORIES = {"10": "Trains", "20": "Puzzles", "30": "Dolls", "40": "Garden tools"}
BRANDS = ("Brio", "Ravensburger", "Hornby")
TAXONOMY = "id,parent_id,name\n1,,Toys\n10,1,Trains\n20,1,Puzzles\n30,1,Dolls\n2,,Garden\n40,2,Garden tools\n"


def product_rows() -> list[tuple[str, str, str, str, float]]:
    """(id, title, category id, brand, price): six products in each of four categories."""
    rows = []
    for c, (category, name) in enumerate(CATEGORIES.items()):
        for i in range(6):
            brand = BRANDS[(c + i) % len(BRANDS)]
            rows.append((f"{category}-{i}", f"{name} item {i} by {brand}", category, brand, 5.0 + 10 * i))
    return rows


# Two shoppers who both bought trains 10-0 and 10-1; one of them also bought puzzle 20-0.
EVENTS = [("ann", "10-0"), ("ann", "10-1"), ("bob", "10-0"), ("bob", "10-1"), ("bob", "20-0")]


def build(
    tmp_path: Path, events: list[tuple[str, str]] | None = None, *, store: GraphStore | None = None
) -> Recommender:
    """`events`: (shopper, product) purchases, in order (`EVENTS` unless given); `store`: an
    empty store to load them into (a fresh in-memory one unless given)."""
    store = store or MemoryGraphStore()
    load_taxonomy(store, write(tmp_path / "taxonomy.csv", TAXONOMY), taxonomy="shop")
    products = "id,title,category_id,brand,price\n" + "".join(
        f"{pid},{title},{category},{brand},{price}\n" for pid, title, category, brand, price in product_rows()
    )
    load_products(store, write(tmp_path / "products.csv", products), taxonomy="shop")
    rows = "user_id,item_id,kind,timestamp\n" + "".join(
        f"{user},{item},purchase,{1_700_000_000 + n}\n" for n, (user, item) in enumerate(events or EVENTS)
    )
    load_interactions(store, write(tmp_path / "events.csv", rows), pseudonym_key=KEY)
    projection = GraphProjection.load(store)
    home = tmp_path / "home"
    write_artifact(home, "synthetic", _payload(projection))
    from kgrec.embeddings.artifacts import Artifact

    return Recommender(store, Artifact.open_current(home), ENCODER, projection, pseudonym_key=KEY)


def _payload(projection: GraphProjection) -> ArtifactPayload:
    rng = np.random.default_rng(0)
    axes = {category: n for n, category in enumerate(sorted(set(projection.product_category.values())))}
    dim = len(axes) + len(BRANDS)
    entities, kg, text_ids, titles = [], [], [], []
    for pid in projection.product_ids:
        vector = 0.05 * rng.standard_normal(dim)
        vector[axes[projection.product_category[pid]]] += 1.0
        brand = projection.name("Brand", projection.product_brand[pid])
        vector[len(axes) + BRANDS.index(brand)] += 0.3
        entities.append(f"Product:{pid}")
        kg.append(vector)
        text_ids.append(f"Product:{pid}")
        titles.append(projection.name("Product", pid))
    for category in sorted(projection.category_depth):
        text_ids.append(f"Category:{category}")
        titles.append(projection.name("Category", category).rsplit(" > ", 1)[-1])
    text = ENCODER.encode(titles)
    # Least squares text -> KG on the products, as training's alignment does.
    n = len(entities)
    design = np.hstack([text[:n], np.ones((n, 1), np.float32)])
    alignment = np.linalg.lstsq(design, np.asarray(kg), rcond=None)[0].astype(np.float32)
    return ArtifactPayload(
        manifest={"vector_dim": dim, "text_dim": ENCODER.dim, "text_model": ENCODER.name, "model": "hand"},
        entities=entities,
        relations=[],
        entity_vectors=np.asarray(kg, dtype=np.float32),
        relation_vectors=np.zeros((0, dim), np.float32),
        text_ids=text_ids,
        text_vectors=text,
        alignment=alignment,
    )
