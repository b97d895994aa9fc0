"""Shared CLI plumbing: opening a campaign folder and turning failures into clear messages."""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from functions.config.loading import ConfigError
from functions.settings import Settings
from schemas.campaign import Campaign
from schemas.i18n import t

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INVALID, EXIT_CANNOT_RUN = 1, 2


def friendly_errors(fn: F) -> F:
    """No traceback for a person: config problems and unexpected failures become a message and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            for line in exc.problems:
                click.echo(line, err=True)
            sys.exit(EXIT_CANNOT_RUN)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if Settings.from_env().debug:
                raise
            click.echo(f"出错了 / failed: {type(exc).__name__}: {exc}", err=True)
            click.echo(
                "（设置环境变量 HUIZONG_DEBUG=1 可查看详细信息 / set HUIZONG_DEBUG=1 for details）", err=True
            )
            sys.exit(EXIT_CANNOT_RUN)

    return wrapper  # type: ignore[return-value]


def parse_today(value: str | None, campaign: Campaign, hour: int = 12) -> dt.datetime:
    """--today YYYY-MM-DD means that day at `hour` in the campaign's time zone; unset means now."""
    if not value:
        return dt.datetime.now(campaign.tz)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        text = t(
            campaign.language,
            f"日期格式应为 YYYY-MM-DD，现为 {value!r}",
            f"expected YYYY-MM-DD, found {value!r}",
        )
        raise click.BadParameter(text, param_hint="--today") from None
    return dt.datetime.combine(day, dt.time(hour), tzinfo=campaign.tz)


def folder_arg(fn: F) -> F:
    return click.argument("folder", type=click.Path(file_okay=False, path_type=Path))(fn)  # type: ignore[return-value]
