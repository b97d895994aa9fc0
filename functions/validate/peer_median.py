"""Who a unit is compared with for the `outlier` rule: the units of its own type, or all units.

A school's 300 participants per activity is ordinary next to a community centre's and odd next to
another school's, so the median is taken over the unit's own type; below `rules.outlier.min_peers`
such units a median says little, and the rule falls back to all units (the message says which).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from schemas.roster import Roster, Unit
from schemas.submission import TableData


@dataclass(frozen=True)
class PeerFigures:
    """Other units' latest submitted figures, by unit code (computed by the caller from the store)."""

    # unit code -> 参与总人次 ÷ 活动总场次 of its statistics
    per_session: Mapping[str, float] = field(default_factory=dict)
    # unit code -> 预计参与人数 of each activity in its plan
    per_activity: Mapping[str, Sequence[float]] = field(default_factory=dict)


def peer_entry(tables: TableData) -> dict[str, Any]:
    """The figures of one version the peer checks use (a few numbers, not its rows).

    Every store keeps one per (deliverable, unit), replaced when a later version is submitted, so a
    check reads these instead of decoding every stored version (issue 13 §1).
    """
    entry: dict[str, Any] = {"planned": None, "per_activity": None, "per_session": None}
    acts = tables.get("activities")
    if acts is not None:
        entry["planned"] = len(acts)
        entry["per_activity"] = [
            float(n) for row in acts if isinstance(n := row.get("expected_participants"), int | float)
        ]
    stats = tables.get("statistics")
    if stats:
        total, people = stats[0].get("total_sessions"), stats[0].get("total_participants")
        if isinstance(total, int | float) and isinstance(people, int | float) and total > 0:
            entry["per_session"] = people / total
    return entry


class PeerSource(Protocol):
    """Answers `peer_median` without handing over every unit's figures (a store's ordered index)."""

    def median(
        self, which: Literal["session", "activity"], roster: Roster, unit: Unit, min_peers: int
    ) -> PeerMedian | None: ...


@dataclass(frozen=True)
class PeerMedian:
    median: float
    peers: int  # units whose figures gave the median
    unit_type: str | None  # the unit's type, or None when all units were used


def peer_median(
    figures: Mapping[str, float | Sequence[float]], roster: Roster, unit: Unit, min_peers: int
) -> PeerMedian | None:
    """The median of the unit's own type, else of all units, else None (too few peers to judge).

    The unit itself is never its own peer: its earlier version is in the store and would pull the
    median towards the figure being checked.
    """
    by_code = roster.by_code()  # one dict, not a pydantic attribute lookup per peer
    others: dict[str, list[float]] = {}
    for code, value in figures.items():
        if code == unit.code:
            continue
        values = [float(value)] if isinstance(value, int | float) else [float(x) for x in value]
        if values:
            others[code] = values
    same = [code for code in others if (u := by_code.get(code)) is not None and u.type == unit.type]
    if len(same) >= min_peers:
        group, unit_type = same, unit.type
    elif len(others) >= min_peers:
        group, unit_type = list(others), None
    else:
        return None
    pooled = [x for code in group for x in others[code]]
    return PeerMedian(median=statistics.median(pooled), peers=len(group), unit_type=unit_type)
