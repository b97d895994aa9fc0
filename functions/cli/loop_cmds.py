"""CLI: consolidate, remind, status, run and demo."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from functions.cli.common import folder_arg, friendly_errors, one_at_a_time, parse_today
from schemas.i18n import Language, t

if TYPE_CHECKING:
    from functions.app import App


def _open(folder: Path):  # type: ignore[no-untyped-def]
    from functions.bootstrap import open_app

    return open_app(folder)


@click.command()
@folder_arg
@click.option("--today", default=None, help="按此日期计算（YYYY-MM-DD）")
@friendly_errors
def consolidate(folder: Path, today: str | None) -> None:
    """从数据库生成汇总表 out/master.xlsx（原子替换）。"""
    from functions.services.loop import consolidate as do

    app = _open(folder)
    with one_at_a_time(folder, "consolidate", app.campaign.language):
        result = do(app, now=parse_today(today, app.campaign))
    click.echo(
        t(
            app.campaign.language,
            f"汇总表：{result.path}（{result.units} 个单位，活动 {result.activity_rows} 行，问题 {result.issue_rows} 条）",
            f"Master: {result.path} ({result.units} units, {result.activity_rows} activity rows, "
            f"{result.issue_rows} problems)",
        )
    )


@click.command()
@folder_arg
@click.option("--today", default=None, help="按此日期催报（YYYY-MM-DD，当天的催报时刻之后）")
@click.option("--dry-run", is_flag=True, help="只列出将要发送的催报，不发送、不记录")
@click.option("--resend-stuck", is_flag=True, help="重发发送中断、不确定是否送达的催报（请先向单位核实）")
@friendly_errors
def remind(folder: Path, today: str | None, dry_run: bool, resend_stuck: bool) -> None:
    """给未报、有错误或未提交的单位发送催报邮件，并给组织方发送每日汇总。"""
    from functions.services.loop import remind as do

    app = _open(folder)
    lang = app.campaign.language
    now = parse_today(today, app.campaign, hour=max(app.campaign.reminders.hour, 12))
    if resend_stuck:
        with one_at_a_time(folder, "remind", lang):
            _resend_stuck(app, now)
        return
    with one_at_a_time(folder, "remind", lang):
        result = do(app, now=now, dry_run=dry_run)
    for line in result.lines:
        click.echo(line)
    if dry_run:
        n = len(result.planned)
        click.echo(t(lang, f"（预演）将催报 {n} 个单位", f"(dry run) would remind {n} unit(s)"))
        return
    click.echo(
        t(
            lang,
            f"催报：发送 {result.sent}，无邮箱 {result.no_address}，被拒待重试 {result.refused}，"
            f"结果不明 {result.uncertain}；{_digest(lang, result.digest_sent)}",
            f"Reminders: {result.sent} sent, {result.no_address} without address, {result.refused} refused "
            f"(retried next run), {result.uncertain} uncertain; {_digest(lang, result.digest_sent)}",
        )
    )
    if result.stuck:
        n = len(result.stuck)
        click.echo(
            t(
                lang,
                f"另有 {n} 封催报发送中断、不确定是否送达（不会自动重发）；核实后可运行：huizong remind {folder} --resend-stuck",
                f"{n} reminder(s) were interrupted, delivery uncertain (not resent automatically); "
                f"after checking, run: huizong remind {folder} --resend-stuck",
            )
        )


def _resend_stuck(app: App, now: dt.datetime) -> None:
    from functions.services.reminders.send_reminders import resend_stuck

    lang = app.campaign.language
    result = resend_stuck(
        app.campaign, app.roster, app.store, app.mailer, now=now, link_secret=app.link_secret
    )
    for line in result.lines:
        click.echo(line)
    if not result.lines:
        click.echo(t(lang, "没有发送中断的催报。", "No interrupted reminders."))
        return
    click.echo(
        t(
            lang,
            f"重发：发送 {result.sent}，无邮箱 {result.no_address}，被拒仍待重发 {result.refused}，结果不明 {result.uncertain}",
            f"Resend: {result.sent} sent, {result.no_address} without address, {result.refused} refused "
            f"(still listed), {result.uncertain} uncertain",
        )
    )


def _read_mailbox(app: App, *, now: dt.datetime, dry_run: bool) -> None:
    """The units' mailbox first (issue 16), so what arrived by mail is in this run's master."""
    if app.mailbox_factory is None:
        return
    from functions.cli.mail_cmds import message_line
    from functions.services.mail_intake.process import read_mailbox

    result = read_mailbox(app, now=now, dry_run=dry_run)
    if result is None:
        return
    for m in result.messages:
        click.echo(message_line(app.campaign.language, m))
    if result.error:
        # The mailbox is down: the rest of the run (inbox, reminders, master) still goes on.
        click.echo(result.error, err=True)


def _digest(lang: Language, sent: bool) -> str:
    if sent:
        return t(lang, "日报已发送", "digest sent")
    return t(lang, "日报未发送", "no digest sent")


@click.command()
@folder_arg
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@friendly_errors
def status(folder: Path, as_json: bool) -> None:
    """各单位各项材料的报送状态。"""
    from functions.bootstrap import open_app
    from functions.services.status.status_table import status_json, status_table

    # Reading only: status works on a folder (or store file) this user may not write.
    app = open_app(folder, read_only=True)
    if as_json:
        click.echo(json.dumps(status_json(app), ensure_ascii=False, indent=2))
    else:
        click.echo(status_table(app))


@click.command()
@folder_arg
@click.option("--today", default=None, help="按此日期运行（YYYY-MM-DD）")
@click.option("--dry-run", is_flag=True, help="催报只预演")
@friendly_errors
def run(folder: Path, today: str | None, dry_run: bool) -> None:
    """一次完整运行：读取报送 → 催报 → 生成汇总表。供定时任务或云函数调用。"""
    from functions.services.intake.ingest_folder import ingest_all
    from functions.services.loop import consolidate as do_consolidate
    from functions.services.loop import remind as do_remind

    app = _open(folder)
    lang = app.campaign.language
    now = parse_today(today, app.campaign, hour=max(app.campaign.reminders.hour, 12))
    with one_at_a_time(folder, "run", lang):
        _read_mailbox(app, now=now, dry_run=dry_run)
        items = list(app.intake.pending())
        label = t(lang, "读取报送", "Reading submissions")
        with click.progressbar(length=max(len(items), 1), label=label, file=sys.stderr) as bar:
            outcomes = ingest_all(app, now=now, progress=lambda: bar.update(1))
        new = sum(o.stored for o in outcomes)
        click.echo(
            t(
                lang,
                f"读取 {len(outcomes)} 个文件，新版本 {new} 个",
                f"Read {len(outcomes)} file(s), {new} new version(s)",
            )
        )
        master = do_consolidate(app, now=now)
        click.echo(t(lang, f"汇总表：{master.path}", f"Master: {master.path}"))
        result = do_remind(app, now=now, dry_run=dry_run)
    n = len(result.planned)
    click.echo(
        t(
            lang,
            f"催报 {n} 个单位，发送 {result.sent}；{_digest(lang, result.digest_sent)}",
            f"Reminders for {n} unit(s), {result.sent} sent; {_digest(lang, result.digest_sent)}",
        )
    )


@click.command()
@click.argument("folder", required=False, type=click.Path(file_okay=False, path_type=Path))
@friendly_errors
def demo(folder: Path | None) -> None:
    """演示：生成武进区2022年示例活动，模拟各单位报送（含常见错误），运行完整流程。"""
    from functions.services.setup.demo import default_folder, run_demo

    target = folder or default_folder(Path.cwd())
    # The demo campaign is the Chinese example (wujin-2022); its folder is named before it exists.
    click.echo(f"演示目录：{target}")
    from functions.bootstrap import open_app

    result = run_demo(target, open_app)
    app, loop = result.app, result.loop
    lang = app.campaign.language
    stored = sum(o.stored for o in loop.ingested)
    skipped = [o for o in loop.ingested if o.note in ("unreadable", "unidentified")]
    received, sent, digests = len(loop.ingested), loop.reminders.sent, int(loop.reminders.digest_sent)
    for line in (
        t(lang, f"模拟日期：{result.now:%Y-%m-%d %H:%M}（{app.campaign.timezone}）",
          f"Simulated time: {result.now:%Y-%m-%d %H:%M} ({app.campaign.timezone})"),
        t(lang, f"收到 {received} 个文件，入库 {stored} 个版本，无法处理 {len(skipped)} 个",
          f"Received {received} file(s), stored {stored} version(s), {len(skipped)} could not be used"),
        t(lang, f"单位模板：   {app.paths.templates}", f"Unit templates: {app.paths.templates}"),
        t(lang, f"汇总表：     {loop.master.path}", f"Master:         {loop.master.path}"),
        t(lang, f"校验报告：   {app.paths.reports}", f"Reports:        {app.paths.reports}"),
        t(lang, f"催报邮件：   {app.paths.outbox}（{sent} 封催报，日报{digests} 封）",
          f"Reminder mail:  {app.paths.outbox} ({sent} reminder(s), {digests} digest(s))"),
    ):  # fmt: skip
        click.echo(line)
    click.echo("")
    from functions.services.status.status_table import status_table

    click.echo(status_table(app))


def register(cli: click.Group) -> None:
    for cmd in (consolidate, remind, status, run, demo):
        cli.add_command(cmd)
