"""Concurrent one-query encodes share forward passes.

Under load a server encodes many short queries at once, one per request thread. One forward
pass over eight queries costs far less than eight passes over one, so whichever thread finds
the encoder idle encodes every query queued meanwhile. Nothing waits on purpose: at low load a
query is encoded alone, as before; the batches form only while the encoder is already busy.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from kgrec.embeddings.text_encoder import Matrix, TextEncoder


@dataclass(slots=True)
class _Job:
    text: str
    vector: Matrix | None = None
    error: BaseException | None = None
    done: bool = False


class BatchingEncoder:
    def __init__(self, inner: TextEncoder, *, max_batch: int = 32) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._queue: list[_Job] = []
        self._busy = False
        self.batches = 0
        self.encoded = 0

    def encode(self, texts: Sequence[str]) -> Matrix:
        if len(texts) != 1:
            return self.inner.encode(texts)
        job = _Job(texts[0])
        with self._cond:
            self._queue.append(job)
            while self._busy and not job.done:
                self._cond.wait()
            leading = not job.done
            self._busy = self._busy or leading
        if leading:
            try:
                # Our query is in the queue (first in, first out) until a batch takes it.
                while not job.done and self._run_one_batch():
                    pass
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error
        vector = cast(Matrix, job.vector)
        return vector[None, :]

    def _run_one_batch(self) -> bool:
        with self._cond:
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
        if not batch:
            return False
        try:
            vectors = self.inner.encode([j.text for j in batch])
        except Exception as exc:  # every caller in the batch gets the encoder's error
            for j in batch:
                j.error = exc
        else:
            for j, vector in zip(batch, np.asarray(vectors), strict=True):
                j.vector = vector
        with self._cond:
            self.batches += 1
            self.encoded += len(batch)
            for j in batch:
                j.done = True
            self._cond.notify_all()
        return True
