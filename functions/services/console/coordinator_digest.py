"""Each coordinator's daily digest (issue 15, item 5): only the units of their areas that still need
something — not sent, with errors, returned — claimed per day and address like the organiser's digest.

`hold` (`huizong serve`'s lock) is taken for the store's steps (statuses, each claim, each outcome) and
released while a digest is sent; the claim keeps each digest once-only meanwhile."""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from functions.app import App
from functions.ports import MailNotPermitted, MailRefused
from functions.services.console.overview import overview, scoped
from functions.services.messages.compose import compose
from functions.services.reminders.plan import digest_window
from functions.services.status.unit_states import UnitStatus, unit_statuses
from schemas.campaign import Person
from schemas.i18n import Language, month_day, t

log = logging.getLogger(__name__)

PREFIX = "digest-coordinator/"


def claim_key(day: dt.date, person: Person) -> str:
    return f"{PREFIX}{day.isoformat()}/{person.email}"


def _groups(app: App, statuses: list[UnitStatus]) -> list[dict[str, Any]]:
    lang = app.campaign.language
    kinds = (
        ("missing", t(lang, "尚未报送", "not sent"), lambda s: s.state in ("missing", "draft")),
        (
            "errors",
            t(lang, "有错误待修改", "with errors"),
            lambda s: s.state == "errors" and s.review != "returned",
        ),
        ("returned", t(lang, "已退回待重报", "returned, to resend"), lambda s: s.review == "returned"),
    )
    out = []
    for d in app.campaign.deliverables:
        mine = [s for s in statuses if s.deliverable.key == d.key]
        for kind, label, keep in kinds:
            units = [
                {"code": s.unit.code, "name": s.unit.name, "area": s.unit.area, "contact": s.unit.contact,
                 "phone": s.unit.phone, "note": _note(lang, kind, s)}
                for s in mine if keep(s)
            ]  # fmt: skip
            if units:
                out.append({"title": d.title(lang), "label": label, "units": units})
    return out


def _note(lang: Language, kind: str, s: UnitStatus) -> str:
    if kind == "errors" and s.version is not None:
        open_errors = s.version.error_count - len(s.waived)
        return t(lang, f"{open_errors} 个错误", f"{open_errors} error(s)")
    if kind == "returned":
        return t(lang, f"意见：{s.review_comment}", f"comment: {s.review_comment}")
    if kind == "missing" and s.state == "draft":
        return t(lang, "已填写草稿，未提交", "draft not submitted")
    return ""


def send_coordinator_digests(
    app: App, *, now: dt.datetime, hold: AbstractContextManager[Any] | None = None
) -> list[str]:
    """One mail per coordinator and day while digests go out (reminders.digest, the reminder window)."""
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    campaign = app.campaign
    lang = campaign.language
    coordinators = [p for p in campaign.people if p.role == "coordinator"]
    day = now.astimezone(campaign.tz).date()
    first, last = digest_window(campaign)
    if not coordinators or not campaign.reminders.digest or not first <= day <= last:
        return []
    with guard:
        statuses = unit_statuses(campaign, app.roster, app.store)
    lines = []
    for person in coordinators:
        key = claim_key(day, person)
        with guard:
            if not app.store.claim(key, {"result": "sending", "address": person.email}, at=now):
                continue
        # Built from the statuses read above, without the store: nothing here needs the lock.
        mine = scoped(statuses, person)
        areas = t(lang, "、", ", ").join(person.areas)
        counts = [
            {"title": o.title, "due": month_day(lang, campaign.deliverable(o.key).due), **o.total.as_dict()}
            for o in overview(campaign, mine)
        ]
        subject = t(lang, f"【日报】{campaign.title}：{areas}报送情况（{month_day(lang, day)}）",
                    f"[Digest] {campaign.title}: {areas} ({month_day(lang, day)})")  # fmt: skip
        msg = compose(campaign, "coordinator_digest", to=[person.email], subject=subject, key=key, now=now,
                      person=person, areas=areas, day=month_day(lang, day), counts=counts,
                      groups=_groups(app, mine), contact=campaign.organiser_contact_line())  # fmt: skip
        try:
            app.mailer.send(msg)
        except MailRefused as exc:
            with guard:
                app.store.release(key)  # nothing sent: the next run tries again
            lines.append(t(lang, f"协调人日报 {person.email}：被拒绝，下次运行重发（{exc}）",
                           f"coordinator digest {person.email}: refused, retried next run ({exc})"))  # fmt: skip
            continue
        except MailNotPermitted as exc:
            with guard:
                app.store.update_claim(key, {"result": f"not permitted: {exc}", "address": person.email})
            lines.append(t(lang, f"协调人日报 {person.email}：无发信权限（{exc}）",
                           f"coordinator digest {person.email}: not permitted ({exc})"))  # fmt: skip
            continue
        except Exception as exc:  # MailUncertain or a broken transport: may have gone, never resent
            with guard:
                app.store.update_claim(key, {"result": f"uncertain: {exc}", "address": person.email})
            lines.append(t(lang, f"协调人日报 {person.email}：发送结果不明（不重发）：{exc}",
                           f"coordinator digest {person.email}: uncertain, not resent: {exc}"))  # fmt: skip
            continue
        with guard:
            app.store.update_claim(key, {"result": "sent", "address": person.email})
        lines.append(t(lang, f"协调人日报已发送：{person.name} {person.email}",
                       f"coordinator digest sent: {person.name} {person.email}"))  # fmt: skip
    return lines
