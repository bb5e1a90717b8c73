"""Any text a shopper types is searchable: the real Neo4j full-text index never raises on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from neo4j import Driver

from kgrec.graph.cypher import lucene_escape
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.records import ProductRecord

pytestmark = pytest.mark.neo4j
LUCENE_WORDS = st.sampled_from(
    ["AND", "OR", "NOT", "TO", "&&", "||", "!", "*", "?", "~", "^2", "\\", '"', "["]
)


@pytest.fixture(scope="module")
def searchable(neo4j_driver: Driver) -> Iterator[Neo4jGraphStore]:
    store = Neo4jGraphStore(neo4j_driver)
    store.clear()
    store.ensure_schema()
    store.merge_products(
        [
            ProductRecord(id="p1", title="Wooden train set NOT included"),
            ProductRecord(id="p2", title="AND OR gate puzzle"),
            ProductRecord(id="p3", title="C++ for kids (ages 8+)"),
        ]
    )
    store.run("CALL db.awaitIndexes(60)")
    yield store
    store.clear()


@pytest.mark.parametrize(
    "query", ["NOT", "OR", "a AND", "AND b", "TO", "NOT NOT", "&&", "||", "\\", "*", "?"]
)
def test_operator_words_and_symbols_are_literal(searchable: Neo4jGraphStore, query: str) -> None:
    assert isinstance(searchable.search_products(query, 10), list)


def test_escaped_words_still_find_products(searchable: Neo4jGraphStore) -> None:
    assert searchable.search_products("C++ (ages 8+)", 5)[0][0] == "p3"
    assert "p2" in [pid for pid, _ in searchable.search_products("AND OR gate", 5)]


def test_operator_words_are_lowercased_wherever_they_stand() -> None:
    assert lucene_escape("NOT") == "not"
    assert lucene_escape("a AND") == "a and"
    assert lucene_escape("OR\tb") == "or b"
    assert lucene_escape("ANDROID c++") == "ANDROID c\\+\\+"


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    database=None,
)
@given(text=st.text(max_size=60) | st.lists(LUCENE_WORDS | st.text(max_size=5), max_size=8).map(" ".join))
@example(text="\x00")
@example(text="a AND")
def test_any_unicode_text_searches_without_error(searchable: Neo4jGraphStore, text: str) -> None:
    hits = searchable.search_products(text, 5)
    assert all(pid in {"p1", "p2", "p3"} for pid, _ in hits)
