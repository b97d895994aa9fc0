"""`huizong assign`: attach a file the intake could not tie to a unit (or one held back) to a unit."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from functions.cli.common import EXIT_CANNOT_RUN, EXIT_INVALID, friendly_errors, parse_today
from schemas.i18n import t


def _campaign_of(file: Path) -> Path:
    """The campaign folder whose inbox/ holds FILE; else the current folder."""
    for parent in file.resolve().parents:
        if parent.name == "inbox" and (parent.parent / "campaign.yaml").is_file():
            return parent.parent
    return Path.cwd()


@click.command()
# Not exists=True: a mailed workbook has no file, it is named by its recorded name or digest.
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("unit")
@click.option("--deliverable", default=None, help="材料（如 plan）；工作簿能识别时可省略")
@click.option(
    "--campaign",
    "campaign_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="活动目录（默认：FILE 所在 inbox/ 的上一级，否则当前目录）",
)
@click.option("--today", default=None, help="按此日期处理（YYYY-MM-DD）")
@friendly_errors
def assign(
    file: Path, unit: str, deliverable: str | None, campaign_dir: Path | None, today: str | None
) -> None:
    """把无法识别单位（或身份不符）的文件 FILE 指派给单位 UNIT，像普通报送一样校验、入库。

    FILE 也可以是邮件收到的未识别工作簿的文件名或编号（huizong status 列出；文件内容已保存，无需放入 inbox）。"""
    from functions.bootstrap import open_app
    from functions.services.intake.assign import AssignError, assign_file, assign_recorded, find_recorded
    from functions.services.messages.report_text import render_report

    app = open_app(campaign_dir or _campaign_of(file))
    lang = app.campaign.language
    now = parse_today(today, app.campaign, hour=23)
    try:
        if file.is_file():
            result = assign_file(app, file, unit, deliverable=deliverable, now=now)
        else:
            record = find_recorded(app, str(file))
            result = assign_recorded(app, record, unit, deliverable=deliverable, now=now)
    except AssignError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_CANNOT_RUN)
    name = app.roster.get(result.unit)
    who = f"{result.unit} {name.name if name else ''}".strip()
    if result.outcome is None:
        click.echo(
            t(
                lang,
                f"文件无法读取，已记为 {who} 报送但无法读取的文件；该单位将收到“收到您的文件，但无法读取”的提示。",
                f"The file cannot be read; recorded as {who}'s unreadable file (the unit will be told so).",
            )
        )
        sys.exit(EXIT_INVALID)
    o = result.outcome
    if o.report is not None:
        click.echo(render_report(o.report, lang), nl=False)
    if o.seq is None:
        click.echo(t(lang, f"未能作为 {who} 的报送入库。", f"Not stored as {who}'s submission."), err=True)
        sys.exit(EXIT_INVALID)
    stored = (
        t(lang, "新版本", "new version")
        if o.stored
        else t(lang, "与已有版本相同", "same as a stored version")
    )
    click.echo(
        t(
            lang,
            f"已指派给 {who}：{result.deliverable} 第 {o.seq} 版（{stored}）。",
            f"Assigned to {who}: {result.deliverable} version {o.seq} ({stored}).",
        )
    )
    sys.exit(0 if o.valid else EXIT_INVALID)


def register(cli: click.Group) -> None:
    cli.add_command(assign)
