"""The receipt a unit gets when its submission is stored: what arrived, the check result, the report.

Claimed before it is sent, keyed by the version: a poll that runs twice, or a run that stopped between
storing the version and mailing, sends it once. A send the transport refused before accepting it is
released, so the next poll retries; an uncertain one keeps its claim (a second copy is worse than none).

`claim_receipt` (store: claim and build) and `deliver_receipt` (send, then record the outcome) are the two
halves of `send_receipt`, for `huizong serve`'s web form: it claims under its lock and sends after
releasing it, taking the lock again only to record the outcome.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Literal

from functions.app import App
from functions.ports import MailNotPermitted, MailRefused, MailUncertain
from functions.services.messages.compose import compose
from functions.services.messages.report_text import render_report
from schemas.campaign import Campaign
from schemas.i18n import Language, t
from schemas.roster import Unit
from schemas.submission import Version

log = logging.getLogger(__name__)

RECEIPT_PREFIX = "receipt/"
# A receipt the transport refused: the sheet will not be read again (its last change is the write-back),
# so the refusal itself is remembered and every poll retries it.
PENDING_PREFIX = "receipt-pending/"
LISTED = 10
ReceiptOutcome = Literal["sent", "already", "refused", "uncertain", "no-address", "not-permitted", "failed"]


def receipt_key(version: Version) -> str:
    return f"{RECEIPT_PREFIX}{version.unit}/{version.deliverable}/{version.id}"


def _next_steps(lang: Language, version: Version) -> dict[str, str]:
    """What the unit does next, in the words of the channel it used: a Google sheet is fixed in place and
    stays ticked, the web form is reopened from its link, anything else is sent again."""
    if version.source_kind == "sheet":
        return {
            "fix_text": t(
                lang,
                "请在表格中按单元格批注修改后保存；“提交”保持勾选，系统会重新校验并再次发送回执。",
                "Fix the cells with notes in the sheet; keep Submit ticked and the sheet is checked again, "
                "with a new receipt.",
            ),
            "ok_text": t(
                lang,
                "无需再做处理。如需修改，直接在表格中修改即可，系统会重新校验。",
                "Nothing more to do. To change something, edit the sheet; it is checked again.",
            ),
            "link_label": t(lang, "贵单位的表格：", "Your sheet: "),
        }
    if version.source_kind == "web":
        return {
            "fix_text": t(
                lang,
                "请打开下面的在线填报链接，按页面上的提示修改后重新提交，系统会重新校验并再次发送回执。",
                "Open your form from the link below, fix what it shows and submit again; it is checked "
                "again, with a new receipt.",
            ),
            "ok_text": t(
                lang,
                "无需再做处理。如需修改，打开下面的在线填报链接修改后重新提交即可，系统会重新校验。",
                "Nothing more to do. To change something, open your form from the link below and submit "
                "again; it is checked again.",
            ),
            "link_label": t(lang, "在线填报链接：", "Your form: "),
        }
    return {
        "fix_text": t(
            lang,
            "请按上面列出的问题修改后重新报送，系统会重新校验并再次发送回执。",
            "Fix the problems listed above and send it again; it is checked again, with a new receipt.",
        ),
        "ok_text": t(
            lang,
            "无需再做处理。如需修改，重新报送即可，系统会重新校验。",
            "Nothing more to do. To change something, send it again; it is checked again.",
        ),
        "link_label": t(lang, "链接：", "Link: "),
    }


def build_receipt(
    campaign: Campaign, unit: Unit, version: Version, *, link: str, now: dt.datetime
) -> EmailMessage:
    lang = campaign.language
    report = version.report
    title = campaign.deliverable(version.deliverable).title(lang)
    errors = len(report.errors)
    if errors:
        verdict = t(lang, f"有 {errors} 个错误需要修改", f"{errors} error(s) to fix")
        color = "#c00000"
    elif report.warnings:
        verdict = t(
            lang,
            f"已通过（{len(report.warnings)} 条提醒请核实）",
            f"passed ({len(report.warnings)} warnings)",
        )
        color = "#006100"
    else:
        verdict, color = t(lang, "已通过", "passed"), "#006100"
    shown = [*report.errors, *report.warnings]
    issues = [
        {
            "where": (f"{i.sheet} {i.cell}：" if i.cell else f"{i.sheet}：") if i.sheet else "",
            "message": i.message,
        }
        for i in shown[:LISTED]
    ]
    subject = t(
        lang,
        f"【回执】{campaign.title}：已收到{unit.name}的{title}" + ("（有错误待修改）" if errors else ""),
        f"[Receipt] {campaign.title}: {title} received from {unit.name}"
        + (" (errors to fix)" if errors else ""),
    )
    msg = compose(
        campaign,
        "receipt",
        to=list(unit.emails),
        subject=subject,
        key=receipt_key(version),
        now=now,
        unit=unit,
        title=title,
        seq=version.seq,
        received=version.received_at.astimezone(campaign.tz).strftime("%Y-%m-%d %H:%M"),
        late=version.late,
        verdict=verdict,
        color=color,
        issues=issues,
        more=max(0, len(shown) - LISTED),
        errors=errors,
        link=link,
        **_next_steps(lang, version),
        contact=campaign.organiser_contact_line(),
    )
    name = t(
        lang,
        f"校验报告-{unit.code}-{version.deliverable}.txt",
        f"report-{unit.code}-{version.deliverable}.txt",
    )
    text = render_report(report, lang, unit_name=unit.name)
    msg.add_attachment(text, subtype="plain", charset="utf-8", filename=name)
    return msg


@dataclass(frozen=True)
class ClaimedReceipt:
    """A receipt claimed in the store and built, not yet sent (`deliver_receipt` sends it)."""

    version: Version
    key: str
    payload: dict[str, object]
    message: EmailMessage
    link: str
    address: str


def send_receipt(app: App, version: Version, *, link: str, now: dt.datetime) -> ReceiptOutcome:
    """Send the receipt for `version` unless it was sent (or is being sent) already."""
    claimed = claim_receipt(app, version, link=link, now=now)
    return claimed if isinstance(claimed, str) else deliver_receipt(app, claimed, now=now)


def claim_receipt(
    app: App, version: Version, *, link: str, now: dt.datetime
) -> ClaimedReceipt | ReceiptOutcome:
    """The store's part before sending: claim the receipt and build it, or say why nothing is sent."""
    unit = app.roster.get(version.unit)
    key = receipt_key(version)
    payload = {
        "unit": version.unit,
        "deliverable": version.deliverable,
        "seq": version.seq,
        "result": "sending",
    }
    if not app.store.claim(key, payload, at=now):
        return "already"
    if unit is None or not unit.emails:
        app.store.update_claim(key, {**payload, "result": "no address"})
        return "no-address"
    # From here on the claim is held: every way out releases it or records why (issue 11 §2.9), so a
    # receipt is never silently lost behind a claim that says "sending" for ever.
    try:
        message = build_receipt(app.campaign, unit, version, link=link, now=now)
    except Exception as exc:  # a message that cannot be built will not build on the next poll either
        log.exception("receipt could not be composed: %s/%s", version.unit, version.deliverable)
        app.store.update_claim(key, {**payload, "result": f"failed: {type(exc).__name__}: {exc}"})
        return "failed"
    return ClaimedReceipt(version, key, payload, message, link, ", ".join(unit.emails))


