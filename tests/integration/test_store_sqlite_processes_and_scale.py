"""The SQLite store at scale and across processes: the latest of 20,000 units and deliverables, two writer processes.

How long latest_versions takes at this size is measured by bench/bench_store_sqlite.py, not asserted here
(a busy machine would fail it); that it is one query is tests/unit/test_store_sqlite.py's concern.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.store.sqlite import SqliteStore
from tests.helpers.store import T0, add, report, submission


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "campaign" / "huizong.sqlite3"


@pytest.mark.slow
def test_latest_versions_of_twenty_thousand_groups(db: Path) -> None:
    with SqliteStore(db) as store:
        for n in range(3):
            for u in range(10_000):
                for deliverable in ("plan", "summary"):
                    sub = submission(f"U{u:05d}", deliverable, n=n, status="draft" if n == 2 else "submitted")
                    store.add_version(sub, report(sub), received_at=T0, late=False)

        latest = store.latest_versions()
        submitted = store.latest_versions(status="submitted")

    assert [v.seq for v in latest] == [3] * 20_000
    assert [v.seq for v in submitted] == [2] * 20_000
    assert [(v.unit, v.deliverable) for v in submitted][:3] == [
        ("U00000", "plan"),
        ("U00000", "summary"),
        ("U00001", "plan"),
    ]


def _process_writer(path: str, worker: int, start: Any, results: Any) -> None:
    """Runs in a child process: versions for one shared unit, and a race for the same claims."""
    start.wait(timeout=60)
    store = SqliteStore(Path(path))
    seqs = [add(store, submission(n=1000 * worker + i))[0].seq for i in range(25)]
    same = [add(store, submission("shared", "plan", n=0))[1]]
    won = [k for k in range(25) if store.claim(f"remind/{k}", {"by": worker}, at=T0)]
    store.close()
    results.put((worker, seqs, same, won))


def test_two_processes_writing_the_same_file(db: Path) -> None:
    # No file yet: the two children also race to create it and switch it to WAL.
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(2)
    results = ctx.Queue()
    procs = [ctx.Process(target=_process_writer, args=(str(db), w, start, results)) for w in range(2)]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0

    all_seqs = sorted(seq for _, seqs, _, _ in got for seq in seqs)
    assert all_seqs == list(range(1, 51))
    assert sum(created for _, _, same, _ in got for created in same) == 1
    won = sorted(k for _, _, _, ks in got for k in ks)
    assert won == list(range(25))
    with SqliteStore(db) as store:
        assert len({v.content_hash for v in store.history("U001", "plan")}) == 50
        assert len(store.history("shared", "plan")) == 1
        assert {c.payload["by"] for c in store.claims("remind/")} <= {0, 1}
