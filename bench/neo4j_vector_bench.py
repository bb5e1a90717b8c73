"""Neo4j's vector index against in-process hnswlib on the same SYNTHETIC vectors, at 100k … 1M
products: index build time, store size, Neo4j heap and RSS, and per-query p50/p99 and recall of
`db.index.vector.queryNodes` at k = 10 / 100 beside hnswlib (kgrec's `HnswIndex`) in the same run.

The vectors are SYNTHETIC: 384-d (the product text dimension), clustered like text embeddings
(a shared direction, one of 5,000 Zipf-sized category centres, noise), unit length. They reach
Neo4j through `neo4j-admin database import` as `ProductEmbedding` nodes (kgrec's layout: id +
`text_embedding`), then kgrec's own `CREATE VECTOR INDEX` builds the index; writing 1M vectors
through Cypher would take about an hour on two cores (docs/scaling.md, section 4).

Four stages, so that each timed run stays short (the timed ones hold the bench lock):
  prepare  vectors, CSV, import into a fresh home (untimed preparation; run it niced);
  index    starts Neo4j, builds the vector index (timed), measures store size and heap;
  hnsw     builds kgrec's hnswlib index on the same vectors (timed) and saves it;
  query    interleaved queries against both, exact recall from a brute-force scan.
Run: `python -m bench.neo4j_vector_bench --products 100000 [--stages prepare index hnsw query]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from bench.common import BENCH_HOME, bench_settings, median, percentile, server_for, store_on
from bench.synthetic_catalogue import zipf_weights
from kgrec.graph import cypher
from kgrec.graph.neo4j_launcher import LocalNeo4j
from kgrec.graph.neo4j_store import Neo4jGraphStore
from kgrec.recommender.retrieval import HnswIndex

DIM = 384
CATEGORIES = 5_000
# Integer CSV cells scaled by 10^8 ("12345678e-8"): formatting ints is four times as fast as floats,
# and the vectors both engines see are the same rounded values.
SCALE = 10**8
CHUNK = 20_000
LABEL, PROP = "Product", "text_embedding"
HEAP, PAGECACHE = "3g", "2g"
log = logging.getLogger(__name__)
# kgrec's query-time ef (HnswIndex), and a wider search for recall closer to exact.
HNSW_EF = {"hnswlib": 128, "hnswlib_ef400": 400}
WARM = 20  # the first queries warm both engines and are not counted


def synthetic_vectors(n: int, seed: int = 14) -> NDArray[np.float32]:
    """SYNTHETIC: random pairs have cosine ~0.1, pairs of one category ~0.5, as text vectors do."""
    rng = np.random.default_rng(seed)
    shared = rng.standard_normal(DIM)
    shared /= np.linalg.norm(shared)
    centres = rng.standard_normal((CATEGORIES, DIM))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    category = rng.choice(CATEGORIES, size=n, p=zipf_weights(CATEGORIES, 1.07))
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, CHUNK):
        rows = category[start : start + CHUNK]
        noise = rng.standard_normal((len(rows), DIM)) / np.sqrt(DIM)
        block = 0.3 * shared + 0.7 * centres[rows] + 0.75 * noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + len(rows)] = np.rint(block * SCALE) / SCALE
    return out


def write_csv(vectors: NDArray[np.float32], path: Path) -> None:
    with path.open("w", encoding="ascii") as out:
        out.write(f"id:ID,{PROP}:float[]\n")
        row_format = ";".join(["%de-8"] * vectors.shape[1]) + "\n"  # one C-level format per row
        for start in tqdm(range(0, len(vectors), CHUNK), desc="csv", unit="chunk"):
            ints = np.rint(vectors[start : start + CHUNK].astype(np.float64) * SCALE).astype(np.int64)
            out.writelines(f"p{start + i}," + row_format % tuple(row) for i, row in enumerate(ints.tolist()))


def home_for(products: int) -> Path:
    return BENCH_HOME / "neo4j-vectors" / f"n{products}"


def server(home: Path) -> LocalNeo4j:
    return server_for(bench_settings(home, HEAP, PAGECACHE))


def start(neo4j: LocalNeo4j) -> int:
    """The launcher starts Neo4j in a session of its own: give its autogroup this bench's
    priority, or niced work in other sessions takes half the cores from a timed run."""
    neo4j.start()
    pid = neo4j.running_pid()
    assert pid is not None
    match = re.search(r"nice (-?\d+)", Path("/proc/self/autogroup").read_text())
    try:
        Path(f"/proc/{pid}/autogroup").write_text(match.group(1) if match else "0")
    except OSError:
        log.warning("could not set the autogroup priority of Neo4j (pid %d)", pid)
    return pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_gib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 2**20, 3)
    return 0.0


def heap_gib(store: Neo4jGraphStore) -> float:
    """Used heap now (no GC forced, so an upper bound of the live data), from the JMX bean."""
    records = store.run(
        "CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes "
        "RETURN attributes.HeapMemoryUsage.value.properties.used AS used"
    )
    return round(int(records[0]["used"]) / 2**30, 3)


def folder_gib(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**30, 3)


def prepare(products: int, home: Path) -> dict[str, Any]:
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    started = time.perf_counter()
    vectors = synthetic_vectors(products)
    np.save(home / "vectors.npy", vectors)
    generated = time.perf_counter() - started
    csv_path = home / "embeddings.csv"
    started = time.perf_counter()
    write_csv(vectors, csv_path)
    csv_s = time.perf_counter() - started
    neo4j = server(home)
    neo4j.resolve_jars()
    started = time.perf_counter()
    neo4j.admin(
        "database",
        "import",
        "full",
        "neo4j",
        "--overwrite-destination=true",
        "--array-delimiter=;",
        f"--nodes={cypher.embedding_label(LABEL)}={csv_path}",
        "--max-off-heap-memory=2g",
        f"--report-file={home / 'import.report'}",
        heap="2g",
    )
    import_s = time.perf_counter() - started
    csv_gib = round(csv_path.stat().st_size / 2**30, 3)
    csv_path.unlink()
    return {
        "generate_s": round(generated, 1),
        "csv_s": round(csv_s, 1),
        "csv_gib": csv_gib,
        "import_s": round(import_s, 1),
    }


def build_neo4j_index(home: Path) -> dict[str, Any]:
    neo4j = server(home)
    pid = start(neo4j)
    result: dict[str, Any] = {}
    try:
        with store_on(neo4j) as store:
            result["nodes"] = store.node_count()
            result["neo4j_rss_gib_before_index"] = rss_gib(pid)
            started = time.perf_counter()
            store.schema(cypher.create_vector_index(LABEL, PROP, DIM))
            store.run("CALL db.awaitIndexes(7200)")
            result["neo4j_index_build_s"] = round(time.perf_counter() - started, 1)
            options = store.run(
                "SHOW VECTOR INDEXES YIELD name, options WHERE name = $name RETURN options",
                {"name": cypher.vector_index_name(LABEL, PROP)},
            )
            result["neo4j_index_config"] = options[0]["options"]["indexConfig"]
            result["neo4j_heap_used_gib"] = heap_gib(store)
            result["neo4j_rss_gib"] = rss_gib(pid)
    finally:
        neo4j.stop()
    database = neo4j.home / "data" / "databases" / "neo4j"
    result["neo4j_store_gib"] = folder_gib(database)
    index_folder = database / "schema" / "index" / "vector-2.0"
    result["neo4j_vector_index_gib"] = folder_gib(index_folder)
    # Lucene segments: each is an HNSW graph of its own that every query searches.
    result["neo4j_index_segments"] = sum(1 for _ in index_folder.rglob("*.si"))
    return result


def build_hnsw(home: Path) -> dict[str, Any]:
    """kgrec's own HnswIndex (M 16, ef_construction 200, all cores), saved for the query stage."""
    result: dict[str, Any] = {}
    vectors = np.load(home / "vectors.npy", mmap_mode="r")
    started = time.perf_counter()
    hnsw = HnswIndex(vectors)
    result["hnswlib_build_s"] = round(time.perf_counter() - started, 1)
    hnsw.index.save_index(str(home / "hnsw.bin"))
    result["hnswlib_index_gib"] = round((home / "hnsw.bin").stat().st_size / 2**30, 3)
    return result


