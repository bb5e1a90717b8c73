"""The evaluation harness on the real Instacart sample (kept outside the repo; skipped without it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.text_encoder import HashingTextEncoder
from graph.errors import InputFileError
from recommender.evaluation_run import evaluate_instacart
from recommender.instacart import prepare_instacart
from tests.conftest import shared_data


def test_instacart_split_hides_a_third_and_keeps_test_orders_out_of_training(tmp_path: Path) -> None:
    data_dir = shared_data("instacart_dev")
    data = prepare_instacart(data_dir, tmp_path, baskets=50, seed=3)
    again = prepare_instacart(data_dir, tmp_path / "again", baskets=50, seed=3)
    assert [c.order_id for c in data.cases] == [c.order_id for c in again.cases]
    assert len(data.cases) == 50
    for case in data.cases:
        total = len(case.visible) + len(case.hidden)
        assert total >= 4
        assert len(case.hidden) == max(1, round(total / 3))
        assert not set(case.visible) & case.hidden
    sessions = {line.split(",")[-1].strip() for line in data.interactions.read_text().splitlines()[1:]}
    assert not sessions & {c.order_id for c in data.cases}


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"missing products\.csv"):
        prepare_instacart(tmp_path, tmp_path / "w")


@pytest.mark.slow
def test_report_has_every_system_metric_and_plot(tmp_path: Path) -> None:
    data_dir = shared_data("instacart_dev")
    report = evaluate_instacart(data_dir, tmp_path / "out", HashingTextEncoder(dim=32), baskets=40, epochs=5)
    names = [s["name"] for s in report["systems"]]
    assert names[:5] == ["random", "popularity", "text", "kg", "fused"]
    assert {"xquad@0.8", "mmr@0.2", "dpp@1.0", "calibrated@0.6"} <= set(names)
    for system in report["systems"]:
        for key in ("ndcg@10", "recall@10", "alpha_ndcg@10", "ild@10", "ild_text@10", "coverage@10"):
            low, high = system["ci95"][key]
            assert low <= system["metrics"][key] <= high
    fused = next(s for s in report["systems"] if s["name"] == "fused")["metrics"]
    random = next(s for s in report["systems"] if s["name"] == "random")["metrics"]
    assert fused["ndcg@10"] > random["ndcg@10"]
    assert set(report["defaults"]) >= {"strategy", "diversity", "fusion_weights"}
    out = tmp_path / "out"
    assert json.loads((out / "report.json").read_text())["name"] == "instacart"
    assert (out / "pareto_alpha_ndcg.png").stat().st_size > 1000
    assert "| fused |" in (out / "report.md").read_text()
