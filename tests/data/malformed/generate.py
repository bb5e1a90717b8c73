"""Writes the malformed-file corpus and its manifest; run it from anywhere to rebuild them.

Each case is a small file whose last data row is the bad one, so a load with a small batch
size would already have written earlier rows if validation missed the problem.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
GOOD_PRODUCTS = (
    "id,title,brand,price,category_path\n"
    "g1,Good kite,Acme,9.99,Outdoor > Kites\n"
    "g2,Good ball,Acme,4.50,Outdoor\n"
)
GOOD_EVENTS = "user_id,item_id,kind,timestamp,value\nu1,p1,view,1704189600,\nu2,p2,cart,1704189601,\n"
LONG = "x" * 100_000


def _products_csv(row: str) -> str:
    return GOOD_PRODUCTS + row + "\n"


def _events(row: str) -> str:
    return GOOD_EVENTS + row + "\n"


def _jsonl(rows: list[str]) -> str:
    good = [json.dumps({"id": f"g{i}", "title": f"Good {i}"}) for i in (1, 2)]
    return "\n".join(good + rows) + "\n"


def _deep_taxonomy(levels: int) -> str:
    lines = ["id,parent_id,name"] + [f"{i},{i - 1 if i > 1 else ''},Level {i}" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


# (file, kind, line of the error, text the message contains, content)
CASES: list[tuple[str, str, int | str, str, str | bytes]] = [
    (
        "products-price-1e309.csv",
        "products",
        4,
        "price '1e309' is not a number between 0 and 1e+12",
        _products_csv("b1,Bad,Acme,1e309,Outdoor"),
    ),
    (
        "products-price-infinity.jsonl",
        "products",
        3,
        "price 'inf' is not a number",
        _jsonl(['{"id": "b1", "title": "Bad", "price": Infinity}']),
    ),
    (
        "products-price-1e400-integer.jsonl",
        "products",
        3,
        "is not a number between 0 and 1e+12",
        _jsonl(['{"id": "b1", "title": "Bad", "price": 1' + "0" * 400 + "}"]),
    ),
    (
        "products-price-negative.csv",
        "products",
        4,
        "price '-3' is not a number between 0",
        _products_csv("b1,Bad,Acme,-3,Outdoor"),
    ),
    (
        "products-id-100k-chars.csv",
        "products",
        4,
        "id is 100000 bytes long; at most 4000 can be indexed",
        _products_csv(f"{LONG},Bad,Acme,1,Outdoor"),
    ),
    (
        "products-brand-100k-chars.csv",
        "products",
        4,
        "brand is 100000 bytes long",
        _products_csv(f"b1,Bad,{LONG},1,Outdoor"),
    ),
    (
        "products-category-100k-chars.csv",
        "products",
        4,
        "category_path is 100010 bytes long",
        _products_csv(f"b1,Bad,Acme,1,Outdoor > {LONG}"),
    ),
    (
        "products-path-100-levels.csv",
        "products",
        4,
        "category path is 100 levels deep; at most 64",
        _products_csv("b1,Bad,Acme,1," + " > ".join(f"L{i}" for i in range(100))),
    ),
    (
        "products-title-nul.jsonl",
        "products",
        3,
        "title contains a NUL byte",
        _jsonl(['{"id": "b1", "title": "Bad\\u0000title"}']),
    ),
    (
        "products-json-nested-100k.jsonl",
        "products",
        3,
        "JSON nested too deeply",
        _jsonl(['{"id": "b1", "title": "Bad", "attributes": ' + "[" * 100_000 + "]" * 100_000 + "}"]),
    ),
    (
        "products-missing-title.csv",
        "products",
        4,
        "missing required field 'title'",
        _products_csv("b1,,Acme,1,Outdoor"),
    ),
    (
        "products-field-count.csv",
        "products",
        4,
        "expected 5 fields as in the header, found 6",
        _products_csv("b1,Bad,Acme,1,Outdoor,extra"),
    ),
    (
        "products-not-utf8.csv",
        "products",
        4,
        "not valid UTF-8",
        _products_csv("b1,Bad \xff,Acme,1,Outdoor").encode("latin-1"),
    ),
    (
        "products-empty-level.csv",
        "products",
        4,
        "has an empty level",
        _products_csv("b1,Bad,Acme,1,Outdoor >  > Kites"),
    ),
    ("products-no-header.csv", "products", 1, "empty file: expected a CSV header", ""),
    (
        "products-not-an-object.jsonl",
        "products",
        3,
        "expected a JSON object on each line",
        _jsonl(["[1, 2]"]),
    ),
    (
        "products-truncated.csv.gz",
        "products",
        "any",
        "not a readable gzip file",
        gzip.compress(_products_csv("b1,Bad,Acme,1,Outdoor").encode())[:-12],
    ),
    (
        "taxonomy-1000-levels.csv",
        "taxonomy",
        66,
        "category path is 65 levels deep; at most 64",
        _deep_taxonomy(1000),
    ),
    (
        "taxonomy-name-100k-chars.csv",
        "taxonomy",
        3,
        "name is 100000 bytes long",
        f"id,parent_id,name\n1,,Toys\n2,1,{LONG}\n",
    ),
    (
        "taxonomy-name-nul.jsonl",
        "taxonomy",
        2,
        "name contains a NUL byte",
        '{"id": "1", "name": "Toys"}\n{"id": "2", "parent_id": "1", "name": "Bad\\u0000"}\n',
    ),
    ("taxonomy-cycle.csv", "taxonomy", 2, "cycle in taxonomy", "id,parent_id,name\n1,2,A\n2,1,B\n"),
    (
        "taxonomy-unknown-parent.csv",
        "taxonomy",
        3,
        "parent_id '9' is not in the file or the graph",
        "id,parent_id,name\n1,,A\n2,9,B\n",
    ),
    (
        "interactions-timestamp-1e30.csv",
        "interactions",
        4,
        "timestamp 1e+27 is before 1970 or after 9999",
        _events("u3,p1,view,1e30,"),
    ),
    (
        "interactions-timestamp-1e400.csv",
        "interactions",
        4,
        "timestamp inf is not a finite number",
        _events("u3,p1,view,1e400,"),
    ),
    (
        "interactions-timestamp-1960.csv",
        "interactions",
        4,
        "is before 1970 or after 9999",
        _events("u3,p1,view,1960-01-01T00:00:00Z,"),
    ),
    (
        "interactions-value-nan.csv",
        "interactions",
        4,
        "value nan is not a finite number",
        _events("u3,p1,rating,1704189602,nan"),
    ),
    (
        "interactions-value-infinity.csv",
        "interactions",
        4,
        "value inf is not a finite number",
        _events("u3,p1,rating,1704189602,Infinity"),
    ),
    (
        "interactions-kind-like.csv",
        "interactions",
        4,
        "kind 'like' is not one of",
        _events("u3,p1,like,1704189602,"),
    ),
    (
        "interactions-unknown-item.csv",
        "interactions",
        4,
        "unknown item_id 'nope'",
        _events("u3,nope,view,1704189602,"),
    ),
    (
        "interactions-timestamp-words.csv",
        "interactions",
        4,
        "is neither epoch seconds nor ISO 8601",
        _events("u3,p1,view,yesterday,"),
    ),
    (
        "interactions-user-nul.csv",
        "interactions",
        4,
        "user_id contains a NUL byte",
        _events("u\x003,p1,view,1704189602,"),
    ),
]


def main() -> None:
    for name, _, _, _, content in CASES:
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        (HERE / name).write_bytes(data)
    with (HERE / "cases.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file", "kind", "line", "message"])
        for name, kind, line, message, _ in CASES:
            writer.writerow([name, kind, line, message])


if __name__ == "__main__":
    main()
