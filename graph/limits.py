"""What Neo4j and the driver can store, checked while validating so that no write fails later.

Every check raises `ValueError` with a message naming the field; parsers turn it into an
`InputFileError` with the file and line.
"""

from __future__ import annotations

import math

MAX_INDEXED_BYTES = 4_000
"""Neo4j's range indexes refuse keys over about 8 KB; composite keys (taxonomy, path) share it."""
MAX_TEXT_CHARS = 100_000
MAX_TAXONOMY_DEPTH = 64
MIN_TIMESTAMP = 0
MAX_TIMESTAMP = 253_402_300_799
"""9999-12-31T23:59:59Z: later (or pre-1970) timestamps are typos or unit mistakes."""
MAX_PRICE = 1e12
MAX_ABS_VALUE = 1e12


def text(field: str, value: str, *, indexed: bool = False) -> str:
    """A string Neo4j can store, and index when `indexed` (ids, names, paths)."""
    if "\x00" in value:
        raise ValueError(f"{field} contains a NUL byte")
    if indexed:
        size = len(value.encode("utf-8"))
        if size > MAX_INDEXED_BYTES:
            raise ValueError(f"{field} is {size} bytes long; at most {MAX_INDEXED_BYTES} can be indexed")
    elif len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"{field} is {len(value)} characters long; at most {MAX_TEXT_CHARS}")
    return value


def number(field: str, value: float, low: float, high: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{field} {value!r} is not a finite number")
    if not low <= value <= high:
        raise ValueError(f"{field} {value!r} is outside {low:g}..{high:g}")
    return value


def timestamp(value: float) -> int:
    """Epoch seconds between 1970 and 9999, as an int the driver can send (int64)."""
    if not math.isfinite(value):
        raise ValueError(f"timestamp {value!r} is not a finite number")
    if not MIN_TIMESTAMP <= value <= MAX_TIMESTAMP:
        raise ValueError(f"timestamp {value:g} is before 1970 or after 9999")
    return int(value)


def depth(levels: int) -> int:
    if levels > MAX_TAXONOMY_DEPTH:
        raise ValueError(f"category path is {levels} levels deep; at most {MAX_TAXONOMY_DEPTH}")
    return levels
