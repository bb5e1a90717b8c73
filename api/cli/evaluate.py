"""`kgrec evaluate`: accuracy against diversity on real shopping data, with a readable report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli.common import JsonFlag, emit, graph_store, handle_errors, require_file
from api.settings import Settings
from api.wiring import limit_blas_threads, text_encoder
from evaluation.run import (
    PRESETS,
    REGION_CHOICES,
    RunOptions,
    evaluate_interactions,
    evaluate_preset,
    preset_folder,
)
from evaluation.splits import SPLITS, get_split
from graph.errors import InvalidArgumentError
from recommender.tuning import from_report, save_tuned

app = typer.Typer()


@app.command("evaluate")
@handle_errors
def evaluate_cmd(
    preset: Annotated[str | None, typer.Option(help=f"Dataset preset: {' | '.join(PRESETS)}")] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder laid out like the preset's data (default: under KGREC_SHARED_DATA)"),
    ] = None,
    interactions: Annotated[
        Path | None,
        typer.Option(help="Interactions CSV to evaluate the loaded catalogue on (instead of a preset)"),
    ] = None,
    split: Annotated[str, typer.Option(help=f"With --interactions: {' | '.join(SPLITS)}")] = "leave-last",
    regions: Annotated[str, typer.Option(help=f"With --interactions: {' | '.join(REGION_CHOICES)}")] = "auto",
    out: Annotated[Path | None, typer.Option(help="Report folder (default reports/<name>)")] = None,
    cases: Annotated[int, typer.Option("--cases", "--baskets", help="Test cases (baskets or users)")] = 300,
    tune: Annotated[
        int,
        typer.Option(
            "--tune-cases", help="Held-out cases the fusion weights are chosen on (0: the test cases)"
        ),
    ] = 150,
    epochs: Annotated[int, typer.Option(help="Training epochs for the KG model")] = 40,
    seed: Annotated[int, typer.Option()] = 7,
    apply: Annotated[
        bool, typer.Option("--apply", help="Serve with the chosen defaults (written to KGREC_HOME)")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train on the training part only, then compare every system on the held-out cases.

    Presets load their data into an in-memory graph store (the one the contract suite proves
    equivalent to Neo4j); --interactions copies the loaded catalogue from Neo4j into one.
    Either way the evaluation never writes to the shop's database.
    """
    options = RunOptions(cases=cases, tune=tune, epochs=epochs, seed=seed, progress=not as_json)
    options.check()
    get_split(split)
    limit_blas_threads()
    settings = Settings()
    if interactions is not None:
        if preset is not None:
            raise InvalidArgumentError("preset", "give either --preset or --interactions, not both")
        path = require_file(interactions)
        target = out or Path("reports") / path.stem
        with graph_store(settings) as store:
            report = evaluate_interactions(
                store, path, target, text_encoder(settings), split=split, regions=regions, options=options
            )
    else:
        name = preset or "instacart"
        folder = preset_folder(name, data_dir, settings.shared_data)
        target = out or Path("reports") / name
        report = evaluate_preset(name, folder, target, lambda: text_encoder(settings), options)
    if apply:
        report["applied"] = str(save_tuned(settings.home, from_report(report)))
    _print(report, target, as_json)


def _print(report: dict[str, Any], target: Path, as_json: bool) -> None:
    systems = report["systems"]
    compact: dict[str, Any] = {
        "systems": [{"name": s["name"], "metrics": s["metrics"]} for s in systems],
        "defaults": report["defaults"],
        "versus_fused": report["versus_fused"],
    }
    for key in ("ctr_auc", "applied"):
        if key in report:
            compact[key] = report[key]
    if "baselines_tuned" in report:
        compact["baselines_tuned"] = {n: b["params"] for n, b in report["baselines_tuned"].items()}
    lines = [
        f"{s['name']:<16} ndcg@10 {s['metrics']['ndcg@10']:.4f}  "
        f"alpha_ndcg@10 {s['metrics']['alpha_ndcg@10']:.4f}  coverage@10 {s['metrics']['coverage@10']:.2f}"
        for s in systems
    ]
    if "ctr_auc" in report:
        lines.append(f"click-through AUC: {json.dumps(report['ctr_auc'])}")
    lines += [f"defaults: {json.dumps(report['defaults'])}", f"report: {target / 'report.md'}"]
    if "applied" in report:
        lines.append(f"applied: {report['applied']} (a running API picks it up on POST /v1/admin/reload)")
    emit(compact, as_json, lines)
