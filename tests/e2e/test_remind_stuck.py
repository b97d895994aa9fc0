"""Reminders none lost: a run killed between the claim and the result, or a store that cannot write
(a full disk), leaves the reminder reported to the organiser and resendable with one command."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import sqlite3
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook

from functions.bootstrap import open_app
from functions.cli.main import cli
from functions.ports import MailRefused, Store
from functions.services.loop import remind
from functions.services.reminders.send_reminders import run_reminders
from functions.services.reminders.stuck import stuck_reminders


def _run(*args: str) -> Result:
    result = CliRunner(env={"HUIZONG_STORE": "sqlite"}).invoke(cli, list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def _mails(folder: Path) -> list[EmailMessage]:
    out = []
    for p in sorted((folder / "outbox").glob("*.eml")):
        msg = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def _to(folder: Path, address: str) -> list[EmailMessage]:
    return [m for m in _mails(folder) if address in str(m["To"])]


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


class _KilledOnThird:
    """The process dies (SIGTERM-like SystemExit) while the third reminder is being sent, before the
    transport has it: the 17th-of-17 reminder the adversarial run lost."""

    def __init__(self, real: Any) -> None:
        self.real, self.calls = real, 0

    def send(self, message: EmailMessage) -> str:
        self.calls += 1
        if self.calls == 3:
            raise SystemExit("killed")
        return str(self.real.send(message))


def test_a_killed_send_is_reported_and_resent_once_on_command(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    tz = app.campaign.tz
    app.use_mailer(_KilledOnThird(app.mailer))
    with pytest.raises(SystemExit):
        remind(app, now=dt.datetime(2022, 11, 23, 11, tzinfo=tz))  # step -1 of the plan
    sending = [c for c in app.store.claims("remind/") if c.payload.get("result") == "sending"]
    assert len(sending) == 1
    code, address = sending[0].payload["unit"], str(sending[0].payload["address"])
    name = str(sending[0].payload["unit_name"])
    assert _to(wujin_dir, address) == []

    # An hour later (past the 30-minute timeout) the scheduled run does not resend it on its own…
    out = _run("remind", str(wujin_dir), "--today", "2022-11-23").output
    assert _to(wujin_dir, address) == []
    assert code not in out
    assert "另有 1 封催报发送中断" in out and "--resend-stuck" in out
    # …but tells the organiser, in the digest, in status (text and JSON) and in the master, in words.
    digest = next(m for m in _mails(wujin_dir) if "【日报】" in str(m["Subject"]))
    text = _text(digest)
    assert "催报发送中断，不确定是否送达（1）" in text and f"{code} {name}" in text
    assert "huizong remind <目录> --resend-stuck" in text
    status = _run("status", str(wujin_dir)).output
    assert "催报发送中断" in status and code in status and "--resend-stuck" in status
    as_json = json.loads(_run("status", str(wujin_dir), "--json").output)
    assert [r["unit"] for r in as_json["stuck_reminders"]] == [code]
    _run("consolidate", str(wujin_dir), "--today", "2022-11-23")
    rows = list(load_workbook(wujin_dir / "out" / "master.xlsx")["催报记录"].iter_rows(values_only=True))
    mine = [r for r in rows if r[1] == code]
    assert len(mine) == 1 and str(mine[0][6]).startswith("发送中断，不确定是否送达")
    assert all(r[6] != "sending" for r in rows)

    # The organiser's one command: sent once, recorded, no longer listed; a second call does nothing.
    out = _run("remind", str(wujin_dir), "--today", "2022-11-23", "--resend-stuck").output
    assert code in out and "已重发" in out
    resent = _to(wujin_dir, address)
    assert len(resent) == 1 and "请于11月24日前报送" in str(resent[0]["Subject"])
    assert "逾期" not in str(resent[0]["Subject"]) + _text(resent[0])
    again = _run("remind", str(wujin_dir), "--today", "2022-11-23", "--resend-stuck").output
    assert "没有发送中断的催报" in again
    assert len(_to(wujin_dir, address)) == 1
    assert "催报发送中断" not in _run("status", str(wujin_dir)).output


class _FullDisk:
    """The real SQLite store, except that once `full` is set every write fails as SQLite does on a full
    disk. Only the store is faked: the reminder service under test runs unchanged."""

    def __init__(self, store: Store) -> None:
        self.store, self.full = store, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def claim(self, key: str, payload: dict[str, Any], *, at: dt.datetime) -> bool:
        created = self.store.claim(key, payload, at=at)
        self.full = True  # the claim took the last free page
        return created

    def _refuse(self, *args: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    def update_claim(self, key: str, payload: dict[str, Any]) -> None:
        if self.full:
            self._refuse()
        self.store.update_claim(key, payload)

    def release(self, key: str) -> None:
        if self.full:
            self._refuse()
        self.store.release(key)


class _OutboxFull:
    def send(self, message: EmailMessage) -> str:
        raise MailRefused("无法写入发件箱：No space left on device")


def test_a_full_disk_after_the_claim_loses_nothing(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    store = _FullDisk(app.store)
    now = dt.datetime(2022, 11, 23, 11, tzinfo=app.campaign.tz)
    result = run_reminders(app.campaign, app.roster, store, _OutboxFull(), now=now)  # type: ignore[arg-type]
    assert result.refused == len(result.planned) > 0 and result.unrecorded == result.refused
    assert all("无法释放" in line for line in result.lines)
    # Every claim is still there, at "sending": the next runs report them after the timeout.
    assert stuck_reminders(app.campaign, app.store, now + dt.timedelta(minutes=29)) == []
    stuck = stuck_reminders(app.campaign, app.store, now + dt.timedelta(minutes=30))
    assert len(stuck) == len(result.planned)
    # Space is back: the organiser's resend delivers them, once each.
    resend = _run("remind", str(wujin_dir), "--today", "2022-11-23", "--resend-stuck")
    assert resend.output.count("已重发") == len(result.planned)
    assert stuck_reminders(app.campaign, app.store, now + dt.timedelta(hours=2)) == []
    # The day's digest, interrupted too, is sent by a later run rather than lost for the day.
    later = run_reminders(app.campaign, app.roster, app.store, app.mailer, now=now + dt.timedelta(hours=2))
    assert later.sent == 0 and later.digest_sent
    assert len([m for m in _mails(wujin_dir) if "【日报】" in str(m["Subject"])]) == 1


def test_an_interrupted_step_superseded_by_a_later_sent_one_is_not_resent(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    tz = app.campaign.tz
    app.use_mailer(_KilledOnThird(app.mailer))
    with pytest.raises(SystemExit):
        remind(app, now=dt.datetime(2022, 11, 23, 11, tzinfo=tz))
    address = next(
        str(c.payload["address"]) for c in app.store.claims("remind/") if c.payload.get("result") == "sending"
    )
    _run("remind", str(wujin_dir), "--today", "2022-11-24")  # the due-day step reaches everyone
    assert len(_to(wujin_dir, address)) == 1
    assert stuck_reminders(app.campaign, app.store, dt.datetime(2022, 11, 24, 13, tzinfo=tz)) == []
    assert (
        "没有发送中断的催报"
        in _run("remind", str(wujin_dir), "--today", "2022-11-24", "--resend-stuck").output
    )
    assert len(_to(wujin_dir, address)) == 1


def test_overview_separates_late_but_sent_from_overdue_not_sent(wujin_dir: Path) -> None:
    """The trial's master said "逾期 0" after the deadline while units were missing."""
    expected = len(open_app(wujin_dir).roster.units)

    def plan_row(day: str) -> dict[str, Any]:
        _run("consolidate", str(wujin_dir), "--today", day)
        rows = list(load_workbook(wujin_dir / "out" / "master.xlsx")["总览"].iter_rows(values_only=True))
        head = next(r for r in rows if r and r[0] == "材料")
        row = next(r for r in rows if r and r[0] == "工作方案及主要活动安排表")
        return dict(zip(head, row, strict=False))

    before = plan_row("2022-11-24")
    assert (before["未报"], before["逾期已报"], before["逾期未报"]) == (expected, 0, 0)
    after = plan_row("2022-11-25")
    assert (after["未报"], after["逾期已报"], after["逾期未报"]) == (expected, 0, expected)
    assert "逾期" not in before  # the ambiguous column is gone


def test_a_resend_already_claimed_by_another_process_is_not_sent_twice(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    tz = app.campaign.tz
    app.use_mailer(_KilledOnThird(app.mailer))
    with pytest.raises(SystemExit):
        remind(app, now=dt.datetime(2022, 11, 23, 11, tzinfo=tz))
    (stuck,) = stuck_reminders(app.campaign, app.store, dt.datetime(2022, 11, 23, 12, tzinfo=tz))
    # Another terminal won this resend attempt a moment ago.
    assert app.store.claim(f"resend/{stuck.key}#1", {}, at=dt.datetime(2022, 11, 23, 12, tzinfo=tz))
    out = _run("remind", str(wujin_dir), "--today", "2022-11-23", "--resend-stuck").output
    assert "已重发" not in out and "另一次运行正在重发" in out and _to(wujin_dir, stuck.address) == []
