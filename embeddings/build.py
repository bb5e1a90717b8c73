"""`kgrec train`: graph -> triples -> PyKEEN -> text vectors -> alignment -> artifact -> Neo4j."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from kgrec.embeddings.alignment import fit_and_evaluate
from kgrec.embeddings.artifacts import Artifact, ArtifactPayload, artifact_name, write_artifact
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.embeddings.texts import category_text, product_text
from kgrec.embeddings.training import TrainingConfig, train_embeddings
from kgrec.embeddings.triples import entity_label, export_triples, split_triples
from kgrec.graph.store import GraphStore

log = logging.getLogger(__name__)
WRITE_BATCH = 2_000


@dataclass(slots=True)
class TrainSummary:
    model: str
    dim: int
    triples: int
    entities: int
    relations: int
    metrics: dict[str, float]
    random_baseline: dict[str, float]
    alignment: dict[str, float | int]
    seconds: float
    stage_seconds: dict[str, float]
    epochs_run: int
    triples_per_second: float
    artifact: str
    fingerprint: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dim": self.dim,
            "triples": self.triples,
            "entities": self.entities,
            "relations": self.relations,
            "metrics": {k: round(v, 4) for k, v in self.metrics.items()},
            "random_baseline": {k: round(v, 4) for k, v in self.random_baseline.items()},
            "alignment": self.alignment,
            "seconds": round(self.seconds, 2),
            "stage_seconds": {k: round(v, 2) for k, v in self.stage_seconds.items()},
            "epochs_run": self.epochs_run,
            "triples_per_second": round(self.triples_per_second),
            "artifact": self.artifact,
            "fingerprint": self.fingerprint,
        }


def encode_catalogue(
    store: GraphStore, encoder: TextEncoder, *, progress: bool = False
) -> tuple[list[str], NDArray[np.float32]]:
    """Text vectors for every product and category, keyed by entity name."""
    names: list[str] = []
    texts: list[str] = []
    for product in store.iter_product_texts():
        names.append(entity_label("Product", product.id))
        texts.append(product_text(product))
    for category in store.iter_category_texts():
        names.append(entity_label("Category", category.id))
        texts.append(category_text(category))
    return names, encode_texts(encoder, texts, progress=progress)


def encode_texts(
    encoder: TextEncoder, texts: Sequence[str], *, progress: bool = False, chunk: int = 512
) -> NDArray[np.float32]:
    """Many texts in chunks, with a progress bar (a slow encoder takes minutes over a catalogue)."""
    vectors = np.empty((len(texts), encoder.dim), dtype=np.float32)
    with tqdm(
        total=len(texts), desc="encoding texts", unit="texts", disable=not progress, leave=False
    ) as bar:
        for start in range(0, len(texts), chunk):
            vectors[start : start + chunk] = encoder.encode(texts[start : start + chunk])
            bar.update(len(texts[start : start + chunk]))
    return vectors


def write_back(
    store: GraphStore, label: str, prop: str, ids: Sequence[str], vectors: NDArray[np.float32]
) -> int:
    written = 0
    for start in range(0, len(ids), WRITE_BATCH):
        rows = [(ids[i], vectors[i].tolist()) for i in range(start, min(start + WRITE_BATCH, len(ids)))]
        written += store.write_vectors(label, prop, rows)
    if len(ids):
        store.ensure_vector_index(label, prop, int(vectors.shape[1]))
    return written


def write_back_artifact(store: GraphStore, artifact: Artifact, *, progress: bool = False) -> dict[str, int]:
    """KG and text vectors of products and categories as node properties, with vector indexes."""
    counts: dict[str, int] = {}
    steps = [
        (label, prop, names, matrix)
        for label in ("Product", "Category")
        for prop, names, matrix in (
            ("kg_embedding", artifact.entities, artifact.entity_vectors),
            ("text_embedding", artifact.text_ids, artifact.text_vectors),
        )
    ]
    for label, prop, names, matrix in tqdm(steps, desc="writing vectors", disable=not progress, leave=False):
        prefix = f"{label}:"
        rows = [i for i, name in enumerate(names) if name.startswith(prefix)]
        ids = [names[i][len(prefix) :] for i in rows]
        counts[f"{label}.{prop}"] = write_back(store, label, prop, ids, np.asarray(matrix[rows]))
    return counts


def build_embeddings(
    store: GraphStore,
    home: Path,
    config: TrainingConfig,
    encoder: TextEncoder,
    *,
    progress: bool = False,
    write_to_graph: bool = True,
) -> TrainSummary:
    started = time.perf_counter()
    stages: dict[str, float] = {}

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        stages[name] = now - since
        return now

    t = time.perf_counter()
    exported = export_triples(store)
    factory = exported.factory
    training, validation, testing = split_triples(factory, seed=config.seed)
    t = lap("export", t)
    trained = train_embeddings(training, validation, testing, config, progress=progress)
    t = lap("train", t)
    text_names, text_vectors = encode_catalogue(store, encoder, progress=progress)
    t = lap("encode", t)
    entity_index = factory.entity_to_id
    both = [(i, entity_index[name]) for i, name in enumerate(text_names) if name in entity_index]
    text_rows = np.array([i for i, _ in both], dtype=np.int64)
    kg_rows = np.array([j for _, j in both], dtype=np.int64)
    weights, report = fit_and_evaluate(
        text_vectors[text_rows], trained.entity_vectors[kg_rows], seed=config.seed
    )
    t = lap("align", t)
    name = artifact_name(trained.model_name, config.dim, exported.fingerprint)
    entities = sorted(entity_index, key=entity_index.__getitem__)
    relations = sorted(factory.relation_to_id, key=factory.relation_to_id.__getitem__)
    manifest = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "model": trained.model_name,
        "dim": config.dim,
        "vector_dim": int(trained.entity_vectors.shape[1]),
        "config": {
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "lr": config.lr,
            "seed": config.seed,
            "eval_sample": config.eval_sample,
        },
        "epochs_run": trained.epochs_run,
        "metrics": trained.metrics,
        "random_baseline": trained.baseline,
        "alignment": report.as_dict(),
        "fingerprint": exported.fingerprint,
        "graph_counts": exported.counts,
        "text_model": encoder.name,
        "text_dim": encoder.dim,
    }
    path = write_artifact(
        home,
        name,
        ArtifactPayload(
            manifest=manifest,
            entities=entities,
            relations=relations,
            entity_vectors=trained.entity_vectors,
            relation_vectors=trained.relation_vectors,
            text_ids=text_names,
            text_vectors=text_vectors,
            alignment=weights,
        ),
    )
    t = lap("artifact", t)
    if write_to_graph:
        write_back_artifact(store, Artifact(path), progress=progress)
        lap("write_back", t)
    return TrainSummary(
        model=trained.model_name,
        dim=config.dim,
        triples=factory.num_triples,
        entities=factory.num_entities,
        relations=factory.num_relations,
        metrics=trained.metrics,
        random_baseline=trained.baseline,
        alignment=report.as_dict(),
        seconds=time.perf_counter() - started,
        stage_seconds=stages,
        epochs_run=trained.epochs_run,
        triples_per_second=trained.triples_per_second,
        artifact=name,
        fingerprint=exported.fingerprint,
    )
