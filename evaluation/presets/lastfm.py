"""The Last.FM KG preset: the KGCN / RippleNet benchmark files as kgrec inputs, and its protocol.

Derived, not invented: items are the benchmark's artists (entities 0..n-1 of `kg.txt`), each
Freebase triple becomes an attribute `relation:tail`, so artists that share a tail entity
through the same relation share an `AttributeValue` node. The data carries no artist names,
so titles are the HetRec artist id ("Last.FM artist 51"): text scores carry no signal here.

Protocol as in KGCN (Wang et al., 2019): the labelled rows of `ratings_final.txt` (1 =
listened, 0 = a sampled negative) are split at random 6 : 2 : 2; models learn from the
training positives; AUC is over the test rows. The 2 in the middle (KGCN's validation part)
gives the tuning cases the harness chooses its fusion weights on.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kgrec.evaluation.harness import Evaluator
from kgrec.evaluation.presets.base import PreparedData
from kgrec.evaluation.splits import EvalCase
from kgrec.graph.errors import InputFileError
from kgrec.graph.file_reading import iter_text_lines

FILES = ("kg.txt", "item_index2entity_id.txt", "ratings_final.txt")


@dataclass(slots=True)
class PreparedLastFm:
    products: Path
    train_interactions: Path
    auc_rows: list[tuple[str, str, int]]
    cases: list[EvalCase]
    tune_cases: list[EvalCase]
    train_history: dict[str, list[str]]
    items: int
    triples: int
    ratings: int


def _columns(path: Path, count: int) -> list[tuple[int, list[str]]]:
    """(line number, fields) of a whitespace-separated file; blank lines are skipped."""
    rows = []
    for number, line in iter_text_lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != count:
            raise InputFileError(path, number, f"expected {count} whitespace-separated fields")
        rows.append((number, parts))
    return rows


def _top_k_cases(
    rows: list[tuple[str, str, int]], history: dict[str, list[str]], cases: int, seed: int
) -> list[EvalCase]:
    """Users with positives in `rows` that they have not trained on: those positives are hidden."""
    hidden: dict[str, set[str]] = {}
    for user, item, label in rows:
        if label == 1 and user in history and item not in history[user]:
            hidden.setdefault(user, set()).add(item)
    users = sorted(hidden)
    if not users:
        return []
    chosen = sorted(
        np.random.default_rng(seed).choice(users, size=min(cases, len(users)), replace=False).tolist()
    )
    return [EvalCase(u, u, history[u], hidden[u]) for u in chosen]


def prepare_lastfm(
    data_dir: Path, work: Path, *, cases: int = 300, tune: int = 150, seed: int = 7
) -> PreparedLastFm:
    missing = [name for name in FILES if not (data_dir / name).is_file()]
    if missing:
        raise InputFileError(data_dir, None, f"not a KGCN Last.FM folder: missing {', '.join(missing)}")
    work.mkdir(parents=True, exist_ok=True)
    artist_of = {entity: artist for _, (artist, entity) in _columns(data_dir / "item_index2entity_id.txt", 2)}
    attributes: dict[str, dict[str, str]] = {entity: {} for entity in artist_of}
    triples = 0
    for _, (head, relation, tail) in _columns(data_dir / "kg.txt", 3):
        if head in attributes:
            attributes[head][f"{relation}:{tail}"] = "yes"
            triples += 1
    with (work / "products.jsonl").open("w", encoding="utf-8") as out:
        for entity in sorted(artist_of, key=int):
            record = {
                "id": entity,
                "title": f"Last.FM artist {artist_of[entity]}",
                "attributes": attributes[entity],
            }
            out.write(json.dumps(record) + "\n")
    ratings_path = data_dir / "ratings_final.txt"
    ratings = _columns(ratings_path, 3)
    for number, (_, item, label) in ratings:
        if item not in artist_of or label not in ("0", "1"):
            raise InputFileError(ratings_path, number, f"unknown item {item!r} or label {label!r} not 0/1")

    def labelled(i: int) -> tuple[str, str, int]:
        user, item, label = ratings[i][1]
        return user, item, int(label)

    part = np.random.default_rng(seed).permutation(len(ratings)).tolist()
    train_end, validation_end = int(len(ratings) * 0.6), int(len(ratings) * 0.8)
    history: dict[str, list[str]] = {}
    with (work / "interactions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "kind", "timestamp"])
        for user, item, listened in map(labelled, sorted(part[:train_end])):
            if listened == 1:
                writer.writerow([user, item, "view", 0])
                history.setdefault(user, []).append(item)
    auc_rows = [labelled(i) for i in sorted(part[validation_end:])]
    validation = [labelled(i) for i in part[train_end:validation_end]]
    return PreparedLastFm(
        work / "products.jsonl",
        work / "interactions.csv",
        auc_rows,
        _top_k_cases(auc_rows, history, cases, seed),
        _top_k_cases(validation, history, tune, seed),
        history,
        len(artist_of),
        triples,
        len(ratings),
    )


def lastfm_preset(data_dir: Path, work: Path, *, cases: int, tune: int, seed: int) -> PreparedData:
    """KGCN's own split and its click-through AUC beside the top-10 lists."""
    data = prepare_lastfm(data_dir, work, cases=cases, tune=tune, seed=seed)

    def ctr(evaluator: Evaluator) -> dict[str, Any]:
        return {
            "ctr_auc": evaluator.pair_auc(data.auc_rows, data.train_history),
            "ctr_rows": len(data.auc_rows),
        }

    return PreparedData(
        name="lastfm",
        products=data.products,
        interactions=data.train_interactions,
        cases=data.cases,
        tune_cases=data.tune_cases,
        regions="community",
        describe=lambda _: (
            f"Last.FM KG (KGCN/RippleNet benchmark) on {data_dir}: {data.items} artists, {data.triples} "
            f"triples, {data.ratings} labelled rows split 6:2:2 at random (seed {seed}); training "
            f"positives train; AUC over the {len(data.auc_rows)} test rows (`ctr_auc`); top-10 over "
            f"{len(data.cases)} users' test positives with their training positives as history."
        ),
        extra=ctr,
    )
