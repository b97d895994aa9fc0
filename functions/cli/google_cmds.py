"""`huizong google …`: the Google channel. Each part lives in its own module and adds its commands here."""

from __future__ import annotations

import click

from functions.cli import google_form_cmds, google_master_cmds, google_poll_cmds, google_setup_cmds


@click.group()
def google() -> None:
    """Google 表格 / 表单渠道（服务账号、单位表格、轮询、表单、汇总表）。"""


def register(cli: click.Group) -> None:
    for part in (google_setup_cmds, google_poll_cmds, google_form_cmds, google_master_cmds):
        part.register(google)
    cli.add_command(google)
