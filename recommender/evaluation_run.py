"""One evaluation run end to end: load a preset into an in-memory graph, train, evaluate, report."""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from embeddings.build import build_embeddings
from embeddings.text_encoder import TextEncoder
from embeddings.training import TrainingConfig
from graph.loaders import load_interactions, load_products, load_taxonomy
from graph.memory_store import MemoryGraphStore
from recommender.evaluation import Evaluator, choose_default, weight_grid, write_report
from recommender.instacart import prepare_instacart
from recommender.service import Recommender


def evaluate_instacart(
    data_dir: Path,
    out: Path,
    encoder: TextEncoder,
    *,
    baskets: int = 300,
    epochs: int = 40,
    seed: int = 7,
    progress: bool = False,
) -> dict[str, Any]:
    """The in-memory store (proved equivalent to Neo4j by the contract suite) keeps an
    evaluation away from the shop's database."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kgrec-eval-") as tmp:
        work = Path(tmp)
        data = prepare_instacart(data_dir, work / "data", baskets=baskets, seed=seed)
        store = MemoryGraphStore()
        load_taxonomy(store, data.taxonomy, taxonomy="instacart", progress=progress)
        load_products(store, data.products, taxonomy="instacart", progress=progress)
        load_interactions(store, data.interactions, pseudonym_key=b"evaluation", progress=progress)
        summary = build_embeddings(
            store, work / "home", TrainingConfig(epochs=epochs, seed=seed), encoder, progress=progress
        )
        recommender = Recommender.load(store, work / "home", encoder, pseudonym_key=b"evaluation")
        evaluator = Evaluator(recommender, data.cases, seed=seed)
        sweep = evaluator.sweep_weights(weight_grid(), progress=progress)
        results = evaluator.run(progress=progress)
    systems = [r.summary(recommender.catalog.pids) for r in results]
    report = {
        "name": "instacart",
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
    write_report(out, report)
    return report