def probes_for(vectors: NDArray[np.float32], queries: int) -> NDArray[np.float32]:
    """Queries near stored products (a shopper's text lands near a category), not copies of them."""
    rng = np.random.default_rng(99)
    rows = vectors[rng.choice(len(vectors), queries, replace=False)].astype(np.float32)
    probes = rows + 0.5 * rng.standard_normal(rows.shape).astype(np.float32) / np.sqrt(DIM)
    out: NDArray[np.float32] = probes / np.linalg.norm(probes, axis=1, keepdims=True)
    return out


def exact_top(vectors: NDArray[np.float32], probes: NDArray[np.float32], k: int) -> NDArray[np.int64]:
    """Brute force in batches of probes, so that 1M scores per probe never pile up."""
    top = np.empty((len(probes), k), dtype=np.int64)
    for start in range(0, len(probes), 32):
        scores = np.concatenate(
            [
                probes[start : start + 32] @ np.asarray(vectors[s : s + 200_000]).T
                for s in range(0, len(vectors), 200_000)
            ],
            axis=1,
        )
        best = np.argpartition(-scores, k, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1)
        top[start : start + 32] = np.take_along_axis(best, order, axis=1)
    return top


def query(home: Path, queries: int, ks: list[int]) -> dict[str, Any]:
    import hnswlib

    vectors = np.load(home / "vectors.npy", mmap_mode="r")
    probes = probes_for(vectors, queries + WARM)
    truth = exact_top(vectors, probes, max(ks))
    index = hnswlib.Index(space="ip", dim=DIM)
    index.load_index(str(home / "hnsw.bin"), max_elements=len(vectors))
    neo4j = server(home)
    pid = start(neo4j)
    times: dict[str, list[float]] = {f"{e}_k{k}": [] for e in ("neo4j", *HNSW_EF) for k in ks}
    hits: dict[str, int] = dict.fromkeys(times, 0) | {"neo4j_top10_of_wide": 0}
    result: dict[str, Any] = {}
    try:
        with store_on(neo4j) as store:
            statement, _ = cypher.query_vector_index(LABEL, PROP, 10, [])
            name = cypher.vector_index_name(LABEL, PROP)
            cpu_before = 0.0
            for i, probe in enumerate(tqdm(probes, desc="queries", unit="q")):
                if i == WARM:
                    cpu_before = cpu_seconds(pid)
                warm = i < WARM
                vector = probe.tolist()
                for k in ks:
                    expected = {int(x) for x in truth[i, :k]}
                    started = time.perf_counter()
                    rows = store.run(statement, {"name": name, "k": k, "vector": vector})
                    neo4j_s = time.perf_counter() - started
                    found: dict[str, set[int]] = {"neo4j": {int(r["id"][1:]) for r in rows}}
                    for engine, ef in HNSW_EF.items():
                        index.set_ef(max(ef, k))
                        started = time.perf_counter()
                        labels, _ = index.knn_query(probe.reshape(1, -1), k=k)
                        hnsw_s = time.perf_counter() - started
                        found[engine] = {int(x) for x in labels[0]}
                        if not warm:
                            times[f"{engine}_k{k}"].append(hnsw_s)
                    if warm:
                        continue
                    times[f"neo4j_k{k}"].append(neo4j_s)
                    for engine, ids in found.items():
                        hits[f"{engine}_k{k}"] += len(expected & ids)
                    if k == max(ks) and k > 10:  # the first 10 of a wider Neo4j search
                        first = {int(r["id"][1:]) for r in rows[:10]}
                        hits["neo4j_top10_of_wide"] += len({int(x) for x in truth[i, :10]} & first)
            neo4j_cpu = cpu_seconds(pid) - cpu_before
            result["neo4j_cpu_ms_per_query"] = round(neo4j_cpu * 1000 / (len(ks) * (len(probes) - WARM)), 2)
            trips = []
            for _ in range(queries):  # what any Cypher read costs here: the floor under a query
                started = time.perf_counter()
                store.run("RETURN 1 AS one")
                trips.append(time.perf_counter() - started)
            result["neo4j_round_trip_p50_ms"] = round(median(trips) * 1000, 3)
            result["neo4j_heap_used_gib_after_queries"] = heap_gib(store)
            result["neo4j_rss_gib_after_queries"] = rss_gib(pid)
    finally:
        neo4j.stop()
    for key, values in times.items():
        k = int(key.rsplit("k", 1)[1])
        result[f"{key}_p50_ms"] = round(median(values) * 1000, 3)
        result[f"{key}_p99_ms"] = round(percentile(values, 99) * 1000, 3)
        result[f"{key}_recall"] = round(hits[key] / (k * len(values)), 4)
    if max(ks) > 10:
        counted = len(times[f"neo4j_k{max(ks)}"])
        result[f"neo4j_recall10_from_k{max(ks)}"] = round(hits["neo4j_top10_of_wide"] / (10 * counted), 4)
    for k in ks:
        result[f"p50_ratio_neo4j_over_hnswlib_k{k}"] = round(
            result[f"neo4j_k{k}_p50_ms"] / result[f"hnswlib_k{k}_p50_ms"], 1
        )
    result["python_rss_gib"] = rss_gib_self()
    return result


def rss_gib_self() -> float:
    return rss_gib(os.getpid())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument(
        "--stages",
        nargs="+",
        choices=["prepare", "index", "hnsw", "query"],
        default=["prepare", "index", "hnsw", "query"],
    )
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--k", type=int, nargs="+", default=[10, 100])
    args = parser.parse_args()
    home = home_for(args.products)
    result: dict[str, Any] = {
        "products": args.products,
        "dim": DIM,
        "heap": HEAP,
        "pagecache": PAGECACHE,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    for stage in args.stages:
        if stage == "prepare":
            result["prepare"] = prepare(args.products, home)
        elif stage == "index":
            result["index"] = build_neo4j_index(home)
        elif stage == "hnsw":
            result["hnsw"] = build_hnsw(home)
        else:
            result["query"] = query(home, args.queries, args.k)
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    text = json.dumps(result, indent=2, default=str)
    with (home / "results.jsonl").open("a") as log:
        log.write(json.dumps(result, default=str) + "\n")
    print(text)


if __name__ == "__main__":
    main()
