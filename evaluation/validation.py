"""Validation cases drawn from the training part only, and a recommender fitted without them.

A dozen fusion weights chosen on 150 tuning cases follow noise: the one-standard-error rule then
holds them at their defaults, and a fused score made of the baselines' own components ends up
below the best of them. So the harness splits its training events once more, the way the test
cases were split (at random per user where the preset held out its own cases), fits popularity,
co-occurrence and the collaborative neighbour lists on the remainder, and tunes the weights on
those cases together with the tuning cases. The test cases are never read here. The tuned
weights then serve the recommender fitted on the whole training part.

The KG and text vectors are the whole training part's (training PyKEEN again per run would
double its cost): the validation cases' hidden events are among their triples, so the harness
judges the weights of components that read KG vectors on the tuning cases alone
(`harness.KG_VECTOR_AXES`).

The learned ranker needs far more labelled requests than a few hundred (docs/evaluation.md,
session 8), so `ranker_validations` draws further splits with other seeds, each with its own
recommender fitted without its own hidden items; where another seed draws the same cases
(leave-last when every user is drawn), the next split is drawn from the previous one's
remainder instead: each user's next-to-last events.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.evaluation.splits import EvalCase, Split, split_interactions
from kgrec.graph.catalogue_copy import copy_catalogue
from kgrec.graph.interaction_parsing import RawInteraction
from kgrec.graph.loaders import load_interactions
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.store import GraphStore
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.service import Recommender

# Validation cases drawn from the training part (fewer where the training part has fewer).
VALIDATION_CASES = 600
# The most of the training events the validation cases may take out of what is fitted.
MAX_HELD_SHARE = 0.2
# Where a preset held out its own cases: hide a random part of training users' items.
FALLBACK_SPLIT = "random"
# Validation splits the learned ranker trains on (the first is the weight ascent's).
RANKER_SPLITS = 4
# A new seed drawing more than this share of cases already drawn rolls the events back instead.
MOSTLY_DRAWN = 0.5


@dataclass(slots=True)
class Validation:
    """Cases from the training part, and the recommender fitted on the rest of it."""

    recommender: Recommender
    cases: list[EvalCase]
    description: str
    # The training events the recommender was fitted on (the split's rest): the next split is
    # drawn from them where a seed mostly redraws cases (`ranker_validations`).
    fitted_on: Sequence[RawInteraction]
    seconds: float = 0.0


def write_interactions(rows: Sequence[RawInteraction], path: Path) -> Path:
    """Events as a kgrec interactions CSV (what `load_interactions` reads back)."""
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


def validation_split(train: Sequence[RawInteraction], split: str | None, cases: int, seed: int) -> Split:
    """Up to `cases` validation cases split off the training events by `split` (None: at random
    per user), with another seed than the test split's; the rest of `train` is what they are
    fitted on. Fewer cases where they would take more than `MAX_HELD_SHARE` of the training
    events (whole baskets hold many): components fitted on much less data than the served ones
    would favour other weights."""
    name = split or FALLBACK_SPLIT
    inner = split_interactions(train, name, cases=cases, tune=0, seed=seed + 1)
    held = len(train) - len(inner.train)
    if inner.cases and held > MAX_HELD_SHARE * len(train):
        fewer = max(1, int(len(inner.cases) * MAX_HELD_SHARE * len(train) / held))
        inner = split_interactions(train, name, cases=fewer, tune=0, seed=seed + 1)
    return inner


def fitted_validation(
    store: GraphStore,
    inner: Split,
    fitted: Recommender,
    encoder: TextEncoder,
    work: Path,
    pseudonym_key: bytes,
) -> Validation:
    """A recommender like `fitted` (same vectors, same neighbour settings) whose graph holds the
    catalogue of `store` and the events `inner` trains on, with `inner`'s cases."""
    started = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    inner_store = MemoryGraphStore()
    copy_catalogue(store, inner_store)
    rest = write_interactions(inner.train, work / "validation-train.csv")
    load_interactions(inner_store, rest, pseudonym_key=pseudonym_key)
    recommender = Recommender(
        inner_store,
        fitted.artifact,
        encoder,
        GraphProjection.load(inner_store),
        pseudonym_key=pseudonym_key,
        weights=fitted.weights,
        neighbours_dir=work / "neighbours",
        neighbour_settings=fitted.collaborative.settings,
    )
    return Validation(recommender, inner.cases, inner.description, inner.train, time.perf_counter() - started)


def build_validation(
    store: GraphStore,
    train: Sequence[RawInteraction],
    fitted: Recommender,
    encoder: TextEncoder,
    work: Path,
    *,
    split: str | None,
    cases: int = VALIDATION_CASES,
    seed: int = 7,
    pseudonym_key: bytes,
) -> Validation:
    """The validation cases of `train` (the training events, nothing else; `validation_split`),
    and a recommender like `fitted` fitted on the rest of `train`."""
    inner = validation_split(train, split, cases, seed)
    return fitted_validation(store, inner, fitted, encoder, work, pseudonym_key)


def _key(case: EvalCase) -> tuple[str, tuple[str, ...]]:
    return case.user_id, tuple(sorted(case.hidden))


def ranker_validations(
    store: GraphStore,
    train: Sequence[RawInteraction],
    fitted: Recommender,
    encoder: TextEncoder,
    work: Path,
    first: Validation,
    *,
    split: str | None,
    splits: int = RANKER_SPLITS,
    cases: int = VALIDATION_CASES,
    seed: int = 7,
    pseudonym_key: bytes,
    progress: bool = False,
) -> list[Validation]:
    """`first` (the weight ascent's split, drawn with `seed`) and up to `splits` − 1 more, each
    drawn from the training events with its own seed and fitted without its own hidden items; a
    case drawn before is not used again. Where a seed mostly draws cases drawn before, the split
    is drawn from the previous one's remainder instead (leave-last: each user's next-to-last
    item). Only `train` is read, never a test case."""
    out = [first]
    drawn = {_key(case) for case in first.cases}
    previous = first.fitted_on
    for index in tqdm(range(1, splits), desc="ranker validation splits", disable=not progress):
        inner = validation_split(train, split, cases, seed + 10 * index)
        fresh = [case for case in inner.cases if _key(case) not in drawn]
        if len(fresh) < (1 - MOSTLY_DRAWN) * len(inner.cases):
            inner = validation_split(previous, split, cases, seed + 10 * index)
            fresh = [case for case in inner.cases if _key(case) not in drawn]
        if not fresh:
            break
        drawn.update(_key(case) for case in fresh)
        previous = inner.train
        kept = Split(inner.train, fresh, inner.description)
        out.append(fitted_validation(store, kept, fitted, encoder, work / f"split-{index}", pseudonym_key))
    return out
