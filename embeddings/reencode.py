"""A new artifact with the current one's KG vectors and text vectors from another encoder.

After fine-tuning the text encoder, product and category texts must be encoded again (a query
vector from one model means nothing against product vectors from another), and the text→KG
alignment refitted; the KG embeddings themselves do not change, so they are not retrained.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from kgrec.embeddings.alignment import fit_and_evaluate
from kgrec.embeddings.artifacts import Artifact, ArtifactPayload, artifact_name, write_artifact
from kgrec.embeddings.build import encode_catalogue, write_back_artifact
from kgrec.embeddings.cold_start import embed_new_products
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.graph.store import GraphStore


def reencode_artifact(
    store: GraphStore,
    home: Path,
    encoder: TextEncoder,
    *,
    progress: bool = False,
    write_to_graph: bool = True,
) -> Artifact:
    """Writes the new artifact (atomically, made current) and returns it opened."""
    old = Artifact.open_current(home)
    names, vectors = encode_catalogue(store, encoder, progress=progress)
    entity_index = old.entity_index
    both = [(i, entity_index[name]) for i, name in enumerate(names) if name in entity_index]
    text_rows = np.array([i for i, _ in both], dtype=np.int64)
    kg_rows = np.array([j for _, j in both], dtype=np.int64)
    entity_vectors = np.asarray(old.entity_vectors)
    seed = int(old.manifest.get("config", {}).get("seed", 42))
    weights, report = fit_and_evaluate(vectors[text_rows], entity_vectors[kg_rows], seed=seed)
    manifest = {key: value for key, value in old.manifest.items() if key not in ("format", "name")} | {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "alignment": report.as_dict(),
        "text_model": encoder.name,
        "text_dim": encoder.dim,
        "reencoded_from": old.name,
    }
    name = artifact_name(
        str(old.manifest["model"]), int(old.manifest["dim"]), str(old.manifest["fingerprint"])
    )
    path = write_artifact(
        home,
        name,
        ArtifactPayload(
            manifest=manifest,
            entities=old.entities,
            relations=old.relations,
            entity_vectors=entity_vectors,
            relation_vectors=np.asarray(old.relation_vectors),
            text_ids=names,
            text_vectors=vectors,
            alignment=weights,
        ),
    )
    artifact = Artifact(path)
    embed_new_products(store, artifact, encoder)
    if write_to_graph:
        write_back_artifact(store, artifact, progress=progress)
    return artifact
