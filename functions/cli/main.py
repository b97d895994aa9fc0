"""`huizong`: the command line. Each command is a thin call into a service."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from functions.cli import (
    evidence_cmds,
    google_cmds,
    identity_cmds,
    loop_cmds,
    mail_cmds,
    review_cmds,
    serve_cmds,
    web_cmds,
)
from functions.cli.common import (
    EXIT_CANNOT_RUN,
    EXIT_INVALID,
    cannot_run,
    folder_arg,
    friendly_errors,
    json_error,
    one_at_a_time,
    one_line,
    parse_today,
)
from functions.settings import Settings
from schemas.i18n import Text, t


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="huizong")
def cli() -> None:
    """汇总 huizong — 全民终身学习活动周报送汇总：模板、校验、汇总表、催报。"""


@cli.command()
@folder_arg
@click.option(
    "--example", "example", default="wujin-2022", show_default=True, help="wujin-2022 或 xinbei-2017"
)
@click.option("--force", is_flag=True, help="覆盖已有的 campaign.yaml 和 units.csv")
@friendly_errors
def init(folder: Path, example: str, force: bool) -> None:
    """在 FOLDER 中写入一个完整的示例活动（campaign.yaml、units.csv、inbox/）。"""
    from functions.config.loading import load_campaign
    from functions.services.setup.examples import write_example

    written = write_example(folder, example, force=force)
    # The example just written says which language its organiser reads.
    lang = load_campaign(folder).language
    for p in written:
        click.echo(t(lang, f"已写入 {p}", f"Wrote {p}"))
    # The example is someone else's campaign: generating its templates first would send its units' names.
    click.echo(
        t(
            lang,
            f"下一步：先编辑 {folder / 'campaign.yaml'}（活动名称、日期、材料、组织方）和 {folder / 'units.csv'}"
            f"（本次活动的单位名单），再运行 huizong templates {folder}",
            f"Next: edit {folder / 'campaign.yaml'} (title, dates, deliverables, organiser) and "
            f"{folder / 'units.csv'} (your units) first, then run huizong templates {folder}",
        )
    )


@cli.command()
@folder_arg
@friendly_errors
def templates(folder: Path) -> None:
    """为每个单位生成报送工作簿（templates/<材料>/<编码>-<名称>.xlsx）及空白模板。"""
    from functions.bootstrap import open_app
    from functions.services.setup.unit_templates import write_templates

    app = open_app(folder)
    _warn_roster(app)
    from functions.services.web.form_link import form_links

    link_of = form_links(
        app.store, app.campaign, now=dt.datetime.now(app.campaign.tz), secret_of=app.link_secret
    )
    paths = write_templates(folder, app.campaign, app.roster, link_of=link_of)
    where = folder / "templates"
    lang = app.campaign.language
    click.echo(
        t(lang, f"已生成 {len(paths)} 个工作簿，位于 {where}", f"Wrote {len(paths)} workbooks to {where}")
    )
    if app.roster_problems:
        # Skipped units got no workbook: saying only "done" would let them go unnoticed.
        n = len(app.roster_problems)
        click.echo(
            t(
                lang,
                f"警告：单位名单有 {n} 行被跳过（见上），这些单位没有生成工作簿。请修改 units.csv 后重新运行。",
                f"Warning: {n} roster row(s) were skipped (listed above) and got no workbook. "
                "Fix units.csv and run again.",
            ),
            err=True,
        )
        sys.exit(EXIT_INVALID)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@click.option("--deliverable", default=None, help="期望的材料（如 plan），与文件不符时报 wrong-deliverable")
@friendly_errors
def validate(file: Path, campaign_dir: Path, as_json: bool, deliverable: str | None) -> None:
    """校验一个工作簿。退出码：0 通过，1 有错误，2 无法运行。"""
    from functions.bootstrap import open_app
    from functions.services.intake.validate_file import validate_file

    # Reading only: validating a file needs no write access to the campaign folder or its store.
    app = open_app(campaign_dir, read_only=True)
    if not file.is_file():
        # A FIFO or a device would block the reader for ever (issue 11 §2.13); only regular files.
        cannot_run(
            [
                t(
                    app.campaign.language,
                    f"{file}: 不是普通文件（可能是管道或设备），无法校验。请指定一个 .xlsx 工作簿文件",
                    f"{file}: not a regular file (a pipe or a device?), so it cannot be checked. "
                    "Name an .xlsx workbook file",
                )
            ],
            "not-a-file",
            as_json=as_json,
        )
    report = validate_file(app, file, expected_deliverable=deliverable)
    if as_json:
        click.echo(json.dumps(report.public_json(), ensure_ascii=False, indent=2))
    else:
        from functions.services.messages.report_text import render_report

        click.echo(render_report(report, app.campaign.language), nl=False)
    sys.exit(0 if report.valid else EXIT_INVALID)


@cli.command()
@folder_arg
@click.option("--today", default=None, help="按此日期处理（YYYY-MM-DD），用于演示和补跑")
@friendly_errors
def ingest(folder: Path, today: str | None) -> None:
    """读取 inbox/ 下的全部工作簿：校验、入库、写出每个单位的校验报告。"""
    from functions.bootstrap import open_app
    from functions.services.intake.ingest_folder import ingest_all

    app = open_app(folder)
    lang = app.campaign.language
    _warn_roster(app)
    now = parse_today(today, app.campaign, hour=23)
    with one_at_a_time(folder, "ingest", lang):
        outcomes = ingest_all(app, now=now)
    new = sum(o.stored for o in outcomes)
    bad = [o for o in outcomes if o.note in ("unreadable", "unidentified")]
    for o in outcomes:
        state = t(lang, "通过", "valid") if o.valid else t(lang, f"{o.errors}个错误", f"{o.errors} error(s)")
        tag = _INGEST_NOTES[o.note](lang) if o.note in _INGEST_NOTES else ""
        click.echo(
            f"{o.unit or '?':>8} {o.deliverable or '?':<8} {state}{tag}  {one_line(Path(o.source).name)}"
        )
    click.echo(
        t(
            lang,
            f"共 {len(outcomes)} 个文件，新版本 {new} 个，跳过 {len(bad)} 个。报告见 {app.paths.reports}",
            f"{len(outcomes)} file(s), {new} new version(s), {len(bad)} skipped. Reports in {app.paths.reports}",
        )
    )


# How `huizong ingest` marks a file that made no new version (IngestOutcome.note).
_INGEST_NOTES: dict[str, Text] = {
    "unchanged": Text("（无变化）", " (unchanged)"),
    "unreadable": Text("（无法读取）", " (unreadable)"),
    "unidentified": Text("（无法识别单位）", " (unit unknown)"),
    "no-workbook": Text("（只有附件，没有工作簿，未入库）", " (files but no workbook: not stored)"),
}


def _warn_roster(app: object) -> None:
    from functions.app import App
    from functions.config.loading import format_roster_problems

    assert isinstance(app, App)
    lang = app.campaign.language
    for line in format_roster_problems("units", app.roster_problems, lang):
        click.echo(
            t(lang, f"名单问题（该行已跳过）：{line}", f"Roster problem (row skipped): {line}"), err=True
        )


# Command groups living in their own modules (each module's imports stay inside its commands, so
# `huizong --help` loads no adapter).
loop_cmds.register(cli)
google_cmds.register(cli)
serve_cmds.register(cli)
identity_cmds.register(cli)
web_cmds.register(cli)
review_cmds.register(cli)
evidence_cmds.register(cli)
mail_cmds.register(cli)


def main() -> None:
    _quiet_library_warnings()
    try:
        # Not standalone: click would print a usage error and exit before --json could answer it.
        code = cli.main(prog_name="huizong", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        # A usage error (exit 2) before the command ran: --json still gets its JSON error object.
        exc.show()
        if exc.exit_code == EXIT_CANNOT_RUN and "--json" in sys.argv[1:]:
            click.echo(json_error("usage", [exc.format_message()]))
        sys.exit(exc.exit_code)
    except SystemExit as exc:
        raise SystemExit(exc.code if exc.code is not None else 0) from None
    except Exception:
        # HUIZONG_DEBUG=1 promised a traceback: let it through. Otherwise commands already printed theirs.
        if Settings.from_env().debug:
            raise
        sys.exit(EXIT_CANNOT_RUN)
    # ctx.exit(n) (e.g. --help is 0) comes back as a return value when not standalone.
    sys.exit(code if isinstance(code, int) else 0)


def _quiet_library_warnings() -> None:
    """openpyxl's UserWarnings ("Data Validation extension is not supported", …) print the library's
    path on the user's screen and mean nothing to them; huizong reports what matters itself. Shown
    again under HUIZONG_DEBUG=1."""
    import warnings

    if not Settings.from_env().debug:
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\..*)?$")
