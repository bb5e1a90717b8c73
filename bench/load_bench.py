"""Load throughput into a real Neo4j: bulk import vs batched loader vs one transaction per row.

Run: `make bench` (or `python -m bench.load_bench`). The 200k catalogue is SYNTHETIC: real
Google taxonomy paths, generated product titles, brands and attributes.
`python -m bench.load_bench --bulk-only --synthetic-rows 100000` measures just the first-load
paths on one SYNTHETIC file (bench/synthetic_catalogue.py's shape), in one run: one transaction
per row (a `--naive-sample` of it), batched, then bulk into a fresh server home.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

from bench.common import BENCH_HOME, PASSWORD, bench_server, bench_store, median, store_on, timed
from bench.synthetic_catalogue import write_catalogue
from kgrec.graph.bulk_import import bulk_load
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


def per_row_rate(store: Neo4jGraphStore, path: Path, sample: int) -> float:
    """Products/s of the first `sample` rows written one transaction per product, the categories
    already in place (what a naive loader does): the per-row baseline of the same run."""
    paths = {r.category_path for r in iter_products(path, None) if r.category_path}
    ids = store.category_ids_by_path("bench", sorted(paths))
    records = [_product_record(r, "bench", ids) for r in itertools.islice(iter_products(path, None), sample)]
    # Only the sample's products go (one transaction deleting every product runs out of memory).
    store.write("MATCH (p:Product) WHERE p.id IN $ids DETACH DELETE p", {"ids": [r.id for r in records]})
    return len(records) / timed(lambda: [store.merge_products([r]) for r in records])


def first_load_paths(path: Path, rows: int, per_row_sample: int) -> dict[str, object]:
    """The same SYNTHETIC file into an empty database three ways, in one run: one transaction per
    row (a sample), the batched loader (wall time of `load_products`), and the bulk path (wall
    time of `bulk_load`) into a fresh, never-started server home, as a first install is: staging
    with the same loaders, CSVs, import, first start, constraints and indexes."""
    server = bench_server()
    server.start()
    try:
        with store_on(server) as store:
            store.clear()
            store.ensure_schema()
            batched_s = timed(lambda: load_products(store, path, taxonomy="bench"))
            products = store.stats().nodes["Product"]
            per_row = per_row_rate(store, path, per_row_sample)
            store.clear()
    finally:
        server.stop()
    fresh = bench_server(home=BENCH_HOME / "neo4j-fresh")
    shutil.rmtree(fresh.home, ignore_errors=True)
    try:
        summary = bulk_load(
            fresh,
            lambda: store_on(fresh),
            lambda staging: load_products(staging, path, taxonomy="bench"),
            work_dir=BENCH_HOME / "bulk",
            max_memory="1g",
        )
    finally:
        fresh.stop()
        shutil.rmtree(fresh.home, ignore_errors=True)
    bulk_s = sum(summary.seconds.values())
    bulk_rate = summary.nodes["Product"] / bulk_s
    return {
        "label": "SYNTHETIC",
        "rows": rows,
        "products": products,
        "bulk_products": summary.nodes["Product"],
        "per_row_products_per_s": round(per_row, 1),
        "batched_seconds": round(batched_s, 1),
        "batched_products_per_s": round(products / batched_s),
        "bulk_seconds": round(bulk_s, 1),
        "bulk_products_per_s": round(bulk_rate),
        "bulk_phases_s": {k: round(v, 1) for k, v in summary.seconds.items()},
        "bulk_vs_batched": round(batched_s / bulk_s, 2),
        "bulk_vs_per_row": round(bulk_rate / per_row, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synthetic-rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--naive-sample", type=int, default=1_000)
    parser.add_argument("--bulk-only", action="store_true", help="only batched vs bulk first loads")
    args = parser.parse_args()
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    if args.bulk_only:
        shaped = BENCH_HOME / f"synthetic-shaped-{args.synthetic_rows}.csv"
        shape = write_catalogue(shaped, args.synthetic_rows)
        result = {
            "catalogue": shape,
            "first_load": first_load_paths(shaped, args.synthetic_rows, args.naive_sample),
        }
        shaped.unlink()
        print(json.dumps(result, indent=2))
        (BENCH_HOME / "load_bench_bulk.json").write_text(json.dumps(result, indent=2))
        return
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
    results["first_load"] = first_load_paths(large, args.synthetic_rows, args.naive_sample)
    print(json.dumps(results, indent=2))
    (BENCH_HOME / "load_bench.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
