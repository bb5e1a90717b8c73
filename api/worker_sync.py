"""Keeps one worker in step with the others that share its Neo4j and KGREC_HOME.

Every `interval` seconds a background thread
- pulls the INTERACTED edges that took events since its high-water mark (`r.changed_ms`,
  stamped by Neo4j's clock when an event is counted) and replays the events this worker has not
  seen into its recommender (`Recommender.record_event`);
- reloads when another worker published a new serving generation (api/state.py), or when the
  current artifact changed under it (`kgrec train` or `kgrec models use` run elsewhere).

So an event posted to any worker reaches every worker's next recommendation within one interval
plus one pull (docs/scaling.md gives the measured bound). The pull re-reads `OVERLAP_MS` before
the mark, because a transaction can commit after a later one that was stamped earlier; replaying
is harmless: an event at or before the worker's newest timestamp for that edge is skipped.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kgrec.api.state import read_generation
from kgrec.embeddings.artifacts import current_name
from kgrec.graph.errors import KgrecError

if TYPE_CHECKING:
    from kgrec.api.state import AppState
    from kgrec.recommender.service import Recommender

log = logging.getLogger(__name__)
OVERLAP_MS = 5_000


def replay_events(recommender: Recommender, rows: list[dict[str, Any]]) -> int:
    """Events of `rows` newer than what the recommender holds for that (user, item, kind)."""
    applied = 0
    for row in rows:
        held = [
            i.last_ts
            for i in recommender.projection.user_history.get(row["user"], [])
            if i.item == row["item"] and i.kind == row["kind"]
        ]
        newest = held[0] if held else None
        for ts in sorted(row["event_ts"] or []):
            if (newest is None or ts > newest) and recommender.record_event(
                row["user"], row["item"], row["kind"], ts
            ):
                applied += 1
    return applied


class WorkerSync:
    def __init__(self, state: AppState, interval_s: float) -> None:
        self.state = state
        self.interval_s = interval_s
        self.since_ms: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="kgrec-worker-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        last_problem = ""
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
                last_problem = ""
            except KgrecError as exc:
                if str(exc) != last_problem:  # once per outage, not every interval
                    log.warning("worker sync skipped: %s", exc)
                last_problem = str(exc)
            except Exception:
                log.exception("worker sync failed")

    def run_once(self) -> int:
        """One pass: follow a published reload, then pull new events; returns events applied."""
        home = self.state.settings.home
        generation = read_generation(home)
        recommender = self.state.loaded()
        pointer = current_name(home)
        moved = (
            recommender is not None
            and pointer is not None
            and Path(pointer).name != recommender.artifact.path.name
        )
        if moved or (generation is not None and generation != self.state.generation):
            self.state.generation = generation
            log.info("reloaded after another worker or command: serving %s", self.state.reload(publish=False))
            recommender = self.state.loaded()
        store = self.state.store
        if self.since_ms is None:
            self.since_ms = store.server_time_ms() - OVERLAP_MS
        if recommender is None:
            return 0  # the first load reads every event from Neo4j anyway
        rows = store.interactions_changed_since(self.since_ms - OVERLAP_MS)
        if rows:
            self.since_ms = max(self.since_ms, max(int(r["changed_ms"]) for r in rows))
        return replay_events(recommender, rows)
