"""A damaged, unopenable or read-only SQLite store (issue 11 §2.12): the error names the file and what to
do, in the campaign's language; reading commands open the store for reading only."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
import yaml

from functions.adapters.store.sqlite import SqliteStore
from functions.bootstrap import SQLITE_NAME, open_app
from functions.config.loading import ConfigError
from functions.store_errors import StoreUnavailable
from tests.helpers.store import T0, add, submission

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False


def _english(folder: Path) -> None:
    path = folder / "campaign.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["language"] = "en"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _open_error(folder: Path, **kw: bool) -> str:
    with pytest.raises(ConfigError) as info:
        open_app(folder, **kw)
    return str(info.value)


@pytest.mark.parametrize("read_only", [False, True])
def test_a_file_that_is_not_a_database_is_named_with_what_to_do(wujin_dir: Path, read_only: bool) -> None:
    db = wujin_dir / SQLITE_NAME
    db.write_bytes(b"this is not sqlite, it is a note someone saved here\n" * 200)
    text = _open_error(wujin_dir, read_only=read_only)
    assert str(db) in text
    assert "已损坏" in text and "备份" in text and "huizong.sqlite3.damaged" in text
    assert "unable to open database file" not in text.split("（")[0]
    # Nothing was changed: the damaged file is kept as it was for whoever investigates it.
    assert db.read_bytes().startswith(b"this is not sqlite")


def test_the_message_is_in_an_english_campaigns_language(wujin_dir: Path) -> None:
    _english(wujin_dir)
    (wujin_dir / SQLITE_NAME).write_bytes(b"\x00" * 4096)
    text = _open_error(wujin_dir)
    assert text.startswith(str(wujin_dir / SQLITE_NAME) + ": the database file is damaged")
    assert "restore it from a backup" in text


def test_a_truncated_database_is_reported_as_damaged(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    with SqliteStore(db) as store:
        for n in range(30):
            add(store, submission(unit=f"U{n:03d}", n=n))
    data = db.read_bytes()
    # Keep the header, scramble the pages after it: the schema or the data pages no longer parse.
    db.write_bytes(data[:100] + bytes(len(data) - 100))
    with pytest.raises(StoreUnavailable) as info:
        store = SqliteStore(db)
        store.latest_versions()
    assert info.value.problem == "damaged" and info.value.path == str(db)


def test_a_database_of_another_program_is_not_taken_for_ours(tmp_path: Path) -> None:
    db = tmp_path / "other.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE notes (t TEXT)")
    conn.close()
    with pytest.raises(StoreUnavailable) as info:
        SqliteStore(db, read_only=True)
    assert info.value.problem == "damaged"


def test_a_folder_in_place_of_the_file_cannot_be_opened(wujin_dir: Path) -> None:
    (wujin_dir / SQLITE_NAME).mkdir()
    text = _open_error(wujin_dir)
    assert str(wujin_dir / SQLITE_NAME) in text and "无法打开数据库文件" in text


def test_read_only_never_creates_the_file(wujin_dir: Path) -> None:
    app = open_app(wujin_dir, read_only=True)
    assert app.store.latest_versions() == []
    assert app.store.get_meta("anything") is None
    assert app.store.claims() == []
    assert not (wujin_dir / SQLITE_NAME).exists()


def test_read_only_reads_what_was_written_and_refuses_writes(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    with SqliteStore(db) as store:
        add(store, submission(unit="U001", n=1))
        add(store, submission(unit="U001", n=2), minutes=5)
    before = db.read_bytes()
    with SqliteStore(db, read_only=True) as ro:
        latest = ro.latest("U001", "plan")
        assert latest is not None and latest.seq == 2
        assert [v.seq for v in ro.history("U001", "plan")] == [1, 2]
        with pytest.raises(StoreUnavailable) as info:
            ro.claim("k", {}, at=T0)
        assert info.value.problem == "read-only"
        with pytest.raises(StoreUnavailable):
            ro.set_meta("k", "v")
    assert db.read_bytes() == before


@pytest.mark.skipif(ROOT, reason="root may write anything: file permissions cannot be tested as root")
def test_validate_and_status_work_in_a_folder_without_write_access(wujin_dir: Path) -> None:
    with SqliteStore(wujin_dir / SQLITE_NAME) as store:
        add(store, submission(unit="WJ001", n=1))
    for p in (wujin_dir / SQLITE_NAME, wujin_dir):
        p.chmod(0o555)
    try:
        app = open_app(wujin_dir, read_only=True)
        assert app.store.latest("WJ001", "plan") is not None
        # A writing command gets a message naming the file, not "attempt to write a readonly database".
        text = _open_error(wujin_dir)
        assert str(wujin_dir / SQLITE_NAME) in text
    finally:
        wujin_dir.chmod(0o755)
        (wujin_dir / SQLITE_NAME).chmod(0o644)


def test_an_empty_file_reads_as_an_empty_store(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    db.touch()
    with SqliteStore(db, read_only=True) as ro:
        assert ro.latest_versions() == [] and ro.get_meta("k") is None
    assert db.stat().st_size == 0
