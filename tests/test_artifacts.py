from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kgrec.embeddings.artifacts import (
    Artifact,
    ArtifactPayload,
    artifacts_root,
    current_name,
    list_artifacts,
    use_artifact,
    write_artifact,
)
from kgrec.graph.errors import NotFoundError


def payload(seed: int, entities: list[object] | None = None) -> ArtifactPayload:
    rng = np.random.default_rng(seed)
    names = entities if entities is not None else ["Product:a", "Product:b", "Category:c"]
    return ArtifactPayload(
        manifest={
            "model": "DistMult",
            "dim": 4,
            "vector_dim": 4,
            "text_dim": 3,
            "metrics": {"mrr": 0.5},
            "created": "now",
            "fingerprint": "3-3-abc",
        },
        entities=names,  # type: ignore[arg-type]
        relations=["in_category"],
        entity_vectors=rng.normal(size=(3, 4)).astype(np.float32),
        relation_vectors=rng.normal(size=(1, 4)).astype(np.float32),
        text_ids=["Product:a"],
        text_vectors=rng.normal(size=(1, 3)).astype(np.float32),
        alignment=rng.normal(size=(4, 4)).astype(np.float32),
    )


def test_round_trip(tmp_path: Path) -> None:
    original = payload(1)
    write_artifact(tmp_path, "one", original)
    loaded = Artifact.open_current(tmp_path)
    assert loaded.entities == original.entities
    assert np.array_equal(loaded.entity_vectors, original.entity_vectors)
    assert np.array_equal(loaded.alignment, original.alignment)
    assert np.array_equal(loaded.entity_vector("Product:b"), original.entity_vectors[1])
    assert loaded.manifest["fingerprint"] == "3-3-abc"
    with pytest.raises(NotFoundError):
        loaded.entity_vector("Product:zzz")


def test_failed_write_leaves_current_and_no_half_artifact(tmp_path: Path) -> None:
    write_artifact(tmp_path, "good", payload(1))
    with pytest.raises(TypeError):
        write_artifact(tmp_path, "broken", payload(2, entities=[object(), "x", "y"]))
    assert current_name(tmp_path) == "good"
    assert sorted(p.name for p in artifacts_root(tmp_path).iterdir()) == ["current", "good"]
    assert [a["name"] for a in list_artifacts(tmp_path)] == ["good"]


def test_use_switches_and_rejects_unknown(tmp_path: Path) -> None:
    write_artifact(tmp_path, "a", payload(1))
    write_artifact(tmp_path, "b", payload(2))
    assert current_name(tmp_path) == "b"
    use_artifact(tmp_path, "a")
    assert Artifact.open_current(tmp_path).name == "a"
    with pytest.raises(NotFoundError):
        use_artifact(tmp_path, "../etc")


def test_no_artifacts_says_run_train(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="run `kgrec train`"):
        Artifact.open_current(tmp_path)


def test_overlay_round_trip(tmp_path: Path) -> None:
    write_artifact(tmp_path, "a", payload(1))
    artifact = Artifact.open_current(tmp_path)
    ids, kg, text = artifact.load_overlay()
    assert ids == [] and kg.shape == (0, 4) and text.shape == (0, 3)
    artifact.save_overlay(["Product:new"], np.ones((1, 4), np.float32), np.ones((1, 3), np.float32))
    ids, kg, _ = artifact.load_overlay()
    assert ids == ["Product:new"] and kg.sum() == 4
