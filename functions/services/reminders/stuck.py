"""Reminder claims left at "sending": a run killed (or a disk that filled up) between the claim and
the recorded result.

The rule (docs/guide-zh.md, 催报): such a claim is *uncertain*. The mail may have reached the unit (the
transport accepted it and the process died before writing "sent") or may not. Resending on our own could
send a unit the same official mail twice, and never resending loses it for good, so after
`reminders.sending_timeout_minutes` the claim is reported to the organiser (digest, `huizong status`,
the master's 催报记录) and resent only when the organiser asks: `huizong remind DIR --resend-stuck`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from functions.ports import Claim, Store
from schemas.campaign import Campaign
from schemas.i18n import Language, t

SENDING = "sending"


def resend_command(lang: Language) -> str:
    return t(lang, "huizong remind <目录> --resend-stuck", "huizong remind <folder> --resend-stuck")


@dataclass(frozen=True)
class StuckReminder:
    key: str
    unit: str
    unit_name: str
    deliverable: str
    step: int
    address: str
    since: dt.datetime


def sending_since(claim: Claim) -> dt.datetime:
    """When the current send attempt began: a resend records its own start in the payload."""
    raw = claim.payload.get("sending_since")
    if isinstance(raw, str):
        try:
            return dt.datetime.fromisoformat(raw)
        except ValueError:
            pass  # a payload written by hand or damaged: the claim's own time is the safe bound
    return claim.claimed_at


def is_sending(claim: Claim) -> bool:
    return claim.payload.get("result") == SENDING


def is_stuck(campaign: Campaign, claim: Claim, now: dt.datetime) -> bool:
    timeout = dt.timedelta(minutes=campaign.reminders.sending_timeout_minutes)
    return is_sending(claim) and now - sending_since(claim) >= timeout


def _step(claim: Claim) -> int:
    step = claim.payload.get("step")
    return step if isinstance(step, int) else 0


def _prefix(claim: Claim) -> str:
    return claim.key.rsplit("/", 1)[0]


def latest_sent_steps(claims: list[Claim]) -> dict[str, int]:
    """remind/<deliverable>/<unit> -> the latest step actually sent (one pass over the claims)."""
    out: dict[str, int] = {}
    for c in claims:
        if c.payload.get("sent") is True:
            key = _prefix(c)
            out[key] = max(out.get(key, _step(c)), _step(c))
    return out


def superseded(claim: Claim, sent_steps: dict[str, int]) -> bool:
    """A later step of the same unit and deliverable has been sent since: the unit has a newer, truer
    reminder, so resending the interrupted one would only repeat it."""
    latest = sent_steps.get(_prefix(claim))
    return latest is not None and latest > _step(claim)


def stuck_reminders(campaign: Campaign, store: Store, now: dt.datetime) -> list[StuckReminder]:
    """Interrupted reminders the organiser still has to decide on (superseded ones are left out)."""
    out = []
    claims = store.claims("remind/")
    sent_steps = latest_sent_steps(claims)
    for c in claims:
        if not is_stuck(campaign, c, now) or superseded(c, sent_steps):
            continue
        p = c.payload
        out.append(
            StuckReminder(
                key=c.key,
                unit=str(p.get("unit", "")),
                unit_name=str(p.get("unit_name", "")),
                deliverable=str(p.get("deliverable", "")),
                step=_step(c),
                address=str(p.get("address", "")),
                since=sending_since(c),
            )
        )
    return out


def result_text(
    campaign: Campaign, claim: Claim, now: dt.datetime, sent_steps: dict[str, int] | None = None
) -> str:
    """The result of a reminder claim in words (the raw "sending" means nothing to an organiser)."""
    lang = campaign.language
    if is_stuck(campaign, claim, now) and sent_steps is not None and superseded(claim, sent_steps):
        return t(lang, "发送中断，不确定是否送达；此后已发出更新的催报，无需重发",
                 "interrupted, delivery uncertain; a later reminder has been sent since, no resend needed")  # fmt: skip
    if is_stuck(campaign, claim, now):
        return t(
            lang,
            f"发送中断，不确定是否送达；请向该单位核实，需要时用 {resend_command(lang)} 重发",
            f"interrupted, delivery uncertain; check with the unit and resend with {resend_command(lang)}",
        )
    if is_sending(claim):
        return t(lang, "正在发送", "sending")
    return str(claim.payload.get("result", ""))
