"""Cold start of each Lambda handler and start-up of the CLI: what a new process pays before doing work.

Per handler (and, for the webhook, per kind of first request), each run in a fresh interpreter:

- import: perf_counter and process_time around `import <handler module>` (what the init phase spends);
- first request: the work the first request adds on top, without the network: the modules the handler
  imports lazily, the botocore clients it creates (fake credentials; creating a client sends nothing),
  and for the webhook with the extension the secret read itself, over HTTP from a stand-in for the AWS
  Parameters and Secrets Lambda Extension that this script serves on 127.0.0.1 (what the real one adds
  on a cache miss, an SSM round trip, is network and not counted);
- total: import + first request of the same run, which is what a cold start pays before the handler's
  own work (the campaign fetched and parsed, the request handled).

"webhook, genuine first request" goes further: the real handler answers a signed form response end to
end (the example campaign bundled with HUIZONG_CAMPAIGN_DIR, a fresh SQLite store in the work folder,
the secret from the extension stand-in; the SQS client is created but the message is not sent), so
whatever the first request pays (campaign parse, model schemas built on first use, patterns compiled
on first use, the validation itself) is counted, and deferring work from the import to the first
request cannot hide it.

The CLI rows run `python -m functions.cli` as a whole process (`--help`; `validate` on a real workbook
of the example campaign; `status` of that campaign): wall and CPU time of the process.

Best and median of --runs. Also `python -X importtime`'s cumulative time for the handler module, which
adds its own overhead. The webhook's clients and modules here are the ones tests/integration/test_handlers.py sees a
real first request create (runtime.clients_created()); keep them in step.

This machine sets PYTHONDONTWRITEBYTECODE=1, so the project's own modules are compiled on every run,
as on a Lambda package shipped without their .pyc (the deployment folder is read-only, so nothing is
cached there); the dependencies come with bytecode. --compiled measures a package built with compileall
(docs/deploy.md): every module from bytecode.

--instructions also counts instructions with valgrind's callgrind (one run each, bytecode compiled
first), which does not depend on the machine's load: for a handler, `python -S -c "import <module>"`
minus `python -S -c "import sys"` (the interpreter's own start-up); for the genuine webhook request and
the CLI rows, the whole process.

--root DIR measures another copy of the project with this script (e.g. the commit before a change:
`git worktree add /tmp/before <commit>` or `git archive <commit> | tar -x -C /tmp/before`), using this
checkout's virtual environment, so before and after run side by side under the same load.

With --no-pyc, the import is also measured with an empty bytecode cache (-X pycache_prefix), as on a
deployment package shipped without .pyc files; that compiles the standard library modules it touches
too, so it is an upper bound.

    .venv/bin/python bench/bench_cold_start.py [--runs 7] [--no-pyc] [--compiled] [--instructions]
                                               [--root DIR] [--only webhook,cli] [--json]

--json prints one object per row: {"entry", "runs", "import_ms", "import_cpu_ms", "first_ms",
"total_ms", "total_cpu_ms", "importtime_ms", "instructions"} with {"best", "median"} for the times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
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
from typing import Any

HERE = Path(__file__).resolve().parents[1]
ROOT = HERE  # the project measured (--root)
SECRET_PARAM = "/huizong/webhook-secret"
SECRET_VALUE = "bench-secret-value"
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
    # The web form: the app and Mangum are built on the first request.
    Handler("web form", "functions.handlers.web_url", ["functions.adapters.store.s3"], ["s3", "ssm"]),
    Handler("mail (SES inbound)", "functions.handlers.mail_s3",
            ["functions.adapters.store.s3", "functions.adapters.mail.ses"], ["s3", "sesv2"]),
]  # fmt: skip
GENUINE = "webhook, genuine first request (local store)"
CLI = [("huizong --help", ["--help"]), ("huizong validate", ["validate"]), ("huizong status", ["status"])]

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
        body = json.dumps({"Parameter": {"Name": SECRET_PARAM, "Value": SECRET_VALUE}}).encode()
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


def _env(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **FAKE_AWS}
    for name in ("HUIZONG_SECRETS_EXTENSION", "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "HUIZONG_STORE"):
        env.pop(name, None)
    env.update(extra_env or {})
    return env


def _run(
    args: list[str], extra_env: dict[str, str] | None = None, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = _env(extra_env)
    if COMPILED:
        # Bytecode from COMPILED, written by the first run (the later ones only read it).
        env["PYTHONDONTWRITEBYTECODE"] = "1" if os.path.isdir(COMPILED + "/warm") else ""
        args = ["-X", f"pycache_prefix={COMPILED}", *args]
    # cwd=ROOT: `-c` and `-m` put it first on sys.path, so ROOT's modules are imported even where an
    # editable install of another checkout is on the path.
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, check=check
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


def _first_request_code(handler: Handler) -> list[str]:
    return [
        "from functions.handlers import runtime",
        *[f"importlib.import_module({m!r})" for m in handler.lazy_modules],
        *[f"runtime.client({c!r})" for c in handler.clients if c == "s3"],
        *(["assert runtime.secret(runtime.WEBHOOK_SECRET_PARAM)"] if handler.secret_via_extension else []),
        *[f"runtime.client({c!r})" for c in handler.clients if c != "s3"],
        "assert 'ssm' not in runtime.clients_created() or " + repr("ssm" in handler.clients),
    ]


# The genuine request: the body (built once per bench run by _genuine_body) signed with the secret the
# extension stand-in serves, as a function URL event (payload 2.0). The queue is the only thing not sent.
_GENUINE_REQUEST = """
import json, os
from functions.services.intake.signature import sign
def _queued(requests):
    runtime.client("sqs")  # what the real call creates; sending is network, not counted
    return len(requests)
