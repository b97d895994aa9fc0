"""Cold start of each Lambda handler: what a new execution environment pays before doing work.

Per handler (and, for the webhook, per kind of first request), each run in a fresh interpreter:

- import: perf_counter around `import <handler module>` (what the init phase spends on it);
- first request: the work the first request adds on top, without the network: the modules the handler
  imports lazily, the botocore clients it creates (fake credentials; creating a client sends nothing),
  and for the webhook with the extension the secret read itself, over HTTP from a stand-in for the AWS
  Parameters and Secrets Lambda Extension that this script serves on 127.0.0.1 (what the real one adds
  on a cache miss, an SSM round trip, is network and not counted);
- total: import + first request of the same run, which is what a cold start pays before the handler's
  own work (the campaign fetched and parsed, the request handled).

Best and median of --runs. Also `python -X importtime`'s cumulative time for the handler module, which
adds its own overhead. The webhook's clients and modules here are the ones tests/integration/test_handlers.py sees a
real first request create (runtime.clients_created()); keep them in step.

This machine sets PYTHONDONTWRITEBYTECODE=1, so the project's own modules are compiled on every run,
as on a Lambda package shipped without their .pyc (the deployment folder is read-only, so nothing is
cached there); the dependencies come with bytecode. --compiled measures a package built with compileall
(docs/deploy.md): every module from bytecode.

With --no-pyc, the import is also measured with an empty bytecode cache (-X pycache_prefix), as on a
deployment package shipped without .pyc files; that compiles the standard library modules it touches
too, so it is an upper bound.

    .venv/bin/python bench/bench_cold_start.py [--runs 7] [--no-pyc] [--compiled]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRET_PARAM = "/huizong/webhook-secret"
COMPILED = ""  # --compiled: a bytecode cache for every module, the project's included
EXTENSION_TOKEN = "bench-session-token"


@dataclass(frozen=True)
class Handler:
    name: str
    module: str
    lazy_modules: list[str] = field(default_factory=list)
    clients: list[str] = field(default_factory=list)
    # The webhook secret read through the extension stand-in, as runtime.secret does on a first request.
    secret_via_extension: bool = False


WEBHOOK = "functions.handlers.form_url"
HANDLERS = [
    # A forged, stale or oversized request: the campaign and the store (S3), the secret; no queue.
    Handler("webhook, refused (extension)", WEBHOOK, ["functions.adapters.store.s3"], ["s3"],
            secret_via_extension=True),
    # A response that made a new version: the same, plus the queue.
    Handler("webhook, new version (extension)", WEBHOOK, ["functions.adapters.store.s3"], ["s3", "sqs"],
            secret_via_extension=True),
    # Without the layer the secret comes from botocore's SSM client.
    Handler("webhook, new version (SSM client)", WEBHOOK, ["functions.adapters.store.s3"],
            ["s3", "ssm", "sqs"]),
    Handler("consolidate", "functions.handlers.consolidate_queue", ["functions.adapters.store.s3"], ["s3"]),
    Handler("remind", "functions.handlers.remind_schedule",
            ["functions.adapters.store.s3", "functions.adapters.mail.ses", "boto3"], ["s3", "sesv2"]),
    Handler("poll", "functions.handlers.poll_schedule",
            ["functions.adapters.store.s3", "functions.adapters.google.session",
             "functions.adapters.google.credentials"], ["ssm", "s3", "sqs"]),
]  # fmt: skip

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SESSION_TOKEN": EXTENSION_TOKEN,
    "AWS_DEFAULT_REGION": "ap-southeast-1",
    "AWS_REGION": "ap-southeast-1",
    "HUIZONG_WEBHOOK_SECRET_PARAM": SECRET_PARAM,
}


class _Extension(BaseHTTPRequestHandler):
    """Answers like the AWS Parameters and Secrets Lambda Extension, for the bench's one parameter."""

    def do_GET(self) -> None:
        if self.headers.get("X-Aws-Parameters-Secrets-Token") != EXTENSION_TOKEN:
            self.send_error(401)
            return
        body = json.dumps({"Parameter": {"Name": SECRET_PARAM, "Value": "bench-secret-value"}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def extension_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Extension)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def _run(args: list[str], extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **FAKE_AWS}
    for name in ("HUIZONG_SECRETS_EXTENSION", "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"):
        env.pop(name, None)
    env.update(extra_env or {})
    if COMPILED:
        # Bytecode from COMPILED, written by the first run (the later ones only read it).
        env["PYTHONDONTWRITEBYTECODE"] = "1" if os.path.isdir(COMPILED + "/warm") else ""
        args = ["-X", f"pycache_prefix={COMPILED}", *args]
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


def cold_start_ms(handler: Handler, port: int) -> tuple[float, float]:
    """(import, first request) of one fresh interpreter."""
    code = "\n".join([
        "import importlib, time",
        "t0 = time.perf_counter()",
        f"import {handler.module}",
        "t1 = time.perf_counter()",
        "from functions.handlers import runtime",
        *[f"importlib.import_module({m!r})" for m in handler.lazy_modules],
        *[f"runtime.client({c!r})" for c in handler.clients if c == "s3"],
        *(["assert runtime.secret(runtime.WEBHOOK_SECRET_PARAM)"] if handler.secret_via_extension else []),
        *[f"runtime.client({c!r})" for c in handler.clients if c != "s3"],
        "t2 = time.perf_counter()",
        "assert 'ssm' not in runtime.clients_created() or " + repr("ssm" in handler.clients),
        "print('BENCH', (t1 - t0) * 1000, (t2 - t1) * 1000)",
    ])  # fmt: skip
    env = {"HUIZONG_SECRETS_EXTENSION": "1", "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(port)}
    out = _run(["-c", code], env if handler.secret_via_extension else None).stdout
    [line] = [x for x in out.splitlines() if x.startswith("BENCH ")]
    _, imported, first = line.split()
    return float(imported), float(first)


def _stats(values: list[float]) -> str:
    return f"{min(values):.0f} / {statistics.median(values):.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--no-pyc", action="store_true", help="also measure with an empty bytecode cache")
    ap.add_argument(
        "--compiled",
        action="store_true",
        help="the project's modules from bytecode too, as in a package built with compileall",
    )
    a = ap.parse_args()
    global COMPILED
    if a.compiled:
        COMPILED = tempfile.mkdtemp(prefix="huizong-pyc-")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}; load average {load:.2f} at start")  # fmt: skip
    print()
    print("| handler | import (best / median) | first request adds (best / median) "
          "| total (best / median) | importtime of the module (best / median) |")  # fmt: skip
    print("|---|---|---|---|---|")
    with extension_server() as port:
        for h in HANDLERS:
            if COMPILED:
                cold_start_ms(h, port)  # writes the bytecode
                os.makedirs(COMPILED + "/warm", exist_ok=True)
            runs = [cold_start_ms(h, port) for _ in range(a.runs)]
            imported, first = [r[0] for r in runs], [r[1] for r in runs]
            total = [i + f for i, f in runs]
            it = [importtime_ms(h.module) for _ in range(a.runs)]
            print(f"| {h.name} | {_stats(imported)} | {_stats(first)} | {_stats(total)} | {_stats(it)} |")
    if a.no_pyc:
        print()
        print("| handler | importtime without .pyc (upper bound, best / median) |")
        print("|---|---|")
        for module in dict.fromkeys(h.module for h in HANDLERS):
            times = []
            for _ in range(a.runs):
                with tempfile.TemporaryDirectory() as empty:
                    times.append(importtime_ms(module, pycache=empty))
            print(f"| {module.rsplit('.', 1)[-1]} | {_stats(times)} |")


if __name__ == "__main__":
    main()
