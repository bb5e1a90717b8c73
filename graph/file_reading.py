"""Streaming readers that report the file and line of anything they cannot read."""

from __future__ import annotations

import csv
import gzip
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from kgrec.graph.errors import InputFileError

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
MAX_LINE_BYTES = 4 * 1024 * 1024
"""A longer line is refused while it is read, so memory never holds more of it than this."""
MAX_DECOMPRESSED_BYTES = 8 * 1024**3
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_AFTER = 16 * 1024 * 1024
"""Text compresses 3-20x; a `.gz` that expands over 100x past its first 16 MB is a bomb."""


def _suffix(path: Path) -> str:
    """The format suffix, under a `.gz`."""
    suffixes = [x.lower() for x in path.suffixes]
    return suffixes[-2] if len(suffixes) > 1 and suffixes[-1] == ".gz" else path.suffix.lower()


def _bounded_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Raw lines, each at most MAX_LINE_BYTES; a `.gz` is capped in size and expansion ratio."""
    compressed = path.suffix.lower() == ".gz"
    with path.open("rb") as raw_file:
        handle = cast(BinaryIO, gzip.GzipFile(fileobj=raw_file, mode="rb")) if compressed else raw_file
        total = 0
        number = 0
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise InputFileError(path, number, f"line longer than {MAX_LINE_BYTES} bytes")
            total += len(raw)
            if compressed:
                if total > MAX_DECOMPRESSED_BYTES:
                    raise InputFileError(
                        path, number, f"expands to more than {MAX_DECOMPRESSED_BYTES} bytes; not loaded"
                    )
                if total > RATIO_CHECK_AFTER and total > MAX_COMPRESSION_RATIO * raw_file.tell():
                    raise InputFileError(
                        path,
                        number,
                        f"expands more than {MAX_COMPRESSION_RATIO}x; refused as a likely decompression bomb",
                    )
            yield number, raw


def iter_text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yields (line number, text) decoding each line strictly as UTF-8 (a BOM is dropped).

    A `.gz` file is read through gzip: catalogue dumps usually ship compressed. Memory stays
    bounded whatever the file holds: see `_bounded_lines`.
    """
    if not path.is_file():
        raise InputFileError(path, None, "file not found")
    number = 0
    try:
        for number, raw in _bounded_lines(path):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1]
                raise InputFileError(path, number, f"not valid UTF-8 (byte {exc.start}: {bad!r})") from exc
            if number == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield number, text
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputFileError(path, number + 1, f"not a readable gzip file: {exc}") from exc


def iter_graded_lines(path: Path, max_grade: float = 3.0) -> Iterator[tuple[int, str, str, float]]:
    """`query<TAB>product_id<TAB>grade` lines (grade 1 to `max_grade`, blank lines skipped) as
    (line number, query, product id, grade): judged search results, as the query evaluation's
    judgements (homedepot qrels) and fine-tuning's pairs both read them."""
    for number, line in iter_text_lines(path):
        if not line.strip():
            continue
        parts = line.rstrip("\n").split("\t")
        if len(parts) != 3:
            raise InputFileError(path, number, "expected query<TAB>product_id<TAB>grade")
        query, pid, raw = (part.strip() for part in parts)
        try:
            grade = float(raw)
        except ValueError:
            raise InputFileError(path, number, f"grade {raw!r} is not a number") from None
        if not query or not pid or not 1.0 <= grade <= max_grade:
            raise InputFileError(
                path, number, f"a line needs a query, a product_id and a grade from 1 to {max_grade:g}"
            )
        yield number, query, pid, grade


def iter_csv_rows(path: Path, required: tuple[str, ...] = ()) -> Iterator[tuple[int, dict[str, str]]]:
    """Yields (line number, row); multi-line quoted fields report the line they start on."""
    lines = iter_text_lines(path)
    current = [0]

    def text() -> Iterator[str]:
        for number, line in lines:
            current[0] = number
            yield line

    reader = csv.reader(text(), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputFileError(path, 1, "empty file: expected a CSV header") from None
    except csv.Error as exc:
        raise InputFileError(path, current[0], f"malformed CSV header: {exc}") from exc
    header = [h.strip() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputFileError(
            path, 1, f"missing required column(s) {', '.join(missing)}; found {', '.join(header)}"
        )
    while True:
        start = current[0] + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputFileError(path, current[0], f"malformed CSV: {exc}") from exc
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise InputFileError(
                path, start, f"expected {len(header)} fields as in the header, found {len(values)}"
            )
        yield start, dict(zip(header, values, strict=True))


def iter_jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in iter_text_lines(path):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFileError(path, number, f"malformed JSON: {exc.msg}") from exc
        except RecursionError:
            raise InputFileError(path, number, "JSON nested too deeply") from None
        if not isinstance(value, dict):
            raise InputFileError(path, number, "expected a JSON object on each line")
        yield number, value


def is_jsonl(path: Path) -> bool:
    return _suffix(path) in JSONL_SUFFIXES