runtime.queue_consolidation = _queued
body = open(os.environ["BENCH_BODY"], "rb").read()
event = {"version": "2.0", "rawPath": "/webhook/form", "body": body.decode(), "isBase64Encoded": False,
         "headers": {"content-type": "application/json", "x-huizong-signature": sign(os.environ["BENCH_SECRET"].encode(), body)},
         "requestContext": {"http": {"method": "POST", "path": "/webhook/form"}, "requestId": "bench"}}
answer = mod.handler(event, None)
assert answer["statusCode"] == 200 and json.loads(answer["body"])["stored"], answer
"""


def _timed(lines_import: list[str], lines_first: list[str]) -> str:
    return "\n".join([
        "import importlib, time",
        "t0, c0 = time.perf_counter(), time.process_time()",
        *lines_import,
        "t1, c1 = time.perf_counter(), time.process_time()",
        *lines_first,
        "t2, c2 = time.perf_counter(), time.process_time()",
        "print('BENCH', (t1 - t0) * 1000, (t2 - t1) * 1000, (c1 - c0) * 1000, (c2 - c0) * 1000)",
    ])  # fmt: skip


def cold_start(handler: Handler, port: int) -> tuple[float, float, float, float]:
    """(import, first request, import CPU, total CPU) of one fresh interpreter, in ms."""
    code = _timed([f"import {handler.module}"], _first_request_code(handler))
    env = {"HUIZONG_SECRETS_EXTENSION": "1", "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(port)}
    out = _run(["-c", code], env if handler.secret_via_extension else None).stdout
    return _bench_line(out)


def _bench_line(out: str) -> tuple[float, float, float, float]:
    [line] = [x for x in out.splitlines() if x.startswith("BENCH ")]
    imported, first, cpu_import, cpu_total = (float(x) for x in line.split()[1:])
    return imported, first, cpu_import, cpu_total


def _genuine_env(port: int, campaign: Path, body: Path, work: Path) -> dict[str, str]:
    return {
        "HUIZONG_SECRETS_EXTENSION": "1",
        "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(port),
        "HUIZONG_CAMPAIGN_DIR": str(campaign),
        "HUIZONG_WORK_DIR": str(work),
        "HUIZONG_QUEUE_URL": "https://sqs.ap-southeast-1.amazonaws.com/000000000000/bench.fifo",
        "BENCH_BODY": str(body),
        "BENCH_SECRET": SECRET_VALUE,
    }


def genuine(port: int, campaign: Path, body: Path) -> tuple[float, float, float, float]:
    """The webhook module imported, then one signed form response answered end to end (a new version)."""
    code = _timed([f"import {WEBHOOK} as mod"], ["from functions.handlers import runtime", _GENUINE_REQUEST])
    with tempfile.TemporaryDirectory(prefix="huizong-bench-") as work:
        out = _run(["-c", code], _genuine_env(port, campaign, body, Path(work))).stdout
    return _bench_line(out)


def _genuine_body(campaign: Path, target: Path) -> None:
    """A form response of the example campaign's summary form (all answers valid), as the Apps Script
    sends it; built by the measured project so its questions match."""
    code = f"""
