"""Whether a submission is late (逾期已报): decided once, when it is stored."""

from __future__ import annotations

import datetime as dt

from schemas.campaign import Campaign
from schemas.submission import Version


def is_late(campaign: Campaign, deliverable: str, received_at: dt.datetime, previous: Version | None) -> bool:
    """Late when it arrived after the due time, unless an on-time submission came before it
    (a correction after the deadline does not make an on-time unit late)."""
    if previous is not None and previous.status == "submitted" and not previous.late:
        return False
    return received_at > campaign.due_at(deliverable)
