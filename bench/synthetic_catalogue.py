"""A SYNTHETIC shop catalogue of any size, in the shape of a real one, for scale benchmarks.

Nothing here is real data: every name is generated and reports label it SYNTHETIC. The shape
follows what large catalogues look like: a three-level taxonomy of > 5k categories, category
sizes drawn from a Zipf law (a few huge leaves, a long tail of small ones), brands also Zipf
(each with a home department), three attributes per product, titles composed from brand,
adjective, leaf noun, material, colour and a model number.

Run: `python -m bench.synthetic_catalogue --rows 100000 --out /tmp/syn-100k.csv`
(load it with `kgrec load bulk --products FILE --taxonomy synthetic`).
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "te",
    "su",
    "no",
    "vi",
    "pe",
    "do",
    "fa",
    "ge",
    "hu",
    "ji",
    "ly",
    "ba",
    "co",
    "de",
    "ne",
    "ro",
]
_ADJECTIVES = [
    "classic",
    "compact",
    "deluxe",
    "eco",
    "premium",
    "portable",
    "smart",
    "vintage",
    "heavy-duty",
    "mini",
]
_COLOURS = ["black", "white", "red", "blue", "green", "grey", "yellow", "pink", "brown", "silver"]
_MATERIALS = [
    "cotton",
    "steel",
    "wood",
    "plastic",
    "leather",
    "glass",
    "bamboo",
    "wool",
    "ceramic",
    "aluminium",
]
_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
COLUMNS = ("id", "title", "brand", "price", "category_path", "attr_colour", "attr_size", "attr_material")


def _word(rng: np.random.Generator, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES, size=syllables)).capitalize()


@dataclass(frozen=True, slots=True)
class Taxonomy:
    leaves: list[str]
    """Full `Root > Branch > Leaf` paths."""
    categories: int


def taxonomy(rng: np.random.Generator, roots: int = 25, branches: int = 15, leaves: int = 15) -> Taxonomy:
    """roots x branches x leaves leaf paths (default 5,625 leaves, 6,025 categories)."""
    paths = []
    for r in range(roots):
        root = f"{_word(rng, 2)} {r}"
        for b in range(branches):
            branch = f"{_word(rng, 3)} {r}.{b}"
            paths += [f"{root} > {branch} > {_word(rng, 3)} {r}.{b}.{leaf}" for leaf in range(leaves)]
    return Taxonomy(paths, roots + roots * branches + len(paths))


def zipf_weights(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()


def write_catalogue(path: Path, rows: int, *, seed: int = 14, brands: int = 20_000) -> dict[str, object]:
    """Writes `rows` SYNTHETIC products; returns the catalogue's shape for the report."""
    rng = np.random.default_rng(seed)
    tax = taxonomy(rng)
    leaf_order = rng.permutation(len(tax.leaves))
    leaf_of_row = leaf_order[rng.choice(len(tax.leaves), size=rows, p=zipf_weights(len(tax.leaves), 1.07))]
    brand_names = [f"{_word(rng, 2)}{_word(rng, 1).lower()} {i}" for i in range(brands)]
    brand_of_row = rng.choice(brands, size=rows, p=zipf_weights(brands, 1.0))
    adjectives = rng.integers(0, len(_ADJECTIVES), rows)
    colours = rng.integers(0, len(_COLOURS), rows)
    materials = rng.integers(0, len(_MATERIALS), rows)
    sizes = rng.integers(0, len(_SIZES), rows)
    prices = np.round(np.exp(rng.normal(3.2, 1.0, rows)), 2)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(rows):
            leaf = tax.leaves[leaf_of_row[i]]
            noun = leaf.rsplit(" > ", 1)[1].rsplit(" ", 1)[0]
            colour, material = _COLOURS[colours[i]], _MATERIALS[materials[i]]
            brand = brand_names[brand_of_row[i]]
            title = f"{brand} {_ADJECTIVES[adjectives[i]]} {noun} {material} {colour} {100 + i % 900}"
            writer.writerow(
                [f"syn-{i}", title, brand, f"{prices[i]:.2f}", leaf, colour, _SIZES[sizes[i]], material]
            )
    sizes_per_leaf = np.bincount(leaf_of_row, minlength=len(tax.leaves))
    return {
        "label": "SYNTHETIC",
        "products": rows,
        "categories": tax.categories,
        "leaf_categories": len(tax.leaves),
        "leaves_used": int((sizes_per_leaf > 0).sum()),
        "largest_leaf": int(sizes_per_leaf.max()),
        "brands_used": len(np.unique(brand_of_row)),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    print(write_catalogue(args.out, args.rows))


if __name__ == "__main__":
    main()
