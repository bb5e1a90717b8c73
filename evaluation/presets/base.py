"""What every dataset preset hands the harness, and the shape of a preset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from kgrec.evaluation.harness import Evaluator
from kgrec.evaluation.splits import EvalCase


@dataclass(slots=True)
class PreparedData:
    """A public dataset as kgrec inputs, and its evaluation protocol.

    With `split` (a name in evaluation.splits.SPLITS) the harness splits `interactions`; without,
    the preset held out its own `cases` and `tune_cases`, and `interactions` are training events.
    `describe` turns the split's description into the report's protocol line. `products` None:
    the catalogue is in the store already (`kgrec evaluate --interactions`)."""

    name: str
    products: Path | None
    interactions: Path
    regions: str
    describe: Callable[[str], str]
    split: str | None = None
    cases: list[EvalCase] = field(default_factory=list)
    tune_cases: list[EvalCase] = field(default_factory=list)
    taxonomy: Path | None = None
    taxonomy_name: str | None = None
    extra: Callable[[Evaluator], dict[str, Any]] | None = None


class Preset(Protocol):
    """Turns a dataset folder into kgrec inputs under `work`; `cases`, `tune` and `seed` are for
    presets that split their data their own way."""

    def __call__(self, data_dir: Path, work: Path, *, cases: int, tune: int, seed: int) -> PreparedData: ...


@dataclass(frozen=True, slots=True)
class PresetEntry:
    prepare: Preset
    folder: str
