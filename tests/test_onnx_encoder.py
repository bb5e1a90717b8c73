"""ONNX Runtime as the encoder's runtime: the same vectors as torch, from a cached export."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from kgrec.api.settings import Settings
from kgrec.api.wiring import text_encoder
from kgrec.embeddings.encoders import open_encoder
from kgrec.embeddings.onnx_encoder import OnnxTextEncoder
from kgrec.embeddings.text_encoder import HFTextEncoder
from kgrec.graph.errors import InvalidArgumentError
from kgrec.graph.samples import AMAZON_TOYS, AMAZON_TOYS_MAPPING, sample_file
from tests.conftest import TEST_THREADS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home") / "onnx"


def toy_titles(n: int) -> list[str]:
    with sample_file(AMAZON_TOYS).open(encoding="utf-8", newline="") as handle:
        return [
            row[AMAZON_TOYS_MAPPING["title"]]
            for _, row in zip(range(n), csv.DictReader(handle), strict=False)
        ]


def test_onnx_vectors_match_torch_and_retrieve_the_same_top_10(cache: Path) -> None:
    torch_encoder = HFTextEncoder(threads=TEST_THREADS)
    onnx_encoder = OnnxTextEncoder(cache_dir=cache, threads=TEST_THREADS)
    titles = toy_titles(400)
    queries = ["wooden train set", "lego star wars", "dolls house furniture", "remote control car", "jigsaw"]

    reference, ours = torch_encoder.encode(titles), onnx_encoder.encode(titles)
    assert ours.shape == reference.shape == (400, 384)
    assert float(np.min(np.sum(reference * ours, axis=1))) >= 0.999
    top = lambda q, items: np.argsort(-(q @ items.T), axis=1)[:, :10]  # noqa: E731
    overlap = [
        len(set(a) & set(b)) / 10
        for a, b in zip(
            top(torch_encoder.encode(queries), reference),
            top(onnx_encoder.encode(queries), ours),
            strict=True,
        )
    ]
    assert float(np.mean(overlap)) >= 0.95
    one = onnx_encoder.encode([titles[7]])
    assert np.allclose(one[0], ours[7], atol=1e-4), "a single query gets the vector its batch gets"


def test_int8_blocks_keep_the_fp32_vectors_and_top_10(cache: Path) -> None:
    """KGREC_TEXT_QUANTIZE with onnx: int8 in blocks of 32 (weights and activations) stays within
    cosine 0.999 of fp32, where one scale per activation tensor kept only 0.66-0.86 of the top 10."""
    fp32 = OnnxTextEncoder(cache_dir=cache)
    int8 = OnnxTextEncoder(cache_dir=cache, quantize=True)
    assert int8.model_file.name == "model.int8.onnx" and int8.model_file != fp32.model_file
    titles = toy_titles(300)
    queries = [t.split(",")[0][:40] for t in titles[::10]]
    reference, ours = fp32.encode(titles), int8.encode(titles)
    assert float(np.min(np.sum(reference * ours, axis=1))) >= 0.999
    top = lambda q, items: np.argsort(-(q @ items.T), axis=1)[:, :10]  # noqa: E731
    overlap = [
        len(set(a) & set(b)) / 10
        for a, b in zip(top(fp32.encode(queries), reference), top(int8.encode(queries), ours), strict=True)
    ]
    assert float(np.mean(overlap)) >= 0.95


def test_the_export_is_cached_and_the_runtime_is_a_setting(cache: Path) -> None:
    first = OnnxTextEncoder(cache_dir=cache)
    stamp = first.model_file.stat().st_mtime_ns
    again = OnnxTextEncoder(cache_dir=cache)
    assert again.model_file == first.model_file and again.model_file.stat().st_mtime_ns == stamp
    assert not list(cache.rglob("*.tmp"))

    chosen = text_encoder(Settings(home=cache.parent, encoder_runtime="onnx", torch_threads=1))
    assert isinstance(chosen, OnnxTextEncoder)
    assert chosen.model_file == first.model_file
    assert isinstance(text_encoder(Settings(home=cache.parent)), HFTextEncoder)


def test_every_caller_of_open_encoder_can_pick_the_runtime(cache: Path) -> None:
    chosen = open_encoder("minilm", runtime="onnx", onnx_cache=cache, threads=1)
    assert isinstance(chosen, OnnxTextEncoder) and chosen.model_file.parent.parent == cache
    assert isinstance(open_encoder(None, runtime="torch"), HFTextEncoder)
    with pytest.raises(InvalidArgumentError, match="not the use-multilingual encoder"):
        open_encoder("use-multilingual", runtime="onnx", onnx_cache=cache)
    with pytest.raises(InvalidArgumentError, match="'tensorrt' is not one of torch, onnx"):
        open_encoder(None, runtime="tensorrt")
    with pytest.raises(InvalidArgumentError, match="cache the export"):
        open_encoder(None, runtime="onnx")
