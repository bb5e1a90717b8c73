"""The in-process BM25 against hand-computed scores and against Neo4j's full-text index (Lucene)."""

from __future__ import annotations

import csv
import math
import random

import pytest

from kgrec.embeddings.lexical import Bm25Index, tokenize
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.records import ProductRecord
from tests.conftest import shared_data

# Made-up titles (not from any real catalogue).
TITLES = [
    "Acme 1/2 in. Copper Pipe",
    "Acme 3.5 in. Brass Hinge in Satin Nickel",
    "Bolton Copper Wire 12-Gauge 50 ft.",
    "Bolton Cordless Drill 20-Volt",
    "Garden Hose 50 ft. Green",
    "Copper Copper Copper Sign",
]


def test_tokens_follow_lucenes_standard_analyzer() -> None:
    assert tokenize("Acme 3.5 in. 12-Gauge 1/2 4Flow don't") == [
        "acme",
        "3.5",
        "in",
        "12",
        "gauge",
        "1",
        "2",
        "4flow",
        "don't",
    ]


def test_scores_match_the_bm25_formula_by_hand() -> None:
    index = Bm25Index(TITLES)
    lengths = [len(tokenize(t)) for t in TITLES]
    avg = sum(lengths) / len(lengths)
    df = 3  # "copper" is in three titles
    idf = math.log(1 + (len(TITLES) - df + 0.5) / (df + 0.5))

    def expected(tf: int, length: int) -> float:
        return idf * tf / (tf + 1.2 * (1 - 0.75 + 0.75 * length / avg))

    scores = index.scores("copper")
    assert scores[0] == pytest.approx(expected(1, lengths[0]), rel=1e-5)
    assert scores[5] == pytest.approx(expected(3, lengths[5]), rel=1e-5)
    assert scores[3] == 0.0
    hits = index.search("copper wire", 10)
    assert hits[0][0] == 2 and [row for row, _ in hits].count(3) == 0
    assert index.search("unknownword", 5) == []


def _load(store: Neo4jGraphStore, titles: dict[str, str]) -> None:
    store.ensure_schema()
    store.merge_products([ProductRecord(id=pid, title=title) for pid, title in titles.items()])
    store.run("CALL db.awaitIndexes(120)")


def _neo4j_ranking(store: Neo4jGraphStore, titles: dict[str, str], queries: list[str]) -> list[float]:
    _load(store, titles)
    ids = list(titles)
    index = Bm25Index([titles[i] for i in ids])
    overlaps = []
    for query in queries:
        ours = [ids[row] for row, _ in index.search(query, 10)]
        theirs = [pid for pid, _ in store.search_products(query, 10)]
        if theirs:
            overlaps.append(len(set(ours) & set(theirs)) / len(theirs))
    return overlaps


@pytest.mark.neo4j
def test_scores_equal_neo4j_fulltext_on_made_up_titles(neo4j_store: Neo4jGraphStore) -> None:
    titles = {f"p{i}": t for i, t in enumerate(TITLES)}
    _load(neo4j_store, titles)
    ids = list(titles)
    index = Bm25Index(TITLES)
    for query in ("copper", "copper pipe 1/2 in.", "50 ft. hose", "3.5 in. hinge"):
        ours = {ids[row]: score for row, score in index.search(query, 10)}
        theirs = dict(neo4j_store.search_products(query, 10))
        assert set(ours) == set(theirs), query
        for pid, score in theirs.items():
            assert ours[pid] == pytest.approx(score, rel=0.02), (query, pid)


@pytest.mark.neo4j
def test_top10_agrees_with_neo4j_on_real_titles_and_queries(neo4j_store: Neo4jGraphStore) -> None:
    folder = shared_data("homedepot_search")
    with (folder / "products.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    titles = {r["id"]: r["title"] for r in random.Random(3).sample(rows, 3000)}
    queries = sorted(
        {line.split("\t")[0] for line in (folder / "qrels_dev.tsv").read_text("utf-8").splitlines()}
    )
    overlaps = _neo4j_ranking(neo4j_store, titles, random.Random(5).sample(queries, 60))
    assert len(overlaps) > 30
    assert sum(overlaps) / len(overlaps) >= 0.9
