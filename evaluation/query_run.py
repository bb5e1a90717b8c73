"""`kgrec evaluate --preset homedepot`: the query-relevance protocol end to end.

Titles go into an in-memory graph (with the brands and attribute values read from them), the
KG model trains on that graph, fusion weights are tuned on train queries, and every system is
measured on the dev queries. With a fine-tuned encoder (`kgrec finetune`), the product texts
are encoded again with it and `text+finetuned` / `fused+finetuned` join the same report; an
encoder fitted on any measured query is refused.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kgrec.embeddings.artifacts import Artifact
from kgrec.embeddings.build import build_embeddings
from kgrec.embeddings.cold_start import embed_new_products
from kgrec.embeddings.encoder_artifacts import fitted_queries
from kgrec.embeddings.encoders import open_encoder
from kgrec.embeddings.reencode import reencode_artifact
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.embeddings.training import TrainingConfig
from kgrec.evaluation.harness import PAIRED, WeightSweep, choose_default, versus
from kgrec.evaluation.presets.homedepot import (
    DEV,
    PRODUCTS,
    TRAIN,
    QuerySplit,
    check_not_fitted_on,
    product_ids,
    read_qrels,
    split_queries,
    sub_catalogue,
)
from kgrec.evaluation.query_harness import QueryEvaluator, fusion_grid
from kgrec.evaluation.report import write_report
from kgrec.graph.errors import InputFileError
from kgrec.graph.loaders import load_products
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.recommender.service import Recommender

EVAL_KEY = b"evaluation"
REGION_KIND = "community"
LATENCY_QUERIES = 100


def _encode_latency_ms(encoder: TextEncoder, queries: list[str]) -> dict[str, float]:
    """One query at a time, as a search box sends them: median and p95 in milliseconds."""
    encoder.encode(queries[:5])
    times = []
    for query in queries[:LATENCY_QUERIES]:
        started = time.perf_counter()
        encoder.encode([query])
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {
        "median": round(statistics.median(times), 2),
        "p95": round(times[int(0.95 * (len(times) - 1))], 2),
        "queries": len(times),
    }


def _tuned(
    loaded: Recommender, split: QuerySplit, seed: int, progress: bool
) -> tuple[QueryEvaluator, WeightSweep]:
    """Weights swept on the tuning queries; the evaluator of the measured queries at the best ones."""
    sweeping = QueryEvaluator(loaded, split.evaluated, region_kind=REGION_KIND, seed=seed)
    sweep = sweeping.sweep_weights(fusion_grid(), cases=sweeping.for_queries(split.tuning), progress=progress)
    tuned = loaded.with_weights(sweep.best)
    return QueryEvaluator(tuned, split.evaluated, region_kind=REGION_KIND, seed=seed), sweep


def evaluate_homedepot(
    data_dir: Path,
    out: Path,
    encoder: TextEncoder,
    *,
    cases: int = 1000,
    tune: int = 300,
    epochs: int = 40,
    seed: int = 7,
    progress: bool = False,
    queries: str = "dev",
    finetuned: Sequence[Path] = (),
    title_attributes: bool = True,
    catalogue: int | None = None,
    diversity_sweep: bool = True,
    runtime: str = "torch",
) -> dict[str, Any]:
    """`catalogue` N ranks among every judged product of the measured and tuning queries plus
    random others up to N, instead of the whole feed (for machines too slow to encode it);
    without `diversity_sweep` only bm25, text, kg, fused and default run (a quicker run);
    `runtime` runs the fine-tuned encoders as the base one runs (KGREC_ENCODER_RUNTIME)."""
    missing = [name for name in (PRODUCTS, TRAIN, DEV) if not (data_dir / name).is_file()]
    if missing:
        raise InputFileError(data_dir, None, f"not a Home Depot search folder: missing {', '.join(missing)}")
    started = time.perf_counter()
    known = product_ids(data_dir / PRODUCTS)
    split = split_queries(
        read_qrels(data_dir / TRAIN, known),
        read_qrels(data_dir / DEV, known),
        which=queries,
        cases=cases,
        tune=tune,
        seed=seed,
    )
    measured = sorted(split.evaluated)
    for folder in finetuned:
        check_not_fitted_on(measured, fitted_queries(folder), "finetuned")
    with tempfile.TemporaryDirectory(prefix="kgrec-eval-") as tmp:
        home = Path(tmp) / "home"
        products = data_dir / PRODUCTS
        scope = f"all {len(known)} products"
        if catalogue is not None:
            judged = {pid for graded in (*split.evaluated.values(), *split.tuning.values()) for pid in graded}
            products = Path(tmp) / PRODUCTS
            size = sub_catalogue(data_dir / PRODUCTS, products, judged, catalogue, seed)
            scope = (
                f"a {size}-product sub-catalogue: the {len(judged)} judged products of the measured and "
                f"tuning queries plus {size - len(judged)} others drawn at random (seed {seed})"
            )
        store = MemoryGraphStore()
        loaded = load_products(store, products, extract_from_title=title_attributes, progress=progress)
        summary = build_embeddings(
            store, home, TrainingConfig(epochs=epochs, seed=seed), encoder, progress=progress
        )
        embed_new_products(store, Artifact.open_current(home), encoder)
        loaded_rec = Recommender.load(store, home, encoder, pseudonym_key=EVAL_KEY)
        evaluator, sweep = _tuned(loaded_rec, split, seed, progress)
        recommender = evaluator.rec
        results = (
            evaluator.run(progress=progress)
            if diversity_sweep
            else evaluator.run_systems(["bm25", "text", "kg", "fused", "default"])
        )
        latency = {"base": _encode_latency_ms(encoder, measured)}
        report_extra: dict[str, Any] = {}
        for number, folder in enumerate(finetuned, start=1):
            suffix = "+finetuned" + (str(number) if number > 1 else "")
            tuned_encoder = open_encoder(folder, runtime=runtime, onnx_cache=Path(tmp) / "onnx")
            reencode_artifact(store, home, tuned_encoder, progress=progress, write_to_graph=False)
            tuned_loaded = Recommender.load(store, home, tuned_encoder, pseudonym_key=EVAL_KEY)
            tuned_evaluator, tuned_sweep = _tuned(tuned_loaded, split, seed, progress)
            report_extra[f"fusion_weight_sweep{suffix}"] = tuned_sweep.rows
            report_extra[f"fusion_weights{suffix}"] = asdict(tuned_sweep.best)
            results += tuned_evaluator.run_systems(["text", "fused"], suffix=suffix)
            latency[suffix.lstrip("+")] = _encode_latency_ms(tuned_encoder, measured)
            report_extra[f"encoder{suffix}"] = str(folder)
        systems = [r.summary(recommender.catalog.pids) for r in results]
        chosen = choose_default(systems)
        report: dict[str, Any] = {
            "name": "homedepot",
            "protocol": (
                f"Home Depot search relevance on {data_dir} (ranking among {scope}, titles only"
                f"{', brands and attribute values read from titles' if title_attributes else ''}): "
                f"{split.description}. NDCG@10 on gain = grade − 1 (unjudged products gain 0); recall, "
                f"hit, MRR and α-NDCG on products graded ≥ 2. Regions: {REGION_KIND}. 95% bootstrap CIs "
                "over queries."
            ),
            "region_kind": REGION_KIND,
            "cases": len(measured),
            "systems": systems,
            "versus_fused": versus(results),
            "versus_bm25": versus(results, "bm25"),
            "defaults": {
                **chosen,
                "query_diversity": chosen["diversity"],
                "query_strategy": chosen["strategy"],
                "fusion_weights": asdict(recommender.weights),
            },
            "fusion_weight_sweep": sweep.rows,
            "fusion_weights_tuned_on": f"{len(split.tuning)} train queries, none of them measured",
            "encode_latency_ms": latency,
            "graph": {"products": loaded.rows, **store.stats().as_dict()},
            "training": summary.as_dict(),
            **report_extra,
        }
    report["seconds"] = round(time.perf_counter() - started, 1)
    write_report(out, report)
    _append_versus_bm25(out, report)
    return report


def _append_versus_bm25(out: Path, report: dict[str, Any]) -> None:
    lines = [
        "",
        "Against bm25, case by case (Δ = system − bm25, paired 95% bootstrap interval; "
        "ratio = system ÷ bm25):",
        "",
        "| system | ratio ndcg@10 | " + " | ".join(f"Δ {k}" for k in PAIRED) + " |",
        "|---" * (len(PAIRED) + 2) + "|",
    ]
    base = next(s for s in report["systems"] if s["name"] == "bm25")["metrics"]["ndcg@10"]
    ndcg = {s["name"]: s["metrics"]["ndcg@10"] for s in report["systems"]}
    for name, row in report["versus_bm25"].items():
        cells = [
            f"{row[k]['delta']:+.4f} [{row[k]['ci95'][0]:+.4f}, {row[k]['ci95'][1]:+.4f}]"
            + (f" *{row[k]['clear']}*" if row[k]["clear"] != "no" else "")
            for k in PAIRED
        ]
        ratio = ndcg[name] / base if base else 0.0
        lines.append(f"| {name} | {ratio:.3f} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Encode latency (ms, one query at a time): `{json.dumps(report['encode_latency_ms'])}`",
        "",
    ]
    with (out / "report.md").open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
