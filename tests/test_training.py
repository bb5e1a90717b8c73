"""Real PyKEEN training on PyKEEN's bundled Nations graph."""

from __future__ import annotations

import pytest
import torch
from pykeen.datasets import Nations

from kgrec.embeddings.training import TrainingConfig, resolve_model, train_embeddings
from kgrec.graph.errors import GraphTooSmallError, InvalidArgumentError


@pytest.mark.slow
def test_learned_embeddings_beat_random_weights_on_nations() -> None:
    data = Nations()
    config = TrainingConfig(model="DistMult", dim=32, epochs=40, batch_size=256, lr=0.02, frequency=10)
    trained = train_embeddings(data.training, data.validation, data.testing, config)
    assert trained.entity_vectors.shape == (data.num_entities, 32)
    assert trained.metrics["mrr"] > trained.baseline["mrr"] + 0.1
    assert trained.metrics["hits_at_10"] >= trained.baseline["hits_at_10"]
    assert trained.epochs_run >= config.frequency


@pytest.mark.slow
def test_complex_models_store_real_and_imaginary_parts() -> None:
    data = Nations()
    config = TrainingConfig(model="ComplEx", dim=8, epochs=2, batch_size=512, frequency=5, eval_sample=50)
    trained = train_embeddings(data.training, data.validation, data.testing, config)
    assert trained.entity_vectors.shape == (data.num_entities, 16)


def test_unknown_model_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidArgumentError) as err:
        resolve_model("TransFoo")
    assert "TransFoo" in str(err.value)
    assert "TransE" in str(err.value) and "RotatE" in str(err.value)
    assert resolve_model("transe") == "TransE"


def test_bad_hyperparameters_name_the_field() -> None:
    with pytest.raises(InvalidArgumentError, match="dim: must be at least 1"):
        TrainingConfig(dim=0)
    with pytest.raises(InvalidArgumentError, match="lr: must be positive"):
        TrainingConfig(lr=0)


def test_tiny_graph_is_refused() -> None:
    data = Nations()
    tiny = data.training.clone_and_exchange_triples(data.training.mapped_triples[:10])
    with pytest.raises(GraphTooSmallError, match="too small"):
        train_embeddings(tiny, data.validation, data.testing, TrainingConfig(epochs=1))


def test_a_device_is_cpu_or_a_cuda_gpu_that_exists() -> None:
    with pytest.raises(InvalidArgumentError, match="device: use cpu, cuda or cuda:N"):
        TrainingConfig(device="tpu")
    data = Nations()
    config = TrainingConfig(model="DistMult", dim=8, epochs=1, device="cuda:0")
    if torch.cuda.is_available():
        trained = train_embeddings(data.training, data.validation, data.testing, config)
        assert trained.entity_vectors.shape == (data.num_entities, 8)
    else:
        with pytest.raises(InvalidArgumentError, match="device: cuda:0 asked for"):
            train_embeddings(data.training, data.validation, data.testing, config)
