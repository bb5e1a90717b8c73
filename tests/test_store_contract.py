"""One contract suite, run against the in-memory store and the real Neo4j store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.loaders import load_interactions, load_products, load_taxonomy
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.pseudonym import pseudonymise
from tests.helpers import INTERACTIONS_CSV, PRODUCT_MAP, PRODUCTS_CSV, TAXONOMY_CSV, write

KEY = b"test-key"


def load_all(store: Any, tmp_path: Path) -> dict[str, Any]:
    tax = load_taxonomy(store, write(tmp_path / "tax.csv", TAXONOMY_CSV), taxonomy="shop")
    prod = load_products(
        store, write(tmp_path / "products.csv", PRODUCTS_CSV), taxonomy="shop", mapping=PRODUCT_MAP
    )
    inter = load_interactions(store, write(tmp_path / "events.csv", INTERACTIONS_CSV), pseudonym_key=KEY)
    summaries = {"taxonomy": tax.as_dict(), "products": prod.as_dict(), "interactions": inter.as_dict()}
    for summary in summaries.values():
        summary.pop("seconds")
    return summaries


def test_loads_build_the_documented_graph(any_store: Any, tmp_path: Path) -> None:
    load_all(any_store, tmp_path)
    stats = any_store.stats()
    assert stats.nodes["Category"] == TAXONOMY_CSV.count("\n") - 1
    assert stats.nodes["Product"] == PRODUCTS_CSV.count("\n") - 1
    assert stats.nodes["Brand"] == 3
    assert stats.nodes["AttributeValue"] == 5
    assert stats.nodes["User"] == 2
    assert stats.relationships["SUBCATEGORY_OF"] == 3
    assert stats.relationships["IN_CATEGORY"] == 4
    assert stats.relationships["INTERACTED"] == 3
    [tax] = stats.taxonomies
    assert (tax.name, tax.categories, tax.roots, tax.max_depth) == ("shop", 5, 2, 3)
    assert sorted(tax.locales) == ["de-DE", "en-US"]


def test_rerunning_loads_changes_nothing(any_store: Any, tmp_path: Path) -> None:
    first = load_all(any_store, tmp_path)
    before = any_store.stats().as_dict()
    second = load_all(any_store, tmp_path)
    assert any_store.stats().as_dict() == before
    assert first["products"]["created"] == 4
    assert second["products"] == {**second["products"], "created": 0, "updated": 0, "skipped": 4}
    assert second["taxonomy"]["skipped"] == 5
    assert second["interactions"]["created"] == 0
    assert second["interactions"]["skipped"] == 3


def test_changed_product_is_updated_and_its_edges_replaced(any_store: Any, tmp_path: Path) -> None:
    load_all(any_store, tmp_path)
    changed = PRODUCTS_CSV.replace(
        "p1,Oak train set,Brio,29.99,3,wood,3+", "p1,Oak train set,Hape,25,4,wood,"
    )
    summary = load_products(
        any_store, write(tmp_path / "p2.csv", changed), taxonomy="shop", mapping=PRODUCT_MAP
    )
    assert (summary.counts.created, summary.counts.updated, summary.counts.skipped) == (0, 1, 3)
    rels = {
        (r.head, r.type, r.tail)
        for r in any_store.iter_relationships(["IN_CATEGORY", "HAS_BRAND", "HAS_ATTRIBUTE"])
    }
    assert ("p1", "IN_CATEGORY", "shop:4") in rels
    assert ("p1", "IN_CATEGORY", "shop:3") not in rels
    assert ("p1", "HAS_BRAND", "hape") in rels
    assert ("p1", "HAS_ATTRIBUTE", "age=3+") not in rels


def test_a_brand_or_value_no_product_uses_any_more_is_removed(any_store: Any, tmp_path: Path) -> None:
    load_all(any_store, tmp_path)
    before = any_store.stats().nodes
    changed = PRODUCTS_CSV.replace(
        "p1,Oak train set,Brio,29.99,3,wood,3+", "p1,Oak train set,Hape,29.99,3,bamboo,3+"
    )
    load_products(any_store, write(tmp_path / "p2.csv", changed), taxonomy="shop", mapping=PRODUCT_MAP)
    after = any_store.stats().nodes
    assert after["Brand"] == before["Brand"]
    assert after["AttributeValue"] == before["AttributeValue"]
    brands = {r.tail for r in any_store.iter_relationships(["HAS_BRAND"])}
    assert "brio" not in brands and "hape" in brands
    assert any_store.existing_ids("Brand", ["brio", "hape"]) == {"hape"}
    assert any_store.existing_ids("AttributeValue", ["material=wood", "material=bamboo", "age=3+"]) == {
        "material=bamboo",
        "age=3+",
    }


def test_user_ids_are_pseudonymised(any_store: Any, tmp_path: Path) -> None:
    load_all(any_store, tmp_path)
    users = {r.head for r in any_store.iter_relationships(["INTERACTED"])}
    assert users == {pseudonymise("alice@example.com", KEY), pseudonymise("bob", KEY)}
    assert not any("alice" in u for u in users)


def test_new_events_are_counted_and_old_ones_not_twice(any_store: Any, tmp_path: Path) -> None:
    load_all(any_store, tmp_path)
    more = "user_id,item_id,kind,timestamp\nalice@example.com,p1,view,2024-01-03T10:00:00Z\n"
    summary = load_interactions(any_store, write(tmp_path / "more.csv", more), pseudonym_key=KEY)
    assert (summary.counts.created, summary.counts.updated) == (0, 1)
    again = load_interactions(any_store, write(tmp_path / "more.csv", more), pseudonym_key=KEY)
    assert again.counts.skipped == 1


def test_second_locale_only_adds_names(any_store: Any, tmp_path: Path) -> None:
    load_taxonomy(
        any_store, write(tmp_path / "t.csv", "id,parent_id,name\n1,,Toys\n2,1,Trains\n"), taxonomy="shop"
    )
    zh = write(tmp_path / "t.zh.csv", "id,parent_id,name\n1,,玩具\n2,1,火车\n3,1,新的\n")
    summary = load_taxonomy(any_store, zh, taxonomy="shop", locale="zh-CN")
    assert summary.counts.updated == 2
    assert summary.notes and "1 categories" in summary.notes[0]
    stats = any_store.stats()
    assert stats.nodes["Category"] == 2
    assert sorted(stats.taxonomies[0].locales) == ["en-US", "zh-CN"]


@pytest.mark.parametrize(
    ("products", "line", "message"),
    [
        ("sku,name,cat\nq1,Good,1\nq2,Bad,404\n", 3, "unknown category_id 'shop:404'"),
        ("sku,name,cat\nq1,Good,1\nq2,,1\n", 3, "missing required field 'title'"),
        ("sku,name,cost\nq1,Good,abc\n", 2, "price 'abc' is not a number between 0 and 1e+12"),
        ("sku,cat\nq1,1\n", 1, "missing required column(s) name"),
    ],
)
def test_bad_product_file_leaves_graph_unchanged(
    any_store: Any, tmp_path: Path, products: str, line: int, message: str
) -> None:
    load_all(any_store, tmp_path)
    before = any_store.stats().as_dict()
    with pytest.raises(InputFileError) as err:
        load_products(any_store, write(tmp_path / "bad.csv", products), taxonomy="shop", mapping=PRODUCT_MAP)
    assert err.value.line == line
    assert message in str(err.value)
    assert any_store.stats().as_dict() == before


def test_bad_interaction_file_leaves_graph_unchanged(any_store: Any, tmp_path: Path) -> None:
    load_all(any_store, tmp_path)
    before = any_store.stats().as_dict()
    bad = "user_id,item_id,kind,timestamp\nu,p1,view,1\nu,p1,like,2\n"
    with pytest.raises(InputFileError, match=r"bad\.csv:3: kind 'like'"):
        load_interactions(any_store, write(tmp_path / "bad.csv", bad), pseudonym_key=KEY)
    unknown = "user_id,item_id,kind,timestamp\nu,nope,view,1\n"
    with pytest.raises(InputFileError, match=r":2: unknown item_id 'nope'"):
        load_interactions(any_store, write(tmp_path / "bad.csv", unknown), pseudonym_key=KEY)
    assert any_store.stats().as_dict() == before


def test_category_paths_create_missing_categories(any_store: Any, tmp_path: Path) -> None:
    products = "id,title,category_path\na,Kite,Outdoor > Kites\nb,Ball,Outdoor > Balls\nc,Toy,Outdoor\n"
    summary = load_products(any_store, write(tmp_path / "p.csv", products), taxonomy="cat")
    assert summary.categories.created == 3
    [tax] = any_store.stats().taxonomies
    assert (tax.categories, tax.roots, tax.max_depth) == (3, 1, 2)
    cats = any_store.categories("cat")
    assert cats["cat:Outdoor > Kites"].parent_id == "cat:Outdoor"


def test_interactions_and_regions_and_search(any_store: Any, tmp_path: Path) -> None:
    load_all(any_store, tmp_path)
    summaries = sorted(any_store.iter_interactions())
    alice = pseudonymise("alice@example.com", KEY)
    assert (alice, "p1", "view", 2) in [(s.user, s.item, s.kind, s.events) for s in summaries]
    assert any_store.set_product_regions([("p1", "tax:a", "A", "com:1", "One"), ("zz", "", "", "", "")]) == 1
    hits = any_store.search_products("train", 10)
    assert {h[0] for h in hits} == {"p1", "p3"}
    assert any_store.search_products("   ", 10) == []


def test_vectors_are_written_to_nodes(any_store: Any, tmp_path: Path) -> None:
    load_all(any_store, tmp_path)
    assert any_store.write_vectors("Product", "kg_embedding", [("p1", [0.1, 0.2]), ("nope", [1.0, 0.0])]) == 1
    any_store.ensure_vector_index("Product", "kg_embedding", 2)


@pytest.mark.neo4j
def test_memory_store_matches_neo4j(neo4j_store: Neo4jGraphStore, tmp_path: Path) -> None:
    memory = MemoryGraphStore()
    assert load_all(memory, tmp_path) == load_all(neo4j_store, tmp_path)
    assert memory.stats().as_dict() == neo4j_store.stats().as_dict()
    types = ["SUBCATEGORY_OF", "IN_CATEGORY", "HAS_BRAND", "HAS_ATTRIBUTE", "INTERACTED", "IN_TAXONOMY"]
    assert sorted(memory.iter_relationships(types)) == sorted(neo4j_store.iter_relationships(types))


def test_product_and_category_texts(any_store: Any, tmp_path: Path) -> None:
    load_all(any_store, tmp_path)
    texts = {t.id: t for t in any_store.iter_product_texts()}
    assert texts["p1"].brand == "Brio"
    assert texts["p1"].category_path == "Toys > Trains > Wooden Trains"
    assert texts["p1"].attributes == ("age: 3+", "material: wood")
    assert texts["p4"].brand is None
    assert texts["p3"].price == 99.0
    assert texts["p4"].price is None
    cats = {c.id: c.path for c in any_store.iter_category_texts()}
    assert cats["shop:4"] == "Toys > Puzzles"


@pytest.mark.parametrize("name", ["x" * 5_000, "shop\x00", " "])
def test_an_unusable_taxonomy_name_writes_nothing(any_store: Any, tmp_path: Path, name: str) -> None:
    """A name Neo4j could not index used to leave an empty Taxonomy node behind."""
    with pytest.raises(InvalidArgumentError, match="taxonomy"):
        load_taxonomy(any_store, write(tmp_path / "t.csv", TAXONOMY_CSV), taxonomy=name)
    with pytest.raises(InvalidArgumentError, match="taxonomy"):
        load_products(any_store, write(tmp_path / "p.csv", PRODUCTS_CSV), taxonomy=name, mapping=PRODUCT_MAP)
    assert any_store.stats().taxonomies == []
    assert sum(any_store.stats().nodes.values()) == 0


@pytest.mark.neo4j
def test_regions_are_nodes_and_replace_earlier_ones(neo4j_store: Any, tmp_path: Path) -> None:
    load_all(neo4j_store, tmp_path)
    neo4j_store.set_product_regions([("p1", "tax:a", "A", "com:1", "One")])
    assert neo4j_store.set_product_regions([("p1", "tax:b", "B", "com:1", "One")]) == 1
    detail = neo4j_store.product("p1")
    regions = {k: detail[k] for k in detail if k.startswith("region_")}
    assert regions == {
        "region_taxonomy": "tax:b",
        "region_taxonomy_name": "B",
        "region_community": "com:1",
        "region_community_name": "One",
    }
    left = neo4j_store.run("MATCH (r:Region) RETURN r.id AS id ORDER BY id")
    assert [r["id"] for r in left] == ["com:1", "tax:b"]  # tax:a had no product left
