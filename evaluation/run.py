"""Evaluation runs end to end: catalogue into an in-memory graph, train on the training part only,
evaluate every system on the held-out cases, write the report.

The in-memory store (proved equivalent to Neo4j by the contract suite) keeps an evaluation away
from the shop's database, and keeps test interactions out of the embeddings. Every dataset goes
through the same steps; a preset (evaluation/presets/) only says what differs.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kgrec.embeddings.artifacts import Artifact
from kgrec.embeddings.build import build_embeddings
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.embeddings.training import TrainingConfig
from kgrec.evaluation.baselines import (
    GRIDS,
    HYBRID,
    TunedBaseline,
    check_grids,
    neighbour_settings,
    tune_baselines,
)
from kgrec.evaluation.harness import (
    WEIGHT_AXES,
    Evaluator,
    single_source_starts,
    versus,
)
from kgrec.evaluation.knowledge_choice import (
    KNOWLEDGE_WEIGHTS,
    SHOPPERKNN_KNOWLEDGE_WEIGHTS,
    CaseGroup,
    choose_itemknn_knowledge,
    choose_knowledge,
    shopperknn_fit,
)
from kgrec.evaluation.presets.base import PreparedData, PresetEntry
from kgrec.evaluation.presets.giftcards import giftcards_preset
from kgrec.evaluation.presets.instacart import instacart_preset
from kgrec.evaluation.presets.lastfm import lastfm_preset
from kgrec.evaluation.ranker_training import fit_ranker
from kgrec.evaluation.report import write_report
from kgrec.evaluation.splits import EvalCase, Split, split_interactions
from kgrec.evaluation.validation import (
    RANKER_SPLITS,
    VALIDATION_CASES,
    fitted_validation,
    ranker_validations,
    validation_split,
    write_interactions,
)
from kgrec.graph.catalogue_copy import copy_catalogue
from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.interaction_parsing import iter_interactions
from kgrec.graph.loaders import load_interactions, load_products, load_taxonomy
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.store import GraphStore
from kgrec.recommender.catalog_index import product_popularity
from kgrec.recommender.collaborative.knowledge_walk import knowledge_nodes
from kgrec.recommender.collaborative.matrix import ItemItemModel
from kgrec.recommender.collaborative.neighbours import NeighbourLists
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.ranker import FILE as RANKER_FILE
from kgrec.recommender.ranker import save_ranker
from kgrec.recommender.regions import REGION_KINDS
from kgrec.recommender.service import Recommender

EVAL_KEY = b"evaluation"
REGION_CHOICES = ("auto", *REGION_KINDS)
# A fusion weight leaves its default only for a gain of one standard error on the tuning cases.
ASCENT_MIN_GAIN_SE = 1.0
PRESETS: dict[str, PresetEntry] = {
    "instacart": PresetEntry(instacart_preset, "instacart_dev"),
    "giftcards": PresetEntry(giftcards_preset, "amazon_giftcards_2018"),
    "lastfm": PresetEntry(lastfm_preset, "lastfm_kg"),
}
# Query-relevance presets (evaluation/query_run.py): graded judgements of shoppers' queries.
QUERY_PRESETS: dict[str, str] = {"homedepot": "homedepot_search"}


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What every evaluation run shares, whatever its data. `baseline_grids`: the baselines'
    hyper-parameter grids (a smaller one tunes faster, e.g. in a smoke run); `knowledge_weights`:
    the catalogue-node weights tried under ItemKNN's shoppers (`choose_itemknn_knowledge`);
    `shopperknn_knowledge_weights`: those tried in kgrec's own shopper-kNN's profiles (none:
    shoppers only, as its baseline);
    `kg_eval_sample`: the triples the KG model's link prediction is measured on (the training
    summary's metrics); `weight_axes` and `ascent_rounds`: the values the fusion-weight ascent
    tries for each weight, and how many times it goes over them (fewer try faster, e.g. in a
    test-size run)."""

    cases: int = 300
    tune: int = 150
    epochs: int = 40
    seed: int = 7
    progress: bool = False
    validation: int = VALIDATION_CASES
    ranker_splits: int = RANKER_SPLITS
    diversity_sweep: bool = True
    baseline_grids: Mapping[str, Sequence[dict[str, float]]] = field(default_factory=lambda: GRIDS)
    knowledge_weights: Sequence[float] = KNOWLEDGE_WEIGHTS
    shopperknn_knowledge_weights: Sequence[float] = SHOPPERKNN_KNOWLEDGE_WEIGHTS
    kg_eval_sample: int = field(default_factory=lambda: TrainingConfig().eval_sample)
    weight_axes: Mapping[str, Sequence[float]] = field(default_factory=lambda: WEIGHT_AXES)
    ascent_rounds: int = 2

    def check(self) -> None:
        if self.cases < 1:
            raise InvalidArgumentError("cases", "must be at least 1")
        if self.tune < 0:
            raise InvalidArgumentError("tune-cases", "must be 0 or more")
        if self.epochs < 1:
            raise InvalidArgumentError("epochs", "must be at least 1")
        if self.validation < 0:
            raise InvalidArgumentError("validation-cases", "must be 0 or more")
        if self.ranker_splits < 1:
            raise InvalidArgumentError("ranker-splits", "must be at least 1")
        if self.kg_eval_sample < 1:
            raise InvalidArgumentError("kg-eval-sample", "must be at least 1")
        if self.ascent_rounds < 1:
            raise InvalidArgumentError("ascent-rounds", "must be at least 1")
        for axis, values in self.weight_axes.items():
            if axis not in WEIGHT_AXES:
                raise InvalidArgumentError(
                    "weight-axes", f"unknown weight {axis!r}; use some of {', '.join(WEIGHT_AXES)}"
                )
            if not values:
                raise InvalidArgumentError("weight-axes", f"{axis}: give at least one value")
        check_grids(self.baseline_grids)


