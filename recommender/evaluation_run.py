"""Evaluation runs end to end: catalogue into an in-memory graph, train on the training part only,
evaluate every system on the held-out cases, write the report.

The in-memory store (proved equivalent to Neo4j by the contract suite) keeps an evaluation away
from the shop's database, and keeps test interactions out of the embeddings.
"""

from __future__ import annotations

import csv
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from embeddings.build import build_embeddings
from embeddings.text_encoder import TextEncoder
from embeddings.training import TrainingConfig
from graph.catalogue_copy import copy_catalogue
from graph.errors import InputFileError, InvalidArgumentError
from graph.interaction_parsing import RawInteraction, iter_interactions
from graph.loaders import load_interactions, load_products, load_taxonomy
from graph.memory_store import MemoryGraphStore
from graph.store import GraphStore
from recommender.eval_cases import EvalCase, split_interactions
from recommender.evaluation import Evaluator, choose_default, versus, weight_grid, write_report
from recommender.giftcards import prepare_giftcards
from recommender.homedepot_run import evaluate_homedepot
from recommender.instacart import prepare_instacart
from recommender.lastfm import prepare_lastfm
from recommender.service import Recommender

EVAL_KEY = b"evaluation"
REGION_CHOICES = ("auto", "taxonomy", "community")
Extra = Callable[[Evaluator], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class _Run:
    """What every evaluation run shares, whatever its data."""

    encoder: TextEncoder
    out: Path
    epochs: int
    seed: int
    progress: bool


def _write_interactions(rows: Sequence[RawInteraction], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "kind", "timestamp", "value", "session_id"])
        for r in rows:
            writer.writerow(
                [
                    r.user_id,
                    r.item_id,
                    r.kind,
                    r.timestamp,
                    "" if r.value is None else r.value,
                    r.session_id or "",
                ]
            )
    return path


def _region_kind(recommender: Recommender, wanted: str) -> str:
    """`auto`: the taxonomy when it splits the catalogue into at least 5 regions, else communities."""
    if wanted != "auto":
        return wanted
    return "taxonomy" if len(set(recommender.catalog.regions["taxonomy"][0])) >= 5 else "community"


def _train_and_evaluate(
    store: MemoryGraphStore,
    work: Path,
    train_interactions: Path,
    cases: Sequence[EvalCase],
    run: _Run,
    *,
    name: str,
    protocol: str,
    regions: str,
    extra: Extra | None = None,
    tune_cases: Sequence[EvalCase] | None = None,
) -> dict[str, Any]:
    started = time.perf_counter()
    if not cases:
        raise InvalidArgumentError(
            "split", "the split left no test cases: the file has too few users or baskets"
        )
    load_interactions(store, train_interactions, pseudonym_key=EVAL_KEY, progress=run.progress)
    config = TrainingConfig(epochs=run.epochs, seed=run.seed)
    summary = build_embeddings(store, work / "home", config, run.encoder, progress=run.progress)
    recommender = Recommender.load(store, work / "home", run.encoder, pseudonym_key=EVAL_KEY)
    region_kind = _region_kind(recommender, regions)
    evaluator = Evaluator(recommender, cases, region_kind=region_kind, seed=run.seed)
    sweep = evaluator.sweep_weights(weight_grid(), cases=tune_cases, progress=run.progress)
    results = evaluator.run(progress=run.progress)
    systems = [r.summary(recommender.catalog.pids) for r in results]
    report: dict[str, Any] = {
        "name": name,
        "protocol": f"{protocol} Regions: {region_kind}. 95% bootstrap CIs over cases.",
        "region_kind": region_kind,
        "cases": len(cases),
        "systems": systems,
        "versus_fused": versus(results),
        "defaults": {**choose_default(systems), "fusion_weights": asdict(recommender.weights)},
        "fusion_weight_sweep": sweep,
        "fusion_weights_tuned_on": (
            f"{len(tune_cases)} held-out tuning cases, disjoint from the test cases"
            if tune_cases
            else "the test cases (no tuning cases were held out)"
        ),
        "training": summary.as_dict(),
    }
    if extra is not None:
        report.update(extra(evaluator))
    report["seconds"] = round(time.perf_counter() - started, 1)
    write_report(run.out, report)
    return report


def _split_and_evaluate(
    store: MemoryGraphStore,
    work: Path,
    rows: Sequence[RawInteraction],
    split_name: str,
    run: _Run,
    *,
    name: str,
    describe: Callable[[str], str],
    regions: str,
    cases: int,
    tune: int,
) -> dict[str, Any]:
    """Split the events, keep the held-out ones out of the graph, then train and evaluate."""
    split = split_interactions(rows, split_name, cases=cases, tune=tune, seed=run.seed)
    return _train_and_evaluate(
        store,
        work,
        _write_interactions(split.train, work / "train.csv"),
        split.cases,
        run,
        tune_cases=split.tune_cases,
        name=name,
        protocol=describe(split.description),
        regions=regions,
    )


