"""What the console's pages count and list, read from the status service (never re-derived here)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from functions.services.console.accounts import in_scope
from functions.services.status.unit_states import UnitStatus
from schemas.campaign import Campaign, Person

# The columns of every count, in the order pages show them.
COUNT_KEYS = ("expected", "submitted", "valid", "errors", "returned", "approved", "missing", "late")


@dataclass
class Counts:
    expected: int = 0
    submitted: int = 0
    valid: int = 0
    errors: int = 0
    returned: int = 0
    approved: int = 0
    missing: int = 0  # nothing submitted yet (a draft only counts as missing)
    late: int = 0

    def add(self, s: UnitStatus) -> None:
        self.expected += 1
        if s.done:
            self.submitted += 1
        if s.state == "valid":
            self.valid += 1
        elif s.state == "errors":
            self.errors += 1
        else:
            self.missing += 1
        if s.review == "returned":
            self.returned += 1
        elif s.review == "approved":
            self.approved += 1
        if s.late:
            self.late += 1

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in COUNT_KEYS}


@dataclass
class DeliverableOverview:
    key: str
    title: str
    total: Counts = field(default_factory=Counts)
    by_area: dict[str, Counts] = field(default_factory=dict)
    by_type: dict[str, Counts] = field(default_factory=dict)


def scoped(statuses: Iterable[UnitStatus], person: Person) -> list[UnitStatus]:
    """Only what this person may see: a coordinator's areas, or everything for an organiser."""
    return [s for s in statuses if in_scope(person, s.unit.area)]


def overview(campaign: Campaign, statuses: list[UnitStatus]) -> list[DeliverableOverview]:
    lang = campaign.language
    out = {d.key: DeliverableOverview(d.key, d.title(lang)) for d in campaign.deliverables}
    for s in statuses:
        o = out[s.deliverable.key]
        o.total.add(s)
        o.by_area.setdefault(s.unit.area or "—", Counts()).add(s)
        o.by_type.setdefault(s.unit.type or "—", Counts()).add(s)
    return [o for o in out.values() if o.total.expected]


@dataclass(frozen=True)
class UnitFilter:
    """The unit list's filters; empty values filter nothing."""

    state: str = ""  # valid, errors, missing, draft, pending, approved, returned
    area: str = ""
    type: str = ""
    deliverable: str = ""
    has_errors: bool = False
    late: bool = False
    q: str = ""  # a piece of the unit's code, name or contact

    def keep(self, s: UnitStatus) -> bool:
        if self.state and self.state not in (s.state, s.review):
            return False
        if self.area and s.unit.area != self.area:
            return False
        if self.type and s.unit.type != self.type:
            return False
        if self.deliverable and s.deliverable.key != self.deliverable:
            return False
        if self.has_errors and not (s.version is not None and len(s.version.report.errors) > len(s.waived)):
            return False
        if self.late and not s.late:
            return False
        if self.q:
            needle = self.q.casefold()
            hay = f"{s.unit.code} {s.unit.name} {s.unit.contact}".casefold()
            if needle not in hay:
                return False
        return True


def filter_statuses(statuses: Iterable[UnitStatus], f: UnitFilter) -> list[UnitStatus]:
    return [s for s in statuses if f.keep(s)]


def group_values(statuses: Iterable[UnitStatus]) -> tuple[list[str], list[str]]:
    """The areas and unit types present, for the filters' choices."""
    areas: set[str] = set()
    types: set[str] = set()
    for s in statuses:
        if s.unit.area:
            areas.add(s.unit.area)
        types.add(s.unit.type)
    return sorted(areas), sorted(types)


def late_by(statuses: Iterable[UnitStatus], now: dt.datetime, campaign: Campaign) -> dict[str, int]:
    """Units past the due time with nothing submitted, per deliverable (逾期未报)."""
    out: dict[str, int] = defaultdict(int)
    for s in statuses:
        if s.state in ("missing", "draft") and now > campaign.due_at(s.deliverable.key):
            out[s.deliverable.key] += 1
    return dict(out)
