"""The sample catalogue is found beside the code, or through KGREC_DATA_DIR, or the error says how."""

from __future__ import annotations

from pathlib import Path

import pytest

import kgrec.graph.samples as samples
from kgrec.graph.errors import InvalidArgumentError, NotFoundError
from kgrec.graph.samples import AMAZON_TOYS, GOOGLE_TAXONOMY_ZH, sample_data_dir, sample_file
from tests.conftest import REPO


def test_a_checkout_finds_data_beside_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KGREC_DATA_DIR", raising=False)
    assert sample_data_dir() == REPO / "data"
    assert sample_file(AMAZON_TOYS).stat().st_size > 1_000_000


def test_the_setting_names_another_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "google_taxonomy").mkdir()
    (tmp_path / GOOGLE_TAXONOMY_ZH).write_text("1 - 玩具\n", encoding="utf-8")
    monkeypatch.setenv("KGREC_DATA_DIR", str(tmp_path))
    assert sample_file(GOOGLE_TAXONOMY_ZH) == tmp_path / GOOGLE_TAXONOMY_ZH
    with pytest.raises(NotFoundError, match=r"ecommerce_sample\.csv does not exist: KGREC_DATA_DIR"):
        sample_file(AMAZON_TOYS)


def test_a_wrong_setting_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KGREC_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(InvalidArgumentError) as err:
        sample_data_dir()
    assert err.value.field == "KGREC_DATA_DIR" and "nowhere is not a folder" in str(err.value)


def test_an_installed_copy_without_the_setting_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KGREC_DATA_DIR", raising=False)
    monkeypatch.setattr(samples, "__file__", str(tmp_path / "kgrec" / "graph" / "samples.py"))
    with pytest.raises(NotFoundError, match="set KGREC_DATA_DIR to a copy of the repository's data/ folder"):
        sample_data_dir()
