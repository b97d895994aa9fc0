"""CLI: `huizong google check` (can we reach the folder?) and `huizong google provision` (unit sheets)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from functions.cli.common import EXIT_CANNOT_RUN, EXIT_INVALID, folder_arg, friendly_errors
from functions.cli.google_common import connect_or_exit, fail, require_google
from schemas.campaign import Campaign
from schemas.i18n import t


def _access_problem(campaign: Campaign, status: int, reason: str, email: str) -> list[str]:
    lang = campaign.language
    assert campaign.google is not None
    fid = campaign.google.folder_id
    who = email or t(lang, "服务账号", "the service account")
    if reason in ("accessNotConfigured", "SERVICE_DISABLED"):
        return [
            t(
                lang,
                "Google Drive API 未在服务账号所属的项目中启用。请在 Google Cloud 控制台“API 和服务”中启用 "
                "Google Drive API 和 Google Sheets API，几分钟后再试。",
                "The Google Drive API is not enabled in the service account's project. Enable the Google "
                "Drive API and Google Sheets API under 'APIs & Services', then retry in a few minutes.",
            )
        ]
    return [
        t(
            lang,
            f"无法访问 Google 云端硬盘文件夹 {fid}（HTTP {status}）：文件夹不存在，或未共享给 {who}。",
            f"Cannot reach the Drive folder {fid} (HTTP {status}): it does not exist or is not shared with {who}.",
        ),
        t(
            lang,
            f"解决办法：在 Google 云端硬盘中右键该文件夹（须在共享云端硬盘中）→“共享”，添加 {who}，权限选“内容管理员”；"
            "并确认 campaign.yaml 中的 google.folder_id 是文件夹网址 folders/ 后面的那一段。",
            f"To fix: in Google Drive, share the folder (in a shared drive) with {who} as Content manager, and check that google.folder_id "
            "in campaign.yaml is the part of the folder's address after folders/.",
        ),
    ]


@click.command("check")
@folder_arg
@friendly_errors
def check(folder: Path) -> None:
    """检查服务账号能否访问活动的 Google 云端硬盘文件夹，并显示需要共享给的服务账号地址。"""
    from functions.bootstrap import open_app
    from functions.ports import GoogleBudgetExhausted, GoogleCallFailed, GoogleRefused
    from functions.services.google.provision import check_folder

    app = open_app(folder)
    campaign = app.campaign
    if campaign.google is None:
        require_google(campaign)
    lang = campaign.language
    session = connect_or_exit(app)
    email = session.service_account_email
    click.echo(
        t(lang, f"服务账号：{email}（请把共享云端硬盘中的活动文件夹共享给此地址，权限为“内容管理员”）",
          f"Service account: {email} (add this address to the campaign folder in a shared drive as Content manager)")
    )  # fmt: skip
    try:
        got = check_folder(session)
    except GoogleRefused as exc:
        fail(_access_problem(campaign, exc.status, exc.reason, email))
    except (GoogleCallFailed, GoogleBudgetExhausted) as exc:
        fail(
            [
                t(
                    lang,
                    f"Google 暂时无法访问，请稍后再试：{exc}",
                    f"Google is not answering, retry later: {exc}",
                )
            ]
        )
    click.echo(t(lang, f"文件夹：{got.name}（{got.folder_id}）", f"Folder: {got.name} ({got.folder_id})"))
    if got.can_add_children and got.in_shared_drive:
        click.echo(t(lang, "可以在此文件夹中新建表格：是", "Can add spreadsheets to this folder: yes"))
        return
    if got.can_add_children:
        click.echo(
            t(lang, "注意：此文件夹在个人“我的云端硬盘”中。服务账号没有自己的存储空间，不能在这里新建表格。"
                    "请在共享云端硬盘中建文件夹，把服务账号加为“内容管理员”，并把 google.folder_id 改为该文件夹。",
              "Note: this folder is in a My Drive. A service account has no storage of its own and cannot "
              "create spreadsheets here. Use a folder in a shared drive, add the service account as Content "
              "manager and set google.folder_id to it.")
        )  # fmt: skip
        sys.exit(EXIT_INVALID)
    click.echo(
        t(lang, f"可以在此文件夹中新建表格：否。请把文件夹共享给 {email}，权限选“内容管理员”（不是“查看者”或“评论者”）。",
          f"Can add spreadsheets to this folder: no. Share the folder with {email} as Content manager "
          "(not Viewer or Commenter).")
    )  # fmt: skip
    sys.exit(EXIT_INVALID)


@click.command("provision")
@folder_arg
@click.option("--dry-run", is_flag=True, help="只列出将要新建或继续完成的表格，不调用 Google、不记录")
@friendly_errors
def provision_cmd(folder: Path, dry_run: bool) -> None:
    """为每个单位的每项报送材料在 Google 云端硬盘文件夹中建好表格并共享给单位（可重复运行）。"""
    from functions.bootstrap import open_app
    from functions.services.google.provision import FOLDER_STOP, provision, summary_lines

    app = open_app(folder)
    campaign = app.campaign
    if campaign.google is None:
        require_google(campaign)
    session = None if dry_run else connect_or_exit(app)
    result = provision(
        campaign, app.roster, app.store, session, now=dt.datetime.now(campaign.tz), dry_run=dry_run
    )
    for line in summary_lines(result, campaign, dry_run=dry_run):
        click.echo(line)
    if result.stopped and result.stop_reason.startswith(FOLDER_STOP):
        sys.exit(EXIT_CANNOT_RUN)
    if result.count("failed") or any(s.problems for s in result.slots):
        sys.exit(EXIT_INVALID)


def register(group: click.Group) -> None:
    group.add_command(check)
    group.add_command(provision_cmd)
