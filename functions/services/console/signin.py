"""Mail a sign-in link to a person listed under `people:` (nothing to an address that is not listed).

`hold` is taken around each store step (the link's claim, then its outcome) and released while the mail
is sent: `huizong serve` passes its lock, so a slow SMTP server does not hold every other request.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from functions.app import App
from functions.ports import MailNotPermitted, MailRefused, MailUncertain
from functions.services.console.accounts import LINK_TTL, AuditEntry, audit, new_link, record_send
from functions.services.messages.compose import compose
from schemas.i18n import t

log = logging.getLogger(__name__)


def send_signin_link(
    app: App,
    email: str,
    *,
    base_url: str,
    now: dt.datetime,
    hold: AbstractContextManager[Any] | None = None,
) -> str:
    """Claim a new one-time link, then mail it. Returns what happened, for the log only: the page says
    the same thing whatever this returns, so nobody learns which addresses are listed. `hold` (serve's
    lock) is held for the store's steps only, never while the mail is sent."""
    guard: AbstractContextManager[Any] = hold if hold is not None else nullcontext()
    with guard:
        request = new_link(app.store, app.campaign, email, now=now)
    if request is None:
        return "not listed"
    lang = app.campaign.language
    link = f"{base_url.rstrip('/')}/admin/signin/{request.token}"
    subject = t(
        lang, f"【登录链接】{app.campaign.title} 管理页面", f"[Sign-in link] {app.campaign.title} console"
    )
    msg = compose(
        app.campaign,
        "console_signin",
        to=[request.person.email],
        subject=subject,
        key=request.claim_key,
        now=now,
        person=request.person,
        link=link,
        minutes=int(LINK_TTL.total_seconds() // 60),
    )
    try:
        # Outside the lock: the link's claim above is what keeps this mail from going twice.
        app.mailer.send(msg)
    except MailRefused as exc:
        # Nothing was sent; the person asks again. The unused token just expires.
        with guard:
            record_send(app.store, request, f"refused: {exc}", sent=False)
        log.warning("console sign-in mail refused: %s", exc)
        return "refused"
    except (MailUncertain, MailNotPermitted) as exc:
        with guard:
            record_send(app.store, request, f"uncertain: {exc}", sent=False)
        log.warning("console sign-in mail may not have been sent: %s", exc)
        return "uncertain"
    with guard:
        record_send(app.store, request, "sent", sent=True)
        audit(app.store, AuditEntry(at=now, by=request.person.email, action="link-sent"))
    return "sent"
