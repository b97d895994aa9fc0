"""The answer to a unit's mail: in the same thread, with the checks in the words of the workbook channel.

Claimed before it is sent (`mail-reply/<message>`), like every mail huizong sends. The message itself is
processed once (its own claim); a reply the transport refused (nothing went out) is kept and its claim
released, and the next run sends it (retry.py); an uncertain send keeps its claim and is never repeated;
both are printed on the run's line for the organiser. At most
`replies_per_sender_per_hour` replies go to one address in an hour, so two robots cannot talk forever.

`claim_reply` (the store's part: the rate limit, the claim, the message built) and `deliver_reply` (the
send, then the outcome recorded) are the two halves of `send_reply`, so `huizong serve` can hold its lock
(`hold`) for the store's steps and release it while the mail server takes its time.

Nothing from the mail reaches a header unchecked: the subject is one line already (reading.one_line),
the Message-IDs were matched against a strict pattern, and the address was parsed to a bare address.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, Literal

from functions.app import App
from functions.ports import MailNotPermitted, MailRefused, MailUncertain
from functions.services.intake.ingest import IngestOutcome
from functions.services.mail_intake.reading import ReadMail
from functions.services.mail_intake.retry import keep_for_retry
from functions.services.messages.compose import compose
from functions.services.messages.report_text import render_report
from functions.services.web.links import campaign_secret, link_token
from schemas.i18n import month_day, t
from schemas.mail_intake import MailIntakeSettings

if TYPE_CHECKING:
    from functions.services.mail_intake.process import MessageResult

log = logging.getLogger(__name__)

REPLY_PREFIX = "mail-reply/"
ReplyOutcome = Literal["sent", "already", "refused", "uncertain", "not-permitted", "failed", "rate-limited"]

_PROBLEMS = {
    "winmail": (
        "是 Outlook 的 winmail.dat 格式，无法读取。请在 Outlook 中改用“纯文本”或 HTML 格式重新发送附件。",
        "is Outlook's winmail.dat format and cannot be read. Resend with Outlook set to plain text or HTML.",
    ),
    "zip-limit": (
        "压缩包超出限制（文件数、大小或压缩比），未打开。请分几封邮件直接发送照片，或减少文件数量。",
        "exceeds the limits (files, size or ratio) and was not opened. Send the photos directly, in several mails.",
    ),
    "zip-bad": (
        "压缩包已损坏、加密或格式不支持，无法打开。请直接把文件作为附件发送。",
        "is damaged, encrypted or of an unsupported kind. Attach the files directly.",
    ),
    "unknown-file": (
        "不是本次活动接收的文件类型（工作簿、照片、文档、视频），未处理。",
        "is not a kind of file this campaign takes (workbooks, photos, documents, video); not processed.",
    ),
    "oversized": (
        "邮件太大，未读取。请分几封邮件发送，或压缩照片、视频后再发。",
        "The mail is too large and was not read. Send it in several mails, or shrink the photos and video.",
    ),
    "failed": (
        "邮件无法处理，已转交组织方人工查看。",
        "The mail could not be processed; the organiser will look at it.",
    ),
}


@dataclass(frozen=True)
class WorkbookLine:
    name: str
    outcome: IngestOutcome


def reply_key(message_id: str) -> str:
    return REPLY_PREFIX + hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:40]


def _recent_replies(app: App, sender: str, now: dt.datetime) -> int:
    hour_ago = now - dt.timedelta(hours=1)
    return sum(
        1
        for c in app.store.claims(REPLY_PREFIX)
        if c.payload.get("to") == sender
        and c.claimed_at >= hour_ago
        and c.payload.get("result") != "rate-limited"
    )


def reply_subject(app: App, subject: str, needs_fixing: bool) -> str:
    lang = app.campaign.language
    tag = t(lang, "【需修改】", " [to fix]") if needs_fixing else t(lang, "【已收到】", " [received]")
    original = subject or t(lang, "（无主题）", "(no subject)")
    prefix = t(lang, "回复：", "Re: ")
    # One 回复： is enough: a unit answering our reply must not grow the subject each time.
    for known in ("回复：", "回复:", "Re:", "RE:", "re:", "答复："):
        if original.startswith(known):
            original = original[len(known) :].strip()
    return f"{prefix}{original[:150]}{tag}"


def build_reply(
    app: App, mail: ReadMail, result: MessageResult, lines: list[WorkbookLine], *, now: dt.datetime
) -> EmailMessage:
    lang = app.campaign.language
    settings = app.campaign.mail_intake or MailIntakeSettings()
    books: list[dict[str, str]] = []
    due: dict[str, str] = {}
    links: list[str] = []
    for line in lines:
        o = line.outcome
        unit = app.roster.get(o.unit) if o.unit else None
        title = (
            app.campaign.deliverable(o.deliverable).title(lang)
            if o.deliverable and _known(app, o.deliverable)
            else ""
        )
        if o.deliverable and _known(app, o.deliverable):
            due[title] = month_day(lang, app.campaign.deliverable(o.deliverable).due)
        if o.valid:
            verdict = t(lang, "已通过", "passed") + (
                t(lang, f"（{o.warnings} 条提醒请核实）", f" ({o.warnings} warnings)") if o.warnings else ""
            )
        elif o.note in ("unidentified", "unreadable"):
            verdict = t(
                lang, "未能入库，请按下方说明修改后重新发送", "not stored: fix it as below and send it again"
            )
        else:
            verdict = t(lang, f"有 {o.errors} 个错误需要修改", f"{o.errors} error(s) to fix")
        if o.seq is not None and o.note == "unchanged":
            verdict += t(lang, "（与上次内容相同，未生成新版本）", " (same as before: no new version)")
        elif o.seq is not None:
            verdict += t(lang, f"（第 {o.seq} 版）", f" (version {o.seq})")
        report_text = render_report(o.report, lang, unit_name=unit.name if unit else None) if o.report else ""
        books.append(
            {
                "name": line.name,
                "unit": f"{unit.code} {unit.name}" if unit else "",
                "title": title,
                "verdict": verdict,
                "report": report_text,
            }
        )
        if settings.web_base_url and unit and o.deliverable and _known(app, o.deliverable):
            if app.campaign.deliverable(o.deliverable).applies_to(unit.type):
                token = link_token(
                    campaign_secret(app.store, now=now), app.campaign, unit.code, o.deliverable
                )
                links.append(f"{title}：{settings.web_base_url.rstrip('/')}/u/{token}")
    evidence = result.evidence.get("files", [])
    problems = []
    for p in result.problems:
        zh, en = _PROBLEMS.get(p["kind"], _PROBLEMS["unknown-file"])
        name = f"“{p['name']}”" if p.get("name") else ""
        problems.append(t(lang, f"{name}{zh}", f"{name} {en}".strip()))
    needs_fixing = any(not b.outcome.valid for b in lines) or any(
        p["kind"] != "unknown-file" for p in result.problems
    )
    subject = reply_subject(app, mail.subject, needs_fixing)
    msg = compose(
        app.campaign,
        "mail_reply",
        to=[mail.sender],
        subject=subject,
        key=reply_key(mail.message_id),
        now=now,
        books=books,
        evidence=[f"{e['name']}（{_size(e['size'])}）" for e in evidence],
        problems=problems,
        links=links,
        due=[f"{k}：{v}" for k, v in due.items()],
        needs_fixing=needs_fixing,
        contact=app.campaign.organiser_contact_line(),
    )
    if mail.message_id_header:
        # The thread: In-Reply-To the unit's message, References its chain (both matched as Message-IDs).
        msg["In-Reply-To"] = mail.message_id_header
        msg["References"] = " ".join([*mail.references, mail.message_id_header])
    return msg


def _known(app: App, deliverable: str) -> bool:
    return any(d.key == deliverable for d in app.campaign.deliverables)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


@dataclass(frozen=True)
class ClaimedReply:
    """A reply claimed in the store and built, not yet sent (`deliver_reply` sends it)."""

    key: str
    payload: dict[str, Any]
    message: EmailMessage
    to: str
    message_id: str


def send_reply(
    app: App, mail: ReadMail, result: MessageResult, lines: list[WorkbookLine], *, now: dt.datetime
) -> ReplyOutcome:
    claimed = claim_reply(app, mail, result, lines, now=now)
    return claimed if isinstance(claimed, str) else deliver_reply(app, claimed, now=now)


def claim_reply(
    app: App, mail: ReadMail, result: MessageResult, lines: list[WorkbookLine], *, now: dt.datetime
) -> ClaimedReply | ReplyOutcome:
    """The store's part before sending: the hourly limit, the claim and the message, or why none goes."""
    settings = app.campaign.mail_intake or MailIntakeSettings()
    key = reply_key(mail.message_id)
    if _recent_replies(app, mail.sender, now) >= settings.replies_per_sender_per_hour:
        log.warning(
            "reply to %s not sent: %d in the last hour", mail.sender, settings.replies_per_sender_per_hour
        )
        app.store.claim(key, {"to": mail.sender, "result": "rate-limited"}, at=now)
        return "rate-limited"
    payload = {"to": mail.sender, "message_id": mail.message_id, "result": "sending"}
    if not app.store.claim(key, payload, at=now):
        return "already"
    try:
        message = build_reply(app, mail, result, lines, now=now)
    except Exception as exc:  # a reply that cannot be built will not build next time either
        log.exception("reply could not be composed for %s", mail.message_id)
        app.store.update_claim(key, {**payload, "result": f"failed: {type(exc).__name__}"})
        return "failed"
    return ClaimedReply(key, payload, message, mail.sender, mail.message_id)


