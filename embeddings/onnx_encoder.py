"""The same BERT sentence encoder run by ONNX Runtime: a choice of runtime, not of model.

`KGREC_ENCODER_RUNTIME=onnx` serves queries through this class instead of `HFTextEncoder`.
The model folder is exported once (torch -> ONNX, with the mean pooling and L2 normalisation
inside the graph) to a file cached under the kgrec home, keyed by the model's own files, so
nothing downloads and a new model gets a new export. Its vectors match torch's (cosine
≥ 0.999, checked by tests and `bench/encoder_bench.py`), so artifacts built with one runtime
serve with the other. Per query it skips torch's dispatcher and Python-side pooling, runs
BERT's layers as ONNX Runtime's fused kernels, and tokenises with the `tokenizers` library
directly, without padding.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kgrec.embeddings.text_encoder import Matrix, default_model_path
from kgrec.graph.errors import MissingToolError

log = logging.getLogger(__name__)
EXPORT_VERSION = "2"
"""Bumped whenever the exported graph changes, so old cached files are not reused."""
OPSET = 17


def _fingerprint(model_path: Path, quantize: bool) -> str:
    digest = hashlib.sha256(f"{EXPORT_VERSION}:{quantize}".encode())
    for name in ("config.json", "tokenizer.json"):
        digest.update((model_path / name).read_bytes())
    for weights in sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin")):
        stat = weights.stat()
        digest.update(f"{weights.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _export(model_path: Path, target: Path) -> None:
    """torch -> ONNX with pooling and normalisation in the graph (torch is needed only here),
    then BERT's layers fused into ONNX Runtime's own kernels (`_fuse`)."""
    import torch
    from transformers import AutoModel

    # Eager attention exports as the MatMul/Softmax pattern that the fusion recognises; the
    # default (SDPA) exports with NaN guards that it does not.
    model = AutoModel.from_pretrained(
        str(model_path), local_files_only=True, attn_implementation="eager"
    ).eval()

    class SentenceVector(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    sample = torch.ones(2, 16, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    raw = target.with_name(f"{target.name}.raw")
    with torch.inference_mode():
        torch.onnx.export(
            SentenceVector(),
            (sample, sample),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "sentence_embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    try:
        _fuse(raw, target, model.config.num_attention_heads, model.config.hidden_size)
    finally:
        raw.unlink(missing_ok=True)


def _fuse(source: Path, target: Path, heads: int, hidden: int) -> None:
    """Attention, embedding + LayerNorm, residual + LayerNorm and bias + GELU each become one
    ONNX Runtime kernel (its transformer optimizer): fewer, larger operations a query."""
    from onnxruntime.transformers.optimizer import optimize_model

    optimize_model(
        str(source), model_type="bert", num_heads=heads, hidden_size=hidden, opt_level=0
    ).save_model_to_file(str(target))


def _quantize(source: Path, target: Path) -> None:
    """Int8 MatMul weights in blocks of 32 values, each with its own scale, and the activations
    quantised the same way as they enter each MatMul (ONNX Runtime's MatMulNBits, accuracy
    level 4). The earlier tries quantised every activation tensor with one scale, and a few
    large dimensions flattened the rest: top-10 overlap 0.66 (torch) and 0.86 (per-channel
    weights); blocks of 32 keep cosine ≥ 0.999 with fp32 (docs/benchmarks.md, session 6)."""
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    config = DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True, accuracy_level=4, bits=8)
    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(source)), bits=8, block_size=32, is_symmetric=True, accuracy_level=4, algo_config=config
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(target), use_external_data_format=False)


def onnx_model_file(model_path: Path, cache_dir: Path, *, quantize: bool = False) -> Path:
    """The cached export of `model_path` (made on first use, atomically)."""
    folder = cache_dir / f"{model_path.name}-{_fingerprint(model_path, quantize)}"
    target = folder / ("model.int8.onnx" if quantize else "model.onnx")
    if target.exists():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{target.name}.{os.getpid()}.tmp"
    log.info("exporting %s to ONNX under %s (once)", model_path, folder)
    if quantize:
        _quantize(onnx_model_file(model_path, cache_dir), partial)
    else:
        _export(model_path, partial)
    os.replace(partial, target)
    return target


class OnnxTextEncoder:
    """Mean-pooled, L2-normalised vectors of a local BERT-family folder, by ONNX Runtime."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        cache_dir: Path,
        threads: int | None = None,
        batch_size: int = 64,
        max_length: int = 128,
        quantize: bool = False,
    ) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise MissingToolError(
                "KGREC_ENCODER_RUNTIME=onnx needs onnxruntime: pip install onnxruntime"
            ) from exc
        path = model_path or default_model_path()
        if not (path / "tokenizer.json").exists():
            raise MissingToolError(f"{path} has no tokenizer.json: the onnx runtime needs a fast tokenizer")
        self.name = path.name if model_path else "all-MiniLM-L6-v2"
        self.path = path
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or 1
        options.inter_op_num_threads = 1
        self.model_file = onnx_model_file(path, cache_dir, quantize=quantize)
        self.session: Any = onnxruntime.InferenceSession(
            str(self.model_file), options, providers=["CPUExecutionProvider"]
        )
        self.dim = int(self.session.get_outputs()[0].shape[1] or self._probe_dim())

    def _probe_dim(self) -> int:
        return int(self._run(["dim"]).shape[1])

    def _run(self, batch: Sequence[str]) -> Matrix:
        encodings = self.tokenizer.encode_batch(list(batch))
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        out: Matrix = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        return out

    def encode(self, texts: Sequence[str]) -> Matrix:
        if len(texts) == 1:
            return self._run(texts).astype(np.float32, copy=False)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Batches of similar length waste little work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(texts), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._run([texts[i] for i in rows])
        return out
