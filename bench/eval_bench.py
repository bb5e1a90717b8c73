"""A small version of `kgrec evaluate` on each preset whose data is present: quality beside time.

Run: `python -m bench.eval_bench [--cases 100] [--epochs 20] [--presets instacart,giftcards]`.
Self-contained: each preset runs in a temporary folder with the MiniLM encoder (`--encoder`), so
neither the default home nor a `kgrec models use` choice changes its figures.
Every ratio is against a baseline measured in the same run on the same cases: the fused system
against the strongest simple baseline (ItemKNN, EASE, RP3beta or popularity, whichever scores
highest here) and against popularity, the default diversity against fused (what does
diversity cost, what does it buy?). Data comes from KGREC_SHARED_DATA (default ../shared/data
beside the checkout); a missing folder is skipped.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from kgrec.api.settings import Settings
from kgrec.api.wiring import limit_blas_threads, text_encoder
from kgrec.evaluation.run import PRESETS, RunOptions, evaluate_preset


def _metrics(report: dict[str, Any], name: str) -> dict[str, float]:
    return next(s["metrics"] for s in report["systems"] if s["name"] == name)


BASELINES = ("popularity", "itemknn", "ease", "rp3beta")


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--presets", default=",".join(PRESETS), help="comma-separated (default: all)")
    parser.add_argument("--encoder", default="minilm", help="text encoder (default: the tables' MiniLM)")
    parser.add_argument(
        "--no-diversity-sweep", action="store_true", help="fused, default and the baselines only"
    )
    args = parser.parse_args()
    limit_blas_threads()
    settings = Settings(text_model=args.encoder)
    encoder = text_encoder(settings)
    rows = []
    shared = settings.shared_data
    for name in args.presets.split(","):
        preset = PRESETS[name]
        data_dir = (shared or Path("KGREC_SHARED_DATA is not set")) / preset.folder
        if not data_dir.is_dir():
            print(f"skipped {name}: {data_dir} is not present")
            continue
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            options = RunOptions(
                cases=args.cases, epochs=args.epochs, seed=7, diversity_sweep=not args.no_diversity_sweep
            )
            report = evaluate_preset(name, data_dir, Path(out), encoder, options)
            seconds = time.perf_counter() - started
        popularity, fused, default = (_metrics(report, n) for n in ("popularity", "fused", "default"))
        best = max(BASELINES, key=lambda n: _metrics(report, n)["ndcg@10"])
        rows.append(
            {
                "preset": name,
                "cases": report["cases"],
                "seconds": round(seconds, 1),
                "ndcg@10": {
                    "popularity": popularity["ndcg@10"],
                    "fused": fused["ndcg@10"],
                    "default": default["ndcg@10"],
                    best: _metrics(report, best)["ndcg@10"],
                },
                "best_baseline": best,
                "fused_vs_best_baseline_ndcg": _ratio(fused["ndcg@10"], _metrics(report, best)["ndcg@10"]),
                "fused_vs_popularity_ndcg": _ratio(fused["ndcg@10"], popularity["ndcg@10"]),
                "default_vs_fused_ndcg": _ratio(default["ndcg@10"], fused["ndcg@10"]),
                "default_vs_fused_alpha_ndcg": _ratio(default["alpha_ndcg@10"], fused["alpha_ndcg@10"]),
                "default_vs_fused_coverage": _ratio(default["coverage@10"], fused["coverage@10"]),
                "ctr_auc": report.get("ctr_auc"),
            }
        )
    print(json.dumps({"cases": args.cases, "epochs": args.epochs, "presets": rows}, indent=2))


if __name__ == "__main__":
    main()