def get_preset(name: str) -> PresetEntry:
    try:
        return PRESETS[name]
    except KeyError:
        raise InvalidArgumentError(
            "preset", f"unknown preset {name!r}; use one of {', '.join([*PRESETS, *QUERY_PRESETS])}"
        ) from None


def _preset_subfolder(name: str) -> str:
    return QUERY_PRESETS[name] if name in QUERY_PRESETS else get_preset(name).folder


def preset_folder(name: str, data_dir: Path | None, shared_data: Path | None) -> Path:
    """The preset's data: the folder given, else its usual folder under the shared data root."""
    if data_dir is not None:
        return data_dir
    if shared_data is None:
        raise InvalidArgumentError(
            "data-dir",
            f"give --data-dir, or set KGREC_SHARED_DATA to the folder holding {_preset_subfolder(name)}",
        )
    return shared_data / _preset_subfolder(name)


def _region_kind(recommender: Recommender, wanted: str) -> str:
    """`auto`: the taxonomy when it splits the catalogue into at least 5 regions, else communities."""
    if wanted != "auto":
        return wanted
    return "taxonomy" if len(set(recommender.catalog.regions["taxonomy"].ids)) >= 5 else "community"


def tuned_recommender(
    store: MemoryGraphStore,
    home: Path,
    encoder: TextEncoder,
    tune_cases: Sequence[EvalCase],
    options: RunOptions,
    validation: CaseGroup | None = None,
) -> tuple[Recommender, dict[str, TunedBaseline]]:
    """The baselines tuned on `tune_cases`, and the recommender over the trained `home` whose
    collaborative lists use their hyper-parameters. The lists are built once, with those, before
    the recommender opens them (building them at load with the defaults would be thrown away),
    and EASE's dense inverse is the tuned baseline's, not fitted again. ItemKNN over shoppers
    and catalogue nodes, measured on the tuning and `validation` cases
    (`choose_itemknn_knowledge`), joins the baselines as `itemknn_knowledge`; kgrec's own ItemKNN
    lists stay the shoppers' (docs/evaluation.md, session 11). kgrec's shopper-kNN takes the
    catalogue nodes at the weight that passes the keep rule on the same cases (0: none), while
    its baseline stays plain (`_shopperknn_knowledge`)."""
    projection = GraphProjection.load(store)
    items = list(projection.product_ids)
    popularity = product_popularity(projection)
    baselines = tune_baselines(
        projection.item_histories(),
        items,
        popularity,
        tune_cases,
        grids=options.baseline_grids,
        progress=options.progress,
        knowledge=knowledge_nodes(projection, items),
    )
    if "itemknn" in baselines:
        baselines[HYBRID] = _hybrid(
            projection,
            items,
            popularity,
            tune_cases,
            validation,
            baselines["itemknn"],
            options.knowledge_weights,
        )
    settings = neighbour_settings(baselines)
    own = _shopperknn_knowledge(
        projection, items, popularity, tune_cases, validation, baselines, options.shopperknn_knowledge_weights
    )
    if own is not None:
        settings = replace(settings, shopperknn_knowledge=own)
    artifact = Artifact.open_current(home)
    artifact.require_encoder(encoder.name, encoder.dim)
    ease = baselines["ease"].model if "ease" in baselines else None
    if not isinstance(ease, ItemItemModel):
        ease = None
    NeighbourLists.build(projection, items, popularity, settings, ease=ease).save(artifact.path)
    recommender = Recommender(
        store, artifact, encoder, projection, pseudonym_key=EVAL_KEY, neighbour_settings=settings
    )
    return recommender, baselines


