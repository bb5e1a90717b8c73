"""The Home Depot query-relevance preset: real shopper queries with human grades, titles only.

Derived, not invented: products are the feed's id + title; a query's judged products and their
grades (1 irrelevant … 3 exactly relevant, the mean of raters) are the data's, and a product's
gain is grade − 1. Queries are split as the data splits them: fusion weights (and any fine-tuned
encoder) are fitted on train queries only, figures are measured on dev queries only.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.file_reading import iter_graded_lines

PRODUCTS = "products.csv"
TRAIN = "qrels_train.tsv"
DEV = "qrels_dev.tsv"
QUERY_SETS = ("dev", "train")
RELEVANT_GRADE = 2.0

Judgements = dict[str, dict[str, float]]


@dataclass(slots=True)
class QuerySplit:
    """Queries to measure on and queries to tune on; never the same query in both."""

    evaluated: Judgements
    tuning: Judgements
    description: str


def read_qrels(path: Path, known: set[str] | None = None) -> Judgements:
    """`query<TAB>product_id<TAB>grade` lines -> {query: {product_id: grade}}."""
    out: Judgements = {}
    for number, query, pid, grade in iter_graded_lines(path):
        if known is not None and pid not in known:
            raise InputFileError(path, number, f"unknown product_id {pid!r}")
        out.setdefault(query, {})[pid] = grade
    return out


def product_ids(path: Path) -> set[str]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return {row["id"] for row in csv.DictReader(handle)}
    except (OSError, UnicodeDecodeError, KeyError) as exc:
        raise InputFileError(path, None, f"cannot read product ids: {exc}") from exc


def gains(grades: dict[str, float]) -> dict[str, float]:
    return {pid: grade - 1.0 for pid, grade in grades.items()}


def _sample(queries: Iterable[str], limit: int, rng: random.Random) -> list[str]:
    pool = sorted(queries)
    return sorted(rng.sample(pool, min(limit, len(pool))))


def split_queries(
    train: Judgements,
    dev: Judgements,
    *,
    which: str = "dev",
    cases: int = 1000,
    tune: int = 300,
    seed: int = 7,
) -> QuerySplit:
    """Tuning queries always come from train; measured ones from dev (or, with `which` train,
    from the train queries left after the tuning sample). Queries nobody judged relevant
    (every grade 1) are left out: no ranking can score on them."""
    if which not in QUERY_SETS:
        raise InvalidArgumentError("queries", f"use one of {', '.join(QUERY_SETS)}")
    rng = random.Random(seed)
    useful_train = [q for q, g in train.items() if max(g.values()) > 1.0]
    tuning = _sample(useful_train, tune, rng)
    source = dev if which == "dev" else {q: g for q, g in train.items() if q not in set(tuning)}
    useful = [q for q, g in source.items() if max(g.values()) > 1.0]
    evaluated = _sample(useful, cases, rng)
    overlap = set(evaluated) & set(tuning)
    if overlap:
        raise InvalidArgumentError("queries", f"{len(overlap)} queries are both tuned and measured on")
    return QuerySplit(
        {q: source[q] for q in evaluated},
        {q: train[q] for q in tuning},
        f"{len(evaluated)} of {len(source)} {which} queries measured ({len(source) - len(useful)} with no "
        f"product graded above 1 left out); fusion weights tuned on {len(tuning)} train queries",
    )


def check_not_fitted_on(measured: Sequence[str], fitted: Iterable[str], what: str) -> None:
    """A model fitted on a measured query would report a figure it has seen the answer to."""
    seen = set(measured) & {q.strip() for q in fitted}
    if seen:
        example = sorted(seen)[0]
        raise InvalidArgumentError(
            what, f"was fitted on {len(seen)} of the measured queries (e.g. {example!r}): fit on train only"
        )


def sub_catalogue(products: Path, out: Path, keep: set[str], size: int, seed: int) -> int:
    """A smaller catalogue for a slow machine: every product in `keep` (the judged ones) plus
    products drawn at random up to `size`; the same seed draws the same products."""
    with products.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    others = [r["id"] for r in rows if r["id"] not in keep]
    extra = set(random.Random(seed).sample(others, max(0, min(len(others), size - len(keep)))))
    chosen = [r for r in rows if r["id"] in keep or r["id"] in extra]
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title"])
        writer.writerows([r["id"], r["title"]] for r in chosen)
    return len(chosen)
