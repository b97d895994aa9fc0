"""`huizong google …`: the Google channel. Each part lives in its own module and adds its commands here."""

from __future__ import annotations

import click

from functions.cli.common import register_optional

# Each module exposes register(group: click.Group); a part not installed yet is simply absent.
_PARTS = (
    "functions.cli.google_setup_cmds",  # check, provision
    "functions.cli.google_poll_cmds",  # poll
    "functions.cli.google_form_cmds",  # form-spec, form-responses
    "functions.cli.google_master_cmds",  # publish-master
)


@click.group()
def google() -> None:
    """Google 表格 / 表单渠道（服务账号、单位表格、轮询、表单、汇总表）。"""


def register(cli: click.Group) -> None:
    register_optional(_PARTS, google)
    cli.add_command(google)
