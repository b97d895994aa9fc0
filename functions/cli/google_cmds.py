"""`huizong google …`: the Google channel. Each part lives in its own module and adds its commands here."""

from __future__ import annotations

import importlib

import click

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
    for name in _PARTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(google)
    cli.add_command(google)
