"""Peak memory of one EASE fit (recommender/collaborative/ease.py) on each of its two paths.

Run: `python -m bench.ease_memory_bench [--items 4000] [--save DIR]`. SYNTHETIC binary
interactions (seeded; every user takes `--per-user` items drawn uniformly): more users than
items takes the items' Cholesky path, fewer takes Woodbury's users-side one. Each fit runs in a
fresh process so that one path's peak cannot hide the other's. Reported per path: the peak of
Python-traced allocations during the fit (numpy's arrays, LAPACK's operand copies included) in
units of one items × items float64 matrix, and the process's peak RSS growth over the fit.
`--save DIR` keeps each path's weights (DIR/<path>.npy) to compare two versions of the code.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from kgrec.recommender.collaborative import InteractionMatrix, fit_ease

# Users per item on each path: Cholesky needs more users than items, Woodbury fewer.
USERS_PER_ITEM = {"cholesky": 2.0, "woodbury": 0.5}


def synthetic(users: int, items: int, per_user: int, seed: int = 0) -> InteractionMatrix:
    """SYNTHETIC: `per_user` distinct items per user, uniform over the catalogue."""
    rng = np.random.default_rng(seed)
    cols = np.concatenate([rng.choice(items, per_user, replace=False) for _ in range(users)])
    rows = np.repeat(np.arange(users), per_user)
    matrix = sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(users, items))
    return InteractionMatrix([f"u{i}" for i in range(users)], [f"i{j}" for j in range(items)], matrix)


def one_fit(path: str, items: int, per_user: int, save: Path | None) -> dict[str, object]:
    data = synthetic(int(items * USERS_PER_ITEM[path]), items, per_user)
    used = int(np.count_nonzero(data.item_degree()))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    started = time.perf_counter()
    model = fit_ease(data, l2=100.0)
    seconds = time.perf_counter() - started
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        np.save(save / f"{path}.npy", np.asarray(model.weights))
    square = used * used * 8
    return {
        "path": path,
        "users": len(data.users),
        "items_fitted": used,
        "fit_seconds": round(seconds, 2),
        "traced_peak_mib": round(traced_peak / 2**20, 1),
        "traced_peak_in_n2_doubles": round(traced_peak / square, 2),
        "rss_peak_growth_mib": round((rss_after - rss_before) / 1024, 1),
        "rss_peak_growth_in_n2_doubles": round((rss_after - rss_before) * 1024 / square, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=4000)
    parser.add_argument("--per-user", type=int, default=40)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--one", choices=sorted(USERS_PER_ITEM), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_fit(args.one, args.items, args.per_user, args.save)))
        return
    rows = []
    for path in USERS_PER_ITEM:
        command = [sys.executable, "-m", "bench.ease_memory_bench", "--one", path]
        command += ["--items", str(args.items), "--per-user", str(args.per_user)]
        if args.save is not None:
            command += ["--save", str(args.save)]
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
