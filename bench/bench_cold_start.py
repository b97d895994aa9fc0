"""Cold start of each Lambda handler: what a new execution environment pays before doing work.

Three numbers per handler, each from a fresh interpreter, best and median of --runs:

- importtime: `python -X importtime -c "import <handler module>"`, the handler module's cumulative time
  (what the init phase spends importing it; -X importtime itself adds some overhead);
- import wall: perf_counter around the same `import`, without -X importtime;
- first request: the work the first request adds on top, without the network: the modules the handler
  imports lazily and the botocore clients it creates (fake credentials; creating a client sends nothing).

With --no-pyc, the import is also measured with an empty bytecode cache (-X pycache_prefix), as on a
deployment package shipped without .pyc files; that compiles the standard library modules it touches
too, so it is an upper bound.

    .venv/bin/python bench/bench_cold_start.py [--runs 7] [--no-pyc]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Handler:
    name: str
    module: str
    lazy_modules: list[str] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)


HANDLERS = [
    Handler("webhook", "functions.handlers.webhook", ["functions.adapters.store_s3"], ["ssm", "s3", "sqs"]),
    Handler("consolidate", "functions.handlers.consolidate", ["functions.adapters.store_s3"], ["s3"]),
    Handler("remind", "functions.handlers.remind",
            ["functions.adapters.store_s3", "functions.adapters.mail_ses", "boto3"], ["s3", "sesv2"]),
    Handler("poll", "functions.handlers.poll",
            ["functions.adapters.store_s3", "functions.adapters.google_session",
             "functions.adapters.google_credentials"], ["ssm", "s3", "sqs"]),
]  # fmt: skip

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "ap-southeast-1",
    "AWS_REGION": "ap-southeast-1",
}


def _run(args: list[str], extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **FAKE_AWS, **(extra_env or {})}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    )


def importtime_ms(module: str, *, pycache: str | None = None) -> float:
    flags = ["-X", "importtime"] + (["-X", f"pycache_prefix={pycache}"] if pycache else [])
    out = _run([*flags, "-c", f"import {module}"])
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self_us, cumulative, name = line.removeprefix("import time:").split("|", 2)
        if name.strip() == module and not name[1:].startswith(" "):
            return int(cumulative) / 1000
    raise RuntimeError(f"{module} not in the importtime output")


def import_wall_ms(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
    return float(_run(["-c", code]).stdout)


def first_request_ms(handler: Handler) -> float:
    """Lazy imports and client creation, after the handler module is already imported."""
    code = "\n".join([
        "import importlib, time",
        f"import {handler.module}",
        "from functions.handlers import runtime",
        "t = time.perf_counter()",
        *[f"importlib.import_module({m!r})" for m in handler.lazy_modules],
        *[f"runtime.client({c!r})" for c in handler.clients],
        "print((time.perf_counter() - t) * 1000)",
    ])  # fmt: skip
    return float(_run(["-c", code]).stdout)


def _stats(values: list[float]) -> str:
    return f"{min(values):.0f} / {statistics.median(values):.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--no-pyc", action="store_true", help="also measure with an empty bytecode cache")
    a = ap.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; load average {load:.2f} at start")  # fmt: skip
    print()
    header = "| handler | importtime (best / median) | import wall (best / median) | first request adds (best / median) |"
    print(header)
    print("|---|---|---|---|")
    for h in HANDLERS:
        it = [importtime_ms(h.module) for _ in range(a.runs)]
        wall = [import_wall_ms(h.module) for _ in range(a.runs)]
        first = [first_request_ms(h) for _ in range(a.runs)]
        print(f"| {h.name} | {_stats(it)} | {_stats(wall)} | {_stats(first)} |")
    if a.no_pyc:
        print()
        print("| handler | importtime without .pyc (upper bound, best / median) |")
        print("|---|---|")
        for h in HANDLERS:
            runs = []
            for _ in range(a.runs):
                with tempfile.TemporaryDirectory() as empty:
                    runs.append(importtime_ms(h.module, pycache=empty))
            print(f"| {h.name} | {_stats(runs)} |")


if __name__ == "__main__":
    main()
