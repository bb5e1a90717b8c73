"""Defaults a shop's own evaluation chose (`kgrec evaluate ... --apply`), kept beside its artifacts.

The best fusion weights differ from shop to shop (grocery baskets want popularity, a music
catalogue wants co-listening; docs/evaluation.md), so the harness's choice for this shop's
data, when there is one, beats the built-in defaults. The diversity a history evaluation chose
serves requests with a shopper or history; query-only requests keep the built-in query
diversity unless a query evaluation (homedepot) chose theirs (`query_diversity`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from kgrec.graph.atomic_write import write_text_atomically
from kgrec.graph.errors import ArtifactError
from kgrec.recommender.collaborative.neighbours import NeighbourSettings
from kgrec.recommender.fusion import FusionWeights
from kgrec.recommender.request import DEFAULT_STRATEGY

FILE = "tuned_defaults.json"


@dataclass(frozen=True, slots=True)
class TunedDefaults:
    strategy: str
    diversity: float
    weights: FusionWeights
    source: str
    query_diversity: float | None = None
    query_strategy: str | None = None
    # The item-item lists' and shopper-kNN's hyper-parameters the evaluation served its weights
    # with: weights that lean on an iALS list are worth nothing over lists built without one.
    neighbours: NeighbourSettings | None = None

    def strategy_for_queries(self) -> str:
        """Query-only requests' strategy: a query evaluation's choice, else the built-in one. A
        history evaluation's strategy may need a shopper's regions to work from (`swap`)."""
        if self.query_strategy is not None:
            return self.query_strategy
        # Files written before query_strategy existed: a query evaluation's strategy was `strategy`.
        return self.strategy if self.query_diversity is not None else DEFAULT_STRATEGY

    def as_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "diversity": self.diversity,
            "query_diversity": self.query_diversity,
            "query_strategy": self.query_strategy,
            "fusion_weights": asdict(self.weights),
            "neighbour_settings": None if self.neighbours is None else asdict(self.neighbours),
            "source": self.source,
        }


def _from_dict(chosen: dict[str, Any], source: str) -> TunedDefaults:
    known = {f.name for f in fields(FusionWeights)}
    weights = FusionWeights(**{k: float(v) for k, v in chosen["fusion_weights"].items() if k in known})
    query = chosen.get("query_diversity")
    query_strategy = chosen.get("query_strategy")
    neighbours = _neighbour_settings(chosen.get("neighbour_settings"))
    return TunedDefaults(
        str(chosen["strategy"]),
        float(chosen["diversity"]),
        weights,
        source,
        None if query is None else float(query),
        None if query_strategy is None else str(query_strategy),
        neighbours,
    )


def _neighbour_settings(saved: Any) -> NeighbourSettings | None:
    """The saved settings, each value as its field's type (unknown keys from other versions
    left out); a value of the wrong kind is refused here, not when the lists are built."""
    if saved is None:
        return None
    if not isinstance(saved, dict):
        raise TypeError(f"neighbour_settings must be an object, not {type(saved).__name__}")
    defaults = NeighbourSettings()
    values: dict[str, Any] = {}
    for f in fields(NeighbourSettings):
        if f.name in saved:
            value, kind = saved[f.name], type(getattr(defaults, f.name))
            if isinstance(value, bool) or not isinstance(value, int | float) or kind(value) != value:
                raise ValueError(f"neighbour_settings.{f.name} must be a {kind.__name__}, not {value!r}")
            values[f.name] = kind(value)
    return NeighbourSettings(**values)


def from_report(report: dict[str, Any]) -> TunedDefaults:
    return _from_dict(report["defaults"], f"{report['name']}: {report['protocol']}")


def save_tuned(home: Path, tuned: TunedDefaults) -> Path:
    """Atomic: a serving process reading the file never sees half of it."""
    home.mkdir(parents=True, exist_ok=True)
    return write_text_atomically(home / FILE, json.dumps(tuned.as_dict(), indent=2, ensure_ascii=False))


def load_tuned(home: Path) -> TunedDefaults | None:
    path = home / FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _from_dict(data, str(data.get("source", "")))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ArtifactError(
            f"{path} is not a valid tuned-defaults file ({exc}); delete it or re-run --apply"
        ) from exc
