"""Category and region names in a shopper's locale, with the default names as the fallback.

A category named in the locale (`name_<locale>`, e.g. the Google taxonomy's `name_zh_CN`) is
shown by its localised path; a shop category without names of its own borrows those of the
category it maps to (`(:Category)-[:MAPS_TO]->(:Category)`, written by `kgrec align-taxonomy`).
Taxonomy regions (`tax:<category id>`) are named like their anchor category.
"""

from __future__ import annotations

from kgrec.graph.store import GraphStore
from kgrec.recommender.projection import GraphProjection, Node


def localized_names(store: GraphStore, projection: GraphProjection, locale: str) -> dict[Node, str]:
    own = dict(store.iter_category_names(locale))
    if not own:
        return {}

    def path(category: str) -> str | None:
        if category not in own:
            return None
        chain = reversed(projection.ancestors(category))
        return " > ".join(
            own.get(c) or projection.names.get(("Category", c), c).rsplit(" > ", 1)[-1] for c in chain
        )

    out: dict[Node, str] = {}
    for label, category in list(projection.names):
        if label != "Category":
            continue
        local = path(category)
        if local is None and category in projection.category_maps_to:
            local = path(projection.category_maps_to[category])
        if local is not None:
            out[("Category", category)] = local
            out[("Region", f"tax:{category}")] = local
    return out
