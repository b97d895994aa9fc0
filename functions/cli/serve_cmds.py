"""CLI: `huizong serve` — the webhook, the scheduler and consolidation on one machine."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from functions.cli.common import EXIT_CANNOT_RUN, folder_arg, friendly_errors
from functions.settings import WEBHOOK_SECRET_ENV, Settings
from schemas.i18n import Language, t


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
@click.option("--port", default=8787, show_default=True, type=int, help="端口")
@click.option("--secret-file", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None)
@click.option("--no-scheduler", is_flag=True, help="只接收 webhook，不定时收件、轮询和催报")
@friendly_errors
def serve(folder: Path, host: str, port: int, secret_file: Path | None, no_scheduler: bool) -> None:
    """在本机运行：webhook（表单回传）、定时收件与轮询、每日催报、自动汇总。"""
    from functions.bootstrap import open_app
    from functions.serve.local_server import LocalServer

    app = open_app(folder)
    lang = app.campaign.language
    server = LocalServer(app, secret=_secret(secret_file, lang), host=host, port=port)
    server.start(scheduler=not no_scheduler)
    bound_host, bound_port = server.address
    url = f"http://{bound_host}:{bound_port}/webhook"
    click.echo(
        t(lang, f"huizong 已启动：{url} （Ctrl-C 停止）", f"huizong is running: {url} (Ctrl-C stops it)")
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        click.echo(t(lang, "已停止。", "Stopped."))


def register(cli: click.Group) -> None:
    cli.add_command(serve)
