"""Cross-lingual retrieval with each text encoder, on the real Google taxonomy and toy catalogue.

Run: `python -m kgrec.evaluation.crosslingual [--encoders minilm,e5-multilingual,use-multilingual]
[--queries 500] [--products 3000]` (docs/embeddings.md has the figures).

1. Category retrieval: the query is a Google category's full path in zh-CN or de-DE, the
   candidates are all en-US full paths, the target is the same category id; top-1 and top-10.
   en-US → en-US with the leaf name as the query is the monolingual reference.
2. Product retrieval: the toy catalogue's amazon_uk categories are aligned onto Google's
   (`align_categories`, one mapping for every encoder); the query is the mapped Google
   category's leaf name in a locale, a hit is a product whose category maps into that Google
   category's subtree; precision@10 among sampled toy titles (titles only).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kgrec.embeddings.build import encode_texts
from kgrec.embeddings.encoders import RUNTIMES, open_encoder
from kgrec.embeddings.taxonomy_alignment import align_categories
from kgrec.embeddings.text_encoder import TextEncoder
from kgrec.graph.store import CategoryRef
from kgrec.graph.taxonomy_parsing import parse_taxonomy

REPO = Path(__file__).resolve().parent.parent
TAXONOMY = {
    "en-US": "taxonomy-with-ids.en-US.2021-09-21.txt",
    "zh-CN": "taxonomy-with-ids.zh-CN.2015-02-19.txt",
    "de-DE": "taxonomy-with-ids.de-DE.2015-02-19.txt",
}
TOYS = REPO / "data" / "amazon_toys_uk" / "amazon_co-ecommerce_sample.csv"


def read_google(folder: Path, locale: str) -> dict[str, tuple[str, str]]:
    """Google id -> (full path, leaf name) in one locale."""
    parsed = parse_taxonomy(folder / TAXONOMY[locale], fmt="google", locale=locale)
    return {
        row.code: (f"{row.parent_path} > {row.name}" if row.parent_path else row.name, row.name)
        for row in parsed.rows
    }


def google_refs(en: dict[str, tuple[str, str]]) -> dict[str, CategoryRef]:
    by_path = {path: f"google:{code}" for code, (path, _) in en.items()}
    return {
        f"google:{code}": CategoryRef(
            f"google:{code}", by_path.get(path.rsplit(" > ", 1)[0]) if " > " in path else None, path
        )
        for code, (path, _) in en.items()
    }


def categorised_toys(path: Path) -> Iterator[tuple[dict[str, str], list[str]]]:
    """Each toy row with a category, and its amazon_uk category path split into segments."""
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            segments = [s.strip() for s in (row["amazon_category_and_sub_category"] or "").split(">")]
            if all(segments):
                yield row, segments


def toy_products(path: Path) -> tuple[dict[str, CategoryRef], list[tuple[str, str]]]:
    """The amazon_uk category tree and (title, category id) of every categorised toy."""
    refs: dict[str, CategoryRef] = {}
    products = []
    for row, segments in categorised_toys(path):
        for depth in range(1, len(segments) + 1):
            cat_path = " > ".join(segments[:depth])
            parent = f"amazon_uk:{' > '.join(segments[: depth - 1])}" if depth > 1 else None
            refs.setdefault(f"amazon_uk:{cat_path}", CategoryRef(f"amazon_uk:{cat_path}", parent, cat_path))
        products.append((row["product_name"], f"amazon_uk:{' > '.join(segments)}"))
    return refs, products


class CachedEncoder:
    """Vectors kept on disk by (encoder, texts), so re-runs and other measurements reuse them."""

    def __init__(self, encoder: TextEncoder, cache: Path) -> None:
        self.inner, self.cache = encoder, cache
        self.name, self.dim = encoder.name, encoder.dim

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        digest = hashlib.sha256("\n".join([self.name, *texts]).encode()).hexdigest()[:16]
        path = self.cache / f"{self.name}-{digest}.npy"
        if path.exists():
            cached: NDArray[np.float32] = np.load(path)
            return cached
        vectors = encode_texts(self.inner, texts, progress=True)
        self.cache.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
        return vectors


def topk_hits(
    queries: NDArray[np.float32], candidates: NDArray[np.float32], targets: list[int]
) -> dict[str, float]:
    sims = queries @ candidates.T
    right = sims[np.arange(len(targets)), targets]
    rank = (sims > right[:, None]).sum(axis=1)
    return {"top1": round(float(np.mean(rank < 1)), 4), "top10": round(float(np.mean(rank < 10)), 4)}


def category_retrieval(
    encoder: CachedEncoder, names: dict[str, dict[str, tuple[str, str]]], n: int, seed: int
) -> dict[str, Any]:
    en = names["en-US"]
    codes = list(en)  # file order, as google_refs: the alignment's vectors are reused from the cache
    candidates = encoder.encode([en[c][0] for c in codes])
    index = {c: i for i, c in enumerate(codes)}
    out: dict[str, Any] = {}
    for locale, localised in names.items():
        common = sorted(set(localised) & set(en))
        sample = random.Random(seed).sample(common, min(n, len(common)))
        field = 1 if locale == "en-US" else 0  # en-US: the leaf name, else the localised full path
        queries = encoder.encode([localised[c][field] for c in sample])
        out[f"{locale} -> en-US"] = {
            **topk_hits(queries, candidates, [index[c] for c in sample]),
            "queries": len(sample),
        }
    return out


def product_retrieval(
    encoder: CachedEncoder,
    names: dict[str, dict[str, tuple[str, str]]],
    mapping: dict[str, str],
    products: list[tuple[str, str]],
    google: dict[str, CategoryRef],
) -> dict[str, Any]:
    ancestors: dict[str, set[str]] = {}
    for gid in set(mapping.values()):
        chain: set[str] = set()
        node: str | None = gid
        while node is not None and node not in chain:
            chain.add(node)
            node = google[node].parent_id
        ancestors[gid] = chain
    covered: dict[str, set[int]] = defaultdict(set)
    for row, (_, cat) in enumerate(products):
        if cat in mapping:
            for gid in ancestors[mapping[cat]]:
                covered[gid].add(row)
    targets = sorted(g for g in covered if len(covered[g]) >= 10)
    titles = encoder.encode([title for title, _ in products])
    out: dict[str, Any] = {}
    for locale, localised in names.items():
        asked = [g for g in targets if g.removeprefix("google:") in localised]
        queries = encoder.encode([localised[g.removeprefix("google:")][1] for g in asked])
        top = np.argsort(-(queries @ titles.T), axis=1)[:, :10]
        precision = [len(set(top[i].tolist()) & covered[g]) / 10 for i, g in enumerate(asked)]
        out[locale] = {"precision_at_10": round(float(np.mean(precision)), 4), "queries": len(asked)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--encoders", default="minilm,e5-multilingual,use-multilingual")
    parser.add_argument("--taxonomy-dir", type=Path, default=Path("../shared/data/google_taxonomy"))
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--products", type=int, default=3000)
    parser.add_argument("--mapping-encoder", default="e5-multilingual")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cache", type=Path, default=Path("var/crosslingual"))
    parser.add_argument("--runtime", choices=RUNTIMES, default="torch", help="for BERT-family encoders")
    parser.add_argument("--out", type=Path, default=Path("var/crosslingual/report.json"))
    args = parser.parse_args()
    names = {locale: read_google(args.taxonomy_dir, locale) for locale in TAXONOMY}
    google = google_refs(names["en-US"])
    toy_refs, products = toy_products(TOYS)
    products = random.Random(args.seed).sample(products, min(args.products, len(products)))
    mapper = CachedEncoder(open_encoder(args.mapping_encoder, threads=2), args.cache)
    mapping = {m.source: m.target for m in align_categories(toy_refs, google, mapper, min_score=0.0)}
    report: dict[str, Any] = {"mapping_encoder": mapper.name, "products": len(products), "encoders": {}}
    for key in args.encoders.split(","):
        encoder = CachedEncoder(
            open_encoder(key, threads=2, runtime=args.runtime, onnx_cache=args.cache / "onnx"), args.cache
        )
        report["encoders"][key] = {
            "categories": category_retrieval(encoder, names, args.queries, args.seed),
            "products": product_retrieval(encoder, names, mapping, products, google),
        }
        print(json.dumps({key: report["encoders"][key]}, ensure_ascii=False), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