def _hybrid(
    projection: GraphProjection,
    items: list[str],
    popularity: NDArray[np.float32],
    tune_cases: Sequence[EvalCase],
    validation: CaseGroup | None,
    itemknn: TunedBaseline,
    weights: Sequence[float],
) -> TunedBaseline:
    """ItemKNN over shoppers and catalogue nodes at the weight the tuning and validation cases
    favour (`best_weight`), and the weight the keep rule would pass (`passing_weight`, 0: none)."""
    groups = [
        CaseGroup("tuning", projection.item_histories(), tune_cases),
        *([validation] if validation else []),
    ]
    knowledge = knowledge_nodes(projection, items)
    choice = choose_itemknn_knowledge(groups, items, popularity, knowledge, itemknn.params, weights=weights)
    params = {**itemknn.params, "best_weight": choice.best, "passing_weight": choice.weight}
    return TunedBaseline(HYBRID, params, choice.rank or itemknn.rank, choice.sweep, note=choice.reason)


def _shopperknn_knowledge(
    projection: GraphProjection,
    items: list[str],
    popularity: NDArray[np.float32],
    tune_cases: Sequence[EvalCase],
    validation: CaseGroup | None,
    baselines: Mapping[str, TunedBaseline],
    weights: Sequence[float],
) -> float | None:
    """kgrec's shopper-kNN's catalogue-node weight (`NeighbourSettings.shopperknn_knowledge`):
    the plain tuned baseline's model with the nodes against without, on the tuning and validation
    cases (`choose_knowledge`); the choice is recorded on the baseline. None without that
    baseline or weights to try (the settings then keep what the baseline's grid chose)."""
    if "shopperknn" not in baselines or not weights:
        return None
    groups = [
        CaseGroup("tuning", projection.item_histories(), tune_cases),
        *([validation] if validation else []),
    ]
    baseline = baselines["shopperknn"]
    fit = shopperknn_fit(baseline.params)
    knowledge = knowledge_nodes(projection, items)
    choice = choose_knowledge(groups, items, popularity, knowledge, fit, weights=weights)
    baseline.knowledge = choice.as_dict()
    return choice.weight


def _validation_group(inner: Split) -> CaseGroup:
    """The weight ascent's validation cases and the histories of the training events without
    their hidden items."""
    histories: dict[str, list[str]] = {}
    for row in inner.train:
        histories.setdefault(row.user_id, []).append(row.item_id)
    return CaseGroup("validation", histories, inner.cases, Counter(row.item_id for row in inner.train))


