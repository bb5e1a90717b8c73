"""Explanations proven in Neo4j: co-purchase paths without naming the other shopper, in the verb
of the kind of their edges, led by "you" only through the shopper's own stored edge."""

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


def shop(store: Neo4jGraphStore, tmp_path: Path, events: str) -> Explainer:
    """The helpers' toy shop with `events` (an interactions CSV) loaded, and its explainer."""
    load_taxonomy(store, write(tmp_path / "t.csv", TAXONOMY_CSV), taxonomy="shop")
    load_products(store, write(tmp_path / "p.csv", PRODUCTS_CSV), taxonomy="shop", mapping=PRODUCT_MAP)
    load_interactions(store, write(tmp_path / "e.csv", events), pseudonym_key=KEY)
    return Explainer(GraphProjection.load(store))


@pytest.mark.neo4j
def test_another_shoppers_path_carries_no_identifier(neo4j_store: Neo4jGraphStore, tmp_path: Path) -> None:
    events = "user_id,item_id,kind,timestamp\nbob,p2,purchase,1\nbob,p4,purchase,2\ncarol,p2,view,3\n"
    explainer = shop(neo4j_store, tmp_path, events)
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
    events = (
        "user_id,item_id,kind,timestamp\n"
        "bob,p2,purchase,1\nbob,p3,purchase,2\ncarol,p3,view,3\ncarol,p4,view,4\n"
    )
    explainer = shop(neo4j_store, tmp_path, events)
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


@pytest.mark.neo4j
def test_a_path_through_shoppers_says_and_matches_the_kind_of_their_edges(
    neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    """SYNTHETIC events: bob bought p2 and p4, carol viewed p2 and p3, dan viewed p1 and bought
    p3 (no one kind for both), erin rated p1 and p4 and bought p1."""
    events = (
        "user_id,item_id,kind,timestamp,value\n"
        "bob,p2,purchase,1,\nbob,p4,purchase,2,\ncarol,p2,view,3,\ncarol,p3,view,4,\n"
        "dan,p1,view,5,\ndan,p3,purchase,6,\nerin,p1,rating,7,4\nerin,p4,rating,8,5\nerin,p1,purchase,9,\n"
    )
    explainer = shop(neo4j_store, tmp_path, events)
    cases = [
        ("p4", "p2", "purchase", "Bought by shoppers who bought 'Jigsaw 1000'"),
        ("p3", "p2", "view", "Viewed by shoppers who viewed 'Jigsaw 1000'"),
        ("p3", "p1", None, "Chosen by shoppers who chose 'Oak train set'"),
        ("p4", "p1", "rating", "Rated by shoppers who rated 'Oak train set'"),
    ]
    for item, past, kind, text in cases:
        path = explainer.neighbour_path(item, past, None, via="shoppers")
        assert path is not None and path.text.startswith(text), (item, past, path)
        shown = path.as_dict()
        assert [r.get("kind") for r in shown["relationships"]] == [kind, kind]
        assert len(neo4j_store.run(shown["cypher"], shown["params"])) == 1, shown["cypher"]
        if kind is not None:  # the kind is matched, not just said: another kind finds no path
            other = "cart" if kind != "cart" else "view"
            assert neo4j_store.run(shown["cypher"], {**shown["params"], "k0": other}) == []
    bought = explainer.shopper_path("p4", ["p2"], None)
    assert bought.text.startswith("Shoppers whose baskets are like yours bought it")
    assert len(neo4j_store.run(*bought.cypher())) == 1
    viewed = explainer.shopper_path("p3", ["p2"], None)
    assert viewed.text.startswith("Shoppers whose histories are like yours viewed it")
    assert len(neo4j_store.run(*viewed.cypher())) == 1


@pytest.mark.neo4j
def test_shopper_knns_verb_is_the_kind_of_the_neighbour_it_names(
    neo4j_store: Neo4jGraphStore, tmp_path: Path
) -> None:
    """SYNTHETIC events: bob bought p2 and p3, carol viewed them. Where carol is the kNN neighbour
    behind p3 the sentence says viewed, where bob is it says bought; the path holds either way."""
    events = (
        "user_id,item_id,kind,timestamp\n"
        "bob,p2,purchase,1\nbob,p3,purchase,2\ncarol,p2,view,3\ncarol,p3,view,4\n"
    )
    explainer = shop(neo4j_store, tmp_path, events)
    by_carol = explainer.shopper_path("p3", ["p2"], None, neighbour=pseudonymise("carol", KEY))
    by_bob = explainer.shopper_path("p3", ["p2"], None, neighbour=pseudonymise("bob", KEY))
    assert by_carol.text.startswith("Shoppers whose histories are like yours viewed it")
    assert by_bob.text.startswith("Shoppers whose baskets are like yours bought it")
    for path in (by_carol, by_bob):
        assert len(neo4j_store.run(*path.cypher())) == 1, path.cypher()


@pytest.mark.neo4j
def test_you_lead_a_path_only_through_your_stored_edge(neo4j_store: Neo4jGraphStore, tmp_path: Path) -> None:
    """erin's stored events hold p1 only; a request naming p2 in its history gets p2's path without
    a `you -> p2` edge (Neo4j has none), and its sentence says where p2 came from."""
    events = (
        "user_id,item_id,kind,timestamp\n"
        "erin,p1,purchase,1\nbob,p1,purchase,2\nbob,p3,purchase,3\nbob,p2,purchase,4\n"
    )
    explainer = shop(neo4j_store, tmp_path, events)
    erin = pseudonymise("erin", KEY)
    stored = explainer.neighbour_path("p3", "p1", erin, via="shoppers")
    asked = explainer.neighbour_path("p3", "p2", erin, via="shoppers")
    assert stored is not None and asked is not None
    assert [n.label for n in stored.nodes] == ["User", "Product", "User", "Product"]
    assert stored.nodes[0].id == erin and "this request's history" not in stored.text
    assert [n.label for n in asked.nodes] == ["Product", "User", "Product"]
    assert asked.text.endswith("('Jigsaw 1000' is in this request's history, not among your stored events)")
    shopper = explainer.shopper_path("p3", ["p2", "p1"], erin)
    assert shopper.nodes[0].label == "Product" and "this request's history" in shopper.text
    history = explainer.history_paths("p3", ["p2", "p1"], erin)
    assert [e.nodes[0].label for e in history] == ["Product", "User"]
    assert "this request's history" in history[0].text and history[1].text.startswith("You interacted")
    for path in (stored, asked, shopper, *history):
        assert len(neo4j_store.run(*path.cypher())) == 1, path.cypher()
    claimed = Explainer(GraphProjection.load(neo4j_store))
    claimed.g.add_interaction(erin, "p2", "purchase", 1, 5)  # what the old paths claimed: not in Neo4j
    wrong = claimed.neighbour_path("p3", "p2", erin, via="shoppers")
    assert wrong is not None and neo4j_store.run(*wrong.cypher()) == []
