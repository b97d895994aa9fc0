"""CLI: `huizong google poll DIR`: check the unit sheets that changed since the last poll."""

from __future__ import annotations

import json
from pathlib import Path

import click

from functions.cli.common import folder_arg, friendly_errors, one_at_a_time, parse_today
from functions.cli.google_common import connect_or_exit


@click.command("poll")
@folder_arg
@click.option("--today", default=None, help="按此时间（YYYY-MM-DD）判断是否逾期，默认现在")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出本次轮询的结果")
@friendly_errors
def poll_cmd(folder: Path, today: str | None, as_json: bool) -> None:
    """检查有变动的单位表格：校验、把结果和批注写回表格、保存新版本、勾选“提交”的发回执。"""
    from functions.bootstrap import open_app
    from functions.services.google.poll import run_poll, summary_lines

    app = open_app(folder)
    lang = app.campaign.language
    session = connect_or_exit(app)
    # A poll stores versions, writes reports and mails receipts: not beside a `run` on the same folder.
    with one_at_a_time(folder, "google poll", lang):
        result = run_poll(app, session, now=parse_today(today, app.campaign))
    if as_json:
        click.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        for line in summary_lines(result, lang):
            click.echo(line)


def register(group: click.Group) -> None:
    group.add_command(poll_cmd)
