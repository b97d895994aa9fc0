"""Settling handled mail on IMAP servers without MOVE or UIDPLUS (issue 16 leftovers, item 3): the
organiser's own deleted-but-not-expunged mail must survive, and the run says what was left flagged."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from functions.adapters.mail.imap import ImapMailbox
from functions.bootstrap import open_app
from functions.services.mail_intake.process import message_key, run_mail_intake
from schemas.mail_intake import MailIntakeSettings
from tests.fakes.imap_server import ScriptedImap
from tests.fakes.mailbox import FakeMailbox
from tests.helpers.campaigns import customise
from tests.helpers.mail_corpus import unit_mail
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

NOW = dt.datetime(2022, 11, 20, 12, tzinfo=dt.UTC)
ORGANISERS_DELETED, OURS = 1, 2


def _mailbox(after_login: tuple[str, ...], **server_options: object) -> tuple[ImapMailbox, ScriptedImap]:
    server = ScriptedImap(after_login=after_login, **server_options)  # type: ignore[arg-type]
    server.folders["INBOX"] = {ORGANISERS_DELETED: {"\\Deleted"}, OURS: set()}
    settings = MailIntakeSettings(host="127.0.0.1", security="none", user="u", handled_folder="handled")
    # ScriptedImap stands in for imaplib.IMAP4: only the calls ImapMailbox makes.
    box = ImapMailbox(settings, env={settings.password_env: "pw"}, language="zh", connect=lambda: server)  # type: ignore[arg-type,return-value]
    return box, server


@pytest.mark.parametrize(
    ("capabilities", "settled", "left_in_inbox"),
    [
        (("IMAP4REV1", "MOVE"), "moved", {ORGANISERS_DELETED}),
        (("IMAP4REV1", "UIDPLUS"), "moved", {ORGANISERS_DELETED}),
        (("IMAP4REV1",), "marked-deleted", {ORGANISERS_DELETED, OURS}),
    ],
)
def test_the_organisers_deleted_mail_is_never_expunged(
    capabilities: tuple[str, ...], settled: str, left_in_inbox: set[int]
) -> None:
    box, server = _mailbox(capabilities)
    assert box.settle(OURS, "handled") == settled
    assert set(server.folders["INBOX"]) == left_in_inbox
    assert "\\Deleted" in server.folders["INBOX"][ORGANISERS_DELETED]
    box.close()
    assert set(server.folders["INBOX"]) == left_in_inbox  # closing expunges nothing either
    assert not {"EXPUNGE", "CLOSE"} & set(server.calls)  # never the folder-wide EXPUNGE, nor CLOSE
    [copied] = server.folders["handled"].values()
    assert {"\\Seen", "\\Flagged"} <= copied
    if settled == "marked-deleted":
        assert "\\Deleted" in server.folders["INBOX"][OURS]


def test_capabilities_are_asked_again_after_login() -> None:
    """Dovecot (and hosted servers) announce MOVE/UIDPLUS only after login: the greeting's list is not
    enough, or every message would be copied and left flagged."""
    box, server = _mailbox(("IMAP4REV1", "MOVE"), capabilities=("IMAP4REV1",))  # the greeting's list
    assert box.settle(OURS, "handled") == "moved" and "UID MOVE" in server.calls
    # A server that does not answer CAPABILITY: the greeting's list stands.
    box, server = _mailbox(("IMAP4REV1",), capabilities=("IMAP4REV1", "UIDPLUS"), answers_capability=False)
    assert box.settle(OURS, "handled") == "moved" and "UID EXPUNGE" in server.calls


def test_leaving_a_message_touches_nothing() -> None:
    box, server = _mailbox(("IMAP4REV1",))
    assert box.settle(OURS, "left") == "left"
    assert server.folders["INBOX"][OURS] == set() and server.calls == []


def test_the_run_records_handled_mail_left_flagged_deleted(tmp_path: Path, wujin_dir: Path) -> None:
    customise(wujin_dir, "mail_intake:\n  host: 127.0.0.1\n  security: none\n  user: wjsqjy@example.org\n")
    app = open_app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    plan = write_workbook(
        tmp_path / "plan.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
    ).read_bytes()
    box = FakeMailbox(capabilities=frozenset())
    box.deliver(
        unit_mail(
            sender=school.emails[0], subject="方案", message_id="<p@qq.com>", files=[("方案.xlsx", plan)]
        )
    )

    # The service records what the mailbox did with each message (the command's notice: the Dovecot test).
    result = run_mail_intake(app, box, now=NOW)
    assert [m.settled for m in result.messages] == ["marked-deleted"] and result.marked_deleted == 1
    [record] = app.store.claims(message_key("<p@qq.com>"))
    assert record.payload["settled"] == "marked-deleted" and record.payload["kind"] == "submission"
    [original] = box.in_folder("INBOX")
    assert "\\Deleted" in original.flags and len(box.in_folder("handled")) == 1
