"""A shop's own taxonomy mapped onto another (Google's), so its categories gain localised names.

Each source category's full path is encoded and compared with every target category's full
path (cosine of the text encoder's vectors). Structure constrains the choice: a category whose
parent is mapped looks first inside the subtree of its parent's target; only a clearly better
match elsewhere (by more than `PARENT_MARGIN`) overrules the parent. Parents are decided
before their children, so the constraint flows down the tree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import numpy as np

from kgrec.embeddings.build import encode_texts
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.graph.errors import InvalidArgumentError
from kgrec.graph.store import CategoryMapping, CategoryRef, GraphStore

PARENT_MARGIN = 0.05
DEFAULT_MIN_SCORE = 0.5


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


def align_categories(
    source: Mapping[str, CategoryRef],
    target: Mapping[str, CategoryRef],
    encoder: TextEncoder,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    progress: bool = False,
) -> list[CategoryMapping]:
    """The best target for each source category scoring at least `min_score`, parents first."""
    if not source or not target:
        return []
    target_ids = list(target)
    column = {cid: i for i, cid in enumerate(target_ids)}
    target_vectors = encode_texts(encoder, [target[c].path for c in target_ids], progress=progress)
    order = sorted(source, key=lambda c: (source[c].path.count(" > "), source[c].path))
    source_vectors = encode_texts(encoder, [source[c].path for c in order], progress=progress)
    sims = source_vectors @ target_vectors.T
    subtrees = _subtrees(target)
    chosen: dict[str, CategoryMapping] = {}
    for row, cid in enumerate(order):
        scores = sims[row]
        best = int(np.argmax(scores))
        method = "text"
        parent = source[cid].parent_id
        if parent is not None and parent in chosen:
            inside = np.array([column[t] for t in subtrees[chosen[parent].target]], dtype=np.int64)
            local = int(inside[np.argmax(scores[inside])])
            if scores[best] - scores[local] <= PARENT_MARGIN:
                best, method = local, "text+parent"
            else:
                method = "text, parent overruled"
        if float(scores[best]) >= min_score:
            chosen[cid] = CategoryMapping(cid, target_ids[best], round(float(scores[best]), 4), method)
    return [chosen[c] for c in order if c in chosen]


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
    mappings = align_categories(found[source], found[target], encoder, min_score=min_score, progress=progress)
    store.replace_category_mappings(source, target, mappings)
    return mappings
