"""Serving a SYNTHETIC catalogue of 100k … 1M products on one machine, no Neo4j needed: start-up
(projection, ANN indexes, keyword index, regions), ANN build time, recommendation p50/p99 with and
without explanations, and the serving process's memory, each size in its own process.

Everything here is SYNTHETIC (bench/synthetic_catalogue.py). The catalogue goes through the real
product loader into the in-memory store. Training PyKEEN on a million products does not fit two
cores, so the vectors take the cold-start path (embeddings/cold_start.py): a product's KG vector
is half its aligned text vector, half the mean of its category's and brand's KG vectors. Which
texts are encoded: encoding a million titles one by one would take hours here, so the bench
measures the encoder's rate on real generated titles (and extrapolates) and builds each product's
text vector from the encoded vectors of its parts (leaf category, material, colour: every
distinct part encoded once by the real encoder), a random vector per brand, and a little noise.
The category and brand KG vectors and the text→KG alignment are random (SYNTHETIC): latency and
memory depend on the vectors' number, dimension and clustering, not on what they mean.

Run: `KGREC_ENCODER_RUNTIME=onnx python -m bench.scale_bench --sizes 100000 250000 [500000 1000000]`
(the smallest size is the same-run baseline of the growth ratios). Large sizes in two steps, so
that the timed one is short: `... --stage prepare --sizes 500000` (niced, no lock), then
`flock /work/notes/bench.lock ... --stage serve --sizes 500000` (reads var/bench/scale/size-N/).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.common import BENCH_HOME, median, percentile
from bench.synthetic_catalogue import write_catalogue
from kgrec.api.settings import Settings
from kgrec.api.wiring import limit_blas_threads, text_encoder
from kgrec.embeddings.alignment import apply_alignment
from kgrec.embeddings.artifacts import Artifact, ArtifactPayload, write_artifact
from kgrec.embeddings.triples import entity_label
from kgrec.graph.loaders import load_products
from kgrec.graph.memory_store import MemoryGraphStore
from kgrec.graph.records import brand_id
from kgrec.recommender import catalog_index
from kgrec.recommender.projection import GraphProjection
from kgrec.recommender.regions import Regions, community_regions, save_regions, taxonomy_regions
from kgrec.recommender.request import RecommendationRequest
from kgrec.recommender.retrieval import ExactIndex, HnswIndex, build_index
from kgrec.recommender.service import Recommender

KG_DIM = 64
# How much each part counts in a product's text vector: a SYNTHETIC choice.
PART_WEIGHTS = {"category_path": 1.0, "attr_material": 0.3, "attr_colour": 0.3}
BRAND_WEIGHT = 0.6
NOISE = 0.05
OUT = BENCH_HOME / "scale"
QUERIES_KEPT = 400


def rss_kib(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def rss_split() -> dict[str, int]:
    """Anonymous (heap) and file-backed (memory-mapped) resident KiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
            out[line.split(":")[0]] = int(line.split()[1])
    return out


def part_key(row: dict[str, str], column: str) -> str:
    return f"{column}: {row[column]}"