def deliver_receipt(
    app: App,
    claimed: ClaimedReceipt,
    *,
    now: dt.datetime,
    hold: AbstractContextManager[Any] | None = None,
) -> ReceiptOutcome:
    """Send a claimed receipt, then record the outcome; `hold` (serve's lock) is taken for that record
    only. Until then the claim says "sending", so no other path sends it again."""
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    version, key, payload = claimed.version, claimed.key, claimed.payload
    try:
        app.mailer.send(claimed.message)
    except MailRefused as exc:
        with guard:
            app.store.release(key)
            app.store.claim(
                _pending_key(version), {**payload, "link": claimed.link, "error": str(exc)}, at=now
            )
        log.warning("receipt refused, will retry: %s/%s: %s", version.unit, version.deliverable, exc)
        return "refused"
    except MailNotPermitted as exc:
        # Kept, not queued for retry: every retry would be refused the same way (adapters/mail/ses.py).
        with guard:
            app.store.update_claim(key, {**payload, "result": f"not permitted: {exc}"})
        log.error("receipt not permitted: %s/%s: %s", version.unit, version.deliverable, exc)
        return "not-permitted"
    except MailUncertain as exc:
        with guard:
            app.store.update_claim(key, {**payload, "result": f"uncertain: {exc}"})
        return "uncertain"
    except Exception as exc:  # a transport that broke its contract: whether it sent is unknown
        log.exception("receipt send failed unexpectedly: %s/%s", version.unit, version.deliverable)
        with guard:
            app.store.update_claim(key, {**payload, "result": f"uncertain: {type(exc).__name__}: {exc}"})
        return "uncertain"
    with guard:
        app.store.update_claim(key, {**payload, "result": "sent", "address": claimed.address})
    return "sent"


def _pending_key(version: Version) -> str:
    return f"{PENDING_PREFIX}{version.unit}/{version.deliverable}/{version.id}"


def retry_pending_receipts(
    app: App, *, now: dt.datetime, defer: list[ClaimedReceipt] | None = None
) -> list[ReceiptOutcome]:
    """Send again the receipts a transport refused, while their version is still the unit's latest.
    With `defer` (serve's poll), each is claimed and built here and appended to it, for the caller to
    send once its lock is released (`deliver_receipt`); the outcomes then hold only what was not."""
    outcomes: list[ReceiptOutcome] = []
    for pending in app.store.claims(PENDING_PREFIX):
        unit, deliverable = str(pending.payload["unit"]), str(pending.payload["deliverable"])
        app.store.release(pending.key)
        version = app.store.latest(unit, deliverable)
        # A newer version has (or will have) its own receipt; this one is no longer worth a message.
        if version is None or _pending_key(version) != pending.key or version.status != "submitted":
            continue
        link = str(pending.payload.get("link", ""))
        if defer is None:
            outcomes.append(send_receipt(app, version, link=link, now=now))
            continue
        claimed = claim_receipt(app, version, link=link, now=now)
        if isinstance(claimed, str):
            outcomes.append(claimed)
        else:
            defer.append(claimed)
    return outcomes
