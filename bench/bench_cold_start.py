"""Cold-start import cost per Lambda handler: `python -X importtime` in a fresh process, best of N.

For each handler, the measured imports are the handler module plus what its code path imports on the
first request (the lazy imports), so the number is what a cold invocation pays before doing work.

    .venv/bin/python bench/bench_cold_start.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PATHS: dict[str, list[str]] = {
    "webhook": ["functions.handlers.webhook", "functions.services.webhook_service",
                "functions.services.form_intake", "boto3"],
    "consolidate": ["functions.handlers.consolidate", "functions.services.loop", "boto3"],
    "remind": ["functions.handlers.remind", "functions.services.loop", "functions.adapters.mail_ses", "boto3"],
    "poll": ["functions.handlers.poll", "functions.adapters.google_http", "functions.services.ingest"],
}  # fmt: skip


def measure(modules: list[str]) -> float:
    """Milliseconds of import time for `modules` (sum of top-level cumulative times)."""
    code = ";".join(f"import {m}" for m in modules)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env=env, check=True)  # fmt: skip
    total = 0
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative, name = line.removeprefix("import time:").split("|", 2)
        # Nested imports are indented under their importer; only top-level ones are summed.
        if not name[1:].startswith(" "):
            total += int(cumulative)
    return total / 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print()
    print(f"| handler | imports on a cold start | best of {a.runs} | median |")
    print("|---|---|---|---|")
    for name, modules in PATHS.items():
        times = sorted(measure(modules) for _ in range(a.runs))
        print(f"| {name} | {', '.join(modules)} | {times[0]:.0f} ms | {times[len(times) // 2]:.0f} ms |")


if __name__ == "__main__":
    main()