def evaluate_instacart(
    data_dir: Path,
    out: Path,
    encoder: TextEncoder,
    *,
    cases: int = 300,
    tune: int = 150,
    epochs: int = 40,
    seed: int = 7,
    progress: bool = False,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kgrec-eval-") as tmp:
        work = Path(tmp)
        data = prepare_instacart(data_dir, work / "data")
        store = MemoryGraphStore()
        load_taxonomy(store, data.taxonomy, taxonomy="instacart", progress=progress)
        load_products(store, data.products, taxonomy="instacart", progress=progress)
        return _split_and_evaluate(
            store,
            work,
            list(iter_interactions(data.interactions)),
            "basket",
            _Run(encoder, out, epochs, seed, progress),
            name="instacart",
            describe=lambda split: (
                f"Instacart basket completion on {data_dir} ({data.orders} orders, {data.lines} lines): "
                f"{split}; the visible two thirds are the request's history, 10 items are recommended "
                "from the rest of the catalogue."
            ),
            regions="taxonomy",
            cases=cases,
            tune=tune,
        )


def evaluate_giftcards(
    data_dir: Path,
    out: Path,
    encoder: TextEncoder,
    *,
    cases: int = 300,
    tune: int = 150,
    epochs: int = 40,
    seed: int = 7,
    progress: bool = False,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kgrec-eval-") as tmp:
        work = Path(tmp)
        data = prepare_giftcards(data_dir, work / "data")
        store = MemoryGraphStore()
        load_products(store, data.products, taxonomy="amazon_giftcards", progress=progress)
        return _split_and_evaluate(
            store,
            work,
            list(iter_interactions(data.interactions)),
            "leave-last",
            _Run(encoder, out, epochs, seed, progress),
            name="giftcards",
            describe=lambda split: (
                f"Amazon 2018 Gift Cards on {data_dir} ({data.products_count} products, "
                f"{data.reviews} reviews as `rating` events): {split}."
            ),
            regions="community",
            cases=cases,
            tune=tune,
        )


def evaluate_lastfm(
    data_dir: Path,
    out: Path,
    encoder: TextEncoder,
    *,
    cases: int = 300,
    tune: int = 150,
    epochs: int = 40,
    seed: int = 7,
    progress: bool = False,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kgrec-eval-") as tmp:
        work = Path(tmp)
        data = prepare_lastfm(data_dir, work / "data", cases=cases, tune=tune, seed=seed)
        store = MemoryGraphStore()
        load_products(store, data.products, progress=progress)

        def ctr(evaluator: Evaluator) -> dict[str, Any]:
            return {
                "ctr_auc": evaluator.pair_auc(data.auc_rows, data.train_history),
                "ctr_rows": len(data.auc_rows),
            }

        return _train_and_evaluate(
            store,
            work,
            data.train_interactions,
            data.cases,
            _Run(encoder, out, epochs, seed, progress),
            name="lastfm",
            protocol=(
                f"Last.FM KG (KGCN/RippleNet benchmark) on {data_dir}: {data.items} artists, {data.triples} "
                f"triples, {data.ratings} labelled rows split 6:2:2 at random (seed {seed}); training "
                f"positives train; AUC over the {len(data.auc_rows)} test rows (`ctr_auc`); top-10 over "
                f"{len(data.cases)} users' test positives with their training positives as history."
            ),
            regions="community",
            extra=ctr,
            tune_cases=data.tune_cases,
        )


def evaluate_interactions(
    source: GraphStore,
    interactions: Path,
    out: Path,
    encoder: TextEncoder,
    *,
    split: str = "leave-last",
    regions: str = "auto",
    cases: int = 300,
    tune: int = 150,
    epochs: int = 40,
    seed: int = 7,
    progress: bool = False,
) -> dict[str, Any]:
    """Any loaded catalogue, any interactions file in kgrec's format, one of the splits."""
    if regions not in REGION_CHOICES:
        raise InvalidArgumentError("regions", f"use one of {', '.join(REGION_CHOICES)}")
    rows = list(iter_interactions(interactions))
    with tempfile.TemporaryDirectory(prefix="kgrec-eval-") as tmp:
        work = Path(tmp)
        store = MemoryGraphStore()
        categories, products = copy_catalogue(source, store)
        if products == 0:
            raise InvalidArgumentError("interactions", "the graph has no products: load a catalogue first")
        known = store.existing_ids("Product", sorted({r.item_id for r in rows}))
        for row in rows:
            if row.item_id not in known:
                raise InputFileError(interactions, row.line, f"unknown item_id {row.item_id!r}")
        return _split_and_evaluate(
            store,
            work,
            rows,
            split,
            _Run(encoder, out, epochs, seed, progress),
            name=interactions.stem,
            describe=lambda description: (
                f"{interactions} ({len(rows)} events) against the loaded catalogue ({products} products, "
                f"{categories} categories): {description}."
            ),
            regions=regions,
            cases=cases,
            tune=tune,
        )


class Preset(Protocol):
    def __call__(
        self,
        data_dir: Path,
        out: Path,
        encoder: TextEncoder,
        *,
        cases: int = ...,
        tune: int = ...,
        epochs: int = ...,
        seed: int = ...,
        progress: bool = ...,
    ) -> dict[str, Any]: ...


SHARED_DATA = Path("../shared/data")
PRESETS: dict[str, tuple[Preset, Path]] = {
    "instacart": (evaluate_instacart, SHARED_DATA / "instacart_dev"),
    "giftcards": (evaluate_giftcards, SHARED_DATA / "amazon_giftcards_2018"),
    "lastfm": (evaluate_lastfm, SHARED_DATA / "lastfm_kg"),
    "homedepot": (evaluate_homedepot, SHARED_DATA / "homedepot_search"),
}
