"""KG embedding models compared on the demo graph, and the end-to-end `kgrec train` time.

Run: `python -m bench.train_bench`. The demo graph: Google taxonomy (en-US + zh-CN) and the
10k Amazon UK toys with their category paths and brands, in a throwaway Neo4j.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.common import BENCH_HOME, bench_store
from bench.demo_catalogue import load_demo
from kgrec.embeddings.build import build_embeddings
from kgrec.embeddings.text_encoder import HFTextEncoder
from kgrec.embeddings.training import TrainingConfig, train_embeddings
from kgrec.embeddings.triples import export_triples, split_triples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="TransE,DistMult,ComplEx,RotatE")
    parser.add_argument("--dims", default="32,64")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument(
        "--split",
        choices=("coverage", "pykeen"),
        default="coverage",
        help="coverage: kgrec's split (what `kgrec train` uses); pykeen: PyKEEN's own 80/10/10 split, "
        "which the session-1 table used (docs/benchmarks.md: the MRRs differ by split)",
    )
    args = parser.parse_args()
    results: dict[str, object] = {"models": []}
    with bench_store() as store:
        load_demo(store)
        exported = export_triples(store)
        if args.split == "pykeen":
            training, validation, testing = exported.factory.split([0.8, 0.1, 0.1], random_state=42)
        else:
            training, validation, testing = split_triples(exported.factory, seed=42)
        results["split"] = args.split
        results["triples"] = exported.factory.num_triples
        results["entities"] = exported.factory.num_entities
        for model in args.models.split(","):
            for dim in (int(d) for d in args.dims.split(",")):
                config = TrainingConfig(model=model, dim=dim, epochs=args.epochs)
                started = time.perf_counter()
                trained = train_embeddings(training, validation, testing, config)
                row = {
                    "model": model,
                    "dim": dim,
                    "epochs_run": trained.epochs_run,
                    "train_seconds": round(trained.train_seconds, 1),
                    "total_seconds": round(time.perf_counter() - started, 1),
                    "triples_per_s": round(trained.triples_per_second),
                    **{k: round(v, 4) for k, v in trained.metrics.items()},
                    "random_mrr": round(trained.baseline["mrr"], 5),
                }
                print(json.dumps(row), flush=True)
                results["models"].append(row)  # type: ignore[attr-defined]
        started = time.perf_counter()
        summary = build_embeddings(store, BENCH_HOME / "home", TrainingConfig(), HFTextEncoder(threads=2))
        results["end_to_end_train"] = {
            "wall_seconds": round(time.perf_counter() - started, 1),
            **summary.as_dict(),
        }
    print(json.dumps(results, indent=2))
    (BENCH_HOME / "train_bench.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
