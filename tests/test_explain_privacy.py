"""Co-purchase explanations prove the path in Neo4j without naming the other shopper."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgrec.graph.loaders import load_interactions, load_products, load_taxonomy
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.pseudonym import pseudonymise
from kgrec.recommender.explain import Explainer
from kgrec.recommender.projection import GraphProjection
from tests.helpers import PRODUCT_MAP, PRODUCTS_CSV, TAXONOMY_CSV, write

KEY = b"privacy-test"


@pytest.mark.neo4j
def test_another_shoppers_path_carries_no_identifier(neo4j_store: Neo4jGraphStore, tmp_path: Path) -> None:
    load_taxonomy(neo4j_store, write(tmp_path / "t.csv", TAXONOMY_CSV), taxonomy="shop")
    load_products(neo4j_store, write(tmp_path / "p.csv", PRODUCTS_CSV), taxonomy="shop", mapping=PRODUCT_MAP)
    events = "user_id,item_id,kind,timestamp\nbob,p2,purchase,1\nbob,p4,purchase,2\ncarol,p2,view,3\n"
    load_interactions(neo4j_store, write(tmp_path / "e.csv", events), pseudonym_key=KEY)
    explainer = Explainer(GraphProjection.load(neo4j_store))
    (explanation,) = explainer.history_paths("p4", ["p2"], user=None)
    shown = explanation.as_dict()
    assert [n["name"] for n in shown["nodes"]][1] == "another shopper"
    assert shown["nodes"][1]["id"] is None
    text = json.dumps(shown)
    for raw in ("bob", "carol"):
        assert pseudonymise(raw, KEY) not in text
    rows = neo4j_store.run(shown["cypher"], shown["params"])
    assert len(rows) == 1
    none = neo4j_store.run(shown["cypher"], {**shown["params"], "n2": "p1"})
    assert none == []


@pytest.mark.neo4j
def test_a_chain_through_two_shoppers_explains_an_item_no_shopper_took_with_the_history(
    neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    load_taxonomy(neo4j_store, write(tmp_path / "t.csv", TAXONOMY_CSV), taxonomy="shop")
    load_products(neo4j_store, write(tmp_path / "p.csv", PRODUCTS_CSV), taxonomy="shop", mapping=PRODUCT_MAP)
    events = (
        "user_id,item_id,kind,timestamp\n"
        "bob,p2,purchase,1\nbob,p3,purchase,2\ncarol,p3,view,3\ncarol,p4,view,4\n"
    )
    load_interactions(neo4j_store, write(tmp_path / "e.csv", events), pseudonym_key=KEY)
    explainer = Explainer(GraphProjection.load(neo4j_store))
    assert explainer.history_paths("p4", ["p2"], user=None) == []
    (chain,) = explainer.explain("p4", query="", matched=[], history=["p2"], user=None, promoted=None)
    shown = chain.as_dict()
    assert shown["kind"] == "collaborative"
    assert [n["id"] for n in shown["nodes"]] == ["p2", None, "p3", None, "p4"]
    assert "'Electric train'" in shown["text"] and "'Jigsaw 1000'" in shown["text"]
    for raw in ("bob", "carol"):
        assert pseudonymise(raw, KEY) not in json.dumps(shown)
    assert len(neo4j_store.run(shown["cypher"], shown["params"])) == 1
    assert neo4j_store.run(shown["cypher"], {**shown["params"], "n2": "p1"}) == []
    assert explainer.chain_path("p1", ["p2"]) is None
