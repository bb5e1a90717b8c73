"""Train PyKEEN knowledge-graph embeddings with early stopping and a bounded evaluation."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from pykeen.evaluation import RankBasedEvaluator
from pykeen.models import ERModel, model_resolver
from pykeen.pipeline import pipeline
from pykeen.triples import TriplesFactory

from kgrec.graph.errors import GraphTooSmallError, InvalidArgumentError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainingConfig:
    model: str = "DistMult"
    dim: int = 64
    epochs: int = 60
    batch_size: int = 1024
    lr: float = 0.01
    seed: int = 42
    eval_sample: int = 2_000
    patience: int = 2
    frequency: int = 10
    device: str = "cpu"  # "cuda" or "cuda:N": PyKEEN trains on that GPU (docs/scaling.md)

    def __post_init__(self) -> None:
        for name in ("dim", "epochs", "batch_size", "eval_sample", "patience", "frequency"):
            if getattr(self, name) < 1:
                raise InvalidArgumentError(name, f"must be at least 1, got {getattr(self, name)}")
        if not self.lr > 0:
            raise InvalidArgumentError("lr", f"must be positive, got {self.lr}")
        if not re.fullmatch(r"cpu|cuda(:\d+)?", self.device):
            raise InvalidArgumentError("device", f"use cpu, cuda or cuda:N, got {self.device!r}")


@dataclass(slots=True)
class TrainedEmbeddings:
    model_name: str
    entity_vectors: NDArray[np.float32]
    relation_vectors: NDArray[np.float32]
    metrics: dict[str, float]
    baseline: dict[str, float]
    train_seconds: float
    epochs_run: int
    triples_per_second: float


def resolve_model(name: str) -> str:
    """PyKEEN's canonical name for `name`, or an error listing every valid one."""
    try:
        return model_resolver.lookup(name).__name__
    except (KeyError, ValueError) as exc:
        valid = ", ".join(sorted(cls.__name__ for cls in model_resolver.lookup_dict.values()))
        raise InvalidArgumentError("model", f"unknown model {name!r}; valid models: {valid}") from exc


def _sample(factory: TriplesFactory, limit: int, seed: int) -> TriplesFactory:
    if factory.num_triples <= limit:
        return factory
    generator = torch.Generator().manual_seed(seed)
    keep = torch.randperm(factory.num_triples, generator=generator)[:limit]
    return factory.clone_and_exchange_triples(factory.mapped_triples[keep])


def _checked_device(device: str) -> str:
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InvalidArgumentError("device", f"{device} asked for, but torch sees no CUDA GPU here")
    return device


def _as_real(tensor: torch.Tensor) -> NDArray[np.float32]:
    """Complex embeddings (ComplEx, RotatE) are stored as [real | imaginary]."""
    data = tensor.detach().cpu()
    if data.is_complex():
        data = torch.cat([data.real, data.imag], dim=-1)
    return np.ascontiguousarray(data.reshape(data.shape[0], -1).numpy().astype(np.float32))


def _metric_summary(results: Any) -> dict[str, float]:
    def get(name: str) -> float:
        return float(results.get_metric(f"both.realistic.{name}"))

    return {
        "mrr": get("inverse_harmonic_mean_rank"),
        "hits_at_1": get("hits_at_1"),
        "hits_at_3": get("hits_at_3"),
        "hits_at_10": get("hits_at_10"),
        "mean_rank": get("arithmetic_mean_rank"),
    }


def train_embeddings(
    training: TriplesFactory,
    validation: TriplesFactory,
    testing: TriplesFactory,
    config: TrainingConfig,
    *,
    progress: bool = False,
) -> TrainedEmbeddings:
    model_name = resolve_model(config.model)
    if training.num_triples < 20:
        raise GraphTooSmallError(
            f"only {training.num_triples} training triples: the graph is too small to train on"
        )
    validation_sample = _sample(validation, config.eval_sample, config.seed)
    testing_sample = _sample(testing, config.eval_sample, config.seed + 1)
    result = pipeline(
        training=training,
        validation=validation_sample,
        testing=testing_sample,
        model=model_name,
        model_kwargs={"embedding_dim": config.dim},
        optimizer="Adam",
        optimizer_kwargs={"lr": config.lr},
        training_kwargs={
            "num_epochs": config.epochs,
            "batch_size": config.batch_size,
            "use_tqdm": progress,
            "use_tqdm_batch": False,
        },
        stopper="early",
        stopper_kwargs={
            "frequency": config.frequency,
            "patience": config.patience,
            "relative_delta": 0.002,
            "evaluation_batch_size": 256,
        },
        # The batch size on the evaluator itself: the early stopper reuses the evaluator's, and
        # without one PyKEEN falls back to 32 on CPU for every evaluation after the first.
        evaluator_kwargs={"filtered": True, "batch_size": 256},
        evaluation_kwargs={"batch_size": 256, "use_tqdm": progress},
        random_seed=config.seed,
        device=_checked_device(config.device),
        use_tqdm=progress,
    )
    model = result.model
    if not isinstance(model, ERModel):
        raise InvalidArgumentError("model", f"{model_name} does not expose entity embeddings kgrec can use")
    epochs_run = len(result.losses)
    baseline = evaluate_untrained(model_name, training, validation, testing_sample, config)
    return TrainedEmbeddings(
        model_name=model_name,
        entity_vectors=_as_real(model.entity_representations[0]()),
        relation_vectors=_as_real(model.relation_representations[0]()),
        metrics=_metric_summary(result.metric_results),
        baseline=baseline,
        train_seconds=float(result.train_seconds),
        epochs_run=epochs_run,
        triples_per_second=training.num_triples * epochs_run / max(float(result.train_seconds), 1e-9),
    )


def evaluate_untrained(
    model_name: str,
    training: TriplesFactory,
    validation: TriplesFactory,
    testing: TriplesFactory,
    config: TrainingConfig,
) -> dict[str, float]:
    """The same model with random weights on the same test triples: what 'learned' must beat."""
    model = model_resolver.make(
        model_name, embedding_dim=config.dim, triples_factory=training, random_seed=config.seed
    )
    evaluator = RankBasedEvaluator(filtered=True)
    results = evaluator.evaluate(
        model,
        testing.mapped_triples,
        additional_filter_triples=[training.mapped_triples, validation.mapped_triples],
        batch_size=256,
        use_tqdm=False,
    )
    return _metric_summary(results)
