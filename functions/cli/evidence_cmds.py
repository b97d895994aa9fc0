"""`huizong export-files`: every unit's evidence files in one folder per unit, for the organiser's archive."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from functions.cli.common import EXIT_CANNOT_RUN, folder_arg, friendly_errors
from schemas.i18n import t


@click.command("export-files")
@folder_arg
@click.option(
    "--out",
    "out",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="导出到此文件夹（默认：活动目录/out/附件）",
)
@friendly_errors
def export_files_cmd(folder: Path, out: Path | None) -> None:
    """把各单位最新报送的附件（工作方案、照片、视频…）导出到 out/附件/，每个单位一个文件夹。"""
    from functions.bootstrap import open_app
    from functions.services.master.evidence import default_export_folder, export_files

    # Only reads the store: the archive can be made while the loop runs, and from a read-only folder.
    app = open_app(folder, read_only=True)
    lang = app.campaign.language
    target = out if out is not None else default_export_folder(app.campaign, app.paths.out)
    inbox = app.paths.inbox.resolve()
    resolved = target.resolve()
    if resolved == inbox or inbox in resolved.parents:
        # The intake would read the exported files back as new submissions' attachments.
        click.echo(
            t(
                lang,
                f"不能导出到收件箱 {inbox} 之内：其中的文件会被当作新的报送读取。请换一个文件夹（如 {folder}/out/附件）。",
                f"Cannot export inside the inbox {inbox}: its files would be read as new submissions. "
                f"Choose another folder (e.g. {folder}/out/attachments).",
            ),
            err=True,
        )
        sys.exit(EXIT_CANNOT_RUN)
    result = export_files(app.campaign, app.roster, app.store, target)
    click.echo(
        t(
            lang,
            f"已导出 {result.files} 个附件（{result.units} 个单位）到 {result.folder}",
            f"Exported {result.files} file(s) of {result.units} unit(s) to {result.folder}",
        )
    )
    for path in result.missing:
        click.echo(
            t(
                lang,
                f"未能导出（存储中没有该文件的内容）：{path}",
                f"Not exported (its bytes are not in the store): {path}",
            ),
            err=True,
        )


def register(cli: click.Group) -> None:
    cli.add_command(export_files_cmd)
