"""CLI: `huizong links` — every unit's personal link to the web form, as text, JSON, CSV and QR codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from functions.cli.common import folder_arg, friendly_errors
from schemas.i18n import Language

DEFAULT_BASE_URL = "http://127.0.0.1:8750"
BASE_URL_ENV = "HUIZONG_BASE_URL"


def base_url_option(fn):  # type: ignore[no-untyped-def]
    return click.option(
        "--base-url",
        default=DEFAULT_BASE_URL,
        show_default=True,
        envvar=BASE_URL_ENV,
        help="单位打开表单的网址前缀（也可用环境变量 HUIZONG_BASE_URL）",
    )(fn)


def check_base_url(value: str, lang: Language) -> str:
    from schemas.i18n import t

    if not value.startswith(("http://", "https://")) or "?" in value or "#" in value:
        raise click.BadParameter(
            t(
                lang,
                f"应为以 http:// 或 https:// 开头的网址，如 https://form.example.org，现为 {value!r}",
                f"expected a URL starting with http:// or https://, e.g. https://form.example.org; found {value!r}",
            ),
            param_hint="--base-url",
        )
    return value.rstrip("/")


@click.command()
@folder_arg
@click.option("--json", "as_json", is_flag=True, help="输出 JSON：[{unit, name, deliverable, url}]")
@base_url_option
@click.option("--rotate", is_flag=True, help="更换密钥：之前发出的所有链接立即失效，并生成新链接")
@friendly_errors
def links(folder: Path, as_json: bool, base_url: str, rotate: bool) -> None:
    """列出每个单位的在线填报链接，并写出 out/links.csv 和每个链接的二维码图片。"""
    from functions.bootstrap import open_app
    from functions.services.web.link_files import CSV_KEY, QR_FOLDER, write_link_files
    from functions.services.web.links import campaign_secret, link_expiry, rotate_secret, unit_links
    from schemas.i18n import t

    app = open_app(folder)
    lang = app.campaign.language
    base = check_base_url(base_url, lang)
    now = dt.datetime.now(app.campaign.tz)
    from functions.settings import LINK_SECRET_PARAM

    in_ssm = app.link_secret() if app.link_secret is not None else None
    if in_ssm is not None and rotate:
        # The Lambda reads the secret from SSM: rotating the store's copy would change nothing there.
        raise click.UsageError(
            t(
                lang,
                f"链接密钥保存在 SSM（{LINK_SECRET_PARAM}）中：请用新的随机值覆盖该参数来作废全部链接"
                "（见 docs/deploy.md），然后不带 --rotate 重新运行本命令。",
                f"The link secret is in SSM ({LINK_SECRET_PARAM}): overwrite that parameter with a new random "
                "value to revoke every link (docs/deploy.md), then run this again without --rotate.",
            )
        )
    if in_ssm is not None:
        secret = in_ssm
    else:
        secret = rotate_secret(app.store, now=now) if rotate else campaign_secret(app.store, now=now)
    found = unit_links(secret, app.campaign, app.roster, base)
    write_link_files(app, found)
    expiry = link_expiry(app.campaign)
    if expiry <= now:
        # Still written (the organiser may want the list), but nobody can open them: say so on stderr.
        click.echo(
            t(
                lang,
                f"注意：本次活动的链接已于 {expiry:%Y-%m-%d} 过期（最后截止日期后30天），单位打开时会看到“链接已过期”。",
                f"Note: this campaign's links expired on {expiry:%Y-%m-%d} (30 days after the last due date); "
                "units opening them are told so.",
            ),
            err=True,
        )
    if as_json:
        click.echo(json.dumps([link.model_dump() for link in found], ensure_ascii=False, indent=2))
        return
    if rotate:
        click.echo(
            t(lang, "已更换密钥：之前发出的链接均已失效。", "Secret rotated: every earlier link is revoked.")
        )
    titles = {d.key: d.title(lang) for d in app.campaign.deliverables}
    for link in found:
        click.echo(f"{link.unit}\t{link.name}\t{titles[link.deliverable]}\t{link.url}")
    click.echo(
        t(
            lang,
            f"共 {len(found)} 个链接；已写出 out/{CSV_KEY} 和二维码 out/{QR_FOLDER}/",
            f"{len(found)} link(s); wrote out/{CSV_KEY} and QR codes in out/{QR_FOLDER}/",
        )
    )


def register(cli: click.Group) -> None:
    cli.add_command(links)
