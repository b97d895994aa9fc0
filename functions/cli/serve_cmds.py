"""CLI: `huizong serve` — the webhook, the web form, the scheduler and consolidation on one machine."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from functions.cli.common import EXIT_CANNOT_RUN, folder_arg, friendly_errors
from functions.cli.web_cmds import BASE_URL_ENV, check_base_url
from functions.settings import WEBHOOK_SECRET_ENV, Settings
from schemas.i18n import Language, t

if TYPE_CHECKING:
    from functions.serve.local_server import LocalServer
    from functions.serve.web_server import WebFormServer


def _secret(secret_file: Path | None, lang: Language) -> bytes:
    if secret_file is not None:
        value = secret_file.read_text(encoding="utf-8").strip()
    else:
        value = Settings.from_env().webhook_secret.get_secret_value()
    if len(value) < 16:
        click.echo(
            t(
                lang,
                f"缺少 webhook 密钥：请设置环境变量 {WEBHOOK_SECRET_ENV}，或用 --secret-file 指定文件（至少16个字符，"
                "与 Apps Script 的 HUIZONG_WEBHOOK_SECRET 相同）。",
                f"No webhook secret: set the environment variable {WEBHOOK_SECRET_ENV} or name a file with "
                "--secret-file (at least 16 characters, the same as the Apps Script's HUIZONG_WEBHOOK_SECRET).",
            ),
            err=True,
        )
        raise SystemExit(EXIT_CANNOT_RUN)
    return value.encode()


@click.command()
@folder_arg
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（默认只对本机开放）")
@click.option("--port", default=8787, show_default=True, type=int, help="webhook 端口")
@click.option(
    "--web-port", default=8750, show_default=True, type=int, help="在线填报表单的端口（0 = 任一空闲端口）"
)
@click.option(
    "--base-url",
    default=None,
    envvar=BASE_URL_ENV,
    help="单位打开表单的网址前缀，如 https://form.example.org（默认 http://HOST:WEB-PORT）",
)
@click.option("--no-web", is_flag=True, help="不运行在线填报表单")
@click.option("--secret-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None)
@click.option("--no-scheduler", is_flag=True, help="只接收 webhook，不定时收件、轮询和催报")
@friendly_errors
def serve(
    folder: Path,
    host: str,
    port: int,
    web_port: int,
    base_url: str | None,
    no_web: bool,
    secret_file: Path | None,
    no_scheduler: bool,
) -> None:
    """在本机运行：webhook（表单回传）、在线填报表单、定时收件与轮询、每日催报、自动汇总。"""
    from functions.bootstrap import open_app
    from functions.serve.local_server import LocalServer

    app = open_app(folder)
    lang = app.campaign.language
    server = LocalServer(app, secret=_secret(secret_file, lang), host=host, port=port)
    web = None if no_web else _web_server(server, host, web_port, base_url, lang)
    server.start(scheduler=not no_scheduler)
    bound_host, bound_port = server.address
    url = f"http://{bound_host}:{bound_port}/webhook"
    click.echo(
        t(lang, f"huizong 已启动：{url} （Ctrl-C 停止）", f"huizong is running: {url} (Ctrl-C stops it)")
    )
    if web is not None:
        web_server, base, asgi = web
        web_server.start(asgi)
        click.echo(
            t(
                lang,
                f"在线填报表单：{base}/u/<链接> （各单位的链接：huizong links {folder} --base-url {base}）",
                f"Web form: {base}/u/<link> (each unit's link: huizong links {folder} --base-url {base})",
            )
        )
        click.echo(
            t(lang, f"管理页面：{base}/admin （campaign.yaml 的 people 中列出的人员用邮箱登录）",
              f"Console: {base}/admin (people listed in campaign.yaml sign in by mail)")
        )  # fmt: skip
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if web is not None:
            web[0].stop()
        server.stop()
        click.echo(t(lang, "已停止。", "Stopped."))


def _web_server(
    server: LocalServer, host: str, port: int, base_url: str | None, lang: Language
) -> tuple[WebFormServer, str, Any]:
    """The web form's server, bound now so a port in use stops `serve` with a clear message."""
    from functions.serve.web_server import WebFormServer
    from functions.web.app import create_web_app

    try:
        # Bound before the app is built: the default base URL needs the port the system chose for 0.
        web = WebFormServer(host=host, port=port)
    except OSError as exc:
        click.echo(
            t(
                lang,
                f"在线填报表单无法使用端口 {port}（{exc.strerror}）：请用 --web-port 换一个端口，或用 --no-web 不运行表单。",
                f"The web form cannot use port {port} ({exc.strerror}): choose another with --web-port, "
                "or --no-web to run without it.",
            ),
            err=True,
        )
        server.httpd.server_close()
        raise SystemExit(EXIT_CANNOT_RUN) from None
    bound_host, bound_port = web.address
    base = check_base_url(base_url, lang) if base_url else f"http://{bound_host}:{bound_port}"
    asgi = create_web_app(
        server.app, base_url=base, lock=server.lock, on_stored=server.worker.request, clock=server.clock
    )
    return web, base, asgi


def register(cli: click.Group) -> None:
    cli.add_command(serve)
