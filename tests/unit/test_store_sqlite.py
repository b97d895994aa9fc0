"""What only the SQLite store has: a file, a schema version, connections, threads and locks.

Other processes on the same file, and 20,000 units: tests/integration/test_store_sqlite_processes_and_scale.py.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from functions.adapters.store.sqlite import SCHEMA_VERSION, SchemaVersionError, SqliteStore, StoreClosedError
from tests.helpers.store import T0, add, run_together, submission


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "campaign" / "huizong.sqlite3"


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, timeout=10)


def test_everything_persists_in_the_file_across_instances(db: Path) -> None:
    with SqliteStore(db) as first:
        v1, _ = add(first, submission(n=1))
        v2, _ = add(first, submission("U002", "summary", n=2, status="draft"))
        first.claim("remind/U001", {"result": "sent"}, at=T0)
        first.set_meta("cursor", "42")

    assert db.is_file()
    with SqliteStore(db) as second:
        assert second.latest_versions() == [v1, v2]
        assert second.history("U001", "plan") == [v1]
        assert [(c.key, c.payload, c.claimed_at) for c in second.claims()] == [
            ("remind/U001", {"result": "sent"}, T0)
        ]
        assert second.get_meta("cursor") == "42"
        v3, created = add(second, submission(n=3))
        assert created and v3.seq == 2


def test_the_file_is_in_wal_mode_with_the_schema_version(db: Path) -> None:
    SqliteStore(db).close()
    SqliteStore(db).close()  # reopening must not add a second schema row

    conn = _raw(db)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    finally:
        conn.close()


def test_a_file_from_a_newer_huizong_is_refused(db: Path) -> None:
    SqliteStore(db).close()
    conn = _raw(db)
    conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.close()

    with pytest.raises(SchemaVersionError, match="升级"):
        SqliteStore(db)


def test_the_database_refuses_a_duplicate_seq(db: Path) -> None:
    with SqliteStore(db) as store:
        add(store, submission(n=1))
    conn = _raw(db)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(
                "INSERT INTO versions SELECT 'other-id', unit, deliverable, seq, received_at, source_kind, "
                "source, content_hash, status, late, tables_json, report_json, summary_json FROM versions"
            )
    finally:
        conn.close()


def test_latest_versions_is_one_query_however_many_units(db: Path) -> None:
    with SqliteStore(db) as store:
        for u in range(30):
            for n in range(2):
                add(store, submission(f"U{u:03d}", "plan", n=n))
        statements: list[str] = []
        store._conn().set_trace_callback(statements.append)

        latest = store.latest_versions(status="submitted")
        store._conn().set_trace_callback(None)

    assert len(latest) == 30
    assert len(statements) == 1


def test_threads_on_one_instance_and_on_their_own_instances_write_together(db: Path) -> None:
    shared = SqliteStore(db)
    own = [SqliteStore(db) for _ in range(4)]
    handles = [shared] * 4 + own

    def work(t: int) -> None:
        for i in range(10):
            add(handles[t], submission(n=100 * t + i))
            add(handles[t], submission(f"U{t}", "plan", n=i))

    try:
        run_together(len(handles), work)
        assert [v.seq for v in shared.history("U001", "plan")] == list(range(1, 81))
        assert all([v.seq for v in shared.history(f"U{t}", "plan")] == list(range(1, 11)) for t in range(8))
    finally:
        for store in {id(h): h for h in handles}.values():
            store.close()


def test_a_writer_waits_for_a_lock_held_elsewhere(db: Path) -> None:
    locked, writing, releasing = threading.Event(), threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        blocker = _raw(db)
        blocker.execute("BEGIN IMMEDIATE")
        locked.set()
        writing.wait(timeout=10)
        time.sleep(0.3)  # the writer is now (almost surely) blocked on the lock
        releasing.set()  # before COMMIT: a write that got through before this did not wait
        blocker.execute("COMMIT")
        blocker.close()

    with SqliteStore(db) as store:
        holder = threading.Thread(target=hold_the_write_lock)
        holder.start()
        assert locked.wait(timeout=10)
        writing.set()
        version, created = add(store, submission(n=1))
        # It waited for the lock instead of failing, and got through only once the lock was let go.
        assert releasing.is_set()
        holder.join()

    assert created and version.seq == 1
    # How long such a wait takes: bench/bench_store_sqlite.py (a timed assertion fails on a busy machine).


def test_a_lock_held_past_the_busy_timeout_fails_the_write_cleanly(db: Path) -> None:
    with SqliteStore(db, busy_timeout=0.1) as store:
        blocker = _raw(db)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                add(store, submission(n=1))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                store.claim("k", {}, at=T0)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()

        # Nothing half-done was left behind, and the connection is usable again.
        assert store.history("U001", "plan") == []
        assert add(store, submission(n=1))[0].seq == 1
        assert store.claim("k", {}, at=T0) is True


def test_connections_of_finished_threads_are_closed(db: Path) -> None:
    with SqliteStore(db) as store:
        for _ in range(6):
            t = threading.Thread(target=store.get_meta, args=("x",))
            t.start()
            t.join()
        store.get_meta("x")
        # This thread's connection, plus at most the last finished thread's (pruned on the next open).
        assert len(store._connections) <= 2


def test_a_closed_store_refuses_work(db: Path) -> None:
    store = SqliteStore(db)
    store.close()
    with pytest.raises(StoreClosedError):
        store.latest("U001", "plan")
    with pytest.raises(StoreClosedError):
        store.claim("k", {}, at=dt.datetime(2022, 1, 1, tzinfo=dt.UTC))
