"""The evaluation report: report.json, a Markdown table with intervals, and two trade-off plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kgrec.evaluation.harness import PAIRED, PER_CASE, STRATEGIES


def write_report(out: Path, report: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    systems = report["systems"]
    _plots(out, systems)
    lines = [
        f"# Evaluation: {report['name']}",
        "",
        report["protocol"],
        "",
        "| system | " + " | ".join(PER_CASE) + " | gini@10 | entropy@10 |",
        "|---" * (len(PER_CASE) + 3) + "|",
    ]
    for s in systems:
        cells = [f"{s['metrics'][k]:.4f} [{s['ci95'][k][0]:.3f}, {s['ci95'][k][1]:.3f}]" for k in PER_CASE]
        cells += [f"{s['metrics']['gini@10']:.4f}", f"{s['metrics']['entropy@10']:.3f}"]
        lines.append(f"| {s['name']} | " + " | ".join(cells) + " |")
    if "versus_fused" in report:
        lines += [
            "",
            "Against fused, case by case (Δ = system − fused, paired 95% bootstrap interval; "
            "*clear* when the interval excludes 0):",
            "",
            "| system | " + " | ".join(f"Δ {k}" for k in PAIRED) + " |",
            "|---" * (len(PAIRED) + 1) + "|",
        ]
        for name, row in report["versus_fused"].items():
            cells = [
                f"{row[k]['delta']:+.4f} [{row[k]['ci95'][0]:+.4f}, {row[k]['ci95'][1]:+.4f}]"
                + (f" *{row[k]['clear']}*" if row[k]["clear"] != "no" else "")
                for k in PAIRED
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if "ctr_auc" in report:
        lines += [
            "",
            f"Click-through AUC over {report['ctr_rows']} labelled test rows:",
            "",
            "| system | AUC |",
            "|---|---|",
            *[f"| {name} | {auc:.4f} |" for name, auc in report["ctr_auc"].items()],
        ]
    lines += [
        "",
        f"Chosen default: `{json.dumps(report['defaults'], ensure_ascii=False)}`",
        "",
        "![NDCG vs α-NDCG](pareto_alpha_ndcg.png)",
        "![NDCG vs coverage](pareto_coverage.png)",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


def _plots(out: Path, systems: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fused = next(s for s in systems if s["name"] == "fused")
    for x_metric, fname in (
        ("alpha_ndcg@10", "pareto_alpha_ndcg.png"),
        ("coverage@10", "pareto_coverage.png"),
    ):
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        for strategy in STRATEGIES:
            points = [fused] + [s for s in systems if s["strategy"] == strategy]
            ax.plot(
                [p["metrics"][x_metric] for p in points],
                [p["metrics"]["ndcg@10"] for p in points],
                marker="o",
                label=strategy,
            )
        for s in systems:
            if s["strategy"] is None:
                ax.scatter(s["metrics"][x_metric], s["metrics"]["ndcg@10"], marker="x", color="black")
                ax.annotate(s["name"], (s["metrics"][x_metric], s["metrics"]["ndcg@10"]), fontsize=8)
        ax.set_xlabel(x_metric)
        ax.set_ylabel("ndcg@10")
        ax.set_title(f"accuracy vs {x_metric} (diversity 0 → 1 along each line)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
