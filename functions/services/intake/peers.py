"""What other units reported, for checks that compare a unit with its peers.

Issue 13 §1: the figures the `outlier` and `fewer-than-planned` checks need are kept in the store as
one small entry per (deliverable, unit), written by the store's add_version when a version becomes the unit's latest
submitted one; a later version replaces the entry. Checking one submission then reads one group
per deliverable instead of decoding every stored version of the campaign.

Groups are per deliverable, not per unit type: a unit's type comes from the roster, which the organiser
may edit, so the type is applied when reading (functions/validate/peer_median.py), never frozen in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from functions.ports import Store
from functions.validate.peer_median import PeerFigures, peer_entry
from functions.validate.validator import ValidationContext

# Bumped when the entry's layout changes: a store without the mark of the current layout is rebuilt once.
_BUILT_MARK = "peers:v1:built"


def rebuild(store: Store) -> None:
    """Recompute every entry from the stored versions (a store written before issue 13), then mark it."""
    for v in store.iter_latest_versions(status="submitted"):
        store.put_peer_entry(v.deliverable, v.unit, v.seq, peer_entry(v.tables))
    store.set_meta(_BUILT_MARK, "1")


class PeerStats:
    """Read once per run from the stored entries, then asked per unit.

    It keeps each unit's own figures rather than one campaign-wide median: the validator, which knows
    the roster, takes the median of the checked unit's own type (functions/validate/peer_median.py).
    """

    def __init__(self, store: Store, deliverables: Iterable[str]):
        if store.get_meta(_BUILT_MARK) is None:
            if getattr(store, "read_only", False):
                # `huizong validate` may not write: compute from the versions, as before issue 13.
                self._from_versions(store)
                return
            rebuild(store)
        # Sorted like latest_versions (unit, then deliverable) so the same deliverable wins a tie.
        entries: dict[str, list[dict[str, Any]]] = {}
        for deliverable in sorted(set(deliverables)):
            for unit, entry in store.peer_group(deliverable).items():
                entries.setdefault(unit, []).append(entry)
        self._combine(entries)

    def _from_versions(self, store: Store) -> None:
        entries: dict[str, list[dict[str, Any]]] = {}
        for v in store.iter_latest_versions(status="submitted"):
            entries.setdefault(v.unit, []).append(peer_entry(v.tables))
        self._combine(entries)

    def _combine(self, entries: dict[str, list[dict[str, Any]]]) -> None:
        per_activity: dict[str, list[float]] = {}
        per_session: dict[str, float] = {}
        self.planned: dict[str, int] = {}
        for unit in sorted(entries):
            for entry in entries[unit]:
                if entry["per_activity"] is not None:
                    self.planned[unit] = entry["planned"]
                    per_activity.setdefault(unit, []).extend(entry["per_activity"])
                if entry["per_session"] is not None:
                    per_session[unit] = entry["per_session"]
        self.figures = PeerFigures(per_session=per_session, per_activity=per_activity)

    def context_for(self, unit: str | None, *, checked_at: dt.datetime | None = None) -> ValidationContext:
        return ValidationContext(
            planned_activities=self.planned.get(unit or ""),
            peers=self.figures,
            checked_at=checked_at,
        )
