"""A shop's own taxonomy mapped onto another (Google's), so its categories gain localised names.

Each source category is scored against every target category (cosine of the text encoder's
vectors) on three kinds of evidence, weighted `PATH_WEIGHT`, `LEAF_WEIGHT`, `TITLE_WEIGHT`:

- its full path against the target's full path (the context);
- its leaf name against the target's leaf name (what tells near siblings apart: `Toy Trains &
  Sets` is `Toy Trains & Train Sets`, not `Toy Train Accessories`, although both paths share
  the word Accessories);
- the titles of (up to `MAX_TITLES` of) the products filed under it, against the target's path.
  Titles say what a category holds where its name does not: `Characters & Brands > BRIO` holds
  wooden railways, whatever the word BRIO is closest to.

Brand-aware: when at least `BRAND_SHARE` of the products beneath a category share a brand that
the category's path names (`Characters & Brands > BRIO > BRIO Wooden Roadway System`, `Marvin's
Magic`), the brand's words are taken out of the path and the titles before encoding: a brand's
name carries no product type (the path-only method mapped a BRIO category to `Firewood`), so
such a category also keeps to its parent's subtree.

Structure constrains the choice: a category whose parent is mapped looks first inside the
subtree of its parent's target, and only a clearly better match elsewhere (by more than
`PARENT_MARGIN`) overrules the parent. Parents are decided before their children. When the best
target has a sibling within `SIBLING_MARGIN` (the text cannot tell the two apart) and their
parent is not a root, the category maps to that parent instead: coarser, but not a wrong
neighbour. The hand check before/after is in docs/embeddings.md.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from kgrec.embeddings.build import encode_texts
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.graph.errors import InvalidArgumentError
from kgrec.graph.store import CategoryMapping, CategoryRef, GraphStore

PARENT_MARGIN = 0.05
SIBLING_MARGIN = 0.015
# Weights of the evidence: full paths, leaf names, product titles (renormalised over what exists).
PATH_WEIGHT, LEAF_WEIGHT, TITLE_WEIGHT = 0.4, 0.3, 0.3
MAX_TITLES = 8
BRAND_SHARE = 0.25
DEFAULT_MIN_SCORE = 0.35


def _subtrees(target: Mapping[str, CategoryRef]) -> dict[str, list[str]]:
    """Every target category's subtree (itself and all descendants)."""
    children: dict[str, list[str]] = defaultdict(list)
    for ref in target.values():
        if ref.parent_id is not None:
            children[ref.parent_id].append(ref.id)
    out: dict[str, list[str]] = {}
    for root in target:
        stack, seen = [root], {root}
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        out[root] = sorted(seen)
    return out


def _words(text: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))


def category_brand(ref: CategoryRef, brands: Sequence[str]) -> str | None:
    """The brand a category is named after: the brand of at least `BRAND_SHARE` of the products
    beneath it (`brands`: one per product) whose words appear in the category's path."""
    if not brands:
        return None
    path = f" {_words(ref.path)} "
    for brand, count in Counter(_words(b) for b in brands if _words(b)).most_common():
        if count < BRAND_SHARE * len(brands):
            break
        if f" {brand} " in path:
            return brand
    return None


def without_brand(text: str, brand: str | None) -> str:
    """`text` with the brand's words taken out of each ` > ` segment (empty segments dropped)."""
    if brand is None:
        return text
    pattern = re.compile(r"\b" + r"\W+".join(map(re.escape, brand.split())) + r"\b", re.IGNORECASE)
    segments = [" ".join(pattern.sub(" ", s).split()) for s in text.split(" > ")]
    return " > ".join(s for s in segments if s)


