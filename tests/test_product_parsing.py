from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.interaction_parsing import iter_interactions, parse_timestamp
from kgrec.graph.product_parsing import iter_products, parse_mapping, parse_price
from tests.helpers import write, write_jsonl


def test_jsonl_products_with_attributes_object(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [
            {"id": 1, "title": " Oak  train ", "price": 12, "attributes": {"material": "wood"}},
            {"id": "b", "title": "Kite", "category_path": "Outdoor>Kites"},
        ],
    )
    first, second = iter_products(path)
    assert (first.id, first.title, first.price) == ("1", "Oak train", 12.0)
    assert first.attributes == {"material": "wood"}
    assert second.category_path == "Outdoor > Kites"
    mapped = write_jsonl(tmp_path / "m.jsonl", [{"sku": "c", "name": "Yo-yo"}])
    [third] = iter_products(mapped, {"id": "sku", "title": "name"})
    assert (third.id, third.title) == ("c", "Yo-yo")


def test_csv_attribute_columns_and_mapped_attributes(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "id,title,attr_colour,Size\n1,Ball,red,L\n")
    [product] = iter_products(path, parse_mapping(["attr_size=Size"]))
    assert product.attributes == {"colour": "red", "size": "L"}


@pytest.mark.parametrize(
    ("raw", "value"), [("£1,299.50", 1299.5), ("$3", 3.0), ("", None), (None, None), (4, 4.0)]
)
def test_prices(raw: object, value: float | None) -> None:
    assert parse_price(raw) == value


@pytest.mark.parametrize("raw", ["abc", "-3", "1 - 2"])
def test_bad_prices(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_price(raw)


def test_bad_mapping_is_rejected() -> None:
    with pytest.raises(InvalidArgumentError, match="is not FIELD=COLUMN"):
        parse_mapping(["id"])


def test_jsonl_attributes_must_be_an_object(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "title": "t", "attributes": ["x"]}])
    with pytest.raises(InputFileError, match=":1: 'attributes' must be an object"):
        list(iter_products(path))


def test_timestamps() -> None:
    assert parse_timestamp("1704189600") == 1704189600
    assert parse_timestamp("1704189600000") == 1704189600
    assert parse_timestamp("2024-01-02T10:00:00Z") == 1704189600
    assert parse_timestamp("2024-01-02T10:00:00") == 1704189600
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


def test_interaction_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "e.csv", "user_id,item_id,kind,timestamp,value\nu,p,view,1,\nu,p,rating,1,x\n")
    with pytest.raises(InputFileError) as err:
        list(iter_interactions(path))
    assert err.value.line == 3 and "value 'x'" in str(err.value)
    missing = write(tmp_path / "m.csv", "user_id,item_id,kind\nu,p,view\n")
    with pytest.raises(InputFileError, match="missing required column"):
        list(iter_interactions(missing))


def test_gzipped_files_read_like_plain_ones(tmp_path: Path) -> None:
    rows = '{"id": "a1", "title": "Kite"}\n{"id": "a2", "title": "Yo-yo", "price": "3.50"}\n'
    packed = tmp_path / "products.jsonl.gz"
    with gzip.open(packed, "wt", encoding="utf-8") as handle:
        handle.write(rows)
    plain = write(tmp_path / "products.jsonl", rows)
    assert [(p.id, p.title, p.price) for p in iter_products(packed)] == [
        (p.id, p.title, p.price) for p in iter_products(plain)
    ]
    events = tmp_path / "events.csv.gz"
    with gzip.open(events, "wt", encoding="utf-8") as handle:
        handle.write("user_id,item_id,kind,timestamp\nu1,a1,view,1\nu1,a2,sell,2\n")
    with pytest.raises(InputFileError, match=r"events\.csv\.gz:3: kind 'sell'"):
        list(iter_interactions(events))


def test_a_corrupt_gzip_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "products.jsonl.gz"
    broken.write_bytes(gzip.compress(b'{"id": "a1", "title": "Kite"}\n' * 200)[:60])
    with pytest.raises(InputFileError, match=r"products\.jsonl\.gz.*not a readable gzip file"):
        list(iter_products(broken))
