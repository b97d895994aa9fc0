"""A store written before issue 13 (versions, no peer entries) still gives the same peer figures.

The old layout is the same SQLite schema without the meta rows of peer entries: the file is written
with add_version and those rows are then deleted, exactly what a file of the earlier huizong holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from pathlib import Path

from functions.adapters.store.sqlite import SqliteStore
from functions.services.intake.peers import PeerStats
from schemas.report import ValidationReport
from schemas.submission import ParsedSubmission

T0 = dt.datetime(2022, 11, 20, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _old_file(path: Path) -> None:
    store = SqliteStore(path)
    for i, people in enumerate((500, 2000, 800)):
        sub = ParsedSubmission(
            unit=f"U{i:03d}",
            deliverable="summary",
            tables={"statistics": [{"total_sessions": 10, "total_participants": people}]},
            source=f"U{i:03d}.xlsx",
            source_kind="file",
        )
        report = ValidationReport(file=sub.source, unit=sub.unit, deliverable="summary", valid=True)
        store.add_version(sub, report, received_at=T0, late=False)
    store.close()
    with sqlite3.connect(path) as conn:  # what the earlier huizong never wrote
        conn.execute("DELETE FROM meta")
    conn.close()


def test_an_old_file_is_rebuilt_once_then_read_from_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "huizong.sqlite3"
    _old_file(path)
    store = SqliteStore(path)
    assert store.peer_group("summary") == {}
    peers = PeerStats(store, ["plan", "summary"])
    assert dict(peers.figures.per_session) == {"U000": 50.0, "U001": 200.0, "U002": 80.0}
    # The entries are now in the file: the next run reads them, not the versions.
    assert set(store.peer_group("summary")) == {"U000", "U001", "U002"}
    store.close()


def test_an_old_file_opened_read_only_is_not_written(tmp_path: Path) -> None:
    path = tmp_path / "huizong.sqlite3"
    _old_file(path)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    store = SqliteStore(path, read_only=True)
    peers = PeerStats(store, ["summary"])
    assert dict(peers.figures.per_session) == {"U000": 50.0, "U001": 200.0, "U002": 80.0}
    store.close()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def _without_summaries(path: Path) -> None:
    """The versions table exactly as the earlier huizong created it: no summary_json column."""
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE versions DROP COLUMN summary_json")
    conn.close()


def _plan(unit: str, rows: int) -> ParsedSubmission:
    acts = [{"name": f"活动{i}", "expected_participants": 10 * i} for i in range(rows)]
    materials = [{"work_plan_url": "https://example.org/p"}]
    return ParsedSubmission(
        unit=unit,
        deliverable="plan",
        tables={"activities": acts, "plan_materials": materials},
        source=f"{unit}.xlsx",
        source_kind="file",
    )


def test_versions_stored_before_summaries_read_as_summaries(tmp_path: Path) -> None:
    path = tmp_path / "huizong.sqlite3"
    store = SqliteStore(path)
    report = ValidationReport(file="U001.xlsx", unit="U001", deliverable="plan", valid=True)
    store.add_version(_plan("U001", 4), report, received_at=T0, late=False)
    store.close()
    _without_summaries(path)
    expected = {"plan_materials": [{"work_plan_url": "https://example.org/p"}]}

    read_only = SqliteStore(path, read_only=True)  # may not add the column
    assert [v.tables for v in read_only.iter_latest_summaries()] == [expected]
    read_only.close()

    store = SqliteStore(path)  # a writable open adds the column; the old row has no summary yet
    assert [v.tables for v in store.iter_latest_summaries()] == [expected]
    store.add_version(_plan("U002", 3), report, received_at=T0, late=False)
    assert [v.tables for v in store.iter_latest_summaries()] == [expected, expected]
    assert len(store.latest("U001", "plan").tables["activities"]) == 4  # type: ignore[union-attr]
    store.close()


def test_a_figure_sqlite_json_refuses_still_reads_back(tmp_path: Path) -> None:
    # SQLite's JSON functions reject NaN/Infinity, which Python's json writes; the group is then read
    # entry by entry rather than failing the submission.
    store = SqliteStore(tmp_path / "huizong.sqlite3")
    store.put_peer_entry("plan", "U001", 1, {"per_activity": [float("inf")], "planned": 1})
    store.put_peer_entry("plan", "U002", 1, {"per_activity": [3.0], "planned": 1})
    assert store.peer_group("plan") == {
        "U001": {"per_activity": [float("inf")], "planned": 1},
        "U002": {"per_activity": [3.0], "planned": 1},
    }
    store.close()
