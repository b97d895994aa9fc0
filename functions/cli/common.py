"""Shared CLI plumbing: opening a campaign folder and turning failures into clear messages."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import sys
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from functions.config.loading import ConfigError
from functions.settings import Settings
from functions.store_errors import StoreUnavailable
from schemas.campaign import Campaign
from schemas.i18n import Language, t

F = TypeVar("F", bound=Callable[..., Any])

EXIT_INVALID, EXIT_CANNOT_RUN = 1, 2


def friendly_errors(fn: F) -> F:
    """No traceback for a person: config problems and unexpected failures become a message and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            _cannot_run(exc.problems, "config", kwargs)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except StoreUnavailable as exc:
            # Found in the middle of a command (at open, bootstrap already made it a ConfigError).
            if Settings.from_env().debug:
                raise
            _cannot_run([exc.message(_language_hint(kwargs))], "store", kwargs)
        except Exception as exc:
            if Settings.from_env().debug:
                raise
            _cannot_run(
                [
                    f"出错了 / failed: {type(exc).__name__}: {exc}",
                    "（设置环境变量 HUIZONG_DEBUG=1 可查看详细信息 / set HUIZONG_DEBUG=1 for details）",
                ],
                "failed",
                kwargs,
            )

    return wrapper  # type: ignore[return-value]


def _cannot_run(lines: list[str], kind: str, kwargs: dict[str, Any]) -> NoReturn:
    cannot_run(lines, kind, as_json=bool(kwargs.get("as_json")))


def cannot_run(lines: list[str], kind: str, *, as_json: bool = False) -> NoReturn:
    """Exit 2 with the problem on stderr; under --json also a JSON error object on stdout, so a script
    reading stdout gets a document for every exit code, not an empty string."""
    for line in lines:
        click.echo(line, err=True)
    if as_json:
        click.echo(json_error(kind, lines))
    sys.exit(EXIT_CANNOT_RUN)


def json_error(kind: str, lines: list[str]) -> str:
    """The JSON printed for exit code 2: {"ok": false, "exit_code": 2, "error": {"kind", "messages"}}."""
    return json.dumps(
        {"ok": False, "exit_code": EXIT_CANNOT_RUN, "error": {"kind": kind, "messages": lines}},
        ensure_ascii=False,
        indent=2,
    )


def _language_hint(kwargs: dict[str, Any]) -> Language | None:
    """The campaign's language for a late error, when the command's folder still says it."""
    from functions.config.loading import load_campaign

    folder = kwargs.get("folder") or kwargs.get("campaign_dir")
    if folder is None:
        return None
    try:
        return load_campaign(Path(folder)).language
    except Exception:  # the language is only a nicety here; the error itself must still be told
        return None


def one_line(text: str) -> str:
    """A name from outside (a file a unit sent) shown on one line: control characters are written as
    escapes (`\\n`, `\\x1b`), so a file named "a\\n  WJ001 plan 通过" cannot fake a line of output
    nor a terminal escape recolour it."""
    out: list[str] = []
    for ch in text:
        category = unicodedata.category(ch)
        # Cc/Cf/…: controls and invisible format characters; Zl/Zp: Unicode's own line breaks.
        if category.startswith("C") or category in ("Zl", "Zp"):
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(ch, f"\\u{ord(ch):04x}"))
        else:
            out.append(ch)
    return "".join(out)


def parse_today(value: str | None, campaign: Campaign, hour: int = 12) -> dt.datetime:
    """--today YYYY-MM-DD means that day at `hour` in the campaign's time zone; unset means now."""
    if not value:
        return dt.datetime.now(campaign.tz)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        text = t(
            campaign.language,
            f"日期格式应为 YYYY-MM-DD，现为 {value!r}",
            f"expected YYYY-MM-DD, found {value!r}",
        )
        raise click.BadParameter(text, param_hint="--today") from None
    return dt.datetime.combine(day, dt.time(hour), tzinfo=campaign.tz)


def folder_arg(fn: F) -> F:
    return click.argument("folder", type=click.Path(file_okay=False, path_type=Path))(fn)  # type: ignore[return-value]


@contextlib.contextmanager
def one_at_a_time(folder: Path, what: str, lang: Language) -> Iterator[None]:
    """The whole command under the campaign folder's lock (functions/folder_lock.py): a second `ingest` or
    `run` waits for the first, saying so, instead of interleaving with it."""
    from functions.folder_lock import FolderBusy, folder_lock, wait_seconds

    wait = wait_seconds()

    def tell(holder: str) -> None:
        who = holder or t(lang, "另一个进程", "another process")
        click.echo(
            t(
                lang,
                f"另一个 huizong 正在处理此活动（{who}），等待其完成（最多 {wait:.0f} 秒）…",
                f"Another huizong is working on this campaign ({who}); waiting for it (up to {wait:.0f} s)…",
            ),
            err=True,
        )

    try:
        with folder_lock(folder, what=what, wait=wait, on_wait=tell):
            yield
    except FolderBusy as exc:
        click.echo(
            t(
                lang,
                f"{exc.path}: 另一个 huizong 仍在处理此活动（{exc.holder or '另一个进程'}）。请等它结束后重试；"
                "若确认没有其他 huizong 在运行，可稍后重试（锁随进程结束自动释放）",
                f"{exc.path}: another huizong is still working on this campaign ({exc.holder or 'another process'}). "
                "Try again when it has finished; the lock is released when that process ends",
            ),
            err=True,
        )
        sys.exit(EXIT_CANNOT_RUN)
