"""Fine-tuning checkpoints, so a long run (the whole Home Depot train part is ~1,700 steps, about an
hour on 2 cores) survives a kill: every N steps the model, optimizer and schedule are saved in
a new `step-NNNNNN` folder and the `latest` link is switched to it (os.replace: a reader, or a
crash, sees the previous checkpoint or the new one, never half of one). Each step folder is a
complete encoder (model, tokenizer, manifest), so a partial run can be evaluated as it stands.
A run resumes only from a checkpoint of the same pairs and config (a fingerprint of the manifest).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from kgrec.embeddings.encoder_artifacts import MANIFEST
from kgrec.graph.atomic_write import write_folder_atomically
from kgrec.graph.errors import ArtifactError

LATEST = "latest"
STATE = "trainer_state.pt"


def fingerprint(manifest: dict[str, Any]) -> str:
    """What a resumed run must share with the saved one: pairs, queries, base model and config."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(slots=True)
class Checkpoint:
    folder: Path
    step: int
    losses: list[float]
    seconds: float
    optimizer: dict[str, Any]
    schedule: dict[str, Any]
    torch_rng: torch.Tensor | None = None

    def restore(
        self, optimizer: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LRScheduler
    ) -> None:
        optimizer.load_state_dict(self.optimizer)
        schedule.load_state_dict(self.schedule)
        if self.torch_rng is not None:
            torch.set_rng_state(self.torch_rng)


def read_checkpoint(root: Path, manifest: dict[str, Any]) -> Checkpoint | None:
    """The latest checkpoint under `root`, or None; one of another run is refused, not overwritten."""
    latest = root / LATEST
    if not latest.is_symlink():
        return None
    folder = root / os.readlink(latest)
    try:
        state = torch.load(folder / STATE, weights_only=True)
    except (OSError, RuntimeError) as exc:
        raise ArtifactError(f"fine-tuning checkpoint {folder} is unreadable ({exc}); delete {root}") from exc
    if state.get("fingerprint") != fingerprint(manifest):
        raise ArtifactError(
            f"fine-tuning checkpoint {root} is of other pairs or settings; delete it to start afresh"
        )
    return Checkpoint(
        folder,
        int(state["step"]),
        list(state["losses"]),
        float(state["seconds"]),
        state["optimizer"],
        state["schedule"],
        state["torch_rng"],
    )


def write_checkpoint(
    root: Path, checkpoint: Checkpoint, save_model: Callable[[Path], None], manifest: dict[str, Any]
) -> Path:
    """Writes `step-NNNNNN` whole, points `latest` at it, then drops the older step folders."""
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{checkpoint.step:06d}"
    run = {k: v for k, v in manifest.items() if k not in ("steps", "of_steps", "seconds")}

    def fill(folder: Path) -> None:
        save_model(folder)
        torch.save(
            {
                "fingerprint": fingerprint(run),
                "step": checkpoint.step,
                "losses": checkpoint.losses,
                "seconds": checkpoint.seconds,
                "optimizer": checkpoint.optimizer,
                "schedule": checkpoint.schedule,
                "torch_rng": torch.get_rng_state(),
            },
            folder / STATE,
        )
        (folder / MANIFEST).write_text(
            json.dumps(
                {
                    "name": f"{root.name}/{name}",
                    "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "partial": True,
                    **manifest,
                },
                indent=2,
                ensure_ascii=False,
            ),
            encoding="utf-8",
        )

    shutil.rmtree(root / name, ignore_errors=True)
    final = write_folder_atomically(root / name, fill, "checkpoint")
    link = root / f".{LATEST}-{os.getpid()}"
    link.unlink(missing_ok=True)
    link.symlink_to(name)
    os.replace(link, root / LATEST)
    for old in root.glob("step-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return final
