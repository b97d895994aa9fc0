"""Evidence files of mail that is not attached to a version (issue 16 leftovers, item 1): kept as blobs,
brought along by `huizong assign` of the mail's kept workbook, and listed for the organiser when they
come with no workbook. Real workbooks in real-looking mail, the SQLite store, the in-memory mailbox."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path

from functions.app import App
from functions.bootstrap import open_app
from functions.services.intake.assign import assign_recorded, find_recorded
from functions.services.mail_intake.process import message_key, run_mail_intake
from functions.services.mail_intake.records import left_for_organiser
from functions.services.messages.compose import build_digest
from tests.fakes.mailbox import FakeMailbox
from tests.helpers.campaigns import customise
from tests.helpers.evidence import docx
from tests.helpers.mail_corpus import unit_mail
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

NOW = dt.datetime(2022, 11, 20, 12, tzinfo=dt.UTC)
SETTINGS = """
mail_intake:
  user: wjsqjy@example.org
"""


def _app(folder: Path) -> App:
    customise(folder, SETTINGS)
    return open_app(folder)


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_files_of_an_unidentified_mailed_workbook_go_with_it_when_assigned(
    tmp_path: Path, wujin_dir: Path
) -> None:
    app = _app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    blank = write_workbook(
        tmp_path / "blank.xlsx", app.campaign, "plan", None, school_plan(app.campaign, school)
    ).read_bytes()  # the template filled in, no unit code anywhere
    plan_doc = docx("学习周工作方案")
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender="nobody@163.com",
            subject="材料",
            message_id="<u@163.com>",
            files=[("方案.xlsx", blank), ("工作方案.docx", plan_doc)],
        )
    )
    [message] = run_mail_intake(app, box, now=NOW).messages
    assert [w.note for w in message.workbooks] == ["unidentified"]
    assert message.evidence["attached"] is False and message.evidence["kept"] is True
    [kept] = message.evidence["files"]
    assert app.store.get_blob(kept["sha256"]) == plan_doc  # kept although the mail may be deleted
    assert app.store.latest(school.code, "plan") is None

    # A fresh App on the same campaign folder: everything comes back from the store, not from memory.
    again = open_app(wujin_dir)
    result = assign_recorded(again, find_recorded(again, "方案.xlsx"), school.code, deliverable=None, now=NOW)
    assert result.outcome is not None and result.outcome.seq == 1
    version = again.store.latest(school.code, "plan")
    assert version is not None
    [ref] = again.store.attachments(version.id)
    assert (ref.rule, ref.name) == ("plan_doc", "工作方案.docx")
    assert again.store.get_blob(ref.sha256) == plan_doc


def test_a_coordinators_unidentified_workbooks_do_not_take_the_files(tmp_path: Path, wujin_dir: Path) -> None:
    """Two workbooks nobody can tie to a unit: whose the document is cannot be said, so neither takes it."""
    app = _app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    # Two different workbooks (the second one's first activity renamed), neither naming its unit.
    blanks = []
    for n in (1, 2):
        values = school_plan(app.campaign, school)
        values["activities"][0]["name"] = f"第{n}个方案的活动"
        blanks.append(
            (
                f"方案{n}.xlsx",
                write_workbook(tmp_path / f"b{n}.xlsx", app.campaign, "plan", None, values).read_bytes(),
            )
        )
    assert blanks[0][1] != blanks[1][1]
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender="nobody@163.com",
            subject="材料",
            message_id="<v@163.com>",
            files=[*blanks, ("工作方案.docx", docx("谁的"))],
        )
    )
    run_mail_intake(app, box, now=NOW)
    record = find_recorded(app, "方案1.xlsx")
    assign_recorded(app, record, school.code, deliverable=None, now=NOW)
    version = app.store.latest(school.code, "plan")
    assert version is not None and app.store.attachments(version.id) == []


def test_files_mailed_without_a_workbook_are_kept_and_listed_for_the_organiser(
    tmp_path: Path, wujin_dir: Path
) -> None:
    app = _app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    plan = write_workbook(
        tmp_path / "plan.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
    ).read_bytes()
    plan_doc = docx("补发的工作方案")
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender=school.emails[0], subject="方案", message_id="<a@qq.com>", files=[("方案.xlsx", plan)]
        )
    )
    box.deliver(
        unit_mail(
            sender=school.emails[0],
            subject="补发方案文档",
            message_id="<b@qq.com>",
            files=[("工作方案.docx", plan_doc)],
        )
    )
    first, later = run_mail_intake(app, box, now=NOW).messages
    assert first.workbooks[0].seq == 1
    # Not attached to the unit's version (the organiser decides), but kept and listed.
    version = app.store.latest(school.code, "plan")
    assert version is not None and version.seq == 1 and app.store.attachments(version.id) == []
    assert later.evidence["unit"] == school.code and later.evidence["kept"] is True
    assert app.store.get_blob(later.evidence["files"][0]["sha256"]) == plan_doc
    [left] = left_for_organiser(app.store)
    assert (left["kind"], left["subject"]) == ("files-kept", "补发方案文档")
    assert any(c.key == message_key("<b@qq.com>") for c in app.store.claims("mail-msg/"))

    digest = build_digest(
        app.campaign, [], [], day=NOW.date(), sent=0, master_link="", now=NOW, mail_left=[left]
    )
    assert "补发方案文档（只有照片/文档，没有工作簿：已保存，未附到任何版本）" in _text(digest)
