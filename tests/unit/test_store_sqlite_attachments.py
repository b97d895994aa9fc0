"""SQLite files written before evidence files existed open, keep their versions and gain attachments."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from functions.adapters.store.sqlite import SqliteStore
from tests.helpers.store import add, attachment_ref, submission

# The tables of the schema before issue 12 §4 (schema version 1 then and now: only tables were added).
PREVIOUS_TABLES = {"schema_version", "versions", "claims", "meta"}


def _previous_schema_file(path: Path) -> str:
    """A store file as the previous huizong left it: one version, none of the new tables."""
    with SqliteStore(path) as store:
        version, _ = add(store, submission("U001", "summary", n=1))
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE attachments")
    conn.execute("DROP TABLE blobs")
    conn.commit()
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert tables == PREVIOUS_TABLES
    return version.id


def test_a_previous_file_read_only_has_no_attachments_and_no_error(tmp_path: Path) -> None:
    path = tmp_path / "huizong.sqlite3"
    old_id = _previous_schema_file(path)
    with SqliteStore(path, read_only=True) as store:
        assert [v.id for v in store.history("U001", "summary")] == [old_id]
        assert store.attachments(old_id) == []
        assert store.get_blob("a" * 64) is None
        assert store.units_with_blob("a" * 64) == set()


def test_opening_a_previous_file_migrates_it_and_keeps_its_versions(tmp_path: Path) -> None:
    path = tmp_path / "huizong.sqlite3"
    old_id = _previous_schema_file(path)
    data = b"\xff\xd8\xff photo bytes"
    ref = attachment_ref("photos", data, kind="jpg", name="活动.jpg")
    with SqliteStore(path) as store:
        assert [v.id for v in store.history("U001", "summary")] == [old_id]
        store.put_blob(ref.sha256, data)
        new, created = add(store, submission("U001", "summary", n=1, attachments=[ref]))
        assert created and new.seq == 2
    # Written and read back through a new connection on the same file.
    with SqliteStore(path, read_only=True) as store:
        assert [v.seq for v in store.history("U001", "summary")] == [1, 2]
        assert store.attachments(new.id) == [ref] and store.attachments(old_id) == []
        assert store.get_blob(ref.sha256) == data
        assert store.units_with_blob(ref.sha256) == {"U001"}
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == 1
    conn.close()