def brand_vectors(rows: list[dict[str, str]], dim: int) -> NDArray[np.float32]:
    """One random unit vector per brand, from the brand's number (SYNTHETIC: the generated brand
    names are made-up syllables, and encoding 20k of them would take longer than the rest)."""
    numbers = np.array([int(r["brand"].rsplit(" ", 1)[1]) for r in rows])
    table = np.random.default_rng(3).standard_normal((int(numbers.max()) + 1, dim), dtype=np.float32)
    table /= np.linalg.norm(table, axis=1, keepdims=True)
    out: NDArray[np.float32] = table[numbers]
    return out


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def encode_parts(titles: list[str], texts: dict[str, str], parts_file: Path) -> dict[str, Any]:
    """Every distinct part text encoded once (cached across sizes: the generator's seed fixes them),
    and the encoder's rate on whole generated titles."""
    encoder = text_encoder(Settings())
    started = time.perf_counter()
    encoder.encode(titles)
    rate = len(titles) / (time.perf_counter() - started)
    known: dict[str, NDArray[np.float32]] = {}
    if parts_file.exists():
        cached = np.load(parts_file, allow_pickle=False)
        known = dict(zip(cached["texts"].tolist(), cached["vectors"], strict=True))
    missing = [key for key in texts if key not in known]
    started = time.perf_counter()
    if missing:
        for key, vector in zip(missing, encoder.encode([texts[k] for k in missing]), strict=True):
            known[key] = vector
        everything = sorted(known)
        np.savez(parts_file, texts=np.array(everything), vectors=np.stack([known[t] for t in everything]))
    return {
        "encoder": encoder.name,
        "title_encode_per_s": round(rate, 1),
        "parts_encoded": len(missing),
        "parts_encode_s": round(time.perf_counter() - started, 1),
        "extrapolated_1m_titles_h": round(1_000_000 / rate / 3600, 2),
    }


def synthetic_artifact(
    rows: list[dict[str, str]], home: Path, parts_file: Path, encoder_name: str
) -> Artifact:
    """The cold-start vectors of every product, written as the artifact serving reads."""
    cached = np.load(parts_file, allow_pickle=False)
    position = {t: i for i, t in enumerate(cached["texts"].tolist())}
    vectors = np.asarray(cached["vectors"], dtype=np.float32)
    rng = np.random.default_rng(14)
    dim = vectors.shape[1]
    text = np.zeros((len(rows), dim), dtype=np.float32)
    for column, weight in PART_WEIGHTS.items():
        text += weight * vectors[np.array([position[part_key(r, column)] for r in rows])]
    text += BRAND_WEIGHT * brand_vectors(rows, dim)
    text += NOISE * rng.standard_normal(text.shape, dtype=np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    alignment = (rng.standard_normal((dim + 1, KG_DIM)) / np.sqrt(dim)).astype(np.float32)
    categories = sorted({r["category_path"] for r in rows})
    brands = sorted({brand_id(r["brand"]) for r in rows})
    category_kg = {c: rng.standard_normal(KG_DIM).astype(np.float32) for c in categories}
    brand_kg = {b: rng.standard_normal(KG_DIM).astype(np.float32) for b in brands}
    neighbour_mean = np.stack(
        [(category_kg[r["category_path"]] + brand_kg[brand_id(r["brand"])]) / 2 for r in rows]
    )
    kg = 0.5 * apply_alignment(alignment, text) + 0.5 * neighbour_mean
    products = [entity_label("Product", r["id"]) for r in rows]
    write_artifact(
        home,
        f"synthetic-{len(rows)}",
        ArtifactPayload(
            manifest={
                "model": "SYNTHETIC cold start",
                "dim": KG_DIM,
                "vector_dim": KG_DIM,
                "text_model": encoder_name,
                "text_dim": dim,
            },
            entities=products,
            relations=[],
            entity_vectors=kg.astype(np.float32),
            relation_vectors=np.zeros((0, KG_DIM), dtype=np.float32),
            text_ids=products,
            text_vectors=text,
            alignment=alignment,
        ),
    )
    return Artifact.open_current(home)


def latency(recommender: Recommender, texts: list[str], explain: bool) -> dict[str, float]:
    recommender.queries.clear()
    times = []
    for text in texts:
        started = time.perf_counter()
        request = RecommendationRequest(query=text, k=10, diversity=0.5, explain=explain)
        recommender.recommend(request).as_dict()
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(median(times), 2), "p99_ms": round(percentile(times, 99), 2)}


