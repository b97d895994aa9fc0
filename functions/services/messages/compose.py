"""Build reminder and digest emails (text + HTML, proper headers) from the Jinja2 templates."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from functions.services.intake.unread import UnreadFile, shown, unread_note
from functions.services.reminders.plan import DueItem, UnitReminder
from functions.services.reminders.stuck import StuckReminder, resend_command
from functions.services.status.unit_states import DeliverableCounts, UnitStatus, overdue_missing
from functions.validate.identity import IDENTITY_CODES
from schemas.campaign import Campaign
from schemas.i18n import Language, month_day, state_label, t

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def _env() -> Environment:
    # Jinja2 is imported when a mail is first rendered, not with this module: the reminder Lambda
    # imports it on every cold start and most of its runs find nothing due (docs/cold-start.md).
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("functions.services.messages", "templates"),
        autoescape=select_autoescape(["html.j2"]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _address(display: str, addr: str) -> Address:
    local, _, domain = addr.partition("@")
    return Address(display_name=display, username=local, domain=domain)


def message_id(key: str, sender: str) -> str:
    """Deterministic per claim, so a message written twice (outbox, retries) is recognisably the same."""
    domain = sender.partition("@")[2] or "huizong.local"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.huizong@{domain}>"


def _base(campaign: Campaign, *, to: list[str], subject: str, key: str, now: dt.datetime) -> EmailMessage:
    msg = EmailMessage()
    mail = campaign.mail
    msg["Subject"] = subject
    msg["From"] = _address(mail.sender_name or campaign.organiser.name, mail.sender)
    msg["To"] = ", ".join(to)
    msg["Reply-To"] = ", ".join(campaign.organiser.emails)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(key, mail.sender)
    msg["Auto-Submitted"] = "auto-generated"
    return msg


def _render(name: str, **ctx: Any) -> str:
    lang = ctx["campaign"].language
    return _env().get_template(name).render(t=lambda zh, en: t(lang, zh, en), **ctx)


def compose(
    campaign: Campaign, template: str, *, to: list[str], subject: str, key: str, now: dt.datetime, **ctx: Any
) -> EmailMessage:
    """A text + HTML message from <template>.txt.j2 and <template>.html.j2, with the common headers."""
    msg = _base(campaign, to=to, subject=subject, key=key, now=now)
    msg.set_content(_render(f"{template}.txt.j2", campaign=campaign, subject=subject, **ctx))
    msg.add_alternative(
        _render(f"{template}.html.j2", campaign=campaign, subject=subject, **ctx), subtype="html"
    )
    return msg


def _fixing(s: UnitStatus) -> bool:
    """The unit must correct what it sent: it has errors, or the organiser returned it."""
    return s.state == "errors" or s.review == "returned"


def _action(lang: Language, item: DueItem) -> str:
    """What the unit must do: correct what it sent, or send (a draft counts as not sent)."""
    if _fixing(item.status):
        return t(lang, "修改", "correct")
    return t(lang, "报送", "submit")


def _subject_part(lang: Language, item_titles: str, first: DueItem) -> str:
    """One clause of the subject for items sharing their timing and action. Before the due date nothing
    says 逾期; after it nothing names a date that has passed."""
    action = _action(lang, first)
    fixing = _fixing(first.status)
    if first.timing.overdue:
        late = first.timing.label(lang)
        return t(
            lang, f"{item_titles}{late}，请尽快{action}", f"{item_titles} is {late}: please {action} now"
        )
    due = month_day(lang, first.deliverable.due)
    if fixing:
        return t(lang, f"{item_titles}有错误，请于{due}前{action}",
                 f"{item_titles} has errors: please {action} by {due}")  # fmt: skip
    return t(lang, f"请于{due}前{action}{item_titles}", f"please {action} {item_titles} by {due}")


def reminder_subject(campaign: Campaign, reminder: UnitReminder) -> str:
    lang = campaign.language
    # Group items that read the same (same action, same due date or same lateness) so two deliverables
    # due on different dates each get their own, true clause.
    groups: dict[tuple[bool, bool, int | dt.date], list[DueItem]] = {}
    for item in reminder.items:
        when: int | dt.date = item.timing.days if item.timing.overdue else item.deliverable.due
        groups.setdefault((_fixing(item.status), item.timing.overdue, when), []).append(item)
    parts = [
        _subject_part(lang, t(lang, "、", ", ").join(i.deliverable.title(lang) for i in items), items[0])
        for items in groups.values()
    ]
    tag = (
        t(lang, "【请修改】", "[Please correct]")
        if all(_fixing(i.status) for i in reminder.items)
        else t(lang, "【催报】", "[Reminder]")
    )
    return t(
        lang, f"{tag}{campaign.title}：{'；'.join(parts)}", f"{tag} {campaign.title}: {'; '.join(parts)}"
    )


def _state_text(campaign: Campaign, s: UnitStatus) -> tuple[str, str]:
    lang = campaign.language
    if s.state == "missing" and s.unread:
        # The unit did send something: "not received" would be untrue (issue 10.7).
        f = s.unread[-1]
        return t(lang, f"收到您的文件（{shown(f.name)}），但无法读取：{f.message}",
                 f"we received your file ({shown(f.name)}) but cannot read it: {f.message}"), "#c00000"  # fmt: skip
    if s.review == "returned":
        return t(lang, f"已被退回修改，审核意见：{s.review_comment}",
                 f"returned for correction; the reviewer's comment: {s.review_comment}"), "#c00000"  # fmt: skip
    if s.state == "missing":
        return t(lang, "尚未收到贵单位的报送", "not received yet"), "#c00000"
    if s.state == "draft":
        return t(
            lang, "已填写但尚未提交，请确认无误后勾选“提交”", "filled in but not submitted: tick Submit"
        ), "#9c6500"
    n = s.version.error_count if s.version else 0
    return t(lang, f"已收到，但有 {n} 个错误需要修改", f"received, but {n} errors must be fixed"), "#c00000"


def build_reminder(
    campaign: Campaign,
    reminder: UnitReminder,
    *,
    now: dt.datetime,
    link_of: Callable[[str, str], str | None] | None = None,
) -> EmailMessage:
    """`link_of(unit, deliverable)` gives the unit's web form link, shown with each item (None: not shown)."""
    lang = campaign.language
    listed = campaign.reminders.errors_listed
    items = []
    for item in reminder.items:
        s = item.status
        text, color = _state_text(campaign, s)
        errors = s.version.report.errors if s.version else []
        issues = [
            {
                "where": (f"{e.sheet} {e.cell}：" if e.cell else f"{e.sheet}：") if e.sheet else "",
                "message": e.message,
            }
            for e in errors[:listed]
        ]
        due_at = campaign.due_at(item.deliverable.key)
        action = _action(lang, item)
        label = item.timing.label(lang)
        # After the due date the body says how late and asks for it now, never "by <a past date>".
        when = (
            t(lang, f"{label}，请尽快{action}", f"{label}: please {action} now")
            if item.timing.overdue
            else label
        )
        items.append({
            "title": item.deliverable.title(lang),
            "due_text": f"{month_day(lang, due_at.date())} {due_at.strftime('%H:%M')}",
            "when": when,
            "state_text": text,
            "color": color,
            "issues": issues,
            "more": max(0, len(errors) - listed),
            "link": link_of(reminder.unit.code, item.deliverable.key) if link_of is not None else None,
        })  # fmt: skip
    subject = reminder_subject(campaign, reminder)
    return compose(
        campaign,
        "reminder",
        to=list(reminder.unit.emails),
        subject=subject,
        key="|".join(i.claim_key for i in reminder.items),
        now=now,
        unit=reminder.unit,
        items=items,
        how=campaign.submission.how(lang),
        contact=campaign.organiser_contact_line(),
    )


