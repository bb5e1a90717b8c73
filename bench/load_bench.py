"""Load throughput into a real Neo4j: batched loader vs one transaction per row.

Run: `make bench` (or `python -m bench.load_bench`). The 200k catalogue is SYNTHETIC: real
Google taxonomy paths, generated product titles, brands and attributes.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from pathlib import Path

from bench.common import BENCH_HOME, PASSWORD, bench_store, median, timed
from kgrec.graph.loaders import _product_record, load_products
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.graph.product_parsing import iter_products
from kgrec.graph.samples import AMAZON_TOYS, AMAZON_TOYS_MAPPING, GOOGLE_TAXONOMY_EN, sample_file

TOYS = sample_file(AMAZON_TOYS)
GOOGLE = sample_file(GOOGLE_TAXONOMY_EN)


def synthetic_catalogue(path: Path, rows: int, seed: int = 7) -> Path:
    """SYNTHETIC products over real taxonomy paths; labelled as such in every report."""
    rng = random.Random(seed)
    paths = [
        line.split(" - ", 1)[1].strip()
        for line in GOOGLE.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    brands = [f"Synthetic Brand {i}" for i in range(2_000)]
    colours = ["red", "blue", "green", "black", "white", "yellow"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "brand", "price", "category_path", "attr_colour", "attr_size"])
        for i in range(rows):
            cat = rng.choice(paths)
            writer.writerow(
                [
                    f"syn-{i}",
                    f"Synthetic {cat.rsplit(' > ', 1)[-1]} #{i}",
                    rng.choice(brands),
                    f"{rng.uniform(1, 500):.2f}",
                    cat,
                    rng.choice(colours),
                    rng.choice(["S", "M", "L", "XL"]),
                ]
            )
    return path


def clear_products(store: Neo4jGraphStore) -> None:
    store.clear()
    store.ensure_schema()


def rels_created(store: Neo4jGraphStore) -> int:
    stats = store.stats().relationships
    return stats["IN_CATEGORY"] + stats["HAS_BRAND"] + stats["HAS_ATTRIBUTE"] + stats["SUBCATEGORY_OF"]


def batched_rate(
    store: Neo4jGraphStore, path: Path, mapping: dict[str, str] | None, runs: int
) -> dict[str, float]:
    times, rels = [], 0
    for _ in range(runs):
        clear_products(store)
        times.append(timed(lambda: load_products(store, path, taxonomy="bench", mapping=mapping)))
        rels = rels_created(store)
    products = store.stats().nodes["Product"]
    t = median(times)
    return {"products": products, "seconds": t, "products_per_s": products / t, "rels_per_s": rels / t}


def naive_rate(store: Neo4jGraphStore, path: Path, mapping: dict[str, str], sample: int) -> float:
    """The same MERGE semantics, one transaction per product (what a naive loader does)."""
    clear_products(store)
    load_products(store, path, taxonomy="bench", mapping=mapping)
    paths = {r.category_path for r in iter_products(path, mapping) if r.category_path}
    ids = store.category_ids_by_path("bench", sorted(paths))
    records = [_product_record(r, "bench", ids) for r in iter_products(path, mapping)][:sample]
    store.write("MATCH (p:Product) DETACH DELETE p", {})
    seconds = timed(lambda: [store.merge_products([r]) for r in records])
    return len(records) / seconds


def loader_peak_rss(store: Neo4jGraphStore, path: Path) -> int:
    """Peak RSS (KiB) of a fresh process that loads the file into the bench Neo4j."""
    clear_products(store)
    code = (
        "import resource,sys;from pathlib import Path;from neo4j import GraphDatabase;"
        "from graph.neo4j_store import Neo4jGraphStore;from graph.loaders import load_products;"
        "d=GraphDatabase.driver('bolt://127.0.0.1:27687',auth=('neo4j',sys.argv[2]));"
        "load_products(Neo4jGraphStore(d),Path(sys.argv[1]),taxonomy='bench');d.close();"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), PASSWORD], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--naive-sample", type=int, default=1_000)
    args = parser.parse_args()
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    small = synthetic_catalogue(BENCH_HOME / "synthetic-50k.csv", args.synthetic_rows // 4)
    large = synthetic_catalogue(BENCH_HOME / "synthetic-large.csv", args.synthetic_rows)
    results: dict[str, object] = {}
    with bench_store() as store:
        results["toys"] = batched_rate(store, TOYS, AMAZON_TOYS_MAPPING, args.runs)
        naive = naive_rate(store, TOYS, AMAZON_TOYS_MAPPING, args.naive_sample)
        results["naive_toys_products_per_s"] = naive
        results["batched_vs_naive"] = results["toys"]["products_per_s"] / naive  # type: ignore[index]
        results["synthetic"] = batched_rate(store, large, None, max(1, args.runs - 1))
        results["loader_peak_rss_kib"] = {
            f"{args.synthetic_rows // 4} rows": loader_peak_rss(store, small),
            f"{args.synthetic_rows} rows": loader_peak_rss(store, large),
        }
    print(json.dumps(results, indent=2))
    (BENCH_HOME / "load_bench.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
