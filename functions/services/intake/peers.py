"""What other units reported, for checks that compare a unit with its peers."""

from __future__ import annotations

import datetime as dt
import statistics

from functions.ports import Store
from functions.validate.validator import ValidationContext


class PeerStats:
    """Computed once per run from the latest submitted versions, then asked per unit."""

    def __init__(self, store: Store):
        per_activity: list[float] = []
        per_session: list[float] = []
        self.planned: dict[str, int] = {}
        units: set[str] = set()
        for v in store.latest_versions(status="submitted"):
            acts = v.tables.get("activities")
            if acts is not None:
                self.planned[v.unit] = len(acts)
                units.add(v.unit)
                for row in acts:
                    n = row.get("expected_participants")
                    if isinstance(n, int | float):
                        per_activity.append(float(n))
            stats = v.tables.get("statistics")
            if stats:
                total, people = stats[0].get("total_sessions"), stats[0].get("total_participants")
                if isinstance(total, int | float) and isinstance(people, int | float) and total > 0:
                    per_session.append(people / total)
        self.peer_count = len(units)
        self.median_activity = statistics.median(per_activity) if per_activity else None
        self.median_session = statistics.median(per_session) if per_session else None
        self.session_peers = len(per_session)

    def context_for(self, unit: str | None, *, checked_at: dt.datetime | None = None) -> ValidationContext:
        return ValidationContext(
            planned_activities=self.planned.get(unit or ""),
            median_participants_per_activity=self.median_activity,
            median_participants_per_session=self.median_session,
            activity_peers=self.peer_count,
            session_peers=self.session_peers,
            checked_at=checked_at,
        )
