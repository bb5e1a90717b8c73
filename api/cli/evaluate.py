"""`kgrec evaluate`: accuracy against diversity on real shopping data, with a readable report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from kgrec.api.cli.common import JsonFlag, emit, graph_store, handle_errors, require_file
from kgrec.api.settings import Settings
from kgrec.api.wiring import limit_blas_threads, text_encoder
from kgrec.evaluation.query_run import evaluate_homedepot
from kgrec.evaluation.run import (
    PRESETS,
    QUERY_PRESETS,
    REGION_CHOICES,
    RunOptions,
    evaluate_interactions,
    evaluate_preset,
    preset_folder,
)
from kgrec.evaluation.splits import SPLITS, get_split
from kgrec.evaluation.validation import RANKER_SPLITS, VALIDATION_CASES
from kgrec.graph.errors import InvalidArgumentError
from kgrec.recommender.ranker import install_ranker
from kgrec.recommender.tuning import from_report, save_tuned

app = typer.Typer()


@app.command("evaluate")
@handle_errors
def evaluate_cmd(
    preset: Annotated[
        str | None, typer.Option(help=f"Dataset preset: {' | '.join([*PRESETS, *QUERY_PRESETS])}")
    ] = None,
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
    cases: Annotated[
        int | None,
        typer.Option(
            "--cases", "--baskets", help="Test cases (baskets, users or queries; default 300, homedepot 1000)"
        ),
    ] = None,
    tune: Annotated[
        int | None,
        typer.Option(
            "--tune-cases",
            help="Held-out cases the weights are tuned on (0: the test cases; default 150, homedepot 300)",
        ),
    ] = None,
    queries: Annotated[str, typer.Option(help="homedepot: the query set measured on, dev | train")] = "dev",
    finetuned: Annotated[
        list[Path] | None,
        typer.Option(
            help="homedepot: a `kgrec finetune` encoder folder, adds text/fused+finetuned "
            "(repeat it to compare several: +finetuned, +finetuned2, ...)"
        ),
    ] = None,
    title_attributes: Annotated[
        bool, typer.Option(help="homedepot: read brands and attribute values from the titles")
    ] = True,
    catalogue: Annotated[
        int | None,
        typer.Option(help="homedepot: rank among the judged products plus random others up to N"),
    ] = None,
    diversity_sweep: Annotated[
        bool,
        typer.Option(
            help="Run the 20 diversity settings on the test cases too, for the trade-off plots "
            "(off: quicker; homedepot then has no --apply suggestion)"
        ),
    ] = True,
    validation_cases: Annotated[
        int,
        typer.Option(
            help="Cases split off the training part to tune the fusion weights on, besides the "
            "tuning cases (0: none)"
        ),
    ] = VALIDATION_CASES,
    ranker_splits: Annotated[
        int,
        typer.Option(
            help="Validation splits of the training part the learned ranker trains on, each with "
            "its own seed and its own fitted recommender (the first also tunes the weights)"
        ),
    ] = RANKER_SPLITS,
    epochs: Annotated[int, typer.Option(help="Training epochs for the KG model")] = 40,
    seed: Annotated[int, typer.Option()] = 7,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="Serve with the tuned defaults: fusion weights, the neighbour lists' settings they "
            "were measured with (iALS, ItemKNN, shopper-kNN...) and the default strategy and "
            "diversity (written to KGREC_HOME/tuned_defaults.json), and the learned ranker for "
            "history requests where the run kept one (KGREC_HOME/ranker.json)",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Train on the training part only, then compare every system on the held-out cases.

    Presets load their data into an in-memory graph store (the one the contract suite proves
    equivalent to Neo4j); --interactions copies the loaded catalogue from Neo4j into one.
    Either way the evaluation never writes to the shop's database.
    """
    by_queries = preset in QUERY_PRESETS
    options = RunOptions(
        cases=cases if cases is not None else (1000 if by_queries else 300),
        tune=tune if tune is not None else (300 if by_queries else 150),
        epochs=epochs,
        seed=seed,
        progress=not as_json,
        validation=validation_cases,
        ranker_splits=ranker_splits,
        diversity_sweep=diversity_sweep,
    )
    options.check()
    homedepot_only = (queries, finetuned, title_attributes, catalogue)
    if not by_queries and homedepot_only != ("dev", None, True, None):
        raise InvalidArgumentError(
            "queries", "--queries, --finetuned, --no-title-attributes and --catalogue are for homedepot"
        )
    if apply and by_queries and not diversity_sweep:
        raise InvalidArgumentError(
            "apply", "--apply needs the diversity sweep for homedepot: drop --no-diversity-sweep"
        )
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
        if by_queries:
            report = evaluate_homedepot(
                folder,
                target,
                text_encoder(settings),
                cases=options.cases,
                tune=options.tune,
                epochs=options.epochs,
                seed=options.seed,
                progress=options.progress,
                queries=queries,
                finetuned=finetuned or [],
                title_attributes=title_attributes,
                catalogue=catalogue,
                diversity_sweep=diversity_sweep,
                runtime=settings.encoder_runtime,
            )
        else:
            report = evaluate_preset(name, folder, target, lambda: text_encoder(settings), options)
    if apply:
        report["applied"] = str(save_tuned(settings.home, from_report(report)))
        if not by_queries:
            trained = report.get("ranker", {}).get("file")
            report["applied_ranker"] = install_ranker(settings.home, Path(trained) if trained else None)
    _print(report, target, as_json)


def _print(report: dict[str, Any], target: Path, as_json: bool) -> None:
    systems = report["systems"]
    compact: dict[str, Any] = {
        "systems": [{"name": s["name"], "metrics": s["metrics"]} for s in systems],
        "defaults": report["defaults"],
        "versus_fused": report["versus_fused"],
    }
    for key in ("ctr_auc", "applied", "versus_bm25", "encode_latency_ms"):
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
