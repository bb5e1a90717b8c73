"""Brands and attribute values read from titles: made-up titles for the rules, real Home Depot
titles (read from ../shared/data, skipped without it) for what the rules find on a real feed."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from kgrec.graph.loaders import load_products
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.title_attributes import BrandVocabulary, extract, measures
from tests.conftest import shared_data
from tests.helpers import write

# Made-up titles (not from any real catalogue), written to exercise each rule.
MADE_UP = [
    "Acme Tools 20-Volt Cordless Drill in Black",
    "Acme Tools 1/2 in. x 10 ft. Steel Pipe",
    "Acme Tools 3-Light Brushed Nickel Vanity Light",
    "Acme Tools 5 Gal. Plastic Bucket (3-Pack)",
    "Acme Tools 6 in. Stainless Steel Hinge",
    "Bolton 1-1/4 in. Brass Screw (100-Pack)",
    "Bolton 12-Gauge Copper Wire 50 ft.",
    "Bolton 2.5 cu. ft. Wheelbarrow",
    "Bolton 15-Amp Outlet in White",
    "Bolton 1-gal. Wood Stain",
    "White Vinyl Fence Post",
    "White Paint 1 gal.",
    "Steel Hammer",
]


def test_sizes_and_units_are_read_in_a_canonical_form() -> None:
    assert measures("Acme Tools 20-Volt Cordless Drill") == {"voltage": "20 V"}
    assert measures("Bolton 1-gal. Wood Stain") == {"gallons": "1 gal."}
    assert measures("Acme Tools 1/2 in. x 10 ft. Steel Pipe") == {"inches": "1/2 in.", "feet": "10 ft."}
    assert measures("Bolton 1-1/4 in. Screw") == measures("Bolton 1 1/4 in. Screw") == {"inches": "1-1/4 in."}
    assert measures("Bolton 2.5 cu. ft. Wheelbarrow") == {"cubic feet": "2.5 cu. ft."}
    assert measures("Bolton 12-Gauge Copper Wire 50 ft.") == {"gauge": "12 gauge", "feet": "50 ft."}
    assert measures("Bucket (3-Pack)")["pack"] == "3 pack"
    assert measures("Mulch .8 cu. ft.") == {"cubic feet": "0.8 cu. ft."}
    assert measures("Model X-10 Router") == {}


def test_colour_and_material_prefer_the_longest_name() -> None:
    facts = extract("Acme Tools 3-Light Brushed Nickel Vanity Light", BrandVocabulary(frozenset()))
    assert facts.attributes["colour"] == "brushed nickel"
    assert facts.attributes["lights"] == "3 light"
    assert (
        extract("Acme Tools 6 in. Stainless Steel Hinge", BrandVocabulary(frozenset())).attributes["material"]
        == "stainless steel"
    )


def test_brands_are_leading_tokens_that_recur_and_colours_are_not_brands() -> None:
    vocabulary = BrandVocabulary.learn(MADE_UP, min_products=5)
    assert vocabulary.brands == {"Acme", "Acme Tools", "Bolton"}
    assert vocabulary.match("Acme Tools Saw") == "Acme Tools"
    assert vocabulary.match("White Vinyl Fence Post") is None
    assert BrandVocabulary.learn(MADE_UP, min_products=6).match("Bolton Saw") is None


def _node_props(store: Any, label: str, node_id: str) -> dict[str, Any]:
    if isinstance(store, Neo4jGraphStore):
        rows = store.run(f"MATCH (n:{label} {{id: $id}}) RETURN properties(n) AS p", {"id": node_id})
        return dict(rows[0]["p"])
    assert isinstance(store, MemoryGraphStore)
    return dict(store.graph.nodes[(label, node_id)])


def test_title_only_feed_loads_brands_and_values_marked_as_from_the_title(
    any_store: Any, tmp_path: Path
) -> None:
    rows = "\n".join(f"p{i},{title}" for i, title in enumerate(MADE_UP))
    path = write(tmp_path / "products.csv", "id,title\n" + rows + "\np99,Bolton Saw,\n".replace(",\n", "\n"))
    load_products(any_store, path, extract_from_title=True)
    rels = {(r.head, r.type, r.tail) for r in any_store.iter_relationships(["HAS_BRAND", "HAS_ATTRIBUTE"])}
    assert ("p0", "HAS_BRAND", "acme tools") in rels
    assert ("p0", "HAS_ATTRIBUTE", "voltage=20 v") in rels
    assert ("p0", "HAS_ATTRIBUTE", "colour=black") in rels
    assert ("p9", "HAS_ATTRIBUTE", "gallons=1 gal.") in rels
    assert ("p99", "HAS_BRAND", "bolton") in rels
    assert not any(head == "p11" and kind == "HAS_BRAND" for head, kind, _ in rels)
    assert _node_props(any_store, "Brand", "bolton")["source"] == "title"
    assert _node_props(any_store, "AttributeValue", "voltage=20 v")["source"] == "title"


def test_loaded_brand_and_attributes_win_over_the_title(any_store: Any, tmp_path: Path) -> None:
    text = (
        "id,title,brand,attr_colour\n"
        + "\n".join(f"p{i},{title},," for i, title in enumerate(MADE_UP))
        + "\nq1,Acme Tools Saw in Red,Zenith,blue\n"
    )
    load_products(any_store, write(tmp_path / "products.csv", text), extract_from_title=True)
    rels = {(r.head, r.type, r.tail) for r in any_store.iter_relationships(["HAS_BRAND", "HAS_ATTRIBUTE"])}
    assert ("q1", "HAS_BRAND", "zenith") in rels
    assert ("q1", "HAS_ATTRIBUTE", "colour=blue") in rels
    assert ("q1", "HAS_ATTRIBUTE", "colour=red") not in rels
    assert _node_props(any_store, "Brand", "zenith").get("source") is None
    assert _node_props(any_store, "AttributeValue", "colour=blue").get("source") is None


def test_real_home_depot_titles() -> None:
    """Checked by hand against the titles of these product ids in the real feed."""
    path = shared_data("homedepot_search", "products.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        titles = {row["id"]: row["title"] for row in csv.DictReader(handle)}
    vocabulary = BrandVocabulary.learn(titles.values())
    expected = {
        "100002": ("BEHR Premium", {"gallons": "1 gal."}),
        "153527": ("RIDGID", {"voltage": "12 V"}),
        "153518": ("Titan", {"lights": "3 light", "colour": "oil rubbed bronze"}),
        "153567": ("Halo", {"inches": "4 in.", "material": "aluminum"}),
        "153523": ("Orbit", {"inches": "1/2 in.", "feet": "100 ft."}),
        "153551": ("Whirlpool", {"cubic feet": "24.7 cu. ft.", "material": "stainless steel"}),
        "153550": ("Milwaukee", {"amperage": "15 A", "inches": "7/9 in."}),
        "153517": (None, {"inches": "1/4 in.", "feet": "2 ft.", "material": "walnut"}),
    }
    for pid, (brand, attributes) in expected.items():
        facts = extract(titles[pid], vocabulary)
        assert facts.brand == brand, titles[pid]
        assert attributes.items() <= facts.attributes.items(), (titles[pid], facts.attributes)
    with_brand = sum(vocabulary.match(t) is not None for t in titles.values()) / len(titles)
    assert with_brand > 0.7
