"""Start-up time of `kgrec` commands that need neither torch nor PyKEEN.

Run: `python -m bench.startup_bench` (part of `make bench`). Each command runs as a fresh
process, `--repeats` times, alternating two ways in the same run:
- before: the command modules that import torch, transformers and PyKEEN are imported first,
  as `kgrec.api.cli.main` did eagerly before they became lazy (issue 14, §5);
- after: the `kgrec` entry point as shipped.
`stats` points at a closed port, so it runs its whole import path and stops at the connection
(exit 3) without timing Neo4j.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from bench.common import BENCH_HOME, median

COMMANDS = {
    "--help": ["--help"],
    "load taxonomy --help": ["load", "taxonomy", "--help"],
    "stats": ["stats"],
}
EAGER = "import kgrec.api.cli.training, kgrec.api.cli.evaluate, kgrec.api.cli.finetune; "
ENTRY = "import sys; from kgrec.api.cli import run; sys.argv[0] = 'kgrec'; run()"


def run_once(args: list[str], *, eager: bool) -> float:
    env = {**os.environ, "KGREC_NEO4J_URI": "bolt://127.0.0.1:9", "KGREC_NEO4J_PASSWORD": "unused"}
    code = (EAGER if eager else "") + ENTRY
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 3):
        raise RuntimeError(f"kgrec {' '.join(args)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    for name, args in COMMANDS.items():
        before: list[float] = []
        after: list[float] = []
        for _ in range(options.repeats):
            before.append(run_once(args, eager=True))
            after.append(run_once(args, eager=False))
        results[name] = {
            "before_median_s": round(median(before), 3),
            "after_median_s": round(median(after), 3),
            "speedup": round(median(before) / median(after), 2),
        }
    BENCH_HOME.mkdir(parents=True, exist_ok=True)
    print(json.dumps(results, indent=2))
    (BENCH_HOME / "startup_bench.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
