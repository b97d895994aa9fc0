"""Send the reminders that are due, each (unit, deliverable, step) at most once, and one digest a day.

Claim first, then send: a claim that exists means the reminder went out (or may have). A send the
transport refused before accepting is released, so the next run retries it; an ambiguous failure keeps
its claim and is recorded, because sending it again could mean a unit gets it twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from functions.ports import Mailer, MailRefused, MailUncertain, Store
from functions.services.intake.unread import unread_files
from functions.services.messages.compose import build_digest, build_reminder
from functions.services.reminders.plan import UnitReminder, digest_window, plan_reminders, step_label
from functions.services.status.unit_states import count_by_deliverable, unit_statuses
from schemas.campaign import Campaign
from schemas.i18n import t
from schemas.roster import Roster

log = logging.getLogger(__name__)


@dataclass
class RemindResult:
    planned: list[UnitReminder] = field(default_factory=list)
    sent: int = 0
    refused: int = 0  # released, will be retried next run
    uncertain: int = 0
    no_address: int = 0
    digest_sent: bool = False
    lines: list[str] = field(default_factory=list)  # one line per reminder, for the CLI


def digest_claim_key(day: dt.date) -> str:
    return f"digest/{day.isoformat()}"


def run_reminders(
    campaign: Campaign,
    roster: Roster,
    store: Store,
    mailer: Mailer | None,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    master_link: str = "",
) -> RemindResult:
    statuses = unit_statuses(campaign, roster, store)
    claimed = {c.key for c in store.claims("remind/")}
    plan = plan_reminders(campaign, statuses, claimed, now)
    result = RemindResult(planned=plan)
    lang = campaign.language
    for reminder in plan:
        names = t(lang, "、", ", ").join(
            f"{i.deliverable.key}({step_label(lang, i.step)})" for i in reminder.items
        )
        line = (
            f"{reminder.unit.code} {reminder.unit.name}: {names} → {', '.join(reminder.unit.emails) or '-'}"
        )
        if dry_run:
            result.lines.append(line)
            continue
        result.lines.append(line + " " + _send_one(campaign, store, mailer, reminder, now, result))
    if not dry_run and campaign.reminders.digest and mailer is not None:
        result.digest_sent = _send_digest(campaign, store, mailer, statuses, now, result, master_link)
    return result


def _send_one(
    campaign: Campaign,
    store: Store,
    mailer: Mailer | None,
    reminder: UnitReminder,
    now: dt.datetime,
    result: RemindResult,
) -> str:
    lang = campaign.language
    address = ", ".join(reminder.unit.emails)
    mine = []
    for item in reminder.items:
        payload = {
            "unit": reminder.unit.code,
            "unit_name": reminder.unit.name,
            "deliverable": item.deliverable.key,
            "step": item.step,
            "step_label": step_label(lang, item.step),
            "address": address,
            "state": item.status.state,
            "result": "sending",
        }
        if store.claim(item.claim_key, payload, at=now):
            mine.append((item, payload))
    if not mine:
        return t(lang, "（已由另一次运行认领）", "(already claimed)")
    reminder = UnitReminder(reminder.unit, [item for item, _ in mine])
    if not reminder.unit.emails or mailer is None:
        result.no_address += 1
        _finish(store, mine, t(lang, "无邮箱地址，未发送", "no address; not sent"))
        return t(lang, "无邮箱地址", "no address")
    try:
        msg = build_reminder(campaign, reminder, now=now)
        mailer.send(msg)
    except MailRefused as exc:
        for item, _ in mine:
            store.release(item.claim_key)
        result.refused += 1
        log.warning("reminder refused, will retry: %s: %s", reminder.unit.code, exc)
        return t(lang, f"被拒（下次重试）：{exc}", f"refused (will retry): {exc}")
    except MailUncertain as exc:
        result.uncertain += 1
        _finish(store, mine, t(lang, f"结果不明：{exc}", f"uncertain: {exc}"))
        return t(lang, f"结果不明（不重试）：{exc}", f"uncertain (not retried): {exc}")
    result.sent += 1
    _finish(store, mine, t(lang, "已发送", "sent"))
    return t(lang, "已发送", "sent")


def _finish(store: Store, mine: list[tuple[object, dict[str, object]]], outcome: str) -> None:
    for item, payload in mine:
        store.update_claim(item.claim_key, {**payload, "result": outcome})  # type: ignore[attr-defined]


def _send_digest(
    campaign: Campaign,
    store: Store,
    mailer: Mailer,
    statuses: list,
    now: dt.datetime,
    result: RemindResult,
    master_link: str,
) -> bool:
    day = now.astimezone(campaign.tz).date()
    first, last = digest_window(campaign)
    if not first <= day <= last:
        return False
    key = digest_claim_key(day)
    if not store.claim(key, {"result": "sending", "address": ", ".join(campaign.organiser.emails)}, at=now):
        return False
    # Count what this run and earlier runs today sent, so a digest after several runs is still true.
    sent_today = sum(
        1
        for c in store.claims("remind/")
        if c.claimed_at.astimezone(campaign.tz).date() == day
        and c.payload.get("result") in ("已发送", "sent")
    )
    counts = count_by_deliverable(campaign, statuses)
    msg = build_digest(
        campaign, statuses, counts, day=day, sent=sent_today, master_link=master_link, now=now,
        unread=unread_files(store),
    )  # fmt: skip
    try:
        mailer.send(msg)
    except MailRefused:
        store.release(key)
        return False
    except MailUncertain as exc:
        store.update_claim(key, {"result": f"uncertain: {exc}"})
        return False
    store.update_claim(key, {"result": "sent", "address": ", ".join(campaign.organiser.emails)})
    return True
