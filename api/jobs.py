"""Admin jobs (training) whose state lives in files under KGREC_HOME/jobs, not in a worker's
memory: any worker answers `GET /v1/admin/jobs/{id}`, and a restarted worker still knows them.

A running job's worker rewrites its file every `HEARTBEAT_S`; a job still "running" whose
heartbeat is older than `STALE_S` lost its worker (killed, restarted) and reads "interrupted".
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kgrec.graph.atomic_write import write_text_atomically
from kgrec.graph.errors import KgrecError

log = logging.getLogger(__name__)
HEARTBEAT_S = 5.0
STALE_S = 30.0
_JOB_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(slots=True)
class Job:
    id: str
    kind: str
    status: str = "queued"
    created: float = field(default_factory=time.time)
    finished: float | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    worker: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    heartbeat: float = field(default_factory=time.time)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class JobStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def save(self, job: Job) -> None:
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_text_atomically(self.folder / f"{job.id}.json", json.dumps(job.as_dict()))

    def get(self, job_id: str) -> Job | None:
        if not _JOB_ID.match(job_id):
            return None
        path = self.folder / f"{job_id}.json"
        try:
            job = Job(**json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        if job.status in ("queued", "running") and time.time() - job.heartbeat > STALE_S:
            job.status, job.error = "interrupted", f"worker {job.worker} stopped while the job ran"
        return job

    def submit(self, kind: str, work: Callable[[], dict[str, Any]]) -> Job:
        """Runs `work` in a thread of this worker; its file says how it went."""
        job = Job(id=uuid.uuid4().hex, kind=kind)
        self.save(job)
        done = threading.Event()

        def beat() -> None:
            while not done.wait(HEARTBEAT_S):
                job.heartbeat = time.time()
                self.save(job)

        def run() -> None:
            job.status = "running"
            self.save(job)
            threading.Thread(target=beat, name=f"kgrec-beat-{job.id[:8]}", daemon=True).start()
            try:
                job.result = work()
                job.status = "succeeded"
            except KgrecError as exc:
                job.status, job.error = "failed", str(exc)
            except Exception as exc:
                log.exception("job %s failed", job.id)
                job.status, job.error = "failed", f"internal error: {type(exc).__name__}"
            done.set()
            job.finished = job.heartbeat = time.time()
            self.save(job)

        threading.Thread(target=run, name=f"kgrec-job-{job.id[:8]}", daemon=True).start()
        return job
