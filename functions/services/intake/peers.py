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
import hashlib
from collections.abc import Iterable
from typing import Any, Literal

from functions.ports import PeerIndex, Store
from functions.validate.peer_median import PeerFigures, PeerMedian, peer_entry, peer_median
from functions.validate.validator import ValidationContext
from schemas.roster import Roster, Unit

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

    A store with an index (ports.PeerIndex: SQLite's ordered index, the S3 and memory stores' shards per
    unit type) answers the median itself, so checking one submission reads a few rows or small objects
    whatever the campaign's size; `figures` and `planned` (every unit's) are then read only if asked for.
    """

    def __init__(self, store: Store, deliverables: Iterable[str]):
        self._store = store
        self._groups = sorted(set(deliverables))
        self._loaded = False
        self._index: PeerIndex | None = None
        self._read_only = False
        if store.get_meta(_BUILT_MARK) is None:
            if getattr(store, "read_only", False):
                # `huizong validate` may not write: compute from the versions, as before issue 13.
                self._from_versions(store)
                return
            rebuild(store)
        if isinstance(store, PeerIndex) and store.peer_index_exact():
            # A read-only store (`huizong validate`) uses the index only if it is already typed for
            # the roster (_IndexedPeers.median); it cannot build it.
            self._index = store
            self._read_only = bool(getattr(store, "read_only", False))
        else:
            self._load()

    @property
    def figures(self) -> PeerFigures:
        self._load()
        return self._figures

    @property
    def planned(self) -> dict[str, int]:
        self._load()
        return self._planned

    def _load(self) -> None:
        if self._loaded:
            return
        # Sorted like latest_versions (unit, then deliverable) so the same deliverable wins a tie.
        entries: dict[str, list[dict[str, Any]]] = {}
        for deliverable in self._groups:
            for unit, entry in self._store.peer_group(deliverable).items():
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
        planned: dict[str, int] = {}
        for unit in sorted(entries):
            for entry in entries[unit]:
                if entry["per_activity"] is not None:
                    planned[unit] = entry["planned"]
                    per_activity.setdefault(unit, []).extend(entry["per_activity"])
                if entry["per_session"] is not None:
                    per_session[unit] = entry["per_session"]
        self._planned = planned
        self._figures = PeerFigures(per_session=per_session, per_activity=per_activity)
        self._loaded = True

    def context_for(self, unit: str | None, *, checked_at: dt.datetime | None = None) -> ValidationContext:
        if self._index is None:
            return ValidationContext(
                planned_activities=self.planned.get(unit or ""), peers=self.figures, checked_at=checked_at
            )
        planned = None
        if unit:
            for entry in self._index.peer_entries_of(unit, self._groups).values():  # in group order
                if entry["per_activity"] is not None:
                    planned = entry["planned"]
        return ValidationContext(planned_activities=planned, peers=_IndexedPeers(self), checked_at=checked_at)


class _IndexedPeers:
    """The validator's PeerSource over a store's ordered index (the same medians as peer_median)."""

    def __init__(self, stats: PeerStats) -> None:
        self._stats = stats

    def median(
        self, which: Literal["session", "activity"], roster: Roster, unit: Unit, min_peers: int
    ) -> PeerMedian | None:
        index = self._stats._index
        assert index is not None
        fingerprint, types = _roster_types(roster)
        if not self._stats._read_only:
            index.peer_index_sync(fingerprint, types)
        elif not index.peer_index_built_for(fingerprint):
            figures = self._stats.figures
            return peer_median(figures.per_session if which == "session" else figures.per_activity,
                               roster, unit, min_peers)  # fmt: skip
        groups = self._stats._groups
        if which == "session" and len(set(index.peer_index_groups("session")) & set(groups)) > 1:
            # Statistics in two deliverables: a unit's figure is its last deliverable's, which the
            # index does not pick; rare enough to compute from every entry as before.
            return peer_median(self._stats.figures.per_session, roster, unit, min_peers)
        found = index.peer_index_median(groups, which, unit.code, unit.type, min_peers)
        if found is None:
            return None
        median, peers, unit_type = found
        return PeerMedian(median=median, peers=peers, unit_type=unit_type)


def _roster_types(roster: Roster) -> tuple[str, dict[str, str]]:
    """Each unit's type and a fingerprint of them all: worked out once per roster, not per submission."""
    return roster.derived("peer-types", lambda: _types_of(roster))


def _types_of(roster: Roster) -> tuple[str, dict[str, str]]:
    types = {u.code: u.type for u in roster.units}
    digest = hashlib.sha256()
    for code in sorted(types):
        digest.update(f"{code}\x1f{types[code]}\x1e".encode())
    return digest.hexdigest(), types
