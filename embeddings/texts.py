"""The words that describe a product or a category to the text encoder."""

from __future__ import annotations

from kgrec.graph.store import CategoryText, ProductText


def product_text(product: ProductText) -> str:
    parts = [product.title]
    if product.brand:
        parts.append(f"Brand: {product.brand}")
    if product.category_path:
        parts.append(f"Category: {product.category_path}")
    parts.extend(product.attributes)
    if product.description:
        parts.append(product.description[:300])
    return ". ".join(parts)


def category_text(category: CategoryText) -> str:
    return category.path if category.path != category.name else category.name
