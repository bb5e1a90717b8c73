"""Peak memory while a compressed upload that expands to one huge line is refused.

Each measurement runs the loader (what `POST /v1/admin/load/*` and `kgrec load` call) in a
fresh process and reports how far its peak RSS rose above the peak after imports. The
baseline in the same run is a real catalogue of similar compressed size that loads fully.

    python -m bench.upload_bomb_bench [--expanded-mb 1200]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import REPO

CHUNK = b"a" * (1024 * 1024)


def write_line_bomb(path: Path, expanded_bytes: int) -> Path:
    """A `.csv.gz` whose second line is `expanded_bytes` long, written without holding it."""
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(b"id,title\n")
        for _ in range(expanded_bytes // len(CHUNK)):
            handle.write(CHUNK)
        handle.write(b",x\n")
    return path


def write_catalogue(path: Path, rows: int) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("id,title,brand,price\n")
        for i in range(rows):
            handle.write(
                f"p{i},Product number {i} with a longer title {i * 7919 % 10007},"
                f"Brand {i % 97},{i % 500}.99\n"
            )
    return path


def _measure(path: str) -> None:
    """Child process: load one file into an in-memory store and print the peak RSS rise."""
    from kgrec.graph.errors import InputFileError
    from kgrec.graph.loaders import load_products
    from kgrec.graph.memory_store import MemoryGraphStore

    store = MemoryGraphStore()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    outcome = "loaded"
    try:
        load_products(store, Path(path))
    except InputFileError as exc:
        outcome = exc.problem
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = time.perf_counter() - started
    print(json.dumps({"peak_rise_mb": (after - before) / 1024, "seconds": seconds, "outcome": outcome}))


def peak_rss_rise(path: Path) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-m", "bench.upload_bomb_bench", "--child", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    measured: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--expanded-mb", type=int, default=1200)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        _measure(args.child)
        return
    with tempfile.TemporaryDirectory(prefix="kgrec-bomb-") as tmp:
        bomb = write_line_bomb(Path(tmp) / "bomb.csv.gz", args.expanded_mb * 1024 * 1024)
        catalogue = write_catalogue(Path(tmp) / "catalogue.csv.gz", 40_000)
        for name, path in (("catalogue (baseline)", catalogue), ("line bomb", bomb)):
            measured = peak_rss_rise(path)
            print(
                f"{name}: {path.stat().st_size / 1e6:.2f} MB compressed, "
                f"peak RSS +{measured['peak_rise_mb']:.1f} MB, {measured['seconds']:.2f} s, "
                f"{measured['outcome']}"
            )


if __name__ == "__main__":
    main()
