"""`huizong assign` for a workbook that came by mail and could not be tied to a unit (issue 16): its
bytes are kept in the store, so it is assigned by its name or digest with no file in the inbox.

The mail goes through the real mail intake on the in-memory mailbox, into the campaign's SQLite store;
assign runs through click's CliRunner and every result is read back from the store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from click.testing import CliRunner

from functions.bootstrap import open_app
from functions.cli.main import cli
from functions.services.intake.unread import unread_files
from functions.services.mail_intake.process import run_mail_intake
from tests.fakes.mailbox import FakeMailbox
from tests.helpers.campaigns import customise
from tests.helpers.mail_corpus import unit_mail
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

NOW = dt.datetime(2022, 11, 20, 12, tzinfo=dt.UTC)
SETTINGS = """
mail_intake:
  user: wjsqjy@example.org
  web_base_url: https://form.example.org
"""


def _blank_plan(tmp_path: Path, wujin_dir: Path, name: str, participants: int) -> bytes:
    """A filled plan of no unit: the template without a unit code anywhere."""
    app = open_app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    entries = school_plan(app.campaign, school)
    entries["activities"][0]["expected_participants"] = participants
    return write_workbook(tmp_path / "made" / name, app.campaign, "plan", None, entries).read_bytes()


def _mail_in(wujin_dir: Path, books: list[tuple[str, bytes, str]]) -> None:
    app = open_app(wujin_dir)
    box = FakeMailbox()
    for i, (name, data, sender) in enumerate(books):
        box.deliver(
            unit_mail(sender=sender, subject="材料", message_id=f"<m{i}@x.org>", files=[(name, data)])
        )
    run_mail_intake(app, box, now=NOW)


def _assign(wujin_dir: Path, what: str, unit: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["assign", what, unit, "--campaign", str(wujin_dir), "--today", "2022-11-21"]
    )
    return result.exit_code, result.output, result.stderr


def test_an_unidentified_mailed_workbook_is_assigned_from_the_store_once(
    tmp_path: Path, wujin_dir: Path
) -> None:
    customise(wujin_dir, SETTINGS)
    data = _blank_plan(tmp_path, wujin_dir, "plan.xlsx", 50)
    _mail_in(wujin_dir, [("方案.xlsx", data, "nobody@163.com")])
    app = open_app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    [record] = unread_files(app.store)
    assert (record.name, record.reason, record.unit) == ("方案.xlsx", "unidentified", None)
    assert app.store.get_blob(record.sha256) == data  # kept whole, by its digest
    assert not list((wujin_dir / "inbox").glob("**/*.xlsx"))  # nothing on disk to assign from

    code, out, err = _assign(wujin_dir, "方案.xlsx", school.code)
    assert code == 0, out + err
    assert school.code in out and "第 1 版" in out
    app = open_app(wujin_dir)
    [version] = app.store.history(school.code, "plan")
    assert version.unit == school.code and "方案.xlsx" in version.source
    assert version.tables["activities"][0]["expected_participants"] == 50
    [record] = unread_files(app.store)
    assert record.assigned and record.unit == school.code and record.unit_by == "assign"

    # A second assign changes nothing: the same version, no new one, the record as it was.
    code, out, err = _assign(wujin_dir, record.sha256[:12], school.code)
    assert code == 0, out + err
    assert "与已有版本相同" in out
    app = open_app(wujin_dir)
    assert [v.id for v in app.store.history(school.code, "plan")] == [version.id]
    assert unread_files(app.store) == [record]


def test_a_name_several_kept_files_share_asks_for_the_digest(tmp_path: Path, wujin_dir: Path) -> None:
    customise(wujin_dir, SETTINGS)
    first = _blank_plan(tmp_path, wujin_dir, "a.xlsx", 30)
    second = _blank_plan(tmp_path, wujin_dir, "b.xlsx", 40)
    _mail_in(wujin_dir, [("方案.xlsx", first, "a@163.com"), ("方案.xlsx", second, "b@163.com")])
    school = unit_of_type(open_app(wujin_dir).roster, "中小学")

    code, _, err = _assign(wujin_dir, "方案.xlsx", school.code)
    assert code == 2
    digest = hashlib.sha256(second).hexdigest()
    assert "2 个未识别文件" in err and digest[:12] in err and hashlib.sha256(first).hexdigest()[:12] in err
    assert open_app(wujin_dir).store.history(school.code, "plan") == []

    code, out, err = _assign(wujin_dir, digest[:12], school.code)
    assert code == 0, out + err
    [version] = open_app(wujin_dir).store.history(school.code, "plan")
    assert version.tables["activities"][0]["expected_participants"] == 40

    code, _, err = _assign(wujin_dir, "没有这个.xlsx", school.code)
    assert code == 2 and "找不到文件“没有这个.xlsx”" in err and "Traceback" not in err
