"""What every `huizong google …` command does first: refuse a campaign without Google, then connect."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

import click

from functions.cli.common import EXIT_CANNOT_RUN
from schemas.campaign import Campaign
from schemas.i18n import t

if TYPE_CHECKING:
    from functions.app import App
    from functions.ports import GoogleClient


def fail(lines: list[str]) -> NoReturn:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(EXIT_CANNOT_RUN)


def require_google(campaign: Campaign) -> None:
    if campaign.google is None:
        fail([t(campaign.language,
                "campaign.yaml 中没有 google 设置，未启用 Google 渠道。请添加 google.folder_id 等（见 docs/google.md）。",
                "campaign.yaml has no google section: the Google channel is off. Add google.folder_id "
                "(see docs/google.md).")])  # fmt: skip


def connect_or_exit(app: App) -> GoogleClient:
    """The run's Google client; a key that is missing or broken ends the command with its explanation."""
    from functions.adapters.google.credentials import GoogleCredentialsError

    require_google(app.campaign)
    assert app.google is not None  # the composition root wires Google whenever the campaign has it
    try:
        return app.google()
    except GoogleCredentialsError as exc:
        fail(exc.lines)
