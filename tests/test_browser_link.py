"""Explanation links open Neo4j Browser with the whole query, however odd the ids are."""

from __future__ import annotations

from urllib.parse import quote, unquote

import pytest

from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.recommender.browser_link import (
    browser_edit_url,
    cypher_string_literal,
    inline_parameters,
    percent_encode,
)
from kgrec.recommender.explain import Explanation, PathNode

ODD_IDS = {
    "product": "p&1 #2 \"quoted\" 'single' 50%+tax=ok?",
    "leaf": "Hobbies > Model Trains & Railway Sets",
    "root": "Spielzeug für Kinder > 玩具 # 1 \\ end",
}


def as_browser_reads_it(url: str) -> dict[str, str]:
    """Browser 5: decode the whole address, cut at '#', split on '&', then name=value at the first '='."""
    decoded = unquote(url).split("#", 1)[0]
    query = decoded.split("?", 1)[1]
    params: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        params[name] = value
    return params


def odd_path() -> Explanation:
    nodes = [
        PathNode("Product", ODD_IDS["product"], "odd product"),
        PathNode("Category", ODD_IDS["leaf"], "Model Trains & Railway Sets"),
        PathNode("Category", ODD_IDS["root"], "Spielzeug"),
    ]
    rels = [("IN_CATEGORY", "out"), ("SUBCATEGORY_OF", "out")]
    return Explanation(nodes, rels, "test path", "query")


def test_literal_hides_url_sensitive_characters() -> None:
    literal = cypher_string_literal(ODD_IDS["product"])
    assert not set("&#%+=?") & set(literal)
    assert literal.startswith('"') and literal.endswith('"')
    assert '\\"quoted\\"' in literal and "'single'" in literal


def test_link_survives_browser_decoding_whole() -> None:
    cypher = odd_path().as_dict()["browser_cypher"]
    url = browser_edit_url("http://127.0.0.1:7474/browser/", cypher)
    params = as_browser_reads_it(url)
    assert params["cmd"] == "edit"
    assert params["arg"] == cypher
    assert cypher.endswith("RETURN p LIMIT 1")


def test_unescaped_link_would_have_been_cut() -> None:
    """The defect this guards against: the raw literal is truncated at its first '&'."""
    query, _ = odd_path().cypher()
    raw = query.replace("$n0", '"' + ODD_IDS["product"] + '"')
    url = browser_edit_url("http://127.0.0.1:7474/browser/", raw)
    assert as_browser_reads_it(url)["arg"] != raw


def test_inline_parameters_replaces_longest_names_first() -> None:
    query = inline_parameters("RETURN $n1, $n10", {"n1": "a", "n10": "b&c"})
    assert query == 'RETURN "a", "b\\u0026c"'


@pytest.mark.neo4j
def test_decoded_link_finds_the_path_in_neo4j(neo4j_store: Neo4jGraphStore) -> None:
    neo4j_store.write(
        "CREATE (p:Product {id: $product})-[:IN_CATEGORY]->(leaf:Category {id: $leaf})"
        "-[:SUBCATEGORY_OF]->(:Category {id: $root})",
        ODD_IDS,
    )
    explanation = odd_path()
    url = browser_edit_url("http://127.0.0.1:7474/browser/", explanation.as_dict()["browser_cypher"])
    rows = neo4j_store.run(as_browser_reads_it(url)["arg"])
    assert len(rows) == 1
    path = rows[0]["p"]
    assert [node["id"] for node in path.nodes] == [ODD_IDS["product"], ODD_IDS["leaf"], ODD_IDS["root"]]


@pytest.mark.parametrize(
    "text",
    [*ODD_IDS.values(), "", "MATCH (p:Product {id: $id}) RETURN p", "~_.-09azAZ", "\x00\x7f\u00ff\U0001f600"],
)
def test_percent_encoding_is_what_urllib_quote_writes(text: str) -> None:
    assert percent_encode(text) == quote(text, safe="")