def _train_and_evaluate(
    store: MemoryGraphStore,
    work: Path,
    train_interactions: Path,
    cases: Sequence[EvalCase],
    tune_cases: Sequence[EvalCase],
    encoder: TextEncoder,
    out: Path,
    options: RunOptions,
    *,
    name: str,
    protocol: str,
    regions: str,
    split: str | None,
    extra: Callable[[Evaluator], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """`split`: how the test cases were split off (None: the preset's own way); the validation
    cases are split off the training part the same way."""
    started = time.perf_counter()
    if not cases:
        raise InvalidArgumentError(
            "split", "the split left no test cases: the file has too few users or baskets"
        )
    load_interactions(store, train_interactions, pseudonym_key=EVAL_KEY, progress=options.progress)
    config = TrainingConfig(epochs=options.epochs, seed=options.seed, eval_sample=options.kg_eval_sample)
    summary = build_embeddings(store, work / "home", config, encoder, progress=options.progress)
    train_rows = list(iter_interactions(train_interactions))
    # One draw serves the hybrid's validation group and the weight ascent's validation cases.
    inner = (
        validation_split(train_rows, split, options.validation, options.seed) if options.validation else None
    )
    recommender, baselines = tuned_recommender(
        store,
        work / "home",
        encoder,
        tune_cases or cases,
        options,
        _validation_group(inner) if inner is not None else None,
    )
    region_kind = _region_kind(recommender, regions)
    validation = (
        fitted_validation(store, inner, recommender, encoder, work / "validation", EVAL_KEY)
        if inner is not None
        else None
    )
    sweep = Evaluator(recommender, cases, region_kind=region_kind, seed=options.seed).ascend_weights(
        options.weight_axes,
        cases=tune_cases,
        validation=[(validation.recommender, validation.cases)] if validation else [],
        starts=single_source_starts(recommender.weights),
        rounds=options.ascent_rounds,
        min_gain_se=ASCENT_MIN_GAIN_SE,
        progress=options.progress,
    )
    # iALS's list and shopper-kNN stay only where the chosen weights use them: the ranker's
    # validation splits and the lists' rebuilds would otherwise fit them (10-24 s each) for nothing.
    for fitted in [recommender, *([validation.recommender] if validation else [])]:
        fitted.collaborative.keep_weighted(sweep.best)
    tuned = recommender.with_weights(sweep.best)
    tuned_validation = (
        [(validation.recommender.with_weights(sweep.best), validation.cases)] if validation else []
    )
    ranker_started = time.perf_counter()
    splits = (
        ranker_validations(
            store,
            train_rows,
            tuned,
            encoder,
            work / "validation",
            validation,
            split=split,
            splits=options.ranker_splits,
            cases=options.validation,
            seed=options.seed,
            pseudonym_key=EVAL_KEY,
            progress=options.progress,
        )
        if validation
        else []
    )
    judge = Evaluator(tuned, cases, region_kind=region_kind, seed=options.seed)
    learned = fit_ranker(
        tuned,
        tune_cases,
        [(v.recommender.with_weights(sweep.best), v.cases) for v in splits],
        lambda candidate: judge.fused_ndcg(candidate, tune_cases),
        seed=options.seed,
        source=f"{name}: trained on {sum(len(v.cases) for v in splits)} validation cases",
        progress=options.progress,
    )
    learned.report["seconds"] = {
        "splits": [round(v.seconds, 1) for v in splits],
        "extra_splits_and_ranker": round(time.perf_counter() - ranker_started, 1),
    }
    if learned.kept and learned.ranker is not None:
        tuned = tuned.with_ranker(learned.ranker)
        tuned_validation = [(r.with_ranker(learned.ranker), c) for r, c in tuned_validation]
        learned.report["file"] = str(save_ranker(out / RANKER_FILE, learned.ranker))
    choice = Evaluator(tuned, cases, region_kind=region_kind, seed=options.seed).choose_diversity(
        cases=tune_cases, validation=tuned_validation, progress=options.progress
    )
    tuned = tuned.with_defaults(choice.strategy, choice.diversity)
    evaluator = Evaluator(
        tuned,
        cases,
        region_kind=region_kind,
        seed=options.seed,
        extra_baselines={name: baseline.rank for name, baseline in baselines.items()},
    )
    results = evaluator.run(progress=options.progress, diversity_sweep=options.diversity_sweep)
    systems = [r.summary(recommender.catalog.pids) for r in results]
    report: dict[str, Any] = {
        "name": name,
        "protocol": f"{protocol} Regions: {region_kind}. 95% bootstrap CIs over cases.",
        "region_kind": region_kind,
        "cases": len(cases),
        "systems": systems,
        "versus_fused": versus(results),
        # With a kept ranker: every system against the linear fusion it re-scores, too.
        **(
            {"versus_fused_linear": versus(results, "fused_linear")}
            if any(r.name == "fused_linear" for r in results)
            else {}
        ),
        "defaults": {
            "strategy": choice.strategy,
            "diversity": choice.diversity,
            "reason": choice.reason,
            "fusion_weights": asdict(sweep.best),
            "neighbour_lists": sorted(tuned.collaborative.lists.lists),
            "neighbour_settings": asdict(tuned.collaborative.settings),
            "diversity_tuning": choice.as_dict(),
        },
        "ranker": learned.report,
        "fusion_weight_sweep": sweep.rows,
        "fusion_weights_tuned_on": (
            f"{len(tune_cases)} held-out tuning cases, disjoint from the test cases"
            if tune_cases
            else "the test cases (no tuning cases were held out)"
        )
        + (
            f", and {len(validation.cases)} validation cases from the training part "
            f"({validation.description})"
            if validation
            else ""
        ),
        "baselines_tuned": {name: baseline.as_dict() for name, baseline in baselines.items()},
        "training": summary.as_dict(),
    }
    if extra is not None:
        report.update(extra(evaluator))
    report["seconds"] = round(time.perf_counter() - started, 1)
    write_report(out, report)
    return report


def _evaluate_prepared(
    data: PreparedData,
    store: MemoryGraphStore,
    work: Path,
    encoder: TextEncoder,
    out: Path,
    options: RunOptions,
) -> dict[str, Any]:
    """Split the events (unless the preset did), keep the held-out ones out of the graph, train, evaluate."""
    if data.split is None:
        train, cases, tune_cases, description = data.interactions, data.cases, data.tune_cases, ""
    else:
        split = split_interactions(
            list(iter_interactions(data.interactions)),
            data.split,
            cases=options.cases,
            tune=options.tune,
            seed=options.seed,
        )
        train = write_interactions(split.train, work / "train.csv")
        cases, tune_cases, description = split.cases, split.tune_cases, split.description
    return _train_and_evaluate(
        store,
        work,
        train,
        cases,
        tune_cases,
        encoder,
        out,
        options,
        name=data.name,
        protocol=data.describe(description),
        regions=data.regions,
        split=data.split,
        extra=data.extra,
    )


def evaluate_preset(
    name: str,
    data_dir: Path,
    out: Path,
    encoder: TextEncoder | Callable[[], TextEncoder],
    options: RunOptions = RunOptions(),
) -> dict[str, Any]:
    """One of the PRESETS on its data folder. `encoder` may be a factory, called only once the
    data has been read: a wrong folder is reported before a model is loaded."""
    options.check()
    prepare = get_preset(name).prepare
    with tempfile.TemporaryDirectory(prefix="kgrec-eval-") as tmp:
        work = Path(tmp)
        data = prepare(data_dir, work / "data", cases=options.cases, tune=options.tune, seed=options.seed)
        store = MemoryGraphStore()
        if data.taxonomy is not None:
            load_taxonomy(store, data.taxonomy, taxonomy=data.taxonomy_name, progress=options.progress)
        if data.products is not None:
            load_products(store, data.products, taxonomy=data.taxonomy_name, progress=options.progress)
        ready = encoder() if callable(encoder) else encoder
        return _evaluate_prepared(data, store, work, ready, out, options)


def evaluate_interactions(
    source: GraphStore,
    interactions: Path,
    out: Path,
    encoder: TextEncoder,
    *,
    split: str = "leave-last",
    regions: str = "auto",
    options: RunOptions = RunOptions(),
) -> dict[str, Any]:
    """Any loaded catalogue, any interactions file in kgrec's format, one of the splits."""
    options.check()
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
        data = PreparedData(
            name=interactions.stem,
            products=None,
            interactions=interactions,
            split=split,
            regions=regions,
            describe=lambda description: (
                f"{interactions} ({len(rows)} events) against the loaded catalogue ({products} products, "
                f"{categories} categories): {description}."
            ),
        )
        return _evaluate_prepared(data, store, work, encoder, out, options)
