"""What other units reported, for checks that compare a unit with its peers."""

from __future__ import annotations

import datetime as dt

from functions.ports import Store
from functions.validate.peer_median import PeerFigures
from functions.validate.validator import ValidationContext


class PeerStats:
    """Computed once per run from the latest submitted versions, then asked per unit.

    It keeps each unit's own figures rather than one campaign-wide median: the validator, which knows
    the roster, takes the median of the checked unit's own type (functions/validate/peer_median.py).
    """

    def __init__(self, store: Store):
        per_activity: dict[str, list[float]] = {}
        per_session: dict[str, float] = {}
        self.planned: dict[str, int] = {}
        for v in store.latest_versions(status="submitted"):
            acts = v.tables.get("activities")
            if acts is not None:
                self.planned[v.unit] = len(acts)
                per_activity.setdefault(v.unit, []).extend(
                    float(n) for row in acts if isinstance(n := row.get("expected_participants"), int | float)
                )
            stats = v.tables.get("statistics")
            if stats:
                total, people = stats[0].get("total_sessions"), stats[0].get("total_participants")
                if isinstance(total, int | float) and isinstance(people, int | float) and total > 0:
                    per_session[v.unit] = people / total
        self.figures = PeerFigures(per_session=per_session, per_activity=per_activity)

    def context_for(self, unit: str | None, *, checked_at: dt.datetime | None = None) -> ValidationContext:
        return ValidationContext(
            planned_activities=self.planned.get(unit or ""),
            peers=self.figures,
            checked_at=checked_at,
        )
