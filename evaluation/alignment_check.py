"""A seeded random sample of amazon_uk -> Google mappings, printed for a hand check.

`python -m kgrec.evaluation.alignment_check --seed 15 --n 50` aligns the toy catalogue's
amazon_uk categories onto the Google en-US taxonomy exactly as `kgrec align-taxonomy` does
(paths, leaf names, the titles and brands of the products beneath each category) and prints
`n` of them drawn at random, one per line, for a person to mark right or wrong. Nothing here
judges a mapping: the figures in docs/embeddings.md are an engineer's hand check of this list.
"""

from __future__ import annotations

import argparse
import random
from collections import defaultdict
from pathlib import Path

from kgrec.embeddings.encoders import open_encoder
from kgrec.embeddings.taxonomy_alignment import align_categories
from kgrec.evaluation.crosslingual import (
    TOYS,
    CachedEncoder,
    categorised_toys,
    google_refs,
    read_google,
    toy_products,
)


def products_beneath(path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Per amazon_uk category: the titles and brands (one per product) of the toys in or below it."""
    titles: dict[str, list[str]] = defaultdict(list)
    brands: dict[str, list[str]] = defaultdict(list)
    for row, segments in categorised_toys(path):
        for depth in range(1, len(segments) + 1):
            category = f"amazon_uk:{' > '.join(segments[:depth])}"
            titles[category].append(row["product_name"])
            if row["manufacturer"]:
                brands[category].append(row["manufacturer"])
    return titles, brands


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--encoder", default="use-multilingual")
    parser.add_argument("--taxonomy-dir", type=Path, default=Path("../shared/data/google_taxonomy"))
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--cache", type=Path, default=Path("var/crosslingual"))
    args = parser.parse_args()
    google = google_refs(read_google(args.taxonomy_dir, "en-US"))
    source, _ = toy_products(TOYS)
    titles, brands = products_beneath(TOYS)
    encoder = CachedEncoder(open_encoder(args.encoder, threads=2), args.cache)
    mapped = {
        m.source: m
        for m in align_categories(source, google, encoder, min_score=0.0, titles=titles, brands=brands)
    }
    for n, category in enumerate(random.Random(args.seed).sample(sorted(source), args.n), start=1):
        found = mapped.get(category)
        target = google[found.target].path if found else "(none)"
        detail = f"{found.score} {found.method}" if found else ""
        print(f"{n}. {source[category].path} -> {target} [{detail}]")


if __name__ == "__main__":
    main()
