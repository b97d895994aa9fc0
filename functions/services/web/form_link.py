"""A unit's personal web form link where the unit reads about its deliverable: its workbook's 填写说明 and
its reminders. Only when the campaign says where the form is (`web: {base_url: ...}` in campaign.yaml):
without it there is no address a unit could open, so nothing is printed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from functions.ports import Store
from functions.services.web.links import campaign_secret, link_token
from schemas.campaign import Campaign

LinkOf = Callable[[str, str], str | None]


def form_links(
    store: Store, campaign: Campaign, *, now: dt.datetime, secret_of: Callable[[], bytes] | None = None
) -> LinkOf:
    """(unit code, deliverable) → the unit's link, or None when the campaign has no web form address.

    `secret_of` is App.link_secret: the deployment's secret when it is kept outside the store (SSM), so
    a reminder sent from Lambda carries a link the Lambda form accepts. The secret is read (or created)
    once, on the first link asked for, so a campaign without a web form never gets one."""
    if campaign.web is None:
        return lambda unit, deliverable: None
    base = campaign.web.base_url.rstrip("/")
    secret: list[bytes] = []

    def link_of(unit: str, deliverable: str) -> str | None:
        if not secret:
            secret.append(secret_of() if secret_of is not None else campaign_secret(store, now=now))
        return f"{base}/u/{link_token(secret[0], campaign, unit, deliverable)}"

    return link_of
