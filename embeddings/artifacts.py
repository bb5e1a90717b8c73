"""Versioned embedding artifacts: written atomically, loaded memory-mapped for serving."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kgrec.graph.atomic_write import write_folder_atomically
from kgrec.graph.errors import ArtifactError, InvalidArgumentError, NotFoundError

CURRENT = "current"
MANIFEST = "manifest.json"
FORMAT_VERSION = 1


def artifacts_root(home: Path) -> Path:
    return home / "artifacts"


@dataclass(slots=True)
class ArtifactPayload:
    manifest: dict[str, Any]
    entities: list[str]
    relations: list[str]
    entity_vectors: NDArray[np.float32]
    relation_vectors: NDArray[np.float32]
    text_ids: list[str]
    text_vectors: NDArray[np.float32]
    alignment: NDArray[np.float32]


def write_artifact(home: Path, name: str, payload: ArtifactPayload) -> Path:
    """The folder appears whole (write_folder_atomically), then `current` is repointed."""
    root = artifacts_root(home)
    root.mkdir(parents=True, exist_ok=True)

    text_dim = payload.manifest.get("text_dim")
    if text_dim is not None and payload.text_vectors.shape[1:] != (int(text_dim),):
        raise ArtifactError(
            f"artifact {name}: text vectors of shape {payload.text_vectors.shape} are not from its "
            f"encoder {payload.manifest.get('text_model')} ({text_dim} dims): one artifact, one text space"
        )

    def fill(folder: Path) -> None:
        np.save(folder / "entity_vectors.npy", payload.entity_vectors)
        np.save(folder / "relation_vectors.npy", payload.relation_vectors)
        np.save(folder / "text_vectors.npy", payload.text_vectors)
        np.save(folder / "alignment.npy", payload.alignment)
        for fname, data in (
            ("entities.json", payload.entities),
            ("relations.json", payload.relations),
            ("text_ids.json", payload.text_ids),
        ):
            (folder / fname).write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        manifest = {"format": FORMAT_VERSION, "name": name, **payload.manifest}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")

    final = write_folder_atomically(root / name, fill, "artifact")
    use_artifact(home, name)
    return final


def use_artifact(home: Path, name: str) -> None:
    root = artifacts_root(home)
    target = root / name
    if not (target / MANIFEST).is_file() or name.startswith(".") or "/" in name:
        raise NotFoundError(f"no artifact named {name!r} in {root}")
    link = root / f".{CURRENT}-{os.getpid()}-{time.monotonic_ns()}"
    link.symlink_to(name)
    os.replace(link, root / CURRENT)


def list_artifacts(home: Path) -> list[dict[str, Any]]:
    root = artifacts_root(home)
    if not root.is_dir():
        return []
    current = current_name(home)
    out = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.name == CURRENT or not (path / MANIFEST).is_file():
            continue
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        out.append({**manifest, "current": path.name == current})
    return out


def current_name(home: Path) -> str | None:
    link = artifacts_root(home) / CURRENT
    return os.readlink(link) if link.is_symlink() else None


class Artifact:
    """A trained artifact opened for reading; the big matrices are memory-mapped."""

    def __init__(self, path: Path) -> None:
        if not (path / MANIFEST).is_file():
            raise ArtifactError(f"{path} is not a kgrec artifact (no {MANIFEST})")
        self.path = path
        self.manifest: dict[str, Any] = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        if self.manifest.get("format") != FORMAT_VERSION:
            raise ArtifactError(f"{path}: unsupported artifact format {self.manifest.get('format')!r}")

    @classmethod
    def open_current(cls, home: Path) -> Artifact:
        name = current_name(home)
        if name is None:
            raise NotFoundError("no trained artifacts: run `kgrec train` first")
        return cls(artifacts_root(home) / name)

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    def matrix(self, fname: str) -> NDArray[np.float32]:
        """A fresh memory map of one array file; its pages leave the process's RSS when the caller
        drops it (the cached properties below keep theirs for the artifact's life)."""
        matrix: NDArray[np.float32] = np.load(self.path / fname, mmap_mode="r")
        return matrix

    def _names(self, fname: str) -> list[str]:
        names: list[str] = json.loads((self.path / fname).read_text(encoding="utf-8"))
        return names

    @cached_property
    def entity_vectors(self) -> NDArray[np.float32]:
        return self.matrix("entity_vectors.npy")

    @cached_property
    def relation_vectors(self) -> NDArray[np.float32]:
        return self.matrix("relation_vectors.npy")

    @cached_property
    def text_vectors(self) -> NDArray[np.float32]:
        return self.matrix("text_vectors.npy")

    @cached_property
    def alignment(self) -> NDArray[np.float32]:
        return np.asarray(np.load(self.path / "alignment.npy"), dtype=np.float32)

    @cached_property
    def entities(self) -> list[str]:
        return self._names("entities.json")

    @cached_property
    def relations(self) -> list[str]:
        return self._names("relations.json")

    @cached_property
    def text_ids(self) -> list[str]:
        return self._names("text_ids.json")

    @cached_property
    def entity_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.entities)}

    @cached_property
    def text_index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.text_ids)}

    def entity_vector(self, entity: str) -> NDArray[np.float32]:
        try:
            return np.asarray(self.entity_vectors[self.entity_index[entity]])
        except KeyError:
            raise NotFoundError(f"{entity} is not in artifact {self.name}") from None

    @property
    def overlay_path(self) -> Path:
        return self.path / "cold_start.npz"

    def load_overlay(self) -> tuple[list[str], NDArray[np.float32], NDArray[np.float32]]:
        """Vectors given to products loaded after training (entity names, KG, text)."""
        if not self.overlay_path.exists():
            dim, text_dim = int(self.manifest["vector_dim"]), int(self.manifest["text_dim"])
            return [], np.zeros((0, dim), np.float32), np.zeros((0, text_dim), np.float32)
        with np.load(self.overlay_path, allow_pickle=False) as data:
            return (
                [str(x) for x in data["ids"]],
                data["kg"].astype(np.float32),
                data["text"].astype(np.float32),
            )

    def save_overlay(self, ids: list[str], kg: NDArray[np.float32], text: NDArray[np.float32]) -> None:
        tmp = self.path / f".cold_start-{os.getpid()}.npz"
        np.savez(tmp, ids=np.array(ids, dtype=str), kg=kg, text=text)
        os.replace(tmp, self.overlay_path)

    def require_encoder(self, name: str, dim: int) -> None:
        """Query and product vectors must come from one encoder: a vector from another model means
        nothing in this artifact's text space, even where the dimensions agree."""
        model, text_dim = self.manifest.get("text_model"), int(self.manifest["text_dim"])
        if model != name or text_dim != dim:
            raise ArtifactError(
                f"artifact {self.name} holds text vectors from encoder {model} ({text_dim} dims), "
                f"not from {name} ({dim} dims): `kgrec models use {name}` re-encodes the products, "
                f"or choose {model} again (KGREC_TEXT_MODEL / `kgrec models use`)"
            )

    def check_fingerprint(self, fingerprint: str) -> str | None:
        """A message naming the drift when the graph changed since training, else None."""
        trained = self.manifest.get("fingerprint")
        if trained == fingerprint:
            return None
        return (
            f"artifact {self.name} was trained on graph {trained}, the graph is now {fingerprint}: "
            "products loaded since get cold-start vectors; run `kgrec train` to refresh"
        )


def artifact_name(model: str, dim: int, fingerprint: str) -> str:
    if not model.isalnum():
        raise InvalidArgumentError("model", f"{model!r} is not a model name")
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}"
    return f"{stamp}-{model.lower()}-d{dim}-{fingerprint.rsplit('-', 1)[-1][:8]}"
