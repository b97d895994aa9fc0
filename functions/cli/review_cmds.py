"""`huizong review`: the organiser's review loop on the command line (issue 15). Thin: parse, call, print."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from functions.cli.common import (
    EXIT_CANNOT_RUN,
    folder_arg,
    friendly_errors,
    one_at_a_time,
    one_line,
    parse_today,
)
from schemas.i18n import t

if TYPE_CHECKING:
    from functions.app import App
    from functions.services.review.actions import ActionResult

_PAST_EN = {"approve": "Approved", "return": "Returned", "waive": "Waived", "reopen": "Reopened"}
STATES = ("pending", "approved", "returned", "valid", "errors", "draft", "missing")


def _who(by: str | None) -> str:
    """--by, else the OS user: the record says who acted."""
    if by and by.strip():
        return one_line(by.strip())[:200]
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container: still say something true
        return "unknown"


def _act(folder: Path, what: str, today: str | None, run: Callable[[App, dt.datetime], ActionResult]) -> None:
    from functions.bootstrap import open_app
    from functions.services.review.actions import ReviewError
    from functions.services.review.records import action_label

    app = open_app(folder)
    lang = app.campaign.language
    with one_at_a_time(folder, f"review {what}", lang):
        try:
            result = run(app, parse_today(today, app.campaign))
        except ReviewError as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_CANNOT_RUN)
    r = result.record
    done = action_label(lang, r.action)
    where = f" {r.code} {r.cell}" if r.action == "waive" else ""
    click.echo(t(lang, f"已{done}：{r.unit} {r.deliverable} 第{r.seq}版{where}（{r.by}）",
                 f"{_PAST_EN[r.action]}: {r.unit} {r.deliverable} version {r.seq}{where} ({r.by})"))  # fmt: skip
    if result.mail:
        click.echo(result.mail)


_today = click.option("--today", default=None, help="按此日期记录（YYYY-MM-DD，测试用）")
_by = click.option("--by", default=None, help="审核人（默认：当前系统用户）")


@click.group()
def review() -> None:
    """审核：通过、退回、豁免单个问题、重新打开（campaign.yaml 中 review: optional 或 required）。"""


@review.command("list")
@folder_arg
@click.option("--state", type=click.Choice(STATES), default=None, help="只列出此状态（审核状态或校验状态）")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@friendly_errors
def list_cmd(folder: Path, state: str | None, as_json: bool) -> None:
    """列出各单位各项材料的审核状态。"""
    from functions.bootstrap import open_app
    from functions.services.review.actions import review_rows, row_text

    app = open_app(folder, read_only=True)
    rows = review_rows(app, state=state)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(one_line(row_text(app.campaign.language, r)))
    if not rows:
        click.echo(t(app.campaign.language, "（没有符合条件的记录）", "(nothing matches)"))


@review.command()
@folder_arg
@click.argument("unit")
@click.argument("deliverable")
@click.option("--comment", default="", help="审核意见（可选）")
@_by
@_today
@friendly_errors
def approve(
    folder: Path, unit: str, deliverable: str, comment: str, by: str | None, today: str | None
) -> None:
    """通过单位 UNIT 的材料 DELIVERABLE 的最新版本：汇总表计入此版本，直到重新打开。"""
    from functions.services.review.actions import approve as do

    _act(
        folder,
        "approve",
        today,
        lambda app, now: do(app, unit, deliverable, by=_who(by), now=now, comment=comment),
    )


@review.command("return")
@folder_arg
@click.argument("unit")
@click.argument("deliverable")
@click.option("--comment", required=True, help="退回原因（必填，会发给单位）")
@_by
@_today
@friendly_errors
def return_cmd(
    folder: Path, unit: str, deliverable: str, comment: str, by: str | None, today: str | None
) -> None:
    """退回单位 UNIT 的材料 DELIVERABLE，要求重新报送；单位会收到一封【退回修改】邮件。"""
    from functions.services.review.actions import return_submission

    _act(folder, "return", today,
         lambda app, now: return_submission(app, unit, deliverable, by=_who(by), now=now, comment=comment))  # fmt: skip


@review.command()
@folder_arg
@click.argument("unit")
@click.argument("deliverable")
@click.argument("code")
@click.argument("cell")
@click.option("--reason", required=True, help="豁免理由（必填）")
@_by
@_today
@friendly_errors
def waive(
    folder: Path,
    unit: str,
    deliverable: str,
    code: str,
    cell: str,
    reason: str,
    by: str | None,
    today: str | None,
) -> None:
    """豁免最新版本中位于 CELL（如 B5 或 统计!B5）的校验错误 CODE：仍然列出，但不再阻止“通过”。"""
    from functions.services.review.actions import waive as do

    _act(folder, "waive", today,
         lambda app, now: do(app, unit, deliverable, code, cell, by=_who(by), now=now, reason=reason))  # fmt: skip


@review.command()
@folder_arg
@click.argument("unit")
@click.argument("deliverable")
@click.option("--comment", default="", help="说明（可选）")
@_by
@_today
@friendly_errors
def reopen(
    folder: Path, unit: str, deliverable: str, comment: str, by: str | None, today: str | None
) -> None:
    """重新打开已通过或已退回的材料：汇总表改用最新版本，等待再次审核。"""
    from functions.services.review.actions import reopen as do

    _act(
        folder,
        "reopen",
        today,
        lambda app, now: do(app, unit, deliverable, by=_who(by), now=now, comment=comment),
    )


def register(cli: click.Group) -> None:
    cli.add_command(review)
