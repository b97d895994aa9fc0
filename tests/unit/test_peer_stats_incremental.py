"""Issue 13 §1: peer figures kept incrementally by the store equal those recomputed from every version.

The oracle below is the algorithm PeerStats ran before the change (every latest submitted version
decoded for each submission), kept here verbatim so that a drift of the incremental path shows.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from functions.adapters.store.memory import MemoryStore
from functions.ports import Store
from functions.services.intake.peers import PeerStats
from schemas.report import ValidationReport
from schemas.submission import CellValue, ParsedSubmission, TableData

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2022, 11, 20, 9, 30, tzinfo=CST)
DELIVERABLES = ["plan", "summary"]


def from_scratch(store: Store) -> tuple[dict[str, int], dict[str, float], dict[str, list[float]]]:
    per_activity: dict[str, list[float]] = {}
    per_session: dict[str, float] = {}
    planned: dict[str, int] = {}
    for v in store.latest_versions(status="submitted"):
        acts = v.tables.get("activities")
        if acts is not None:
            planned[v.unit] = len(acts)
            per_activity.setdefault(v.unit, []).extend(
                float(n) for row in acts if isinstance(n := row.get("expected_participants"), int | float)
            )
        stats = v.tables.get("statistics")
        if stats:
            total, people = stats[0].get("total_sessions"), stats[0].get("total_participants")
            if isinstance(total, int | float) and isinstance(people, int | float) and total > 0:
                per_session[v.unit] = people / total
    return planned, per_session, per_activity


def incremental(store: Store) -> tuple[dict[str, int], dict[str, float], dict[str, list[float]]]:
    peers = PeerStats(store, DELIVERABLES)
    return (
        dict(peers.planned),
        dict(peers.figures.per_session),
        {u: list(v) for u, v in peers.figures.per_activity.items()},
    )


def _value(rng: random.Random) -> CellValue:
    return rng.choice([None, "很多", rng.randint(0, 500), float(rng.randint(0, 50)) / 4, 0])


def random_tables(rng: random.Random) -> TableData:
    tables: TableData = {}
    if rng.random() < 0.7:
        tables["activities"] = [
            {"name": f"活动{i}", "expected_participants": _value(rng)} for i in range(rng.randint(0, 4))
        ]
    if rng.random() < 0.6:
        tables["statistics"] = (
            [{"total_sessions": _value(rng), "total_participants": _value(rng)}] if rng.random() < 0.9 else []
        )
    return tables


def random_submission(rng: random.Random) -> ParsedSubmission:
    unit = f"U{rng.randint(0, 7):03d}"
    return ParsedSubmission(
        unit=unit,
        deliverable=rng.choice(DELIVERABLES),
        tables=random_tables(rng),
        source=f"inbox/{unit}.xlsx",
        source_kind="file",
        status="submitted" if rng.random() < 0.8 else "draft",
    )


def _report(sub: ParsedSubmission) -> ValidationReport:
    return ValidationReport(file=sub.source, unit=sub.unit, deliverable=sub.deliverable, valid=True)


def _normalised(figures: tuple[Any, ...]) -> tuple[Any, ...]:
    planned, per_session, per_activity = figures
    # The median does not depend on the order of a unit's pooled values.
    return planned, per_session, {u: sorted(v) for u, v in per_activity.items()}


@pytest.mark.parametrize("seed", range(40))
def test_incremental_equals_from_scratch_over_random_histories(seed: int) -> None:
    rng = random.Random(seed)
    store = MemoryStore()
    for step in range(rng.randint(1, 60)):
        sub = random_submission(rng)
        store.add_version(sub, _report(sub), received_at=T0 + dt.timedelta(minutes=step), late=False)
        if rng.random() < 0.2:  # checked part-way, as each submission is
            assert _normalised(incremental(store)) == _normalised(from_scratch(store))
    assert _normalised(incremental(store)) == _normalised(from_scratch(store))


def test_a_replaced_version_no_longer_counts() -> None:
    store = MemoryStore()
    first = ParsedSubmission(
        unit="U001",
        deliverable="summary",
        tables={"statistics": [{"total_sessions": 10, "total_participants": 500}]},
        source="a.xlsx",
        source_kind="file",
    )
    store.add_version(first, _report(first), received_at=T0, late=False)
    assert PeerStats(store, DELIVERABLES).figures.per_session == {"U001": 50.0}
    second = first.model_copy(
        update={"tables": {"statistics": [{"total_sessions": 0, "total_participants": 5}]}}
    )
    store.add_version(second, _report(second), received_at=T0, late=False)
    assert PeerStats(store, DELIVERABLES).figures.per_session == {}
