"""Long-lived serving state: the driver, the encoder, the current recommender and admin jobs."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver

from kgrec.api.settings import Settings
from kgrec.embeddings.encoder_artifacts import current_choice
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.graph.errors import ArtifactError, KgrecError, NotFoundError
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.recommender.service import Recommender

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Job:
    id: str
    kind: str
    status: str = "queued"
    created: float = field(default_factory=time.time)
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "created": self.created,
            "finished": self.finished,
            "result": self.result,
            "error": self.error,
        }


class AppState:
    def __init__(
        self,
        settings: Settings,
        driver: Driver,
        store: Neo4jGraphStore,
        encoder: TextEncoder,
        *,
        encoder_factory: Callable[[], TextEncoder] | None = None,
    ) -> None:
        self.settings = settings
        self.driver = driver
        self.store = store
        self.encoder = encoder
        # With a factory, a reload also follows `kgrec finetune` / `models use` to a new encoder.
        self._encoder_factory = encoder_factory
        self._encoder_choice = current_choice(settings.home)
        self.pseudonym_key = settings.pseudonym_key_bytes()
        self.api_key = settings.api_key_value()
        self._recommender: Recommender | None = None
        self._load_lock = threading.Lock()
        # CPU-bound work runs in worker threads; two at a time matches the two cores.
        self.cpu_slots = threading.BoundedSemaphore(settings.cpu_workers)
        self.jobs: dict[str, Job] = {}

    def recommender(self) -> Recommender:
        """The current recommender, loading it on first use (Neo4j may have been down at start)."""
        current = self._recommender
        if current is not None:
            return current
        with self._load_lock:
            if self._recommender is None:
                self._recommender = self._load()
            return self._recommender

    def _load(self) -> Recommender:
        try:
            recommender = Recommender.load(
                self.store, self.settings.home, self.encoder, pseudonym_key=self.pseudonym_key
            )
        except NotFoundError as exc:
            raise ArtifactError(str(exc)) from exc
        log.info("serving artifact %s", recommender.artifact.name)
        return recommender

    def reload(self) -> str:
        """Builds the new recommender beside the old one, then swaps: no request sees neither."""
        wanted = current_choice(self.settings.home)
        if self._encoder_factory is not None and wanted != self._encoder_choice:
            self.encoder = self._encoder_factory()
            self._encoder_choice = wanted
            log.info("serving encoder %s", self.encoder.name)
        fresh = self._load()
        with self._load_lock:
            self._recommender = fresh
        return fresh.artifact.name

    def is_ready(self) -> tuple[bool, str]:
        try:
            self.store.ping()
        except KgrecError as exc:
            return False, str(exc)
        try:
            self.recommender()
        except KgrecError as exc:
            return False, str(exc)
        return True, "ok"

    def submit(self, kind: str, work: Callable[[], dict[str, Any]]) -> Job:
        job = Job(id=uuid.uuid4().hex, kind=kind)
        self.jobs[job.id] = job

        def run() -> None:
            job.status = "running"
            try:
                job.result = work()
                job.status = "succeeded"
            except KgrecError as exc:
                job.status, job.error = "failed", str(exc)
            except Exception as exc:
                log.exception("job %s failed", job.id)
                job.status, job.error = "failed", f"internal error: {type(exc).__name__}"
            job.finished = time.time()

        threading.Thread(target=run, name=f"kgrec-job-{job.id[:8]}", daemon=True).start()
        return job
