"""CLI: `huizong google form-spec` (the questions the Apps Script builds) and `form-unidentified`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from functions.cli.common import folder_arg, friendly_errors
from schemas.i18n import t

if TYPE_CHECKING:
    from functions.services.intake.form_responses import UnidentifiedResponse
    from schemas.campaign import Campaign


@click.command("form-spec")
@folder_arg
@click.option("--deliverable", default=None, help="报送事项（如 summary）；只有一个可用时可省略")
@click.option(
    "--gs", "as_gs", is_flag=True, help="输出为 spec.gs（var HUIZONG_SPEC = …），直接放入 Apps Script 项目"
)
@friendly_errors
def form_spec(folder: Path, deliverable: str | None, as_gs: bool) -> None:
    """输出 Google 表单的题目（JSON），供 infra/apps_script/Code.gs 的 setup() 建表单。"""
    from functions.services.google.form_spec import form_spec_command_output

    click.echo(form_spec_command_output(folder, deliverable, as_gs=as_gs), nl=False)


@click.command("form-unidentified")
@folder_arg
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@friendly_errors
def form_unidentified(folder: Path, as_json: bool) -> None:
    """列出无法识别单位（编码不在名单中，或编码与邮箱不符）的表单回复，供组织方跟进。"""
    from functions.bootstrap import open_app
    from functions.services.intake.form_responses import list_unidentified

    app = open_app(folder)
    rows = list_unidentified(app)
    if as_json:
        click.echo(json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=2))
        return
    lang = app.campaign.language
    if not rows:
        click.echo(t(lang, "没有无法识别单位的表单回复。", "No form responses with an unknown unit."))
        return
    for r in rows:
        click.echo(_line(r, app.campaign))


def _line(r: UnidentifiedResponse, campaign: Campaign) -> str:
    lang = campaign.language
    when = r.submitted_at.astimezone(campaign.tz)
    code = r.unit_code_answer or ""
    who = r.respondent_email or t(lang, "（未收集邮箱）", "(email not collected)")
    if r.problem == "mismatch":
        what = t(lang, "编码与邮箱不符", "code and email disagree")
    else:
        what = t(lang, "单位无法识别", "unit unknown")
    head = t(
        lang,
        f"{when:%Y-%m-%d %H:%M} {r.deliverable} 回复 {r.response_id}：填写人 {who}，单位编码“{code}”（{what}）",
        f"{when:%Y-%m-%d %H:%M} {r.deliverable} response {r.response_id}: {who}, code '{code}' ({what})",
    )
    return t(lang, f"{head}——{'；'.join(r.reasons)}", f"{head} — {' '.join(r.reasons)}")


def register(group: click.Group) -> None:
    group.add_command(form_spec)
    group.add_command(form_unidentified)
