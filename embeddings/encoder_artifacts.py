"""Versioned fine-tuned text encoders, beside the embedding artifacts (`KGREC_HOME/encoders`).

Each one is a complete BERT-family model folder (config, weights, tokenizer) plus a manifest
saying what it was fitted on, the queries included, so an evaluation can refuse an encoder that
saw its test queries. Written atomically; `current` points at the one serving uses: a folder
here, or the key of a packaged encoder (embeddings/encoders.py, a link to no folder); without
it the packaged MiniLM serves.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kgrec.embeddings.encoders import DEFAULT_ENCODER, PACKAGED
from kgrec.graph.atomic_write import write_folder_atomically
from kgrec.graph.errors import ArtifactError, NotFoundError

CURRENT = "current"
MANIFEST = "kgrec_encoder.json"
BASE = "base"


def encoders_root(home: Path) -> Path:
    return home / "encoders"


def encoder_name(base: str) -> str:
    now = time.time()
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}"
    return f"{stamp}-{base.lower()}-ft"


def write_encoder(home: Path, name: str, save: Callable[[Path], None], manifest: dict[str, Any]) -> Path:
    """`save` writes the model folder; it appears whole (write_folder_atomically), then is made current."""
    root = encoders_root(home)
    root.mkdir(parents=True, exist_ok=True)

    def fill(folder: Path) -> None:
        save(folder)
        (folder / MANIFEST).write_text(
            json.dumps({"name": name, **manifest}, indent=2, ensure_ascii=False), encoding="utf-8"
        )

    final = write_folder_atomically(root / name, fill, "encoder")
    use_encoder(home, name)
    return final


def is_encoder(home: Path, name: str) -> bool:
    return (
        name == BASE
        or name in PACKAGED
        or (
            not name.startswith(".") and "/" not in name and (encoders_root(home) / name / MANIFEST).is_file()
        )
    )


def use_encoder(home: Path, name: str) -> None:
    """Make NAME the serving encoder; `base` (or `minilm`) goes back to the packaged MiniLM."""
    root = encoders_root(home)
    if name in (BASE, DEFAULT_ENCODER):
        (root / CURRENT).unlink(missing_ok=True)
        return
    if not is_encoder(home, name):
        raise NotFoundError(f"no encoder named {name!r} in {root} (packaged: {', '.join(PACKAGED)})")
    root.mkdir(parents=True, exist_ok=True)
    link = root / f".{CURRENT}-{os.getpid()}-{time.monotonic_ns()}"
    link.symlink_to(name)
    os.replace(link, root / CURRENT)


def current_encoder(home: Path) -> Path | None:
    """The current fine-tuned encoder's folder; None when a packaged encoder serves."""
    choice = current_choice(home)
    return choice if isinstance(choice, Path) else None


def current_choice(home: Path) -> str | Path | None:
    """What `kgrec models use` chose: a packaged encoder's key, a fine-tuned folder, or None (MiniLM)."""
    link = encoders_root(home) / CURRENT
    if not link.is_symlink():
        return None
    target = os.readlink(link)
    return target if target in PACKAGED else encoders_root(home) / target


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ArtifactError(f"{path} is not a kgrec encoder ({MANIFEST}: {exc})") from exc
    return manifest


def list_encoders(home: Path) -> list[dict[str, Any]]:
    root = encoders_root(home)
    if not root.is_dir():
        return []
    current = current_encoder(home)
    out = []
    for path in sorted(root.iterdir()):
        if path.name.startswith(".") or path.name == CURRENT or not (path / MANIFEST).is_file():
            continue
        manifest = {k: v for k, v in read_manifest(path).items() if k != "queries"}
        out.append({**manifest, "current": current is not None and path.name == current.name})
    return out


def fitted_queries(path: Path) -> list[str]:
    """The queries an encoder was fine-tuned on; a folder kgrec did not write is refused."""
    return [str(q) for q in read_manifest(path).get("queries", [])]
