"""What one submission costs the S3 store's peer statistics, in requests and bytes, as the campaign grows
(issue 13 §1: small objects per (deliverable, unit type) instead of one object per deliverable).

    .venv/bin/python bench/bench_s3_peers.py --units 1000,10000 --json
    .venv/bin/python bench/bench_s3_peers.py --units 1000,10000 --json --code /path/to/main/checkout

`--code` measures another checkout of huizong (e.g. main before the change, from `git archive`) with
this script: the layout is the one that code writes. Requests and bytes do not depend on the machine.

For each size, moto's S3 (in process, no network) holds the peer statistics of a campaign of that many
units in four types, as the code under test lays them out: every unit a plan of 10–40 activities with
whole-number expected participants (10–500), two thirds also a summary whose participants per session
have fractions. Before the change that is one object per deliverable; after, the shards built by the
first sync. Then three submissions by units of different types, each as ingest_raw makes it: the peer
context (PeerStats.context_for), both medians the `outlier` rule asks for, then add_version of a new
plan. Counted through a recording client, per submission (mean of the three):

- peer_requests / peer_bytes_read / peer_bytes_written / peer_largest_read: requests to the peer
  statistics' objects only (meta/!peers/… before, peers/… after) and their bytes;
- all_requests / all_bytes_read / all_bytes_written: every request of the submission (the version, its
  markers and summary included).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import statistics
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
TYPES = ["中小学", "镇（街道）社区教育中心", "非学历教育机构", "区社区教育委员会成员单位"]
BUCKET = "bench-peers"
PREFIX = "campaigns/bench"


def _recorder() -> Any:
    # Loaded by path, so that --code can point at a checkout without this helper.
    spec = importlib.util.spec_from_file_location(
        "s3_recorder", HERE / "tests" / "helpers" / "s3_recorder.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["s3_recorder"] = module
    spec.loader.exec_module(module)
    return module


def _tables(rng: random.Random, deliverable: str) -> dict[str, Any]:
    if deliverable == "plan":
        return {
            "activities": [
                {"expected_participants": rng.randint(10, 500)} for _ in range(rng.randint(10, 40))
            ]
        }
    return {
        "statistics": [{"total_sessions": rng.randint(1, 12), "total_participants": rng.randint(20, 2000)}]
    }


def measure(units: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from functions.adapters.store.s3 import S3Store
    from functions.services.intake import peers as peers_module
    from functions.services.intake.peers import PeerStats
    from functions.validate.peer_median import PeerFigures, peer_entry, peer_median
    from schemas.report import ValidationReport
    from schemas.roster import Roster, Unit
    from schemas.submission import ParsedSubmission

    recorder_module = _recorder()
    rng = random.Random(units)
    roster = Roster(units=[Unit(code=f"U{i:05d}", name=f"单位{i}", type=TYPES[i % 4]) for i in range(units)])
    entries: dict[str, dict[str, dict[str, Any]]] = {"plan": {}, "summary": {}}
    for unit in roster.units:
        entries["plan"][unit.code] = {"seq": 1, "entry": peer_entry(_tables(rng, "plan"))}
        if rng.random() < 2 / 3:
            entries["summary"][unit.code] = {"seq": 1, "entry": peer_entry(_tables(rng, "summary"))}

    with mock_aws():
        client = boto3.client("s3", region_name="ap-southeast-1")
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-southeast-1"}
        )
        store = S3Store(BUCKET, PREFIX, client=client, workers=1)
        store.set_meta("peers:v1:built", "1")  # not a store from before issue 13: no rebuild from versions
        layout = "one object per deliverable"
        shards = getattr(store, "_peers", None)
        if shards is None:
            for group, doc in entries.items():  # the layout before: one object per deliverable
                body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/meta/!peers/{group}", Body=body)
        else:
            # The layout after, built in memory by the same code and copied into the bucket (building it
            # through S3 request by request would take moto minutes at 10,000 units, and is not measured).
            from functions.adapters.store.memory import _PeerObjects
            from functions.adapters.store.peer_shards import ShardedPeers

            objects = _PeerObjects()
            built = ShardedPeers(objects)
            for group, doc in entries.items():
                for code, held in doc.items():
                    built.put_entry(group, code, held["seq"], held["entry"])
            fingerprint, types = peers_module._roster_types(roster)
            built.sync(fingerprint, types)
            for key in objects.keys(()):
                got = objects.get(key)
                assert got is not None
                shards._objects.put(key, got[0])
            layout = "shards per (deliverable, type, figure)"

        recorder = recorder_module.RecordingClient(client)
        store = S3Store(BUCKET, PREFIX, client=recorder, workers=1)
        # One warm-up submission: a Lambda instance handles many, and keeps what it learnt once (the
        # roster's sync). Then three, by units of three types.
        rows = []
        for n, unit in enumerate([roster.units[4], roster.units[1], roster.units[2], roster.units[3]]):
            recorder.recorded.clear()
            ctx = PeerStats(store, ["plan", "summary"]).context_for(unit.code)
            for which in ("activity", "session"):
                if isinstance(ctx.peers, PeerFigures):
                    figures = ctx.peers.per_session if which == "session" else ctx.peers.per_activity
                    peer_median(figures, roster, unit, 5)
                else:
                    assert ctx.peers is not None
                    ctx.peers.median(which, roster, unit, 5)  # type: ignore[arg-type]
            sub = ParsedSubmission(unit=unit.code, deliverable="plan", tables=_tables(rng, "plan"),
                                   source=f"inbox/{unit.code}.xlsx", source_kind="file")  # fmt: skip
            report = ValidationReport(file=sub.source, unit=unit.code, deliverable="plan", valid=True)
            import datetime as dt

            store.add_version(sub, report, received_at=dt.datetime(2022, 11, 20, tzinfo=dt.UTC), late=False)
            if n == 0:
                continue
            rec = recorder.recorded
            peer_keys = ("/peers/", "/meta/!peers/")
            peer_gets = [size for key, size in rec.gets if any(p in key for p in peer_keys)]
            peer_puts = [size for key, size in rec.puts if any(p in key for p in peer_keys)]
            peer_lists = [p for p in rec.lists if any(k in p for k in peer_keys)]
            total = rec.summary()
            rows.append({
                "peer_requests": len(peer_gets) + len(peer_puts) + len(peer_lists),
                "peer_bytes_read": sum(peer_gets),
                "peer_bytes_written": sum(peer_puts),
                "peer_largest_read": max(peer_gets, default=0),
                "all_requests": total["requests"],
                "all_bytes_read": total["bytes_read"],
                "all_bytes_written": total["bytes_written"],
            })  # fmt: skip
    result: dict[str, Any] = {"units": units, "layout": layout}
    for field in rows[0]:
        result[field] = round(statistics.mean(r[field] for r in rows), 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--units", default="1000,10000", help="campaign sizes, comma-separated")
    parser.add_argument("--json", action="store_true", help="print a JSON list, one object per size")
    parser.add_argument("--code", type=Path, default=HERE, help="the huizong checkout to measure")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    # moto answers every request in process; these keep boto3 from looking for real credentials.
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "ap-southeast-1", "AWS_EC2_METADATA_DISABLED": "true",
                        "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}.items():  # fmt: skip
        os.environ[name] = value
    results = [measure(int(n)) for n in args.units.split(",")]
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return
    for r in results:
        print("  ".join(f"{k}={v}" for k, v in r.items()))


if __name__ == "__main__":
    main()
