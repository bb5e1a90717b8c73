"""Loads of the real shipped data, checked against the files themselves."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kgrec.graph.cypher import lucene_escape
from kgrec.graph.loaders import load_products, load_taxonomy
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.samples import AMAZON_TOYS_MAPPING
from tests.conftest import DATA

EN = DATA / "google_taxonomy" / "taxonomy-with-ids.en-US.2021-09-21.txt"
ZH = DATA / "google_taxonomy" / "taxonomy-with-ids.zh-CN.2015-02-19.txt"
TOYS = DATA / "amazon_toys_uk" / "amazon_co-ecommerce_sample.csv"

pytestmark = pytest.mark.neo4j


def google_lines(path: Path) -> list[tuple[str, list[str]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            code, _, full = line.partition(" - ")
            rows.append((code, full.split(" > ")))
    return rows


def test_google_en_then_zh(neo4j_store: Neo4jGraphStore) -> None:
    en_rows = google_lines(EN)
    summary = load_taxonomy(neo4j_store, EN)
    assert summary.counts.created == len(en_rows)
    [tax] = neo4j_store.stats().taxonomies
    assert tax.categories == len(en_rows)
    assert tax.roots == sum(1 for _, segs in en_rows if len(segs) == 1)
    assert tax.max_depth == max(len(segs) for _, segs in en_rows)

    zh_rows = google_lines(ZH)
    en_codes = {code for code, _ in en_rows}
    zh = load_taxonomy(neo4j_store, ZH)
    assert zh.counts.created == 0
    assert zh.counts.updated == sum(1 for code, _ in zh_rows if code in en_codes)
    stats = neo4j_store.stats()
    assert stats.nodes["Category"] == len(en_rows)
    assert sorted(stats.taxonomies[0].locales) == ["en-US", "zh-CN"]
    named = neo4j_store.run("MATCH (c:Category) WHERE c.name_zh_CN IS NOT NULL RETURN count(c) AS n")
    assert named[0]["n"] == zh.counts.updated
    toys_zh = dict(zh_rows)["1239"][-1]
    hit = neo4j_store.run("MATCH (c:Category {id: 'google:1239'}) RETURN c.name_zh_CN AS name")
    assert hit[0]["name"] == toys_zh


def test_fulltext_indexes_find_products_and_localised_categories(neo4j_store: Neo4jGraphStore) -> None:
    load_taxonomy(neo4j_store, EN)
    load_taxonomy(neo4j_store, ZH)
    zh_name = dict(google_lines(ZH))["1239"][-1]
    neo4j_store.run("CALL db.awaitIndexes(60)")
    hits = neo4j_store.run(
        "CALL db.index.fulltext.queryNodes('category_names', $q) YIELD node RETURN node.id AS id LIMIT 5",
        {"q": lucene_escape(zh_name)},
    )
    assert "google:1239" in [h["id"] for h in hits]


def test_toys_catalogue_matches_the_file(neo4j_store: Neo4jGraphStore) -> None:
    with TOYS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    summary = load_products(
        neo4j_store, TOYS, taxonomy="amazon_uk", mapping=AMAZON_TOYS_MAPPING, currency="GBP"
    )
    assert summary.counts.created == len({r["uniq_id"] for r in rows})
    stats = neo4j_store.stats()
    assert stats.nodes["Product"] == len(rows)
    with_path = [r for r in rows if r["amazon_category_and_sub_category"].strip()]
    assert stats.relationships["IN_CATEGORY"] == len(with_path)
    brands = {" ".join(r["manufacturer"].casefold().split()) for r in rows if r["manufacturer"].strip()}
    assert stats.nodes["Brand"] == len(brands)
    paths = {r["amazon_category_and_sub_category"] for r in with_path}
    leaf_paths = {" > ".join(s.strip() for s in p.split(">")) for p in paths}
    prefixes = {" > ".join(p.split(" > ")[: i + 1]) for p in leaf_paths for i in range(p.count(" > ") + 1)}
    assert stats.nodes["Category"] == len(prefixes)
    neo4j_store.run("CALL db.awaitIndexes(60)")
    hits = neo4j_store.run(
        "CALL db.index.fulltext.queryNodes('product_text', 'Hornby') YIELD node RETURN count(node) AS n"
    )
    assert hits[0]["n"] == sum(1 for r in rows if "hornby" in r["product_name"].lower())
    again = load_products(
        neo4j_store, TOYS, taxonomy="amazon_uk", mapping=AMAZON_TOYS_MAPPING, currency="GBP"
    )
    assert again.counts.skipped == summary.counts.created
    assert neo4j_store.stats().as_dict() == stats.as_dict()
