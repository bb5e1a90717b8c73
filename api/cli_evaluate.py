"""`kgrec evaluate`: accuracy against diversity on real shopping data, with a readable report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from api.cli import JsonFlag, app, emit, handle_errors
from api.settings import Settings
from api.wiring import limit_blas_threads, text_encoder
from graph.errors import InvalidArgumentError
from recommender.evaluation_run import evaluate_instacart

PRESETS = ("instacart",)


@app.command("evaluate")
@handle_errors
def evaluate_cmd(
    preset: Annotated[str, typer.Option(help="Dataset preset: instacart")] = "instacart",
    data_dir: Annotated[Path, typer.Option(help="Folder laid out like the preset's data")] = Path(
        "../shared/data/instacart_dev"
    ),
    out: Annotated[Path | None, typer.Option(help="Report folder (default reports/<preset>)")] = None,
    baskets: Annotated[int, typer.Option(help="Test baskets (orders with >= 4 items)")] = 300,
    epochs: Annotated[int, typer.Option(help="Training epochs for the KG model")] = 40,
    seed: Annotated[int, typer.Option()] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Basket completion: hide a third of each test basket, recommend 10 from the rest.

    The data is loaded into an in-memory graph store (the one the contract suite proves
    equivalent to Neo4j), so an evaluation never touches the shop's database.
    """
    if preset not in PRESETS:
        raise InvalidArgumentError("preset", f"unknown preset {preset!r}; use one of {', '.join(PRESETS)}")
    limit_blas_threads()
    target = out or Path("reports") / preset
    report = evaluate_instacart(
        data_dir,
        target,
        text_encoder(Settings()),
        baskets=baskets,
        epochs=epochs,
        seed=seed,
        progress=not as_json,
    )
    systems = report["systems"]
    compact = {
        "systems": [{"name": s["name"], "metrics": s["metrics"]} for s in systems],
        "defaults": report["defaults"],
    }
    lines = [
        f"{s['name']:<16} ndcg@10 {s['metrics']['ndcg@10']:.4f}  "
        f"alpha_ndcg@10 {s['metrics']['alpha_ndcg@10']:.4f}  coverage@10 {s['metrics']['coverage@10']:.2f}"
        for s in systems
    ]
    lines += [f"defaults: {json.dumps(report['defaults'])}", f"report: {target / 'report.md'}"]
    emit(compact, as_json, lines)
