"""Roster.derived: what other layers work out from a roster (the identity index, the peer types) is
built once per roster and kept with it, and built again when its units list is replaced or grown."""

from __future__ import annotations

from schemas.roster import Roster, Unit


def _unit(code: str, unit_type: str = "中小学") -> Unit:
    return Unit(code=code, name=f"单位{code}", type=unit_type)


def test_built_once_per_roster_and_again_when_its_units_change() -> None:
    roster = Roster(units=[_unit("U1"), _unit("U2")])
    other = Roster(units=[_unit("U1")])
    builds: list[int] = []

    def count_of(r: Roster) -> int:
        builds.append(len(r.units))
        return len(r.units)

    assert roster.derived("n", lambda: count_of(roster)) == 2
    assert roster.derived("n", lambda: count_of(roster)) == 2
    assert other.derived("n", lambda: count_of(other)) == 1  # each roster its own, no thrashing
    assert roster.derived("n", lambda: count_of(roster)) == 2
    assert builds == [2, 1]

    roster.units.append(_unit("U3"))
    assert roster.derived("n", lambda: count_of(roster)) == 3
    roster.units = [_unit("U9")]
    assert roster.derived("n", lambda: count_of(roster)) == 1
    assert builds == [2, 1, 3, 1]
