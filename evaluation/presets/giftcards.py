"""The Amazon Gift Cards preset (UCSD Amazon 2018): metadata and 5-core reviews as kgrec inputs.

Derived, not invented: products, brands and prices are the metadata's; a review is a `rating`
interaction at its `unixReviewTime` with `overall` as its value. Only the first two entries of
a product's category list are kept: the rest of that list is feature text scraped into it.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgrec.evaluation.presets.base import PreparedData
from kgrec.graph.errors import InputFileError
from kgrec.graph.file_reading import iter_jsonl_rows

META = "meta_Gift_Cards.json.gz"
REVIEWS = "Gift_Cards_5.json.gz"
_MAX_CATEGORY_NAME = 40
_ONE_PRICE = re.compile(r"\$\s*[\d,]+(\.\d+)?")


@dataclass(slots=True)
class PreparedGiftCards:
    products: Path
    interactions: Path
    products_count: int
    reviews: int


def _one_price(raw: object) -> str | None:
    """A single amount ("$25.00"); ranges and blanks are no price."""
    text = str(raw or "").strip()
    return text if _ONE_PRICE.fullmatch(text) else None


def _category_path(raw: Any) -> str:
    names = [str(n).strip() for n in raw or [] if isinstance(n, str)][:2]
    kept = [n for n in names if n and len(n) <= _MAX_CATEGORY_NAME and "<" not in n and ">" not in n]
    return " > ".join(kept)


def prepare_giftcards(data_dir: Path, work: Path) -> PreparedGiftCards:
    missing = [name for name in (META, REVIEWS) if not (data_dir / name).is_file()]
    if missing:
        raise InputFileError(
            data_dir, None, f"not an Amazon 2018 Gift Cards folder: missing {', '.join(missing)}"
        )
    work.mkdir(parents=True, exist_ok=True)
    products = 0
    known: set[str] = set()
    with (work / "products.jsonl").open("w", encoding="utf-8") as out:
        for number, row in iter_jsonl_rows(data_dir / META):
            asin, title = str(row.get("asin") or "").strip(), str(row.get("title") or "").strip()
            if not asin or not title:
                raise InputFileError(data_dir / META, number, "a product needs 'asin' and 'title'")
            if asin in known:
                continue
            known.add(asin)
            description = " ".join(str(d) for d in row.get("description") or [] if isinstance(d, str))
            record = {
                "id": asin,
                "title": title,
                "brand": row.get("brand") or None,
                "price": _one_price(row.get("price")),
                "currency": "USD",
                "description": description[:1000] or None,
                "category_path": _category_path(row.get("category")) or None,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            products += 1
    reviews = 0
    with (work / "interactions.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "kind", "timestamp", "value"])
        for number, row in iter_jsonl_rows(data_dir / REVIEWS):
            user, item, ts = row.get("reviewerID"), row.get("asin"), row.get("unixReviewTime")
            if not user or item not in known or not isinstance(ts, int):
                raise InputFileError(
                    data_dir / REVIEWS, number, "a review needs reviewerID, a known asin and unixReviewTime"
                )
            writer.writerow([user, item, "rating", ts, row.get("overall", "")])
            reviews += 1
    return PreparedGiftCards(work / "products.jsonl", work / "interactions.csv", products, reviews)


def giftcards_preset(data_dir: Path, work: Path, *, cases: int, tune: int, seed: int) -> PreparedData:
    """Leave-last over reviewers, regions from communities (the category tree has two useful nodes)."""
    data = prepare_giftcards(data_dir, work)
    return PreparedData(
        name="giftcards",
        products=data.products,
        interactions=data.interactions,
        split="leave-last",
        regions="community",
        taxonomy_name="amazon_giftcards",
        describe=lambda split: (
            f"Amazon 2018 Gift Cards on {data_dir} ({data.products_count} products, "
            f"{data.reviews} reviews as `rating` events): {split}."
        ),
    )
