"""Parse product files (CSV or JSON Lines) with a field->column mapping for real exports."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgrec.graph import limits
from kgrec.graph.errors import InputFileError, InvalidArgumentError
from kgrec.graph.file_reading import is_jsonl, iter_csv_rows, iter_jsonl_rows
from kgrec.graph.taxonomy_parsing import PATH_SEPARATOR

PRODUCT_FIELDS = (
    "id",
    "title",
    "description",
    "brand",
    "price",
    "currency",
    "category_id",
    "category_path",
)
ATTRIBUTE_PREFIX = "attr_"
_PRICE_NOISE = re.compile(r"[£$€¥\s,]")


@dataclass(slots=True)
class RawProduct:
    line: int
    id: str
    title: str
    description: str | None = None
    brand: str | None = None
    price: float | None = None
    currency: str | None = None
    category_id: str | None = None
    category_path: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """`["id=uniq_id", ...]` -> `{"id": "uniq_id"}`; rejects unknown fields by name."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        target, sep, column = pair.partition("=")
        target, column = target.strip(), column.strip()
        if not sep or not target or not column:
            raise InvalidArgumentError("map", f"{pair!r} is not FIELD=COLUMN")
        if target not in PRODUCT_FIELDS and not target.startswith(ATTRIBUTE_PREFIX):
            raise InvalidArgumentError(
                "map", f"unknown field {target!r}; use one of {', '.join(PRODUCT_FIELDS)} or attr_<name>"
            )
        mapping[target] = column
    return mapping


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def parse_price(raw: Any) -> float | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = _PRICE_NOISE.sub("", str(raw))
        if not text:
            return None
        value = float(text)
    return limits.number("price", value, 0.0, limits.MAX_PRICE)


def _check_limits(
    path: Path,
    line: int,
    values: Mapping[str, str | None],
    category_path: str | None,
    attributes: Mapping[str, str],
) -> None:
    """Everything the write path stores or indexes, checked before the first write."""
    try:
        for name in ("id", "brand", "currency", "category_id"):
            if (value := values[name]) is not None:
                limits.text(name, value, indexed=True)
        for name in ("title", "description"):
            if (value := values[name]) is not None:
                limits.text(name, value)
        if category_path is not None:
            limits.text("category_path", category_path, indexed=True)
            limits.depth(category_path.count(PATH_SEPARATOR) + 1)
        for key, attribute in attributes.items():
            limits.text(f"attribute {key[:40]!r}", f"{key}={attribute}", indexed=True)
    except ValueError as exc:
        raise InputFileError(path, line, str(exc)) from None


def iter_products(
    path: Path, mapping: Mapping[str, str] | None = None, currency: str | None = None
) -> Iterator[RawProduct]:
    mapping = dict(mapping or {})
    source_of = {f: mapping.get(f, f) for f in PRODUCT_FIELDS}
    attr_sources = {
        k[len(ATTRIBUTE_PREFIX) :]: v for k, v in mapping.items() if k.startswith(ATTRIBUTE_PREFIX)
    }
    mapped_columns = set(mapping.values())
    rows: Iterator[tuple[int, Mapping[str, Any]]]
    if is_jsonl(path):
        rows = iter_jsonl_rows(path)
    else:
        rows = iter_csv_rows(path, required=(source_of["id"], source_of["title"]))
    for number, row in rows:
        values = {f: _clean(row.get(col)) for f, col in source_of.items()}
        if not values["id"]:
            raise InputFileError(path, number, f"missing required field 'id' (column {source_of['id']!r})")
        if not values["title"]:
            raise InputFileError(
                path, number, f"missing required field 'title' (column {source_of['title']!r})"
            )
        try:
            price = parse_price(row.get(source_of["price"]))
        except (ValueError, OverflowError):
            raise InputFileError(
                path,
                number,
                f"price {str(row.get(source_of['price']))[:40]!r} is not a number "
                f"between 0 and {limits.MAX_PRICE:g}",
            ) from None
        attributes: dict[str, str] = {}
        nested = row.get("attributes")
        if isinstance(nested, dict):
            attributes.update({str(k): v for k, v in ((k, _clean(v)) for k, v in nested.items()) if v})
        elif nested is not None and is_jsonl(path):
            raise InputFileError(path, number, "'attributes' must be an object")
        for column, raw in row.items():
            if column.startswith(ATTRIBUTE_PREFIX) and column not in mapped_columns:
                value = _clean(raw)
                if value:
                    attributes[column[len(ATTRIBUTE_PREFIX) :]] = value
        for name, column in attr_sources.items():
            value = _clean(row.get(column))
            if value:
                attributes[name] = value
        category_path = values["category_path"]
        if category_path:
            segments = [s.strip() for s in category_path.split(">")]
            if any(not s for s in segments):
                raise InputFileError(path, number, f"category_path {category_path!r} has an empty level")
            category_path = PATH_SEPARATOR.join(segments)
        _check_limits(path, number, values, category_path, attributes)
        yield RawProduct(
            line=number,
            id=values["id"],
            title=values["title"],
            description=values["description"],
            brand=values["brand"],
            price=price,
            currency=values["currency"] or (currency if price is not None else None),
            category_id=values["category_id"],
            category_path=category_path,
            attributes=attributes,
        )
