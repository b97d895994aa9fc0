"""The workbook a unit sent, kept with its new version (services/intake/kept_workbook.py): its limits, its
untrusted name, a record that does not match its blob, and `huizong assign` of a mailed workbook, on the
memory and SQLite stores."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from functions.adapters.store.memory import MemoryStore
from functions.adapters.store.sqlite import SqliteStore
from functions.bootstrap import open_app
from functions.ports import Store
from functions.services.intake.assign import assign_recorded, find_recorded
from functions.services.intake.kept_workbook import (
    KeptWorkbook,
    ReceivedWorkbook,
    keep_workbook,
    kept_workbook,
    meta_key,
    workbook_bytes,
)
from functions.services.mail_intake.process import run_mail_intake
from tests.fakes.mailbox import FakeMailbox
from tests.helpers.campaigns import customise
from tests.helpers.mail_corpus import unit_mail
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

NOW = dt.datetime(2022, 11, 20, 12, tzinfo=dt.UTC)
DATA = b"PK\x03\x04 a workbook's bytes"


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    return MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "store.db")


def test_bytes_are_kept_by_digest_under_a_safe_name(store: Store) -> None:
    assert keep_workbook(
        store, "v1", ReceivedWorkbook(name="../../etc/方案\n.xlsx", data=DATA), max_bytes=1000
    )
    record = kept_workbook(store, "v1")
    sha = hashlib.sha256(DATA).hexdigest()
    assert record == KeptWorkbook(sha256=sha, name="方案 .xlsx", size=len(DATA))
    assert store.get_blob(sha) == DATA
    assert workbook_bytes(store, "v1") == (record, DATA)
    assert kept_workbook(store, "v2") is None  # another version has no record


def test_a_workbook_over_the_limit_is_not_kept(store: Store, tmp_path: Path) -> None:
    assert not keep_workbook(
        store, "v1", ReceivedWorkbook(name="big.xlsx", data=DATA), max_bytes=len(DATA) - 1
    )
    big = tmp_path / "big.xlsx"
    big.write_bytes(DATA)
    assert not keep_workbook(
        store, "v1", ReceivedWorkbook(name="big.xlsx", path=big), max_bytes=len(DATA) - 1
    )
    assert store.get_meta(meta_key("v1")) is None
    assert store.get_blob(hashlib.sha256(DATA).hexdigest()) is None


def test_a_folder_file_is_read_from_its_path_and_a_vanished_one_is_no_file(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "方案.xlsx"
    path.write_bytes(DATA)
    assert keep_workbook(store, "v1", ReceivedWorkbook(name=path.name, path=path), max_bytes=1000)
    assert workbook_bytes(store, "v1") is not None
    path.unlink()
    assert not keep_workbook(store, "v2", ReceivedWorkbook(name=path.name, path=path), max_bytes=1000)
    assert kept_workbook(store, "v2") is None
    assert workbook_bytes(store, "v1") is not None  # the kept one does not depend on the file


def test_a_folder_file_replaced_since_it_was_read_is_not_kept(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "方案.xlsx"
    path.write_bytes(b"PK another workbook put in its place")
    read = ReceivedWorkbook(name=path.name, path=path, sha256=hashlib.sha256(DATA).hexdigest())
    assert not keep_workbook(store, "v1", read, max_bytes=1000)
    assert kept_workbook(store, "v1") is None
    path.write_bytes(DATA)  # the very bytes that were read: kept
    assert keep_workbook(store, "v1", read, max_bytes=1000)
    assert workbook_bytes(store, "v1") is not None


class _FailingBlobs(MemoryStore):
    """A store whose blob write fails (S3 down, a locked file) after the version was stored."""

    def put_blob(self, sha256: str, data: bytes) -> None:
        raise OSError("blob store unavailable")


def test_a_failing_blob_store_leaves_the_version_without_its_file(caplog: pytest.LogCaptureFixture) -> None:
    store = _FailingBlobs()
    assert not keep_workbook(store, "v1", ReceivedWorkbook(name="方案.xlsx", data=DATA), max_bytes=1000)
    assert kept_workbook(store, "v1") is None
    assert "workbook of version v1 not kept" in caplog.text


def test_a_record_whose_blob_is_missing_or_damaged_serves_nothing(store: Store) -> None:
    missing = KeptWorkbook(sha256="a" * 64, name="x.xlsx", size=3)
    store.set_meta(meta_key("v1"), missing.model_dump_json())
    assert kept_workbook(store, "v1") == missing and workbook_bytes(store, "v1") is None
    store.set_meta(meta_key("v2"), '{"sha256": "../x", "name": "x.xlsx", "size": 3}')
    store.set_meta(meta_key("v3"), "not json")
    assert kept_workbook(store, "v2") is None and kept_workbook(store, "v3") is None


def test_an_assigned_mailed_workbook_is_kept_under_the_mails_file_name(
    tmp_path: Path, wujin_dir: Path
) -> None:
    customise(wujin_dir, "\nmail_intake:\n  user: wjsqjy@example.org\n")
    app = open_app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    blank = write_workbook(
        tmp_path / "blank.xlsx", app.campaign, "plan", None, school_plan(app.campaign, school)
    ).read_bytes()  # no unit code anywhere: not stored until the organiser assigns it
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender="nobody@163.com", subject="材料", message_id="<k@163.com>", files=[("方案.xlsx", blank)]
        )
    )
    [message] = run_mail_intake(app, box, now=NOW).messages
    assert [w.note for w in message.workbooks] == ["unidentified"]

    result = assign_recorded(app, find_recorded(app, "方案.xlsx"), school.code, deliverable=None, now=NOW)
    assert result.outcome is not None and result.outcome.stored
    version = app.store.latest(school.code, "plan")
    assert version is not None
    kept = workbook_bytes(app.store, version.id)
    assert kept is not None and kept[0].name == "方案.xlsx" and kept[1] == blank
