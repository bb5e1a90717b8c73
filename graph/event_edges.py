"""How one batch of events changes an `INTERACTED` edge's properties, outside Neo4j.

The in-memory store and the bulk-import staging both apply it, so that both agree with the
Cypher in `cypher.merge_interactions` (the contract suite and the bulk-import test check that).
"""

from __future__ import annotations

from typing import Any

from kgrec.graph.records import EVENT_WINDOW, InteractionRecord


def merge_events(edge: dict[str, Any], row: InteractionRecord, is_new: bool) -> str:
    """Updates `edge` in place; returns 'created', 'updated' or 'skipped' like the Cypher."""
    seen: list[int] = list(edge.get("event_ts", []))
    fresh = [t for t in row.timestamps if t not in seen and (len(seen) < EVENT_WINDOW or t > min(seen))]
    edge.update(
        kind=row.kind,
        event_ts=sorted(seen + fresh, reverse=True)[:EVENT_WINDOW],
        count=edge.get("count", 0) + len(fresh),
        first_ts=min([*fresh, *([edge["first_ts"]] if "first_ts" in edge else [])]),
        last_ts=max([*fresh, *([edge["last_ts"]] if "last_ts" in edge else [])]),
    )
    if fresh and row.value is not None:
        edge["value"] = row.value
    if fresh and row.session_id is not None:
        edge["session_id"] = row.session_id
    if is_new:
        return "created"
    return "updated" if fresh else "skipped"
