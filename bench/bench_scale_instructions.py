"""Instructions per submission as the campaign grows, counted by callgrind (issue 13 §6).

    .venv/bin/python bench/bench_scale_instructions.py --units 1000,10000 --json

CPU time on a machine shared with other work is disturbed by it (caches, frequency, hyper-threads): in
one run the same openpyxl load measured 22 ms in one size's process and 40 ms in the next. Instruction
counts are not, so this bench gives bench_scale.py's `submission` as instructions: for each size a
campaign is built natively exactly as bench_scale.py builds it (through Store.add_version) and one
submission is ingested natively, so one-time work (a store's peer index being built) is done. Then
the same process runs twice under valgrind's callgrind, each time opening the campaign, reading the
workbooks and ingesting one warm-up submission: once with nothing more, once with --runs more
submissions. The difference divided by --runs is what one submission costs, start-up excluded.

`--channel form` counts one Google Form response through the webhook service instead (signature,
schema, mapping of the answers, validation, store: `form_response_instructions`); `--channel
submission,form` both, on the same built store.

Prints per size `{"units", "submission_instructions", "submission_cpu_ms_native"}`; needs valgrind
(the script says so and stops when it is missing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _build(folder_base: Path, units: int, runs: int) -> Path:
    import bench_scale as b

    from functions.bootstrap import open_app
    from functions.services.intake.ingest import ingest_raw

    folder = b._campaign_folder(folder_base, units)
    app = open_app(folder)
    b._fill(app, units)
    for i in range(runs + 2):
        b._workbook(app, folder / f"sub{i}.xlsx", 12, salt=i + 7)
    # One native submission: whatever a store does once (building its peer index) is not counted.
    raw = app.read_workbook(b._workbook(app, folder / "first.xlsx", 12, salt=3), app.campaign, app.roster)
    now = dt.datetime(2022, 11, 23, 10, tzinfo=app.campaign.tz)
    ingest_raw(app, raw, received_at=now, now=now)
    app.store.close()
    return folder


def _measure_form(folder: Path, count: int) -> float:
    """Open the campaign, answer one warm-up form response and `count` more through the webhook
    service (signature, schema, mapping, validation, store): CPU ms each."""
    from functions.bootstrap import open_app
    from functions.services.intake.form_webhook import handle_webhook
    from functions.services.intake.signature import HEADER, sign

    app = open_app(folder)
    now = dt.datetime(2022, 11, 23, 10, tzinfo=app.campaign.tz)
    secret = b"bench-instructions"

    def respond(body: bytes) -> None:
        headers = {
            "content-type": "application/json",
            HEADER: sign(secret, body, timestamp=int(now.timestamp())),
        }
        result = handle_webhook(app, body=body, headers=headers, secret=secret, now=now)
        assert result.status == 200 and result.body["stored"], result

    import bench_scale as b

    bodies = b.form_response_bodies(app, count + 1, prefix="bench-instr")
    respond(bodies[0])
    t0 = time.process_time()
    for body in bodies[1:]:
        respond(body)
    return (time.process_time() - t0) * 1000 / max(count, 1)


def _measure(folder: Path, count: int, runs: int, channel: str = "submission") -> float:
    """Open the campaign, read every workbook, ingest one warm-up and `count` submissions: CPU ms each."""
    from functions.bootstrap import open_app
    from functions.services.intake.ingest import ingest_raw

    if channel == "form":
        return _measure_form(folder, count)
    app = open_app(folder)
    raws = [app.read_workbook(folder / f"sub{i}.xlsx", app.campaign, app.roster) for i in range(runs + 1)]
    now = dt.datetime(2022, 11, 23, 10, tzinfo=app.campaign.tz)
    assert ingest_raw(app, raws[0], received_at=now, now=now).stored
    t0 = time.process_time()
    for raw in raws[1 : count + 1]:
        assert ingest_raw(app, raw, received_at=now, now=now).stored
    return (time.process_time() - t0) * 1000 / max(count, 1)


def _instructions(folder: Path, count: int, runs: int, channel: str) -> int:
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
         "--measure", str(folder), "--count", str(count), "--runs", str(runs), "--channel", channel],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise SystemExit("callgrind gave no instruction count:\n" + done.stderr[-2000:])
    return int(found.group(1))


def measure(units: int, runs: int, channels: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"units": units}
    with tempfile.TemporaryDirectory(prefix="huizong-bench-instr-") as tmp:
        folder = _build(Path(tmp), units, runs)
        for channel in channels:
            # A copy per count: each run stores new versions, and both must start from the same store.
            base, more = Path(tmp) / f"base-{channel}", Path(tmp) / f"more-{channel}"
            shutil.copytree(folder, base)
            shutil.copytree(folder, more)
            without = _instructions(base, 0, runs, channel)
            with_runs = _instructions(more, runs, runs, channel)
            native_copy = Path(tmp) / f"native-{channel}"
            shutil.copytree(folder, native_copy)
            native = _measure(native_copy, runs, runs, channel)
            key = "submission" if channel == "submission" else "form_response"
            out[f"{key}_instructions"] = round((with_runs - without) / runs)
            out[f"{key}_cpu_ms_native"] = round(native, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", default="1000,10000", help="campaign sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=3, help="submissions counted (their mean is printed)")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per size")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--channel", default="submission", help="submission, form, or both comma-separated")
    args = parser.parse_args()
    if args.measure is not None:
        _measure(args.measure, args.count, args.runs, args.channel)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: this bench counts instructions with its callgrind tool")
    channels = [c.strip() for c in args.channel.split(",") if c.strip()]
    results = [measure(int(s), args.runs, channels) for s in args.units.split(",") if s.strip()]
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(r)


if __name__ == "__main__":
    main()
