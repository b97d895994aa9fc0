"""Benchmark: the SQLite store's latest versions at scale, writers in parallel, and a writer waiting for a lock.

What the tests check for correctness only (tests/integration/test_store_sqlite_processes_and_scale.py,
tests/unit/test_store_sqlite.py), timed here, because a timed assertion fails on a busy machine:

- latest versions of 10,000 units x 2 deliverables x 3 versions (20,000 groups), all and submitted only;
- threads writing versions together, half through one shared store, half through their own handles;
- a write blocked by a lock another connection holds for `--hold` seconds: how long it waited.

    .venv/bin/python bench/bench_store_sqlite.py [--units 10000] [--threads 8] [--writes 50] [--hold 0.5]

Prints a Markdown table; the database lives in a temporary folder, removed afterwards.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from functions.adapters.store.sqlite import SqliteStore  # noqa: E402
from tests.helpers.store import T0, add, report, run_together, submission  # noqa: E402


def latest_at_scale(db: Path, units: int) -> list[tuple[str, str, str]]:
    with SqliteStore(db) as store:
        t0 = time.perf_counter()
        for n in range(3):
            for u in range(units):
                for deliverable in ("plan", "summary"):
                    sub = submission(f"U{u:05d}", deliverable, n=n, status="draft" if n == 2 else "submitted")
                    store.add_version(sub, report(sub), received_at=T0, late=False)
        filled = time.perf_counter() - t0
        t0 = time.perf_counter()
        latest = store.latest_versions()
        every = time.perf_counter() - t0
        t0 = time.perf_counter()
        submitted = store.latest_versions(status="submitted")
        only = time.perf_counter() - t0
    groups = units * 2
    assert len(latest) == len(submitted) == groups, (len(latest), len(submitted))
    versions = groups * 3
    return [
        (
            "add_version, one after another",
            f"{versions:,} versions",
            f"{filled:.1f} s ({versions / filled:,.0f}/s)",
        ),
        ("latest_versions()", f"{groups:,} groups ({units:,} units × 2)", f"{every:.2f} s"),
        ('latest_versions(status="submitted")', f"{groups:,} groups ({units:,} units × 2)", f"{only:.2f} s"),
    ]


def writers_together(db: Path, threads: int, writes: int) -> list[tuple[str, str, str]]:
    shared = SqliteStore(db)
    own = [SqliteStore(db) for _ in range(threads - threads // 2)]
    handles = [shared] * (threads // 2) + own

    def work(t: int) -> None:
        for i in range(writes):
            add(handles[t], submission(f"T{t}", "plan", n=i))  # a unit of its own
            add(handles[t], submission("shared", "plan", n=1000 * t + i))  # one unit for everyone

    try:
        t0 = time.perf_counter()
        run_together(threads, work)
        seconds = time.perf_counter() - t0
        assert len(shared.history("shared", "plan")) == threads * writes
    finally:
        for store in {id(h): h for h in handles}.values():
            store.close()
    total = threads * writes * 2
    return [
        (
            f"{threads} threads writing together ({threads // 2} on one store, the rest on their own)",
            f"{total:,} versions",
            f"{seconds:.2f} s ({total / seconds:,.0f}/s)",
        )
    ]


def lock_wait(db: Path, hold: float) -> list[tuple[str, str, str]]:
    locked, writing = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        blocker = sqlite3.connect(db, isolation_level=None, timeout=10)
        blocker.execute("BEGIN IMMEDIATE")
        locked.set()
        writing.wait(timeout=10)
        time.sleep(hold)
        blocker.execute("COMMIT")
        blocker.close()

    with SqliteStore(db) as store:
        holder = threading.Thread(target=hold_the_write_lock)
        holder.start()
        assert locked.wait(timeout=10)
        writing.set()
        t0 = time.perf_counter()
        version, created = add(store, submission("lock", "plan", n=1))
        waited = time.perf_counter() - t0
        holder.join()
    assert created and version.seq == 1
    return [
        ("a write while another connection holds the lock", f"held {hold:.1f} s", f"waited {waited:.2f} s")
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--writes", type=int, default=50, help="versions per thread, for each of its two units")
    ap.add_argument("--hold", type=float, default=0.5, help="seconds the other connection holds the lock")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="huizong-bench-sqlite-") as tmp:
        base = Path(tmp)
        rows = latest_at_scale(base / "scale.sqlite3", a.units)
        rows += writers_together(base / "threads.sqlite3", a.threads, a.writes)
        rows += lock_wait(base / "lock.sqlite3", a.hold)
    print("| measurement | size | time |")
    print("|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
