"""CLI: `huizong mail-intake DIR [--dry-run]`, the units' mailbox read once (issue 16)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from functions.cli.common import folder_arg, friendly_errors, one_at_a_time, parse_today
from schemas.i18n import Language, t

if TYPE_CHECKING:
    from functions.services.mail_intake.process import MailIntakeResult, MessageResult


def _shown(text: str) -> str:
    # Already one line (reading.one_line); this keeps a terminal escape in a subject from acting.
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def message_line(lang: Language, m: MessageResult) -> str:
    kinds = {
        "submission": t(lang, "报送", "submission"),
        "not-submission": t(lang, "非报送，留给组织方", "not a submission, left for the organiser"),
        "oversized": t(lang, "过大，已移到一旁", "too large, moved aside"),
        "auto": t(lang, "自动邮件，未回复", "automatic mail, not answered"),
        "own": t(lang, "本系统发出的邮件，跳过", "our own mail, skipped"),
        "duplicate": t(lang, "已处理过，跳过", "processed before, skipped"),
    }
    books = "；".join(
        f"{_shown(w.name)} → {w.unit or '?'}/{w.deliverable or '?'} "
        + (t(lang, f"第{w.seq}版", f"v{w.seq}") if w.seq is not None else w.note)
        + ("" if w.valid else t(lang, f"（{w.errors} 个错误）", f" ({w.errors} errors)"))
        for w in m.workbooks
    )
    files = m.evidence.get("count", 0)
    extra = t(lang, f"；文件 {files} 个", f"; {files} file(s)") if files else ""
    problems = "；".join(_shown(f"{p['kind']} {p['name']}".strip()) for p in m.problems)
    reply = t(lang, f"回复：{m.reply}", f"reply: {m.reply}") if m.reply else ""
    parts = [
        f"{_shown(m.sender) or '?'} «{_shown(m.subject)}» [{kinds[m.kind]}]",
        books + extra,
        problems,
        reply,
    ]
    return " | ".join(p for p in parts if p)


def _summary(lang: Language, result: MailIntakeResult, dry_run: bool) -> str:
    n = len(result.messages)
    stored = sum(w.stored for m in result.messages for w in m.workbooks)
    replies = sum(m.reply == "sent" for m in result.messages)
    left = sum(m.kind == "not-submission" for m in result.messages)
    if dry_run:
        return t(
            lang,
            f"（预演）新邮件 {n} 封，未入库、未回复、未移动",
            f"(dry run) {n} new message(s); nothing stored, sent or moved",
        )
    return t(
        lang,
        f"新邮件 {n} 封，新版本 {stored} 个，回复 {replies} 封，留给组织方 {left} 封",
        f"{n} new message(s), {stored} new version(s), {replies} repl(ies) sent, {left} left for the organiser",
    )


_RETRY_ZH = {
    "sent": "已发送",
    "refused": "再次被拒，下次运行重试",
    "uncertain": "结果不明，不再重发",
    "gave-up": "多次被拒，已放弃",
    "lost": "原回复已不在存储中",
}


@click.command("mail-intake")
@folder_arg
@click.option("--today", default=None, help="按此日期计算（YYYY-MM-DD）")
@click.option("--dry-run", is_flag=True, help="只列出新邮件及其处理结果，不入库、不回复、不移动邮件")
@friendly_errors
def mail_intake(folder: Path, today: str | None, dry_run: bool) -> None:
    """读取 campaign.yaml 中 mail_intake 设置的邮箱：报送入库、自动回复、移动已处理的邮件。"""
    from functions.bootstrap import open_app
    from functions.services.mail_intake.process import read_mailbox

    app = open_app(folder)
    lang = app.campaign.language
    if app.mailbox_factory is None:
        click.echo(
            t(
                lang,
                "campaign.yaml 中没有 mail_intake（或没有 host）：请先填写邮箱设置，见 docs/guide-zh.md“用邮箱收报送”。",
                "campaign.yaml has no mail_intake (or no host): set up the mailbox first (docs/guide-zh.md).",
            ),
            err=True,
        )
        sys.exit(2)
    now = parse_today(today, app.campaign)
    with one_at_a_time(folder, "mail-intake", lang):
        result = read_mailbox(app, now=now, dry_run=dry_run)
    assert result is not None
    for m in result.messages:
        click.echo(message_line(lang, m))
    for r in result.retried:
        # A reply the mail server refused on an earlier run, sent again now (or given up on).
        click.echo(
            t(
                lang,
                f"重发此前被拒的回复 → {r.to}：{_RETRY_ZH.get(r.result, r.result)}",
                f"earlier refused reply → {r.to}: {r.result}",
            )
        )
    if result.uidvalidity_changed:
        click.echo(
            t(
                lang,
                "邮箱的 UIDVALIDITY 已变化：已从头重新读取（处理过的邮件不会重复处理）。",
                "The mailbox's UIDVALIDITY changed: read again from the start (nothing is processed twice).",
            )
        )
    if result.marked_deleted:
        # The server has neither MOVE nor UIDPLUS: expunging would also remove mail the organiser deleted.
        click.echo(
            t(
                lang,
                f"邮箱服务器不支持 MOVE 和 UIDPLUS：{result.marked_deleted} 封已处理的邮件已复制到已处理文件夹，"
                "原邮件在收件箱中标记为“已删除”但未彻底清除（以免连带清除您自己删除的邮件），"
                "您的邮件客户端“清除已删除邮件”时会一并清除。",
                f"The mail server has neither MOVE nor UIDPLUS: {result.marked_deleted} handled message(s) "
                "were copied to the handled folder and left in the inbox flagged as deleted, not expunged "
                "(expunging would also remove mail you deleted); your mail client removes them when it "
                "expunges.",
            )
        )
    if result.error:
        click.echo(result.error, err=True)
        sys.exit(1)
    click.echo(_summary(lang, result, dry_run))


def register(cli: click.Group) -> None:
    cli.add_command(mail_intake)
