"""Issue 13 §1 in the S3 store: peer statistics as small objects per (deliverable, unit type, figure)
(functions/adapters/store/peer_shards.py), on moto.

- The medians equal peer_median's over random histories and roster edits, and the shards equal the
  shards recomputed from scratch (the same property as the memory store's, here through S3's ETags).
- One submission reads only its own unit's object and its own type's shards, and nothing it reads grows
  with the number of units (counted through a recording client).
- A store written with one object per deliverable is migrated once, by the first build.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from functions.adapters.store.s3 import S3Store
from functions.services.intake.peers import PeerStats
from functions.validate.peer_median import peer_entry
from schemas.roster import Roster, Unit
from tests.fakes.aws import BUCKET, PREFIX, moto_s3
from tests.helpers.peer_histories import (
    DELIVERABLES,
    TYPES,
    check_all,
    oracle_median,
    random_roster,
    shards_disagree,
    submit_random,
)
from tests.helpers.s3_recorder import RecordingClient
from tests.helpers.store import add, submission


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_s3(monkeypatch) as client:
        yield client


@pytest.mark.parametrize("seed", range(3))
def test_shard_medians_equal_peer_median_over_random_histories(s3: Any, seed: int) -> None:
    rng = random.Random(seed)
    units = rng.randint(4, 10)
    store = S3Store(BUCKET, PREFIX, client=s3, workers=4)
    roster = random_roster(rng, units)
    compared = 0
    for step in range(rng.randint(10, 30)):
        submit_random(store, rng, units, step)
        if rng.random() < 0.15:
            compared += check_all(store, roster)
        if rng.random() < 0.08:
            roster = random_roster(rng, units)  # the organiser edits the roster: units change shards
    compared += check_all(store, roster)
    assert shards_disagree(store._peers._objects) == []
    if seed == 0:
        assert compared > 0


def _campaign(store: S3Store, per_type: int, rng: random.Random) -> Roster:
    roster = Roster(
        units=[Unit(code=f"{t}{i:04d}", name=f"{t}{i}", type=t) for t in TYPES[:2] for i in range(per_type)]
    )
    for unit in roster.units:
        # Whole numbers of participants, and a per-session figure in quarters (fractions: value objects).
        # Narrow ranges, so that the small campaign already has most values the large one has: what is
        # compared is then the layout, not how many distinct values a sample happens to hold.
        tables = {"activities": [{"expected_participants": rng.randint(5, 30)} for _ in range(3)],
                  "statistics": [{"total_sessions": 4, "total_participants": rng.randint(20, 40)}]}  # fmt: skip
        store.put_peer_entry("plan", unit.code, 1, peer_entry(tables))  # what add_version writes
    return roster


@pytest.mark.slow  # about 30 s: 660 units on moto
def test_one_submission_reads_its_own_type_only_and_nothing_that_grows(s3: Any) -> None:
    seen: dict[int, dict[str, int]] = {}
    for per_type in (30, 300):
        prefix = f"{PREFIX}-{per_type}"
        recorder = RecordingClient(s3)
        store = S3Store(BUCKET, prefix, client=recorder, workers=4)
        roster = _campaign(store, per_type, random.Random(3))
        me = roster.units[0]
        PeerStats(store, ["plan"]).context_for(me.code).peers.median("activity", roster, me, 3)  # type: ignore[union-attr]  # builds
        recorder.recorded.clear()
        # One submission as ingest_raw makes it: the peer context, both medians, then the version.
        peers = PeerStats(store, ["plan"]).context_for(me.code).peers
        for which in ("activity", "session"):
            assert peers.median(which, roster, me, 3) is not None  # type: ignore[union-attr]
        tables = {"activities": [{"expected_participants": 33}],
                  "statistics": [{"total_sessions": 3, "total_participants": 100}]}  # fmt: skip
        add(store, submission(me.code, "plan", tables=tables))
        peer_reads = [k.removeprefix(prefix + "/peers/") for k, _ in recorder.recorded.gets if "/peers/" in k]
        shards = [k.split("/") for k in peer_reads if k.startswith(("shard/", "vals/"))]
        assert shards and all(parts[4] == me.type for parts in shards), peer_reads
        assert {k for k in peer_reads if k.startswith("unit/")} == {f"unit/{me.code}"}
        seen[per_type] = recorder.recorded.summary()
    small, large = seen[30], seen[300]
    # Ten times the campaign: about the same bytes (counts per bucket fill up,
    # a value object holds distinct values with counts); one object per deliverable grew tenfold.
    # The same requests, give or take the value object of a middle bucket that is not a whole number.
    assert large["requests"] <= small["requests"] + 2, seen
    assert large["largest_read"] < 1.5 * small["largest_read"], seen
    assert large["bytes_read"] < 1.5 * small["bytes_read"], seen
    assert large["bytes_written"] < 1.5 * small["bytes_written"], seen


def test_a_store_with_one_peer_object_per_deliverable_is_migrated_once(s3: Any) -> None:
    store = S3Store(BUCKET, PREFIX, client=s3)
    rng = random.Random(9)
    roster = Roster(units=[Unit(code=f"U{i}", name=f"单位{i}", type=TYPES[i % 2]) for i in range(8)])
    legacy: dict[str, dict[str, Any]] = {"plan": {}, "summary": {}}
    for unit in roster.units:
        acts = {"activities": [{"expected_participants": rng.randint(1, 90)} for _ in range(2)]}
        stats = {"statistics": [{"total_sessions": 3, "total_participants": rng.randint(10, 99)}]}
        legacy["plan"][unit.code] = {"seq": 2, "entry": peer_entry(acts)}
        legacy["summary"][unit.code] = {"seq": 1, "entry": peer_entry(stats)}
    # As the store before this change wrote them: meta/!peers/<deliverable>, and the rebuilt-once mark.
    for group, doc in legacy.items():
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/meta/!peers/{group}", Body=json.dumps(doc).encode())
    store.set_meta("peers:v1:built", "1")
    # A submission after the upgrade and before the first build: its later seq wins over the old entry.
    newer = peer_entry({"activities": [{"expected_participants": 500}]})
    store.put_peer_entry("plan", "U0", 3, newer)
    assert store.peer_group("plan")["U0"] == newer
    assert store.peer_group("summary") == {u: held["entry"] for u, held in legacy["summary"].items()}

    figures_before = PeerStats(store, DELIVERABLES).figures
    check_all(store, roster)  # the first median builds: the old objects become unit objects and shards
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/meta/!peers/").get("Contents", [])
    assert listed == []  # migrated once: nothing left to migrate again
    assert shards_disagree(store._peers._objects) == []
    fresh = S3Store(BUCKET, PREFIX, client=s3)
    assert PeerStats(fresh, DELIVERABLES).figures == figures_before
    for unit in roster.units:
        peers = PeerStats(fresh, DELIVERABLES).context_for(unit.code).peers
        for which in ("activity", "session"):
            got = peers.median(which, roster, unit, 2)  # type: ignore[union-attr]
            assert got == oracle_median(figures_before, which, roster, unit, 2)
    assert json.loads(s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/peers/mark")["Body"].read())["gen"] == 1
