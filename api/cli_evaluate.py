"""`kgrec evaluate`: accuracy against diversity on real shopping data, with a readable report."""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from api.cli import JsonFlag, app, emit, handle_errors
from api.settings import Settings
from api.wiring import limit_blas_threads, text_encoder
from embeddings.build import build_embeddings
from embeddings.training import TrainingConfig
from graph.errors import InvalidArgumentError
from graph.loaders import load_interactions, load_products, load_taxonomy
from graph.memory_store import MemoryGraphStore
from recommender.evaluation import Evaluator, choose_default, weight_grid, write_report
from recommender.instacart import prepare_instacart
from recommender.service import Recommender

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
    started = time.perf_counter()
    settings = Settings()
    encoder = text_encoder(settings)
    with tempfile.TemporaryDirectory(prefix="kgrec-eval-") as tmp:
        work = Path(tmp)
        data = prepare_instacart(data_dir, work / "data", baskets=baskets, seed=seed)
        store = MemoryGraphStore()
        load_taxonomy(store, data.taxonomy, taxonomy="instacart", progress=not as_json)
        load_products(store, data.products, taxonomy="instacart", progress=not as_json)
        load_interactions(store, data.interactions, pseudonym_key=b"evaluation", progress=not as_json)
        config = TrainingConfig(epochs=epochs, seed=seed)
        summary = build_embeddings(store, work / "home", config, encoder, progress=not as_json)
        recommender = Recommender.load(store, work / "home", encoder, pseudonym_key=b"evaluation")
        evaluator = Evaluator(recommender, data.cases, seed=seed)
        sweep = evaluator.sweep_weights(weight_grid(), progress=not as_json)
        results = evaluator.run(progress=not as_json)
    catalogue = recommender.catalog.pids
    systems = [r.summary(catalogue) for r in results]
    report = {
        "name": preset,
        "protocol": (
            f"Basket completion on {data_dir}: {len(data.cases)} orders with >= 4 items (seed {seed}); "
            "a third of each basket hidden, 10 recommended from the rest of the catalogue with the "
            f"visible items as history; the other {data.orders - len(data.cases)} orders "
            f"({data.lines} lines) are training data. Regions: aisles. 95% bootstrap CIs over baskets."
        ),
        "systems": systems,
        "defaults": {**choose_default(systems), "fusion_weights": asdict(recommender.weights)},
        "fusion_weight_sweep": sweep,
        "training": summary.as_dict(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    target = out or Path("reports") / preset
    write_report(target, report)
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
