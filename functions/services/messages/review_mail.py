"""The 【退回修改】 mail a unit gets when the organiser returns its submission (issue 15)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from functions.services.messages.compose import compose
from schemas.campaign import Campaign
from schemas.i18n import month_day, t
from schemas.report import Issue
from schemas.roster import Unit


def build_return_mail(
    campaign: Campaign,
    unit: Unit,
    deliverable: str,
    *,
    seq: int,
    comment: str,
    issues: list[Issue],
    key: str,
    now: dt.datetime,
) -> EmailMessage:
    """Subject, the reviewer's comment, the problems still open and the due date: what to fix, by when."""
    lang = campaign.language
    d = campaign.deliverable(deliverable)
    title = d.title(lang)
    due_at = campaign.due_at(deliverable)
    listed = campaign.reminders.errors_listed
    subject = t(lang, f"【退回修改】{campaign.title}：{title}请修改后重新报送",
                f"[Returned] {campaign.title}: please correct and resend {title}")  # fmt: skip
    return compose(
        campaign,
        "returned",
        to=list(unit.emails),
        subject=subject,
        key=key,
        now=now,
        unit=unit,
        title=title,
        seq=seq,
        comment=comment,
        issues=[
            {
                "where": (f"{e.sheet} {e.cell}：" if e.cell else f"{e.sheet}：") if e.sheet else "",
                "message": e.message,
            }
            for e in issues[:listed]
        ],
        due_text=f"{month_day(lang, due_at.date())} {due_at.strftime('%H:%M')}",
        how=campaign.submission.how(lang),
        contact=campaign.organiser_contact_line(),
    )