import datetime as dt, json
from functions.config.loading import load_campaign, load_roster
from functions.services.google.form_spec import form_questions
campaign = load_campaign({str(campaign)!r})
roster, _ = load_roster({str(campaign)!r}, campaign)
values = {{"total_sessions": "12", "lecture_sessions": "3", "training_sessions": "2",
          "total_participants": "3000", "online_participants": "200", "filled_by": "李老师",
          "phone": "13912345678", "summary_url": "https://example.org/s.docx", "photo_count": "6"}}
unit = roster.units[0].code
answers = [{{"title": q.title, "value": unit if q.role == "unit_code" else values[q.field]}}
           for q in form_questions(campaign, "summary") if q.role == "unit_code" or q.field in values]
week = campaign.week.start
body = {{"kind": "form_response", "campaign_id": campaign.id, "deliverable": "summary", "form_id": "FORM1",
        "response_id": "bench-1", "answers": answers,
        "submitted_at": dt.datetime.combine(week, dt.time(10), tzinfo=campaign.tz).isoformat()}}
open({str(target)!r}, "w", encoding="utf-8").write(json.dumps(body, ensure_ascii=False))
"""
    _run(["-c", code])


def _example_campaign(base: Path) -> tuple[Path, Path]:
    """The example campaign (wujin-2022) written by the measured project, and one unit's workbook."""
    folder = base / "campaign"
    _run(["-m", "functions.cli", "init", str(folder)])
    _run(["-m", "functions.cli", "templates", str(folder)])
    workbook = sorted((folder / "templates" / "plan").glob("*.xlsx"))[0]
    return folder, workbook


def cli_args(name: str, campaign: Path, workbook: Path) -> list[str]:
    args = dict(CLI)[name]
    if args == ["validate"]:
        return ["validate", str(workbook), "--campaign", str(campaign), "--json"]
    if args == ["status"]:
        return ["status", str(campaign)]
    return args


def cli_run(args: list[str]) -> tuple[float, float]:
    """(wall, CPU) ms of one `python -m functions.cli …` process."""
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = _run(["-m", "functions.cli", *args], check=False)
    wall = (time.perf_counter() - t0) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):  # 1: the workbook has errors, still validated
        raise RuntimeError(f"huizong {' '.join(args)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    return wall, cpu


def instructions(args: list[str], extra_env: dict[str, str] | None = None) -> int:
    """Instructions callgrind counts for `python -S <args>` (bytecode compiled by a first plain run)."""
    pyc = COMPILED or tempfile.mkdtemp(prefix="huizong-pyc-")
    site = [p for p in sys.path if p.endswith("site-packages")]
    env = _env(extra_env)
    # -S: no site hooks (an editable install's finder), the dependencies' folder given explicitly.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *site])
    cmd = [sys.executable, "-S", "-X", f"pycache_prefix={pyc}", *args]
    subprocess.run(cmd, cwd=ROOT, env={**env, "PYTHONDONTWRITEBYTECODE": ""}, capture_output=True)
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
        cwd=ROOT, env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, capture_output=True, text=True,
    )  # fmt: skip
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None or done.returncode not in (0, 1):
        raise SystemExit(f"callgrind failed for {args}:\n" + done.stderr[-2000:])
    return int(found.group(1))


def _stats(values: list[float]) -> dict[str, float]:
    return {"best": round(min(values), 1), "median": round(statistics.median(values), 1)}


def _cell(stat: dict[str, float] | None) -> str:
    return f"{stat['best']:.0f} / {stat['median']:.0f} ms" if stat else "–"


