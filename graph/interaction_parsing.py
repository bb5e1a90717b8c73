"""Parse interaction CSV files: who did what to which product, and when."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kgrec.graph import limits
from kgrec.graph.errors import InputFileError
from kgrec.graph.file_reading import iter_csv_rows

KINDS = ("view", "cart", "purchase", "rating")
REQUIRED_COLUMNS = ("user_id", "item_id", "kind", "timestamp")


@dataclass(frozen=True, slots=True)
class RawInteraction:
    line: int
    user_id: str
    item_id: str
    kind: str
    timestamp: int
    value: float | None
    session_id: str | None


def parse_timestamp(raw: str) -> int:
    """Epoch seconds (or milliseconds) or ISO 8601; naive times are UTC; 1970 to 9999 only."""
    text = raw.strip()
    try:
        number = float(text)
    except ValueError:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return limits.timestamp(parsed.timestamp())
    if number > 1e11:
        number /= 1000.0
    return limits.timestamp(number)


def iter_interactions(path: Path) -> Iterator[RawInteraction]:
    for number, row in iter_csv_rows(path, required=REQUIRED_COLUMNS):
        user, item, kind = row["user_id"].strip(), row["item_id"].strip(), row["kind"].strip().lower()
        if not user or not item:
            raise InputFileError(path, number, "user_id and item_id must not be empty")
        if kind not in KINDS:
            raise InputFileError(path, number, f"kind {row['kind']!r} is not one of {', '.join(KINDS)}")
        try:
            timestamp = parse_timestamp(row["timestamp"])
        except ValueError as exc:
            if str(exc).startswith("timestamp "):
                raise InputFileError(path, number, str(exc)) from None
            raise InputFileError(
                path, number, f"timestamp {row['timestamp']!r} is neither epoch seconds nor ISO 8601"
            ) from None
        raw_value = (row.get("value") or "").strip()
        try:
            value = float(raw_value) if raw_value else None
        except ValueError:
            raise InputFileError(path, number, f"value {raw_value!r} is not a number") from None
        session = (row.get("session_id") or "").strip() or None
        try:
            limits.text("user_id", user)
            limits.text("item_id", item, indexed=True)
            if session is not None:
                limits.text("session_id", session, indexed=True)
            if value is not None:
                limits.number("value", value, -limits.MAX_ABS_VALUE, limits.MAX_ABS_VALUE)
        except ValueError as exc:
            raise InputFileError(path, number, str(exc)) from None
        yield RawInteraction(number, user, item, kind, timestamp, value, session)