def build_digest(
    campaign: Campaign,
    statuses: list[UnitStatus],
    counts: list[DeliverableCounts],
    *,
    day: dt.date,
    sent: int,
    master_link: str,
    now: dt.datetime,
    stuck: Sequence[StuckReminder] = (),
    not_permitted: int = 0,
    not_permitted_error: str = "",
    unread: Sequence[UnreadFile] = (),
    mail_left: Sequence[dict[str, str]] = (),
) -> EmailMessage:
    lang = campaign.language
    overdue = overdue_missing(campaign, statuses, now)
    count_rows = [
        {
            "title": c.deliverable.title(lang),
            "due": month_day(lang, c.deliverable.due),
            "expected": c.expected,
            "submitted": c.submitted,
            "valid": c.valid,
            "errors": c.errors,
            "missing": c.missing + c.drafts,
            "late": c.late,
            "overdue_missing": overdue.get(c.deliverable.key, 0),
            "rate": f"{c.reporting_rate:.0%}",
        }
        for c in counts
    ]
    pending, with_errors = [], []
    reviewing: list[dict[str, Any]] = []
    for d in campaign.deliverables:
        mine = [s for s in statuses if s.deliverable.key == d.key]
        waiting = [
            {"code": s.unit.code, "name": s.unit.name, "contact": s.unit.contact, "phone": s.unit.phone,
             "state": _waiting_state(lang, s)}
            for s in mine if s.state in ("missing", "draft") or s.review == "returned"
        ]  # fmt: skip
        if campaign.review != "none":
            to_review = [f"{s.unit.code} {s.unit.name}" for s in mine if s.review == "pending"]
            if to_review:
                reviewing.append({"title": d.title(lang), "units": to_review})
        wrong = [
            {"code": s.unit.code, "name": s.unit.name, "errors": s.version.error_count if s.version else 0}
            for s in mine
            if s.state == "errors"
        ]
        if waiting:
            pending.append({"title": d.title(lang), "units": waiting})
        if wrong:
            with_errors.append({"title": d.title(lang), "units": wrong})
    titles = {d.key: d.title(lang) for d in campaign.deliverables}
    held, files = _identity_and_unread(campaign, statuses, unread)
    subject = t(lang, f"【日报】{campaign.title}：报送情况（{month_day(lang, day)}）",
                f"[Digest] {campaign.title}: reporting status ({month_day(lang, day)})")  # fmt: skip
    return compose(
        campaign,
        "digest",
        to=list(campaign.organiser.emails),
        subject=subject,
        key=f"digest/{day}",
        now=now,
        day=day.isoformat(),
        counts=count_rows,
        pending=pending,
        with_errors=with_errors,
        sent=sent,
        not_permitted=not_permitted,
        not_permitted_error=not_permitted_error,
        master_link=master_link,
        stuck=[
            {
                "code": r.unit,
                "name": r.unit_name,
                "title": titles.get(r.deliverable, r.deliverable),
                "address": r.address,
                "since": r.since.astimezone(campaign.tz).strftime("%Y-%m-%d %H:%M"),
            }
            for r in stuck
        ],
        resend=resend_command(lang),
        reviewing=reviewing,
        held=held,
        files=files,
        # Email intake (issue 16): mail that was not a submission, left unread for the organiser.
        mail_left=[
            {**m, "at": dt.datetime.fromisoformat(m["at"]).astimezone(campaign.tz).strftime("%m-%d %H:%M")}
            for m in mail_left
        ],
    )


def _waiting_state(lang: Language, s: UnitStatus) -> str:
    if s.review == "returned":
        return t(lang, f"已退回：{s.review_comment}", f"returned: {s.review_comment}")
    return state_label(lang, s.state) if s.state == "draft" else ""


def _identity_and_unread(
    campaign: Campaign, statuses: list[UnitStatus], unread: Sequence[UnreadFile]
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """For the digest: versions held back for their identity, and files nobody could read or place."""
    lang = campaign.language
    held = [
        {"code": s.unit.code, "name": s.unit.name, "title": s.deliverable.title(lang), "seq": s.held.seq,
         "kept": s.version.seq if s.version else "-",
         "message": next((e.message for e in s.held.report.errors if e.code in IDENTITY_CODES), "")}
        for s in statuses if s.held is not None
    ]  # fmt: skip
    files = [{"unit": r.unit or "?", "note": unread_note(lang, r)} for r in unread if not r.assigned]
    return held, files
