"""Compressed files are read with bounded memory: long lines and bombs are refused as they stream."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from bench.upload_bomb_bench import peak_rss_rise, write_line_bomb
from kgrec.graph.errors import InputFileError
from kgrec.graph.file_reading import MAX_LINE_BYTES, iter_csv_rows, iter_text_lines


def test_a_gzip_line_bomb_is_refused_within_100_mb(tmp_path: Path) -> None:
    bomb = write_line_bomb(tmp_path / "bomb.csv.gz", 512 * 1024 * 1024)
    assert bomb.stat().st_size < 2_000_000
    with pytest.raises(InputFileError, match=r"bomb\.csv\.gz:2: line longer than"):
        list(iter_text_lines(bomb))
    measured = peak_rss_rise(bomb)
    assert str(measured["outcome"]).startswith("line longer than")
    assert float(str(measured["peak_rise_mb"])) < 100


def test_a_gzip_that_expands_over_100x_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "events.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(b"user_id,item_id,kind,timestamp\n")
        for _ in range(40):
            handle.write(b"u,p1,view,1704189600\n" * 50_000)
    with pytest.raises(
        InputFileError, match="expands more than 100x; refused as a likely decompression bomb"
    ):
        list(iter_text_lines(path))


def test_lines_up_to_the_cap_are_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_bytes(b"id,title\n" + b"p1," + b"t" * (MAX_LINE_BYTES - 4) + b"\n")
    [(number, line)] = list(iter_text_lines(path))[1:]
    assert number == 2 and len(line) == MAX_LINE_BYTES


def test_a_csv_field_over_the_field_cap_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("id,title\np1,ok\np2," + "t" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"wide\.csv:3: malformed CSV: field larger than field limit"):
        list(iter_csv_rows(path))
