"""Copying a catalogue between stores keeps what the regions and the knowledge walk read."""

from __future__ import annotations

from kgrec.graph.catalogue_copy import copy_catalogue
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.records import ProductRecord


def test_a_copied_catalogue_keeps_every_product_attribute() -> None:
    source = MemoryGraphStore()
    source.ensure_schema()
    source.merge_products(
        [
            # Last.FM's attributes: Freebase "relation:entity" keys, which hold a colon themselves.
            ProductRecord("a1", "Artist one", attributes={"music.genre:m.05r6t": "yes", "origin": "UK"}),
            ProductRecord("a2", "Artist two", brand="Label", attributes={"music.genre:m.05r6t": "yes"}),
        ]
    )
    target = MemoryGraphStore()
    assert copy_catalogue(source, target) == (0, 2)
    copied = {p.id: p for p in target.iter_product_texts()}
    for product in source.iter_product_texts():
        assert copied[product.id].attributes == product.attributes
        assert copied[product.id].brand == product.brand
    assert copied["a1"].attributes == ("music.genre:m.05r6t: yes", "origin: UK")