def _row(entry: str, runs: list[tuple[float, float, float, float]], it: list[float] | None) -> dict[str, Any]:
    return {
        "entry": entry,
        "runs": len(runs),
        "import_ms": _stats([r[0] for r in runs]),
        "import_cpu_ms": _stats([r[2] for r in runs]),
        "first_ms": _stats([r[1] for r in runs]),
        "total_ms": _stats([r[0] + r[1] for r in runs]),
        "total_cpu_ms": _stats([r[3] for r in runs]),
        "importtime_ms": _stats(it) if it else None,
        "instructions": None,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--no-pyc", action="store_true", help="also measure with an empty bytecode cache")
    ap.add_argument(
        "--compiled",
        action="store_true",
        help="the project's modules from bytecode too, as in a package built with compileall",
    )
    ap.add_argument("--instructions", action="store_true", help="also count instructions (valgrind)")
    ap.add_argument("--root", type=Path, default=HERE, help="the copy of the project to measure")
    ap.add_argument("--only", default="", help="comma-separated: webhook, handlers, genuine, cli")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    a = ap.parse_args()
    global COMPILED, ROOT
    ROOT = a.root.resolve()
    if a.compiled or a.instructions:
        COMPILED = tempfile.mkdtemp(prefix="huizong-pyc-")
    if a.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    only = {x.strip() for x in a.only.split(",") if x.strip()}

    def wanted(kind: str, name: str = "") -> bool:
        return (
            not only
            or kind in only
            or (kind == "handlers" and name.startswith("webhook") and "webhook" in only)
        )

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    rows: list[dict[str, Any]] = []
    bare = instructions(["-c", "import sys"]) if a.instructions else 0
    with extension_server() as port, tempfile.TemporaryDirectory(prefix="huizong-bench-") as tmp:
        for h in HANDLERS:
            if not wanted("handlers", h.name):
                continue
            if COMPILED:
                cold_start(h, port)  # writes the bytecode
                os.makedirs(COMPILED + "/warm", exist_ok=True)
            runs = [cold_start(h, port) for _ in range(a.runs)]
            row = _row(h.name, runs, [importtime_ms(h.module) for _ in range(a.runs)])
            if a.instructions:
                row["instructions"] = instructions(["-c", f"import {h.module}"]) - bare
            rows.append(row)
        campaign, workbook = _example_campaign(Path(tmp))
        if wanted("genuine") or wanted("webhook"):
            body = Path(tmp) / "body.json"
            _genuine_body(campaign, body)
            if COMPILED:
                genuine(port, campaign, body)
                os.makedirs(COMPILED + "/warm", exist_ok=True)
            row = _row(GENUINE, [genuine(port, campaign, body) for _ in range(a.runs)], None)
            if a.instructions:
                code = _timed(
                    [f"import {WEBHOOK} as mod"], ["from functions.handlers import runtime", _GENUINE_REQUEST]
                )
                with tempfile.TemporaryDirectory(prefix="huizong-bench-") as work:
                    row["instructions"] = instructions(
                        ["-c", code], _genuine_env(port, campaign, body, Path(work))
                    )
            rows.append(row)
        for name, _ in CLI if wanted("cli") else []:
            args = cli_args(name, campaign, workbook)
            cli_run(args)  # bytecode
            if COMPILED:
                os.makedirs(COMPILED + "/warm", exist_ok=True)
            runs = [cli_run(args) for _ in range(a.runs)]
            row = {"entry": name, "runs": len(runs), "import_ms": None, "import_cpu_ms": None,
                   "first_ms": None, "total_ms": _stats([r[0] for r in runs]),
                   "total_cpu_ms": _stats([r[1] for r in runs]), "importtime_ms": None, "instructions": None}  # fmt: skip
            if a.instructions:
                row["instructions"] = instructions(["-m", "functions.cli", *args])
            rows.append(row)
    if a.json:
        print(json.dumps({"machine": _machine(load), "root": str(ROOT), "compiled": bool(COMPILED),
                          "bare_interpreter_instructions": bare or None, "rows": rows}, indent=1))  # fmt: skip
    else:
        print(_machine(load))
        print()
        print("| entry | import (best / median) | import CPU | first request adds | total (best / median) "
              "| total CPU | importtime | instructions |")  # fmt: skip
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            ins = f"{r['instructions'] / 1e6:,.0f} M" if r["instructions"] else "–"
            print(f"| {r['entry']} | {_cell(r['import_ms'])} | {_cell(r['import_cpu_ms'])} | "
                  f"{_cell(r['first_ms'])} | {_cell(r['total_ms'])} | {_cell(r['total_cpu_ms'])} | "
                  f"{_cell(r['importtime_ms'])} | {ins} |")  # fmt: skip
    if a.no_pyc:
        print()
        print("| handler | importtime without .pyc (upper bound, best / median) |")
        print("|---|---|")
        for module in dict.fromkeys(h.module for h in HANDLERS):
            times = []
            for _ in range(a.runs):
                with tempfile.TemporaryDirectory() as empty:
                    times.append(importtime_ms(module, pycache=empty))
            print(f"| {module.rsplit('.', 1)[-1]} | {_cell(_stats(times))} |")


def _machine(load: float) -> str:
    return (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; load average {load:.2f} at start"
    )


if __name__ == "__main__":
    main()
