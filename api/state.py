"""Long-lived serving state: the driver, the encoder, the current recommender and admin jobs.

Several workers (`kgrec serve --workers N`, or replicas) share one Neo4j and one KGREC_HOME:
a reload writes a new token to HOME/serving/generation, which every worker's WorkerSync
follows (api/worker_sync.py); jobs live in files (api/jobs.py)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neo4j import Driver

from kgrec.api.jobs import Job, JobStore
from kgrec.api.settings import Settings
from kgrec.embeddings.encoder_artifacts import current_choice
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.graph.atomic_write import write_text_atomically
from kgrec.graph.errors import ArtifactError, KgrecError, NotFoundError
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.recommender.service import Recommender

log = logging.getLogger(__name__)


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
        self.jobs = JobStore(settings.home / "jobs")
        self.generation = read_generation(settings.home)

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

    def reload(self, *, publish: bool = True) -> str:
        """Builds the new recommender beside the old one, then swaps: no request sees neither.
        `publish` tells the other workers to reload too (a new generation token)."""
        wanted = current_choice(self.settings.home)
        if self._encoder_factory is not None and wanted != self._encoder_choice:
            self.encoder = self._encoder_factory()
            self._encoder_choice = wanted
            log.info("serving encoder %s", self.encoder.name)
        fresh = self._load()
        with self._load_lock:
            self._recommender = fresh
        if publish:
            self.generation = publish_generation(self.settings.home)
        return fresh.artifact.name

    def loaded(self) -> Recommender | None:
        """The recommender if one is loaded, without loading it."""
        return self._recommender

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
        return self.jobs.submit(kind, work)


def _generation_file(home: Path) -> Path:
    return home / "serving" / "generation"


def read_generation(home: Path) -> str | None:
    try:
        return _generation_file(home).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None


def publish_generation(home: Path) -> str:
    token = uuid.uuid4().hex
    path = _generation_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, token)
    return token