def deliver_reply(
    app: App,
    claimed: ClaimedReply,
    *,
    now: dt.datetime,
    hold: AbstractContextManager[Any] | None = None,
) -> ReplyOutcome:
    """Send a claimed reply, then record the outcome; `hold` (serve's lock) is taken for the records only.
    Until then the claim says "sending", so no other run sends this reply again."""
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    key, payload, message = claimed.key, claimed.payload, claimed.message
    try:
        app.mailer.send(message)
    except MailRefused as exc:
        with guard:
            app.store.update_claim(key, {**payload, "result": f"refused: {exc}"})
            # Nothing went out: the next run sends this very message again (its claim is released).
            keep_for_retry(app, key, message, {"to": claimed.to, "message_id": claimed.message_id}, now=now)
        return "refused"
    except MailNotPermitted as exc:
        with guard:
            app.store.update_claim(key, {**payload, "result": f"not permitted: {exc}"})
        return "not-permitted"
    except MailUncertain as exc:
        with guard:
            app.store.update_claim(key, {**payload, "result": f"uncertain: {exc}"})
        return "uncertain"
    except Exception as exc:  # a transport that broke its contract: whether it sent is unknown
        log.exception("reply send failed unexpectedly: %s", claimed.message_id)
        with guard:
            app.store.update_claim(key, {**payload, "result": f"uncertain: {type(exc).__name__}"})
        return "uncertain"
    with guard:
        app.store.update_claim(key, {**payload, "result": "sent"})
    return "sent"