def title_sample(titles: Sequence[str], n: int = MAX_TITLES) -> list[str]:
    """Up to n distinct titles spread over the sorted list (a parent's titles come from all of its
    children, not only the first), so the sample is the same on every run."""
    distinct = sorted(set(titles))
    step = max(1, len(distinct) // n)
    return distinct[::step][:n]


def _mean_scores(
    groups: Mapping[str, Sequence[str]],
    encoder: TextEncoder,
    target_vectors: NDArray[np.float32],
    progress: bool,
) -> dict[str, NDArray[np.float32]]:
    """Per source category: the mean cosine of its texts (e.g. sampled titles) to every target."""
    unique = sorted({t for texts in groups.values() for t in texts})
    if not unique:
        return {}
    row = {t: i for i, t in enumerate(unique)}
    vectors = encode_texts(encoder, unique, progress=progress)
    return {
        cid: (vectors[[row[t] for t in texts]].mean(axis=0) @ target_vectors.T).astype(np.float32)
        for cid, texts in groups.items()
        if texts
    }


def align_categories(
    source: Mapping[str, CategoryRef],
    target: Mapping[str, CategoryRef],
    encoder: TextEncoder,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    titles: Mapping[str, Sequence[str]] | None = None,
    brands: Mapping[str, Sequence[str]] | None = None,
    progress: bool = False,
) -> list[CategoryMapping]:
    """The best target for each source category scoring at least `min_score`, parents first.
    `titles` / `brands`: per source category, the titles and brands of the products beneath it
    (its own and its subcategories'); without them, paths and leaf names alone decide."""
    if not source or not target:
        return []
    target_ids = list(target)
    column = {cid: i for i, cid in enumerate(target_ids)}
    order = sorted(source, key=lambda c: (source[c].path.count(" > "), source[c].path))
    brand_of = {c: category_brand(source[c], (brands or {}).get(c, ())) for c in order}
    texts = {c: without_brand(source[c].path, brand_of[c]) for c in order}
    target_paths = encode_texts(encoder, [target[c].path for c in target_ids], progress=progress)
    target_leaves = encode_texts(
        encoder, [target[c].path.rsplit(" > ", 1)[-1] for c in target_ids], progress=progress
    )
    sampled = {
        c: title_sample([without_brand(t, brand_of[c]) for t in (titles or {}).get(c, ())]) for c in order
    }
    evidence = {
        "path": (PATH_WEIGHT, {c: [texts[c]] for c in order if texts[c]}, target_paths),
        "leaf": (
            LEAF_WEIGHT,
            {c: [texts[c].rsplit(" > ", 1)[-1]] for c in order if " > " in texts[c]},
            target_leaves,
        ),
        "titles": (TITLE_WEIGHT, sampled, target_paths),
    }
    found = {
        name: (weight, _mean_scores(groups, encoder, vectors, progress))
        for name, (weight, groups, vectors) in evidence.items()
    }
    subtrees = _subtrees(target)
    children: dict[str, list[int]] = defaultdict(list)
    for ref in target.values():
        if ref.parent_id is not None:
            children[ref.parent_id].append(column[ref.id])
    chosen: dict[str, CategoryMapping] = {}
    for cid in order:
        parts = {name: (w, per[cid]) for name, (w, per) in found.items() if cid in per}
        if not parts:
            continue
        total = sum(w for w, _ in parts.values())
        scores = np.sum([w * v for w, v in parts.values()], axis=0) / total
        method = "+".join(parts)
        if brand_of[cid] is not None:
            method += ", brand removed"
        best = int(np.argmax(scores))
        parent = source[cid].parent_id
        if parent is not None and parent in chosen:
            inside = np.array([column[t] for t in subtrees[chosen[parent].target]], dtype=np.int64)
            local = int(inside[np.argmax(scores[inside])])
            # A brand-named category's own words say little: its parent (mapped on the titles of
            # all the brand's products) is not overruled.
            if brand_of[cid] is not None or scores[best] - scores[local] <= PARENT_MARGIN:
                best, method = local, f"{method}+parent"
            else:
                method = f"{method}, parent overruled"
        best, backed_off = _sibling_backoff(best, scores, target_ids, target, children, column)
        if backed_off:
            method = f"{method}, sibling back-off"
        if float(scores[best]) >= min_score:
            chosen[cid] = CategoryMapping(cid, target_ids[best], round(float(scores[best]), 4), method)
    return [chosen[c] for c in order if c in chosen]


def _sibling_backoff(
    best: int,
    scores: NDArray[np.float32],
    target_ids: Sequence[str],
    target: Mapping[str, CategoryRef],
    children: Mapping[str, list[int]],
    column: Mapping[str, int],
) -> tuple[int, bool]:
    """The best target's parent when a sibling of the best scores within SIBLING_MARGIN of it
    (the text cannot tell the two apart) and that parent is not a root; else the best."""
    parent = target[target_ids[best]].parent_id
    if parent is None or target[parent].parent_id is None:
        return best, False
    siblings = [c for c in children[parent] if c != best]
    if siblings and float(scores[best] - scores[siblings].max()) <= SIBLING_MARGIN:
        return column[parent], True
    return best, False


def products_beneath(
    store: GraphStore, source: Mapping[str, CategoryRef]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per source category: the titles and the brands of the products in it or below it."""
    titles: dict[str, list[str]] = defaultdict(list)
    brands: dict[str, set[str]] = defaultdict(set)
    for product in store.iter_product_texts():
        node = product.category_id
        while node is not None and node in source:
            titles[node].append(product.title)
            if product.brand:
                brands[node].add(product.brand)
            node = source[node].parent_id
    return dict(titles), {c: sorted(b) for c, b in brands.items()}


def align_taxonomies(
    store: GraphStore,
    source: str,
    target: str,
    encoder: TextEncoder,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    progress: bool = False,
) -> list[CategoryMapping]:
    """Aligns two taxonomies in the graph and replaces the MAPS_TO edges between them."""
    if source == target:
        raise InvalidArgumentError("to", "a taxonomy cannot be aligned with itself")
    found = {name: store.categories(name) for name in (source, target)}
    for flag, name in (("from", source), ("to", target)):
        if not found[name]:
            raise InvalidArgumentError(flag, f"no taxonomy {name!r} in the graph (kgrec stats lists them)")
    titles, brands = products_beneath(store, found[source])
    mappings = align_categories(
        found[source],
        found[target],
        encoder,
        min_score=min_score,
        titles=titles,
        brands=brands,
        progress=progress,
    )
    store.replace_category_mappings(source, target, mappings)
    return mappings
