"""Small file builders for tests: every fixture file is written by the test that uses it."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path
from typing import Any


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


TAXONOMY_CSV = (
    "id,parent_id,name,name_de-DE\n"
    "1,,Toys,Spielzeug\n"
    "2,1,Trains,Züge\n"
    "3,2,Wooden Trains,Holzeisenbahnen\n"
    "4,1,Puzzles,Puzzles\n"
    "5,,Garden,Garten\n"
)

PRODUCTS_CSV = (
    "sku,name,maker,cost,cat,attr_material,attr_age\n"
    "p1,Oak train set,Brio,29.99,3,wood,3+\n"
    "p2,Jigsaw 1000,Ravensburger,12.50,4,cardboard,12+\n"
    "p3,Electric train,Hornby,£99.00,2,,8+\n"
    "p4,Garden hose,,,5,,\n"
)
PRODUCT_MAP = {"id": "sku", "title": "name", "brand": "maker", "price": "cost", "category_id": "cat"}

INTERACTIONS_CSV = (
    "user_id,item_id,kind,timestamp,value\n"
    "alice@example.com,p1,view,2024-01-01T10:00:00Z,\n"
    "alice@example.com,p1,view,2024-01-02T10:00:00Z,\n"
    "alice@example.com,p1,purchase,1704189600,\n"
    "bob,p2,rating,1704189600,4.5\n"
)


def giftcards_slice(data_dir: Path, out: Path, unreviewed: int) -> Path:
    """A real Amazon 2018 Gift Cards folder cut to every reviewed product plus `unreviewed` others.

    Every review is kept, so the leave-last split yields the same cases; only the catalogue that
    the text encoder and the graph must cover shrinks (1,547 products to 148 + `unreviewed`)."""
    out.mkdir(parents=True, exist_ok=True)
    with gzip.open(data_dir / "Gift_Cards_5.json.gz", "rt", encoding="utf-8") as reviews:
        reviewed = {json.loads(line)["asin"] for line in reviews}
    kept: list[str] = []
    with gzip.open(data_dir / "meta_Gift_Cards.json.gz", "rt", encoding="utf-8") as meta:
        for line in meta:
            if json.loads(line).get("asin") in reviewed:
                kept.append(line)
            elif unreviewed > 0:
                kept.append(line)
                unreviewed -= 1
    with gzip.open(out / "meta_Gift_Cards.json.gz", "wt", encoding="utf-8") as sliced:
        sliced.writelines(kept)
    shutil.copyfile(data_dir / "Gift_Cards_5.json.gz", out / "Gift_Cards_5.json.gz")
    return out
