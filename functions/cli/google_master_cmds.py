"""CLI: `huizong google publish-master DIR`: the master, built from the store, into its Google Sheet."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from functions.cli.common import EXIT_CANNOT_RUN, folder_arg, friendly_errors, parse_today
from functions.cli.google_common import connect_or_exit, fail


@click.command("publish-master")
@folder_arg
@click.option("--today", default=None, help="按此日期（YYYY-MM-DD）计算“数据截至”，默认现在")
@friendly_errors
def publish_master_cmd(folder: Path, today: str | None) -> None:
    """把汇总表（与 master.xlsx 相同的工作表）发布到 Google 表格，并只读共享给组织方。"""
    from functions.bootstrap import open_app
    from functions.services.google.publish_master import MasterPublishError, publish_master, summary_lines

    app = open_app(folder)
    session = connect_or_exit(app)
    try:
        result = publish_master(app, session, now=parse_today(today, app.campaign))
    except MasterPublishError as exc:
        fail([str(exc)])
    for line in summary_lines(result, app.campaign):
        click.echo(line)
    if not result.complete and not result.skipped:
        sys.exit(EXIT_CANNOT_RUN)


def register(group: click.Group) -> None:
    group.add_command(publish_master_cmd)
