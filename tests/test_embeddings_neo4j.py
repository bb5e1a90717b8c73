"""Training from a real Neo4j: export, PyKEEN, artifacts, write-back, vector index, cold start."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from neo4j import Driver

from kgrec.embeddings.artifacts import Artifact, current_name, list_artifacts, use_artifact
from kgrec.embeddings.build import build_embeddings
from kgrec.embeddings.cold_start import embed_new_products
from kgrec.embeddings.text_encoder import HashingTextEncoder
from kgrec.embeddings.training import TrainingConfig
from kgrec.embeddings.triples import export_triples, split_triples
from kgrec.graph.errors import GraphTooSmallError
from kgrec.graph.loaders import load_products
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.samples import AMAZON_TOYS_MAPPING
from tests.conftest import DATA
from tests.helpers import write

pytestmark = [pytest.mark.neo4j, pytest.mark.slow]
TOYS = DATA / "amazon_toys_uk" / "amazon_co-ecommerce_sample.csv"


def toys_subset(tmp_path: Path, rows: int) -> Path:
    """The first rows of the real toys catalogue."""
    with TOYS.open(encoding="utf-8") as src, (tmp_path / "toys.csv").open("w", encoding="utf-8") as dst:
        reader = csv.reader(src)
        writer = csv.writer(dst)
        for i, row in enumerate(reader):
            if i > rows:
                break
            writer.writerow(row)
    return tmp_path / "toys.csv"


@pytest.fixture(scope="module")
def trained(
    neo4j_driver: Driver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Neo4jGraphStore, Path, dict[str, object]]]:
    """Trained once for the module; the tests below run in file order and each one's changes
    (a cold-start product, a second artifact) are the last ones that need them."""
    store = Neo4jGraphStore(neo4j_driver)
    store.clear()
    tmp_path = tmp_path_factory.mktemp("trained")
    load_products(store, toys_subset(tmp_path, 600), taxonomy="amazon_uk", mapping=AMAZON_TOYS_MAPPING)
    home = tmp_path / "home"
    config = TrainingConfig(model="DistMult", dim=32, epochs=30, batch_size=256, lr=0.02, frequency=10)
    summary = build_embeddings(store, home, config, HashingTextEncoder(dim=48))
    yield store, home, summary.as_dict()
    store.clear()


def test_export_is_deterministic_and_split_keeps_every_entity(
    neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    load_products(neo4j_store, toys_subset(tmp_path, 200), taxonomy="amazon_uk", mapping=AMAZON_TOYS_MAPPING)
    first, second = export_triples(neo4j_store), export_triples(neo4j_store)
    assert first.fingerprint == second.fingerprint
    assert first.factory.entity_to_id == second.factory.entity_to_id
    assert bool((first.factory.mapped_triples == second.factory.mapped_triples).all())
    training, validation, testing = split_triples(first.factory, seed=5)
    again = split_triples(second.factory, seed=5)
    assert bool((training.mapped_triples == again[0].mapped_triples).all())
    assert set(training.mapped_triples[:, [0, 2]].unique().tolist()) == set(range(first.factory.num_entities))
    assert training.num_triples + validation.num_triples + testing.num_triples == first.factory.num_triples


def test_empty_graph_is_refused_with_a_clear_message(neo4j_store: Neo4jGraphStore) -> None:
    with pytest.raises(GraphTooSmallError, match="triples to learn from"):
        export_triples(neo4j_store)


def test_training_beats_random_and_writes_a_current_artifact(
    trained: tuple[Neo4jGraphStore, Path, dict[str, object]],
) -> None:
    store, home, summary = trained
    metrics, baseline = summary["metrics"], summary["random_baseline"]
    assert isinstance(metrics, dict) and isinstance(baseline, dict)
    assert metrics["mrr"] > 5 * baseline["mrr"]
    assert current_name(home) == summary["artifact"]
    artifact = Artifact.open_current(home)
    vectors = artifact.entity_vectors
    assert isinstance(vectors, np.memmap)
    assert vectors.shape == (summary["entities"], 32)
    assert artifact.manifest["fingerprint"] == export_triples(store).fingerprint
    assert artifact.check_fingerprint(export_triples(store).fingerprint) is None
    [listed] = list_artifacts(home)
    assert listed["current"] and listed["name"] == summary["artifact"]


def test_vector_index_answers_in_neo4j(trained: tuple[Neo4jGraphStore, Path, dict[str, object]]) -> None:
    store, home, _ = trained
    artifact = Artifact.open_current(home)
    product = next(name for name in artifact.entities if name.startswith("Product:"))
    vector = artifact.entity_vector(product)
    hits = store.vector_search("Product", "kg_embedding", vector.tolist(), 5)
    assert hits[0][0] == product.removeprefix("Product:")
    assert hits[0][1] > 0.99
    text_hits = store.vector_search("Product", "text_embedding", artifact.text_vectors[0].tolist(), 1)
    assert text_hits[0][0] == artifact.text_ids[0].removeprefix("Product:")


def test_vectors_sit_on_their_own_nodes_not_on_products(
    trained: tuple[Neo4jGraphStore, Path, dict[str, object]],
) -> None:
    """What a person clicks in Neo4j Browser (products, categories) carries no vector."""
    store, _, _ = trained
    on_nodes = store.run(
        "MATCH (n) WHERE (n:Product OR n:Category) "
        "AND (n.kg_embedding IS NOT NULL OR n.text_embedding IS NOT NULL) RETURN count(n) AS n"
    )
    assert on_nodes[0]["n"] == 0
    rows = store.run(
        "MATCH (p:Product)-[:HAS_EMBEDDING]->(v:ProductEmbedding) "
        "RETURN count(p) AS linked, count(DISTINCT v) AS nodes, sum(size(v.kg_embedding)) AS numbers, "
        "  COUNT { (:Product) } AS products"
    )[0]
    assert rows["linked"] == rows["nodes"] == rows["products"] > 0
    assert rows["numbers"] == rows["linked"] * 32
    indexed = store.run("SHOW INDEXES YIELD labelsOrTypes, type WHERE type = 'VECTOR' RETURN labelsOrTypes")
    assert {tuple(r["labelsOrTypes"]) for r in indexed} == {("ProductEmbedding",), ("CategoryEmbedding",)}


def test_product_loaded_after_training_gets_a_cold_start_vector(
    trained: tuple[Neo4jGraphStore, Path, dict[str, object]], tmp_path: Path
) -> None:
    store, home, _ = trained
    artifact = Artifact.open_current(home)
    existing = next(t for t in store.iter_product_texts() if t.category_path and t.brand)
    new = write(
        tmp_path / "new.csv",
        "id,title,brand,category_path\n"
        f'new-1,"Brand new {existing.title}",{existing.brand},"{existing.category_path}"\n',
    )
    load_products(store, new, taxonomy="amazon_uk")
    drift = artifact.check_fingerprint(export_triples(store).fingerprint)
    assert drift is not None and artifact.name in drift
    assert embed_new_products(store, artifact, HashingTextEncoder(dim=48)) == 1
    assert embed_new_products(store, artifact, HashingTextEncoder(dim=48)) == 0
    ids, kg, _ = artifact.load_overlay()
    assert ids == ["Product:new-1"]
    stored = store.run(
        "MATCH (:Product {id: 'new-1'})-[:HAS_EMBEDDING]->(v:ProductEmbedding) RETURN v.kg_embedding AS v"
    )[0]["v"]
    assert np.allclose(stored, kg[0], atol=1e-5)
    category = artifact.entity_vector(f"Category:{existing.category_id}")
    random_cos = np.mean(
        [
            float(kg[0] @ v / (np.linalg.norm(kg[0]) * np.linalg.norm(v) + 1e-9))
            for v in artifact.entity_vectors[:200]
        ]
    )
    cos = float(kg[0] @ category / (np.linalg.norm(kg[0]) * np.linalg.norm(category)))
    assert cos > random_cos


def test_switching_artifacts(trained: tuple[Neo4jGraphStore, Path, dict[str, object]]) -> None:
    store, home, summary = trained
    config = TrainingConfig(model="TransE", dim=16, epochs=10, batch_size=256, frequency=5)
    second = build_embeddings(store, home, config, HashingTextEncoder(dim=48), write_to_graph=False)
    assert current_name(home) == second.artifact
    use_artifact(home, str(summary["artifact"]))
    assert current_name(home) == summary["artifact"]
    assert len(list_artifacts(home)) == 2
