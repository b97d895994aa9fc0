"""Issue 13 §1, next slice: the SQLite store's ordered peer index gives the medians peer_median gives.

The oracle is `peer_median` over every unit's figures (what PeerStats handed the validator before the
index); the index answers the same question with a count and an OFFSET in SQLite. Random histories
(replaced versions, drafts, units outside the roster, values that are not numbers) and random rosters
whose types change between checks, for both figures, every unit, and several `min_peers`.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from functions.adapters.store.sqlite import SqliteStore
from functions.services.intake.peers import PeerStats
from functions.validate.peer_median import PeerFigures, PeerMedian, peer_median
from schemas.report import ValidationReport
from schemas.roster import Roster, Unit
from schemas.submission import CellValue, ParsedSubmission, TableData

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2022, 11, 20, 9, 30, tzinfo=CST)
DELIVERABLES = ["plan", "summary"]
TYPES = ["中小学", "社区教育中心", "老年大学"]


def _value(rng: random.Random) -> CellValue:
    # Repeated small numbers make ties and even counts (the mean of the two middle values) common;
    # fractions, large and negative numbers land in the buckets that must be walked.
    return rng.choice(
        [None, "很多", rng.randint(0, 6) * 10, rng.randint(0, 500), float(rng.randint(0, 50)) / 4,
         rng.choice([-3, -0.5, 1023.5, 1024, 5000.25, 10**7, 2.5e9])]
    )  # fmt: skip


def _tables(rng: random.Random, deliverable: str) -> TableData:
    tables: TableData = {}
    if deliverable == "plan" or rng.random() < 0.2:  # sometimes activities in both deliverables
        tables["activities"] = [{"expected_participants": _value(rng)} for _ in range(rng.randint(0, 5))]
    if deliverable == "summary":
        tables["statistics"] = [{"total_sessions": _value(rng), "total_participants": _value(rng)}]
    return tables


def _roster(rng: random.Random, units: int) -> Roster:
    # U000 … U(units-2): the last unit that submits is never in the roster (a store older than an edit).
    return Roster(
        units=[Unit(code=f"U{i:03d}", name=f"单位{i}", type=rng.choice(TYPES)) for i in range(units - 1)]
    )


def _submit(store: SqliteStore, rng: random.Random, units: int, step: int) -> None:
    unit, deliverable = f"U{rng.randrange(units):03d}", rng.choice(DELIVERABLES)
    sub = ParsedSubmission(
        unit=unit, deliverable=deliverable, tables=_tables(rng, deliverable), source=f"inbox/{unit}.xlsx",
        source_kind="file", status="submitted" if rng.random() < 0.85 else "draft",
    )  # fmt: skip
    report = ValidationReport(file=sub.source, unit=unit, deliverable=deliverable, valid=True)
    store.add_version(sub, report, received_at=T0 + dt.timedelta(minutes=step), late=False)


def _oracle(
    figures: PeerFigures, which: str, roster: Roster, unit: Unit, min_peers: int
) -> PeerMedian | None:
    source = figures.per_session if which == "session" else figures.per_activity
    try:
        return peer_median(source, roster, unit, min_peers)
    except Exception:  # statistics.median of nothing (min_peers 0 and no peers): the index says None
        return None


def _check_all(store: SqliteStore, roster: Roster) -> int:
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
                assert got == _oracle(figures, which, roster, unit, min_peers), (unit.code, which, min_peers)
                compared += got is not None
    return compared


@pytest.mark.parametrize("seed", range(25))
def test_index_medians_equal_peer_median_over_random_histories(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    units = rng.randint(4, 14)
    store = SqliteStore(tmp_path / "h.sqlite3")
    roster = _roster(rng, units)
    compared = 0
    for step in range(rng.randint(5, 70)):
        _submit(store, rng, units, step)
        if rng.random() < 0.15:
            compared += _check_all(store, roster)
        if rng.random() < 0.05:
            roster = _roster(rng, units)  # the organiser edits the roster: types change, the index follows
    compared += _check_all(store, roster)
    if seed == 0:
        assert compared > 0  # the comparison is not vacuous


def test_a_store_without_the_index_is_indexed_from_its_entries(tmp_path: Path) -> None:
    # Versions stored before the index existed: the first median builds it from the peer entries.
    store = SqliteStore(tmp_path / "h.sqlite3")
    rng = random.Random(7)
    for step in range(40):
        _submit(store, rng, 10, step)
    assert store.get_meta("peers:index:roster") is None
    assert _check_all(store, _roster(random.Random(1), 10)) > 0
    assert store.get_meta("peers:index:roster") is not None


def test_a_nan_figure_falls_back_to_every_entry(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "h.sqlite3")
    rng = random.Random(3)
    for step in range(20):
        _submit(store, rng, 6, step)
    roster = _roster(rng, 6)
    stats = PeerStats(store, DELIVERABLES)
    assert not isinstance(stats.context_for("U000").peers, PeerFigures)
    stats.context_for("U000").peers.median("activity", roster, roster.units[0], 1)  # type: ignore[union-attr]
    store.put_peer_entry(
        "plan", "U001", 99, {"planned": 1, "per_activity": [float("nan")], "per_session": None}
    )
    # SQLite cannot hold the NaN, so the index steps aside and the figures are read as before.
    assert isinstance(PeerStats(store, DELIVERABLES).context_for("U000").peers, PeerFigures)


def test_buckets_follow_the_order_of_values() -> None:
    from functions.adapters.store.sqlite import _bucket

    rng = random.Random(5)
    values = [rng.uniform(-1e7, 1e7) for _ in range(2000)] + [rng.uniform(-2, 1100) for _ in range(2000)]
    values += [float(n) for n in range(-5, 1030)] + [float("inf"), float("-inf"), 1e308, -1e308, 0.0]
    ordered = sorted(values)
    buckets = [_bucket(v) for v in ordered]
    assert buckets == sorted(buckets)
    assert len({_bucket(float(n)) for n in range(1024)}) == 1024  # whole numbers below 1024: one each


def test_a_read_only_store_uses_the_index_built_for_its_roster_and_never_writes(tmp_path: Path) -> None:
    # `huizong validate` opens the store read-only: the index serves when typed for this roster;
    # for another roster the figures are read as before, and nothing is written either way.
    path = tmp_path / "h.sqlite3"
    writer = SqliteStore(path)
    rng = random.Random(11)
    for step in range(60):
        _submit(writer, rng, 12, step)
    roster, other = _roster(random.Random(1), 12), _roster(random.Random(2), 12)
    _check_all(writer, roster)  # builds the index for `roster`
    mark = writer.get_meta("peers:index:roster")
    writer.close()
    before = path.read_bytes()
    reader = SqliteStore(path, read_only=True)
    oracle = PeerStats(reader, DELIVERABLES).figures
    for r in (roster, other):
        for unit in r.units:
            peers = PeerStats(reader, DELIVERABLES).context_for(unit.code).peers
            assert peers is not None and not isinstance(peers, PeerFigures)
            for which in ("activity", "session"):
                got = peers.median(which, r, unit, 3)  # type: ignore[arg-type]
                assert got == _oracle(oracle, which, r, unit, 3), (unit.code, which)
    assert reader.get_meta("peers:index:roster") == mark
    reader.close()
    assert path.read_bytes() == before
