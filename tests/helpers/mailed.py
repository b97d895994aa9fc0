"""A mailbox holding one school's plan workbook, mailed from its roster address (mail intake tests)."""

from __future__ import annotations

from pathlib import Path

from functions.app import App
from tests.fakes.mailbox import FakeMailbox
from tests.helpers.mail_corpus import unit_mail
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook


def mailed_plan(tmp_path: Path, app: App) -> FakeMailbox:
    """The first 中小学 unit's plan, written as a workbook and mailed as <plan@qq.com>."""
    school = unit_of_type(app.roster, "中小学")
    book = write_workbook(
        tmp_path / "made.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
    )
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender=school.emails[0],
            subject="活动方案",
            message_id="<plan@qq.com>",
            files=[("方案.xlsx", book.read_bytes())],
        )
    )
    return box
