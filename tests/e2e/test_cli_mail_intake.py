"""`huizong mail-intake` on the wujin-2022 demo: a real Dovecot mailbox holding the demo's files as
attachments, each from its unit's roster address, ends with the same versions as the demo's inbox folder,
one reply per message, and a second run that changes nothing. Skipped where Dovecot is not installed."""

from __future__ import annotations

import datetime as dt
import imaplib
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from functions.bootstrap import open_app
from functions.cli.main import cli
from functions.serve.local_server import LocalServer, Schedule
from functions.services.setup.demo import run_demo
from functions.services.setup.examples import write_example
from tests.fakes.mailbox import FakeMailbox
from tests.helpers.campaigns import customise
from tests.helpers.dovecot import running_dovecot
from tests.helpers.mail_corpus import unit_mail
from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook


def _versions(folder: Path) -> dict[tuple[str, str], list[tuple[int, str, bool, bool]]]:
    app = open_app(folder)
    return {
        (v.unit, v.deliverable): [
            (h.seq, h.content_hash, h.late, h.report.valid) for h in app.store.history(v.unit, v.deliverable)
        ]
        for v in app.store.latest_versions()
    }


def test_the_demo_by_mail_gives_the_demos_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo = run_demo(tmp_path / "demo", open_app)
    inbox = demo.folder / "inbox"
    names = {f.name: f for f in demo.files}
    # One mail per workbook, carrying the evidence files the unit put next to it (issue 12 §4).
    files = sorted(
        (p for p in inbox.rglob("*") if p.is_file() and p.name in names), key=lambda p: p.stat().st_mtime
    )
    today = demo.now.date().isoformat()

    folder = tmp_path / "by-mail"
    write_example(folder, "wujin-2022")
    with running_dovecot() as imap:
        imap.configure(folder, monkeypatch, replies_per_sender_per_hour=50)
        client = imap.client()
        for n, path in enumerate(files):
            unit = names[path.name].unit
            sender = unit.emails[0] if unit is not None and unit.emails else "someone@163.com"
            raw = unit_mail(
                sender=sender,
                subject=f"报送材料 {n}",
                message_id=f"<demo-{n}@qq.com>",
                files=[(path.name, path.read_bytes()), *names[path.name].attachments],
            )
            # The server's arrival time is the file's: late flags must come out the same.
            when = imaplib.Time2Internaldate(path.stat().st_mtime)
            assert client.append("INBOX", "", when, raw)[0] == "OK"
        client.logout()

        runner = CliRunner()
        first = runner.invoke(cli, ["mail-intake", str(folder), "--today", today])
        assert first.exit_code == 0, first.output
        assert f"新邮件 {len(files)} 封" in first.output
        replies = sorted((folder / "outbox").glob("*.eml"))
        assert len(replies) == len(files)

        second = runner.invoke(cli, ["mail-intake", str(folder), "--today", today])
        assert second.exit_code == 0, second.output
        assert "新邮件 0 封，新版本 0 个，回复 0 封" in second.output
        assert sorted((folder / "outbox").glob("*.eml")) == replies

    by_mail, by_folder = _versions(folder), _versions(demo.folder)
    assert by_mail == by_folder and len(by_mail) > 10


def test_without_mail_intake_the_command_says_what_to_set(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    write_example(folder, "wujin-2022")
    result = CliRunner().invoke(cli, ["mail-intake", str(folder)])
    assert result.exit_code == 2 and "mail_intake" in result.output and "Traceback" not in result.output
    assert not (folder / "outbox").exists() and os.listdir(folder)


def test_serve_reads_the_mailbox_on_its_schedule(tmp_path: Path) -> None:
    folder = tmp_path / "served"
    write_example(folder, "wujin-2022")
    customise(folder, "\nmail_intake:\n  user: wjsqjy@example.org\n")
    app = open_app(folder)
    school = unit_of_type(app.roster, "中小学")
    plan = write_workbook(
        tmp_path / "p.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
    )
    box = FakeMailbox()
    box.deliver(
        unit_mail(
            sender=school.emails[0],
            subject="方案",
            message_id="<served@qq.com>",
            files=[("方案.xlsx", plan.read_bytes())],
        )
    )
    app.mailbox_factory = lambda: box
    now = dt.datetime(2022, 11, 20, 12, tzinfo=dt.UTC)
    schedule = Schedule(ingest_every=3600, poll_every=3600, mail_every=3600, tick=0.05)
    server = LocalServer(
        app, secret=b"a-shared-secret-of-enough-length", port=0, clock=lambda: now, schedule=schedule
    )
    server.start()
    try:
        for _ in range(400):  # the scheduler's first tick runs every job once
            if (
                box.messages[0].folder == "handled"
                and server.worker.wait_idle(0.05)
                and app.paths.master.exists()
            ):
                break
            time.sleep(0.05)
    finally:
        server.stop()
    assert box.messages[0].folder == "handled" and box.closed == 1
    assert app.store.latest(school.code, "plan") is not None and app.paths.master.exists()
    assert server.stats.errors == []


def test_huizong_run_reads_the_mailbox_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "run"
    write_example(folder, "wujin-2022")
    app = open_app(folder)
    school = unit_of_type(app.roster, "中小学")
    plan = write_workbook(
        tmp_path / "p.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school)
    )
    with running_dovecot() as imap:
        imap.configure(folder, monkeypatch)
        imap.append(
            unit_mail(
                sender=school.emails[0],
                subject="方案",
                message_id="<run@qq.com>",
                files=[("方案.xlsx", plan.read_bytes())],
            )
        )
        result = CliRunner().invoke(cli, ["run", str(folder), "--today", "2022-11-20"])
    assert result.exit_code == 0, result.output
    assert "«方案» [报送]" in result.output and "回复：sent" in result.output
    version = open_app(folder).store.latest(school.code, "plan")
    assert version is not None and version.source.startswith("mail:<run@qq.com>")
