"""CLI: `huizong google form-spec` (the questions the Apps Script builds) and `form-unidentified`."""

from __future__ import annotations

from pathlib import Path

import click

from functions.cli.common import folder_arg, friendly_errors


@click.command("form-spec")
@folder_arg
@click.option("--deliverable", default=None, help="报送事项（如 summary）；只有一个可用时可省略")
@friendly_errors
def form_spec(folder: Path, deliverable: str | None) -> None:
    """输出 Google 表单的题目（JSON），供 infra/apps_script/Code.gs 的 setup() 建表单。"""
    from functions.services.form_spec_export import form_spec_command_output

    click.echo(form_spec_command_output(folder, deliverable), nl=False)


@click.command("form-unidentified")
@folder_arg
@friendly_errors
def form_unidentified(folder: Path) -> None:
    """列出无法识别单位的表单回复，供组织方跟进。"""
    from functions.bootstrap import open_app
    from functions.services.form_intake import list_unidentified

    app = open_app(folder)
    rows = list_unidentified(app)
    if not rows:
        click.echo("没有无法识别单位的表单回复。")
        return
    for r in rows:
        who = r.respondent_email or "（未收集邮箱）"
        click.echo(f"{r.submitted_at:%Y-%m-%d %H:%M} {r.deliverable} 回复 {r.response_id}：填写人 {who}，"
                   f"单位编码“{r.unit_code_answer or ''}”——{'；'.join(r.reasons)}")  # fmt: skip


def register(group: click.Group) -> None:
    group.add_command(form_spec)
    group.add_command(form_unidentified)
