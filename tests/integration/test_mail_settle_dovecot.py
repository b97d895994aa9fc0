"""A real Dovecot that announces neither MOVE nor UIDPLUS (or only UIDPLUS): handled mail is copied to
the handled folder and the organiser's own deleted-but-not-expunged mail stays in the inbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from functions.adapters.mail.imap import utf7_folder
from functions.bootstrap import open_app
from functions.cli.mail_cmds import mail_intake
from functions.services.mail_intake.process import read_mailbox
from tests.helpers.dovecot import running_dovecot
from tests.helpers.mail_corpus import unit_mail
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

NOW = dt.datetime(2022, 11, 20, 12, tzinfo=dt.UTC)
# Dovecot's imap_capability replaces the announced list when it does not start with "+".
OLD_SERVER = "IMAP4rev1 LITERAL+ IDLE"


@pytest.mark.parametrize(
    ("capability", "settled", "ours_left_in_inbox"),
    [(OLD_SERVER, "marked-deleted", True), (OLD_SERVER + " UIDPLUS", "moved", False)],
)
def test_without_move_the_organisers_deleted_mail_survives(
    tmp_path: Path,
    wujin_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capability: str,
    settled: str,
    ours_left_in_inbox: bool,
) -> None:
    with running_dovecot(capability) as imap:
        imap.configure(wujin_dir, monkeypatch, timeout=10, reply=False)
        app = open_app(wujin_dir)
        school = unit_of_type(app.roster, "中小学")
        # The organiser deleted a mail in their client, which has not expunged it yet.
        imap.append(unit_mail(sender="spam@example.com", subject="广告", message_id="<spam@x>"))
        client = imap.client()
        client.select("INBOX")
        client.uid("STORE", "1", "+FLAGS", "(\\Deleted)")
        client.logout()
        plan = write_workbook(
            tmp_path / "plan.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
        ).read_bytes()
        imap.append(
            unit_mail(
                sender=school.emails[0], subject="方案", message_id="<p@qq.com>", files=[("方案.xlsx", plan)]
            )
        )

        result = read_mailbox(app, now=NOW)

        assert result is not None and not result.error
        [spam, ours] = result.messages
        assert spam.settled == "left"  # no attachment: not a submission, the organiser's to read
        assert ours.settled == settled and ours.workbooks[0].seq == 1
        inbox = imap.folder("INBOX")
        assert any(b"<spam@x>" in body and b"\\Deleted" in flags for flags, body in inbox)
        assert any(b"<p@qq.com>" in body for _, body in inbox) is ours_left_in_inbox
        [(flags, _)] = imap.folder(utf7_folder("huizong-已处理"))
        assert b"\\Flagged" in flags


def test_the_command_says_when_handled_mail_is_left_flagged_deleted(
    tmp_path: Path, wujin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_dovecot(OLD_SERVER) as imap:
        imap.configure(wujin_dir, monkeypatch, timeout=10, reply=False)
        app = open_app(wujin_dir)
        school = unit_of_type(app.roster, "中小学")
        plan = write_workbook(
            tmp_path / "plan.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
        ).read_bytes()
        imap.append(
            unit_mail(
                sender=school.emails[0], subject="方案", message_id="<c@qq.com>", files=[("方案.xlsx", plan)]
            )
        )
        run = CliRunner().invoke(mail_intake, [str(wujin_dir), "--today", "2022-11-20"])
        assert run.exit_code == 0, run.output
        assert "不支持 MOVE 和 UIDPLUS：1 封已处理的邮件" in run.output
        # A second run: nothing new, nothing to say about it.
        again = CliRunner().invoke(mail_intake, [str(wujin_dir), "--today", "2022-11-20"])
        assert again.exit_code == 0 and "UIDPLUS" not in again.output
