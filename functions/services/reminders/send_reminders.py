"""Send the reminders that are due, each (unit, deliverable, step) at most once, and one digest a day.

Claim first, then send: a claim that exists means the reminder went out (or may have). A send the
transport refused before accepting is released, so the next run retries it; an ambiguous failure keeps
its claim and is recorded, because sending it again could mean a unit gets it twice.

Nothing raises between a claim and its outcome: a failure to build the mail releases the claim, and a
store that cannot record the outcome (a full disk) leaves the claim at "sending", which the stuck rule
(stuck.py) reports to the organiser after a timeout instead of losing the reminder silently. A send refused for
permissions (MailNotPermitted: e.g. SES in a region the role may not send in) also keeps its claim, as
"not permitted": every retry would fail the same way until the deployment is fixed, so it is reported
(the digest, the CLI line, the handler's counts and its alarm) instead of retried on every run.

`hold` (`huizong serve` passes its lock) is held for every store step (statuses, claims, outcomes) and
released while a mail is sent, so a slow SMTP server does not hold the web form's saves for the whole
run; the claim taken before each send keeps it once-only. The CLI and Lambda pass none. As other requests
then store submissions between two reminders of the run, a unit whose submission arrived after the plan
was read is not reminded by it (checked under the lock, before its claim); the next run plans afresh.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from functions.gc_pause import collector_paused
from functions.ports import Claim, Mailer, MailNotPermitted, MailRefused, MailUncertain, Store
from functions.services.console.accounts import coordinator_addresses
from functions.services.intake.unread import unread_files
from functions.services.mail_intake.records import DIGEST_SPAN, left_for_organiser
from functions.services.messages.compose import build_digest, build_reminder
from functions.services.reminders.plan import DueItem, UnitReminder, digest_window, plan_reminders, timing
from functions.services.reminders.stuck import SENDING, StuckReminder, is_stuck, stuck_reminders
from functions.services.status.unit_states import UnitStatus, count_by_deliverable, unit_statuses
from functions.services.web.form_link import form_links
from schemas.campaign import Campaign
from schemas.i18n import Language, t
from schemas.roster import Roster

log = logging.getLogger(__name__)

SENT_RESULTS = ("已发送", "sent", "已重发", "resent")


@dataclass
class RemindResult:
    planned: list[UnitReminder] = field(default_factory=list)
    sent: int = 0
    refused: int = 0  # released, will be retried next run
    uncertain: int = 0
    not_permitted: int = 0  # kept, not retried: the transport may not send (see the module docstring)
    not_permitted_error: str = ""  # the transport's words, once (every refusal says the same)
    no_address: int = 0
    unrecorded: int = 0  # the store could not record an outcome: left at "sending", reported later
    stuck: list[StuckReminder] = field(default_factory=list)  # interrupted earlier, for the organiser
    digest_sent: bool = False
    lines: list[str] = field(default_factory=list)  # one line per reminder, for the CLI


def digest_claim_key(day: dt.date) -> str:
    return f"digest/{day.isoformat()}"


def _line(campaign: Campaign, reminder: UnitReminder) -> str:
    lang = campaign.language
    names = t(lang, "、", ", ").join(f"{i.deliverable.key}({i.timing.label(lang)})" for i in reminder.items)
    return f"{reminder.unit.code} {reminder.unit.name}: {names} → {', '.join(reminder.unit.emails) or '-'}"


def run_reminders(
    campaign: Campaign,
    roster: Roster,
    store: Store,
    mailer: Mailer | None,
    *,
    now: dt.datetime,
    dry_run: bool = False,
    master_link: str = "",
    link_secret: Callable[[], bytes] | None = None,
    hold: AbstractContextManager[Any] | None = None,
) -> RemindResult:
    """`hold`: see the module docstring (serve's lock, taken per store step; None on the CLI, Lambda)."""
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    # Reading and planning are bounded bulk work that makes no cycles, while every unit's status stays
    # alive: collections then walk it all again and again (a quarter of a 10,000-unit run). Sending,
    # which may take long and goes through the mail libraries, runs with the collector on.
    with guard, collector_paused():
        statuses = unit_statuses(campaign, roster, store)
        claimed = {c.key for c in store.claims("remind/")}
        plan = plan_reminders(campaign, statuses, claimed, now)
    result = RemindResult(planned=plan)
    for reminder in plan:
        line = _line(campaign, reminder)
        if dry_run:
            result.lines.append(line)
            continue
        # Under serve's lock, released between two reminders: each is checked against what arrived since.
        outcome = _send_one(
            campaign, store, mailer, reminder, now, result, link_secret, guard, recheck=hold is not None
        )
        result.lines.append(line + " " + outcome)
    with guard, collector_paused():
        result.stuck = stuck_reminders(campaign, store, now)
    if not dry_run and campaign.reminders.digest and mailer is not None:
        result.digest_sent = _send_digest(campaign, store, mailer, statuses, now, result, master_link, guard)
    return result


def _payload(campaign: Campaign, reminder: UnitReminder, item: DueItem, now: dt.datetime) -> dict[str, Any]:
    lang = campaign.language
    return {
        "unit": reminder.unit.code,
        "unit_name": reminder.unit.name,
        "deliverable": item.deliverable.key,
        "step": item.step,
        # Computed from the clock, not from the step: a catch-up run 41 days late says 41.
        "step_label": item.timing.label(lang),
        "overdue_days": item.timing.days if item.timing.overdue else None,
        "address": ", ".join(reminder.unit.emails),
        "state": item.status.state,
        "result": SENDING,
        "sending_since": now.isoformat(),
    }


def _release(store: Store, key: str) -> bool:
    """Forget a claim after a clean failure. Never raises: when the store cannot write (a full disk)
    the claim stays at "sending" and the stuck rule reports it, so the reminder is not lost."""
    for _ in range(2):
        try:
            store.release(key)
            return True
        except Exception as exc:  # any store failure here must not stop the run
            log.warning("could not release reminder claim %s: %s", key, exc)
    return False


def _record(store: Store, key: str, payload: dict[str, Any]) -> bool:
    """Record an outcome; False (never an exception) when the store cannot write it."""
    try:
        store.update_claim(key, payload)
        return True
    except Exception as exc:  # see _release
        log.warning("could not record reminder outcome %s: %s", key, exc)
        return False


def _send_one(
    campaign: Campaign,
    store: Store,
    mailer: Mailer | None,
    reminder: UnitReminder,
    now: dt.datetime,
    result: RemindResult,
    link_secret: Callable[[], bytes] | None,
    guard: AbstractContextManager[Any],
    *,
    recheck: bool,
) -> str:
    lang = campaign.language
    # The store's part (claims, and the mail built with its link from the store's secret) under the
    # guard; the send outside it; each outcome under it again. The claims say "sending" meanwhile.
    with guard:
        if recheck:
            fresh = [i for i in reminder.items if not _submitted_since_planned(store, i)]
            if not fresh:
                return t(
                    lang,
                    "（计划后已收到新的报送，本次不催报）",
                    "(a submission arrived since planning; not sent)",
                )
            reminder = UnitReminder(reminder.unit, fresh)
        mine = []
        for item in reminder.items:
            payload = _payload(campaign, reminder, item, now)
            if store.claim(item.claim_key, payload, at=now):
                mine.append((item.claim_key, payload))
        if not mine:
            return t(lang, "（已由另一次运行认领）", "(already claimed)")
        keys = {k for k, _ in mine}
        reminder = UnitReminder(reminder.unit, [i for i in reminder.items if i.claim_key in keys])
        if not reminder.unit.emails or mailer is None:
            result.no_address += 1
            return _finish(store, mine, t(lang, "无邮箱地址，未发送", "no address; not sent"), result, lang)
        try:
            msg = build_reminder(
                campaign,
                reminder,
                now=now,
                link_of=form_links(store, campaign, now=now, secret_of=link_secret),
            )
            if campaign.reminders.cc_coordinator and (cc := coordinator_addresses(campaign, reminder.unit)):
                msg["Cc"] = ", ".join(cc)
        except Exception as exc:  # nothing was sent: give the claim back, keep the run going
            log.exception("could not build reminder for %s", reminder.unit.code)
            for key, _ in mine:
                _release(store, key)
            result.refused += 1
            return t(
                lang, f"邮件无法生成（下次重试）：{exc}", f"could not build the mail (will retry): {exc}"
            )
    try:
        mailer.send(msg)
    except MailRefused as exc:
        with guard:
            released = all([_release(store, key) for key, _ in mine])
        result.refused += 1
        log.warning("reminder refused, will retry: %s: %s", reminder.unit.code, exc)
        if not released:
            result.unrecorded += 1
            return t(lang, f"被拒，且无法释放记录（磁盘已满？），稍后列为发送中断：{exc}",
                     f"refused, and the claim could not be released (disk full?); reported as interrupted later: {exc}")  # fmt: skip
        return t(lang, f"被拒（下次重试）：{exc}", f"refused (will retry): {exc}")
    except MailNotPermitted as exc:
        result.not_permitted += 1
        result.not_permitted_error = result.not_permitted_error or str(exc)
        log.error("reminder not permitted, not retried: %s: %s", reminder.unit.code, exc)
        text = t(lang, f"无权发送（不重试）：{exc}", f"not permitted (not retried): {exc}")
        with guard:
            _finish(store, mine, text, result, lang)
        return text
    except MailUncertain as exc:
        result.uncertain += 1
        with guard:
            _finish(store, mine, t(lang, f"结果不明：{exc}", f"uncertain: {exc}"), result, lang)
        return t(lang, f"结果不明（不重试）：{exc}", f"uncertain (not retried): {exc}")
    except Exception as exc:  # a transport that broke its contract: it may have sent
        log.exception("reminder send failed unexpectedly: %s", reminder.unit.code)
        result.uncertain += 1
        with guard:
            _finish(store, mine, t(lang, f"结果不明：{exc}", f"uncertain: {exc}"), result, lang)
        return t(lang, f"结果不明（不重试）：{exc}", f"uncertain (not retried): {exc}")
    result.sent += 1
    with guard:
        return _finish(store, mine, t(lang, "已发送", "sent"), result, lang, sent=True)


def _submitted_since_planned(store: Store, item: DueItem) -> bool:
    """Whether the unit submitted this deliverable after the run read its status (the lock was released
    between two reminders, and a web form or webhook may have stored a submission meanwhile)."""
    planned = item.status.version
    planned_id = planned.id if planned is not None and planned.status == "submitted" else None
    latest = store.latest(item.status.unit.code, item.deliverable.key, status="submitted")
    return (latest.id if latest is not None else None) != planned_id


def _finish(
    store: Store,
    mine: list[tuple[str, dict[str, Any]]],
    outcome: str,
    result: RemindResult,
    lang: Language,
    *,
    sent: bool = False,
) -> str:
    # "sent" is the machine-readable outcome (the result text is in the campaign's language).
    recorded = all(
        [_record(store, key, {**payload, "result": outcome, "sent": sent}) for key, payload in mine]
    )
    if recorded:
        return outcome
    result.unrecorded += 1
    return outcome + t(lang, "（但结果无法写入数据库，稍后列为发送中断）",
                       " (but the result could not be stored; reported as interrupted later)")  # fmt: skip


def _resend_key(stuck: StuckReminder, claims: dict[str, Claim]) -> str:
    """Outside "remind/" so it never counts as a reminder; numbered so each attempt is claimed once."""
    attempt = int(claims[stuck.key].payload.get("resends", 0)) + 1
    return f"resend/{stuck.key}#{attempt}"


def resend_stuck(
    campaign: Campaign,
    roster: Roster,
    store: Store,
    mailer: Mailer | None,
    *,
    now: dt.datetime,
    link_secret: Callable[[], bytes] | None = None,
) -> RemindResult:
    """`huizong remind DIR --resend-stuck`: the organiser's decision to resend every interrupted reminder.

    A unit that has since sent a valid report is not written to again; the others get the reminder as
    it stands today (current state, current lateness) under the same claim, so it stays once-only."""
    lang = campaign.language
    result = RemindResult()
    stuck = stuck_reminders(campaign, store, now)
    statuses = {(s.unit.code, s.deliverable.key): s for s in unit_statuses(campaign, roster, store)}
    claims = {c.key: c for c in store.claims("remind/")}
    by_unit: dict[str, list[tuple[StuckReminder, UnitStatus]]] = {}
    for s in stuck:
        status = statuses.get((s.unit, s.deliverable))
        if status is None or status.state == "valid":
            why = t(lang, "未重发：该单位已报送且通过校验", "not resent: the unit's report is now valid")
            if status is None:
                why = t(
                    lang,
                    "未重发：该单位或材料已不在名单中",
                    "not resent: unit or deliverable no longer listed",
                )
            _record(store, s.key, {**claims[s.key].payload, "result": why})
            result.lines.append(f"{s.unit} {s.unit_name}: {s.deliverable} → {why}")
            continue
        by_unit.setdefault(s.unit, []).append((s, status))
    for claimed_pairs in by_unit.values():
        # Two organisers (or two terminals) resending at once must not both send: each resend attempt
        # is itself a create-if-absent claim, so only one process wins it.
        pairs = []
        for s, st in claimed_pairs:
            if store.claim(_resend_key(s, claims), {}, at=now):
                pairs.append((s, st))
            else:
                busy = t(lang, "另一次运行正在重发，本次跳过", "being resent by another run; skipped")
                result.lines.append(f"{s.unit} {s.unit_name}: {s.deliverable} → {busy}")
        if not pairs:
            continue
        unit = pairs[0][1].unit
        items = [DueItem(st, s.step, timing(campaign, st.deliverable, now)) for s, st in pairs]
        reminder = UnitReminder(unit, items)
        line = _line(campaign, reminder)
        old = {s.key: claims[s.key].payload for s, _ in pairs}
        attempt = {
            key: {
                **p,
                "result": SENDING,
                "sending_since": now.isoformat(),
                "resends": int(p.get("resends", 0)) + 1,
            }
            for key, p in old.items()
        }
        if not all([_record(store, key, p) for key, p in attempt.items()]):
            result.unrecorded += 1
            result.lines.append(
                line + " " + t(lang, "无法写入数据库，未重发", "store not writable; not resent")
            )
            continue
        if not unit.emails or mailer is None:
            result.no_address += 1
            _finish(
                store,
                list(attempt.items()),
                t(lang, "无邮箱地址，未发送", "no address; not sent"),
                result,
                lang,
            )
            result.lines.append(line + " " + t(lang, "无邮箱地址", "no address"))
            continue
        try:
            try:
                message = build_reminder(
                    campaign,
                    reminder,
                    now=now,
                    link_of=form_links(store, campaign, now=now, secret_of=link_secret),
                )
            except Exception as exc:  # nothing was sent: treated like a refusal below
                log.exception("could not build reminder for %s", unit.code)
                raise MailRefused(str(exc)) from exc
            mailer.send(message)
        except MailRefused as exc:
            # Nothing was sent: back to where it was, still interrupted, still listed, still resendable.
            for key, p in old.items():
                _record(store, key, p)
            for s, _ in pairs:
                _release(store, _resend_key(s, claims))
            result.refused += 1
            result.lines.append(
                line + " " + t(lang, f"被拒，仍待重发：{exc}", f"refused, still to resend: {exc}")
            )
            continue
        except Exception as exc:  # MailUncertain or a broken transport: may have sent
            result.uncertain += 1
            outcome = t(lang, f"重发结果不明：{exc}", f"resend uncertain: {exc}")
            _finish(store, list(attempt.items()), outcome, result, lang)
            result.lines.append(line + " " + outcome)
            continue
        result.sent += 1
        result.lines.append(
            line
            + " "
            + _finish(store, list(attempt.items()), t(lang, "已重发", "resent"), result, lang, sent=True)
        )
    with collector_paused():
        result.stuck = stuck_reminders(campaign, store, now)
    return result


def _take_over_stuck_digest(
    campaign: Campaign, store: Store, key: str, payload: dict[str, Any], now: dt.datetime
) -> bool:
    """Unlike a unit's reminder, the day's digest goes to the organiser only: when its send was
    interrupted, a second copy is a smaller harm than no digest, so a later run sends it again."""
    held = next((c for c in store.claims(key) if c.key == key), None)
    if held is None or not is_stuck(campaign, held, now):
        return False
    return _record(store, key, payload)


def _send_digest(
    campaign: Campaign,
    store: Store,
    mailer: Mailer,
    statuses: list[UnitStatus],
    now: dt.datetime,
    result: RemindResult,
    master_link: str,
    guard: AbstractContextManager[Any],
) -> bool:
    day = now.astimezone(campaign.tz).date()
    first, last = digest_window(campaign)
    if not first <= day <= last:
        return False
    key = digest_claim_key(day)
    payload = {
        "result": SENDING,
        "address": ", ".join(campaign.organiser.emails),
        "sending_since": now.isoformat(),
    }
    with guard:
        if not store.claim(key, payload, at=now) and not _take_over_stuck_digest(
            campaign, store, key, payload, now
        ):
            return False
        # Count what this run and earlier runs today sent, so a digest after several runs is still true.
        sent_today = sum(
            1
            for c in store.claims("remind/")
            if c.claimed_at.astimezone(campaign.tz).date() == day and c.payload.get("result") in SENT_RESULTS
        )
        counts = count_by_deliverable(campaign, statuses)
        try:
            msg = build_digest(
                campaign, statuses, counts, day=day, sent=sent_today, master_link=master_link, now=now,
                stuck=result.stuck, not_permitted=result.not_permitted,
                not_permitted_error=result.not_permitted_error, unread=unread_files(store),
                mail_left=left_for_organiser(store, since=now - DIGEST_SPAN),
            )  # fmt: skip
        except Exception:  # nothing was sent: give the day's claim back
            log.exception("could not build the digest")
            _release(store, key)
            return False
    try:
        mailer.send(msg)
    except MailRefused:
        with guard:
            _release(store, key)
        return False
    except MailNotPermitted as exc:
        # The organiser cannot be told by mail either; the handler's error count raises the alarm.
        result.not_permitted_error = result.not_permitted_error or str(exc)
        log.error("digest not permitted, not retried: %s", exc)
        with guard:
            _record(store, key, {"result": f"not permitted: {exc}"})
        return False
    except Exception as exc:  # MailUncertain or a broken transport: may have sent
        with guard:
            _record(store, key, {"result": f"uncertain: {exc}"})
        return False
    with guard:
        _record(store, key, {"result": "sent", "address": ", ".join(campaign.organiser.emails)})
    return True