def prepare(rows_wanted: int, parts_file: Path, folder: Path, encoder_name: str) -> dict[str, Any]:
    """The SYNTHETIC catalogue CSV and its cold-start artifact, in a process of their own: the
    generator's rows never sit in the serving process's memory."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "catalogue.csv"
    report: dict[str, Any] = {"catalogue": write_catalogue(csv_path, rows_wanted)}
    rows = read_rows(csv_path)
    started = time.perf_counter()
    synthetic_artifact(rows, folder / "home", parts_file, encoder_name)
    report["cold_start_vectors_s"] = round(time.perf_counter() - started, 1)
    rng = np.random.default_rng(7)
    picks = rng.choice(len(rows), size=QUERIES_KEPT, replace=False)
    queries = [
        f"{rows[i]['category_path'].rsplit(' > ', 1)[1]} {rows[i]['attr_material']} {n}"
        for n, i in enumerate(picks)
    ]
    (folder / "queries.json").write_text(json.dumps(queries))
    del rows
    # Training publishes the regions into the artifact (api/use_cases.train_and_publish), so
    # serving does not run Louvain at start-up: the same here, timed as a training-side step.
    store = MemoryGraphStore()
    load_products(store, csv_path, taxonomy="synthetic")
    projection = GraphProjection.load(store)
    del store
    started = time.perf_counter()
    taxonomy, taxonomy_names = taxonomy_regions(projection, 2)
    community, community_names = community_regions(projection)
    save_regions(
        Artifact.open_current(folder / "home").path,
        Regions(taxonomy=taxonomy, community=community, names={**taxonomy_names, **community_names}),
    )
    report["regions_louvain_s"] = round(time.perf_counter() - started, 1)
    report["prepare_peak_rss_kib"] = rss_kib("VmHWM")
    return report


def serve(folder: Path, queries: int) -> dict[str, Any]:
    """One catalogue size served from `folder` in this (fresh) process: its memory is the
    serving process's, less Neo4j (the in-memory store stands in for it and is dropped once the
    projection is read, as serving reads the projection from Neo4j)."""
    limit_blas_threads()
    report: dict[str, Any] = {"label": "SYNTHETIC", "rss_start_kib": rss_kib()}
    encoder = text_encoder(Settings())
    store = MemoryGraphStore()
    started = time.perf_counter()
    load_products(store, folder / "catalogue.csv", taxonomy="synthetic")
    report["load_in_memory_s"] = round(time.perf_counter() - started, 1)
    texts = json.loads((folder / "queries.json").read_text())[:queries]
    artifact = Artifact.open_current(folder / "home")
    report["rss_store_loaded_kib"] = rss_kib()
    started = time.perf_counter()
    projection = GraphProjection.load(store)
    del store
    report["products"] = len(projection.product_ids)
    report["projection_s"] = round(time.perf_counter() - started, 1)
    report["rss_projection_kib"] = rss_kib()
    builds: list[float] = []

    def timed_build(vectors: NDArray[np.float32]) -> ExactIndex | HnswIndex:
        began = time.perf_counter()
        index = build_index(vectors)
        builds.append(round(time.perf_counter() - began, 1))
        return index

    catalog_index.build_index = timed_build  # the serving code's own call, timed
    started = time.perf_counter()
    recommender = Recommender(MemoryGraphStore(), artifact, encoder, projection, pseudonym_key=b"bench")
    report["index_build_s"] = {"kg": builds[0], "text": builds[1]}
    # Neighbour lists, keyword index, vector indexes; the regions are read from the artifact.
    report["recommender_start_s"] = round(time.perf_counter() - started, 1)
    report["index_kind"] = {
        "text": type(recommender.catalog.text_index).__name__,
        "kg": type(recommender.catalog.kg_index).__name__,
    }
    report["rss_recommender_kib"] = rss_kib()
    tracemalloc.start(6)
    recommender.recommend(RecommendationRequest(query="warm up", k=10))
    grown = tracemalloc.take_snapshot().statistics("traceback")[:3]
    tracemalloc.stop()
    report["first_request_allocations"] = [
        {"kib": s.size // 1024, "where": s.traceback.format()[-4:]} for s in grown
    ]
    report["rss_after_first_request_kib"] = rss_kib()
    report["rss_split_kib"] = rss_split()
    for explain in (True, False, True, False):
        key = "explain" if explain else "no_explain"
        report.setdefault(key, []).append(latency(recommender, texts, explain))
        report.setdefault("rss_after_each_run_kib", []).append(rss_kib())
    report["rss_serving_kib"] = rss_kib()
    report["rss_peak_kib"] = rss_kib("VmHWM")
    for key in ("explain", "no_explain"):
        runs = report.pop(key)
        report[key] = {
            "p50_ms": round(median([r["p50_ms"] for r in runs]), 2),
            "p99_ms": round(median([r["p99_ms"] for r in runs]), 2),
            "runs": runs,
        }
    return report


def run_stage(stage: str, size: int, folder: Path, queries: int) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.scale_bench",
            "--stage",
            stage,
            "--sizes",
            str(size),
            "--folder",
            str(folder),
            "--queries",
            str(queries),
        ],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def encoding_report(sizes: list[int], parts_file: Path) -> dict[str, Any]:
    texts: dict[str, str] = {}
    titles: list[str] = []
    with tempfile.TemporaryDirectory(dir=BENCH_HOME) as tmp:
        for size in sizes:
            write_catalogue(Path(tmp) / "parts.csv", size)
            rows = read_rows(Path(tmp) / "parts.csv")
            texts.update((part_key(r, column), r[column]) for r in rows for column in PART_WEIGHTS)
            titles = titles or [r["title"] for r in rows[:2000]]
    return encode_parts(titles, texts, parts_file)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 250_000])
    parser.add_argument("--queries", type=int, default=100, help="unseen queries per latency run")
    parser.add_argument(
        "--stage",
        choices=["all", "prepare", "serve"],
        default="all",
        help="prepare: catalogue + artifact into --folder (untimed set-up, run it niced); "
        "serve: time serving from a prepared --folder; all: both, per size",
    )
    parser.add_argument("--folder", type=Path, help="where a size's catalogue and artifact live")
    args = parser.parse_args()
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    parts_file = BENCH_HOME / "scale_parts.npz"
    if args.stage != "all":
        folder = args.folder or OUT / f"size-{args.sizes[0]}"
        if args.stage == "prepare":
            # Encodes only the parts this size adds to the cache (the generator's seed fixes them).
            encoding = encoding_report(args.sizes, parts_file)
            report = {"encoding": encoding, **prepare(args.sizes[0], parts_file, folder, encoding["encoder"])}
        else:
            report = serve(folder, args.queries)
        print(json.dumps(report))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"encoding": encoding_report(args.sizes, parts_file), "sizes": []}
    print(json.dumps(results["encoding"]), flush=True)
    for size in sorted(args.sizes):
        with tempfile.TemporaryDirectory(dir=BENCH_HOME) as tmp:
            prepared = run_stage("prepare", size, Path(tmp), args.queries)
            report = {**prepared, **run_stage("serve", size, Path(tmp), args.queries)}
        results["sizes"].append(report)
        print(json.dumps({k: v for k, v in report.items() if k != "catalogue"}), flush=True)
    base = results["sizes"][0]
    for report in results["sizes"]:
        report["vs_smallest"] = {
            "products": round(report["products"] / base["products"], 2),
            "p99_explain": round(report["explain"]["p99_ms"] / base["explain"]["p99_ms"], 2),
            "rss": round(report["rss_serving_kib"] / base["rss_serving_kib"], 2),
            "text_index_build": round(
                report["index_build_s"]["text"] / max(base["index_build_s"]["text"], 0.1), 2
            ),
        }
    (OUT / "scale_bench.json").write_text(json.dumps(results, indent=2))
    print(json.dumps([{"products": r["products"], **r["vs_smallest"]} for r in results["sizes"]]))


if __name__ == "__main__":
    main()
