"""The Instacart basket-completion preset: files laid out like Instacart's, turned into kgrec inputs.

Derived, not invented: the taxonomy is Instacart's department > aisle, the products and orders
are Instacart's. Order times are not in the data, so an order's timestamp is its order number
(in days) plus its hour, which keeps each user's orders in their real sequence.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from kgrec.evaluation.presets.base import PreparedData
from kgrec.graph.errors import InputFileError

REQUIRED = ("products.csv", "aisles.csv", "departments.csv", "orders.csv", "order_products__prior.csv")


@dataclass(slots=True)
class InstacartFiles:
    taxonomy: Path
    products: Path
    interactions: Path
    orders: int
    lines: int


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, None, f"cannot read: {exc}") from exc


def prepare_instacart(data_dir: Path, work: Path) -> InstacartFiles:
    """Every order becomes `purchase` rows with the order as `session_id` (the basket split's unit)."""
    missing = [name for name in REQUIRED if not (data_dir / name).is_file()]
    if missing:
        raise InputFileError(data_dir, None, f"not an Instacart-style folder: missing {', '.join(missing)}")
    work.mkdir(parents=True, exist_ok=True)
    departments = _rows(data_dir / "departments.csv")
    aisles = _rows(data_dir / "aisles.csv")
    products = _rows(data_dir / "products.csv")
    aisle_department = {p["aisle_id"]: p["department_id"] for p in products}
    with (work / "taxonomy.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "parent_id", "name"])
        for d in departments:
            writer.writerow([f"d{d['department_id']}", "", d["department"]])
        for a in aisles:
            if a["aisle_id"] in aisle_department:
                writer.writerow([f"a{a['aisle_id']}", f"d{aisle_department[a['aisle_id']]}", a["aisle"]])
    with (work / "products.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "category_id"])
        for p in products:
            writer.writerow([p["product_id"], p["product_name"], f"a{p['aisle_id']}"])
    orders = {o["order_id"]: o for o in _rows(data_dir / "orders.csv")}
    known_products = {p["product_id"] for p in products}
    basket: dict[str, list[str]] = defaultdict(list)
    for line in _rows(data_dir / "order_products__prior.csv"):
        if line["order_id"] in orders and line["product_id"] in known_products:
            basket[line["order_id"]].append(line["product_id"])
    lines = 0
    with (work / "interactions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "kind", "timestamp", "session_id"])
        for order_id in sorted(basket, key=int):
            order = orders[order_id]
            ts = int(order["order_number"]) * 86400 + int(order["order_hour_of_day"] or 0) * 3600
            for item in dict.fromkeys(basket[order_id]):
                writer.writerow([order["user_id"], item, "purchase", ts, order_id])
                lines += 1
    return InstacartFiles(
        work / "taxonomy.csv", work / "products.csv", work / "interactions.csv", len(basket), lines
    )


def instacart_preset(data_dir: Path, work: Path, *, cases: int, tune: int, seed: int) -> PreparedData:
    """Basket completion over Instacart's department > aisle taxonomy."""
    data = prepare_instacart(data_dir, work)
    return PreparedData(
        name="instacart",
        products=data.products,
        interactions=data.interactions,
        split="basket",
        regions="taxonomy",
        taxonomy=data.taxonomy,
        taxonomy_name="instacart",
        describe=lambda split: (
            f"Instacart basket completion on {data_dir} ({data.orders} orders, {data.lines} lines): "
            f"{split}; the visible two thirds are the request's history, 10 items are recommended "
            "from the rest of the catalogue."
        ),
    )
