"""Random submission histories and rosters for the peer-median property tests (issue 13 §1).

The oracle is `peer_median` over every unit's figures (what PeerStats handed the validator before any
store answered medians itself); a store's index (SQLite's ordered index, the S3/memory shards) must give
the same answer for every unit, figure and `min_peers`. Used by tests/unit/test_peer_index.py (SQLite,
memory) and tests/integration/test_peer_shards_s3.py (S3 on moto).
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter

from functions.adapters.store.peer_shards import NO_TYPE, Key, Objects, bucket_of, contributions
from functions.ports import Store
from functions.services.intake.peers import PeerStats
from functions.validate.peer_median import PeerFigures, PeerMedian, peer_median
from schemas.report import ValidationReport
from schemas.roster import Roster, Unit
from schemas.submission import CellValue, ParsedSubmission, TableData

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2022, 11, 20, 9, 30, tzinfo=CST)
DELIVERABLES = ["plan", "summary"]
TYPES = ["中小学", "社区教育中心", "老年大学"]


def random_value(rng: random.Random) -> CellValue:
    # Repeated small numbers make ties and even counts (the mean of the two middle values) common;
    # fractions, large and negative numbers land in the buckets that must be walked.
    return rng.choice(
        [None, "很多", rng.randint(0, 6) * 10, rng.randint(0, 500), float(rng.randint(0, 50)) / 4,
         rng.choice([-3, -0.5, 1023.5, 1024, 5000.25, 10**7, 2.5e9])]
    )  # fmt: skip


def random_tables(rng: random.Random, deliverable: str) -> TableData:
    tables: TableData = {}
    if deliverable == "plan" or rng.random() < 0.2:  # sometimes activities in both deliverables
        tables["activities"] = [
            {"expected_participants": random_value(rng)} for _ in range(rng.randint(0, 5))
        ]
    if deliverable == "summary":
        tables["statistics"] = [
            {"total_sessions": random_value(rng), "total_participants": random_value(rng)}
        ]
    return tables


def random_roster(rng: random.Random, units: int) -> Roster:
    # U000 … U(units-2): the last unit that submits is never in the roster (a store older than an edit).
    return Roster(
        units=[Unit(code=f"U{i:03d}", name=f"单位{i}", type=rng.choice(TYPES)) for i in range(units - 1)]
    )


def submit_random(store: Store, rng: random.Random, units: int, step: int) -> None:
    unit, deliverable = f"U{rng.randrange(units):03d}", rng.choice(DELIVERABLES)
    sub = ParsedSubmission(
        unit=unit, deliverable=deliverable, tables=random_tables(rng, deliverable),
        source=f"inbox/{unit}.xlsx", source_kind="file",
        status="submitted" if rng.random() < 0.85 else "draft",
    )  # fmt: skip
    report = ValidationReport(file=sub.source, unit=unit, deliverable=deliverable, valid=True)
    store.add_version(sub, report, received_at=T0 + dt.timedelta(minutes=step), late=False)


def oracle_median(
    figures: PeerFigures, which: str, roster: Roster, unit: Unit, min_peers: int
) -> PeerMedian | None:
    source = figures.per_session if which == "session" else figures.per_activity
    try:
        return peer_median(source, roster, unit, min_peers)
    except Exception:  # statistics.median of nothing (min_peers 0 and no peers): the index says None
        return None


def check_all(store: Store, roster: Roster) -> int:
    """Every roster unit's medians from the store's index equal the oracle's; returns how many were
    compared that were not None (so a caller can check the comparison was not vacuous)."""
    stats = PeerStats(store, DELIVERABLES)
    oracle = PeerStats(store, DELIVERABLES)
    figures = oracle.figures  # every unit's figures, read the way they were before the index
    compared = 0
    for unit in roster.units:
        ctx = stats.context_for(unit.code)
        assert ctx.planned_activities == oracle.planned.get(unit.code)
        source = ctx.peers
        assert source is not None and not isinstance(source, PeerFigures)  # the index answered
        for which in ("activity", "session"):
            for min_peers in (0, 1, 3, 5):
                got = source.median(which, roster, unit, min_peers)  # type: ignore[arg-type]
                want = oracle_median(figures, which, roster, unit, min_peers)
                assert got == want, (unit.code, which, min_peers)
                compared += got is not None
    return compared


def shards_disagree(objects: Objects) -> list[str]:
    """What the peer shards hold that differs from the shards recomputed from scratch out of the unit
    objects (their entries and types), and unit objects whose `applied` is not what their entries say:
    empty when incremental = from scratch. For the layout of functions/adapters/store/peer_shards.py."""
    got = objects.get(("mark",))
    assert got is not None, "the shards were never built"
    mark = json.loads(got[0])
    assert mark["state"] == "ready", mark
    gen = str(mark["gen"])
    want_shards: dict[Key, tuple[int, Counter[int]]] = {}
    want_vals: dict[Key, Counter[float]] = {}
    problems: list[str] = []
    units = objects.keys(("unit",))
    for key, held in zip(units, objects.get_many(units), strict=True):
        assert held is not None
        doc = json.loads(held[0])
        utype = doc["type"] if doc["type"] is not None else NO_TYPE
        values = contributions(doc["entries"])
        if doc["applied"] != {"gen": int(gen), "type": utype, "values": values}:
            problems.append(f"{key[1]}: applied {doc['applied']} but entries give {utype} {values}")
        for group, kinds in values.items():
            for kind, found in kinds.items():
                shard: Key = ("shard", gen, kind, group, utype)
                n, buckets = want_shards.get(shard, (0, Counter()))
                for v in found:
                    buckets[bucket_of(v)] += 1
                    if bucket_of(v) % 2 or not 0 <= bucket_of(v) < 2048:
                        want_vals.setdefault(("vals", *shard[1:], str(bucket_of(v))), Counter())[v] += 1
                want_shards[shard] = (n + 1, buckets)
    for key in objects.keys(("shard", gen)):
        held = objects.get(key)
        doc = json.loads(held[0]) if held is not None else {}
        n, buckets = want_shards.pop(key, (0, Counter()))
        if doc.get("units", 0) != n or doc.get("buckets", []) != sorted([b, c] for b, c in buckets.items()):
            problems.append(
                f"{key}: {doc.get('units')} units {doc.get('buckets')}, from scratch {n} {buckets}"
            )
    problems += [f"{key}: missing, from scratch {value}" for key, value in want_shards.items()]
    for key in objects.keys(("vals", gen)):
        held = objects.get(key)
        doc = json.loads(held[0]) if held is not None else {}
        counts = want_vals.pop(key, Counter())
        if doc.get("values", []) != sorted([v, c] for v, c in counts.items()):
            problems.append(f"{key}: {doc.get('values')}, from scratch {counts}")
    problems += [f"{key}: missing, from scratch {value}" for key, value in want_vals.items()]
    return problems
