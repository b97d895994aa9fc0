"""The identity rule: does the workbook say it is the unit whose code it carries?

A unit that fills another unit's workbook (or reuses a filled one and corrects only the visible code or
name) would otherwise be stored as that other unit and replace its real figures. The reader keeps what
the workbook says (`RawSubmission.claimed`); this rule compares it with the roster and, on a
disagreement, gives an error naming both units. The store keeps such a version like any other with
errors; the status layer (functions/services/status/unit_states.py) keeps the unit's earlier valid
version in the master until the organiser decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from functions.validate import codes
from functions.validate.lazy_re import LazyPattern
from functions.validate.messages import make_issue
from schemas.campaign import Campaign
from schemas.i18n import Language
from schemas.raw import RawSubmission
from schemas.report import Issue
from schemas.roster import Roster, Unit
from schemas.submission import CellValue

# The codes this rule gives: a version carrying one of them is "held" (it does not replace a valid one).
IDENTITY_CODES: frozenset[str] = frozenset({codes.UNIT_NAME_MISMATCH.code, codes.UNIT_CODE_MISMATCH.code})

_SPACES = LazyPattern(r"[\s\u3000]+")
# Full-width and half-width brackets are the same to a reader: 常州市（武进）== 常州市(武进).
_BRACKETS = str.maketrans({"（": "(", "）": ")"})


def same_name(a: str, b: str) -> bool:
    return _norm_name(a) == _norm_name(b)


def _norm_name(text: str) -> str:
    return _SPACES.sub("", text).translate(_BRACKETS).casefold()


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class _RosterIndex:
    """Each normalised unit name, contact name and phone number, with the units carrying it in roster
    order: checking one submission looks a value up instead of normalising every unit of the roster
    (about 45 ms a form response at 10,000 units, twice per response, before this index)."""

    def __init__(self, roster: Roster) -> None:
        self.by: dict[str, dict[str, list[Unit]]] = {"name": {}, "contact": {}, "phone": {}}
        for u in roster.units:
            for attr, norm in (("name", _norm_name), ("contact", _norm_name), ("phone", _digits)):
                if key := norm(getattr(u, attr) or ""):
                    self.by[attr].setdefault(key, []).append(u)

    def first(self, attr: str, key: str, *, besides: str | None = None) -> Unit | None:
        return next((u for u in self.by[attr].get(key, ()) if u.code != besides), None)


def _index(roster: Roster) -> _RosterIndex:
    return roster.derived("identity-index", lambda: _RosterIndex(roster))


def _find_by_name(roster: Roster, name: str) -> Unit | None:
    wanted = _norm_name(name)
    return _index(roster).first("name", wanted) if wanted else None


def identity_issues(
    raw: RawSubmission,
    unit: Unit | None,
    roster: Roster,
    campaign: Campaign,
    tables: Mapping[str, Sequence[Mapping[str, CellValue]]],
) -> list[Issue]:
    """Errors for a workbook whose visible identity disagrees with `unit` (the unit it is stored under)."""
    if unit is None:
        return []
    lang: Language = campaign.language
    claimed = raw.claimed
    sheet = claimed.sheet or ""
    out: list[Issue] = []
    hidden, visible = claimed.hidden_code, claimed.visible_code
    if hidden and visible and hidden.strip().upper() != visible.strip().upper():
        other = roster.get(visible.strip()) or roster.get(visible.strip().upper())
        hidden_unit = roster.get(hidden.strip()) or roster.get(hidden.strip().upper())
        out.append(
            make_issue(
                codes.UNIT_CODE_MISMATCH,
                lang,
                sheet=sheet,
                value=visible,
                hidden=hidden,
                hidden_name=hidden_unit.name if hidden_unit else "?",
                visible=visible,
                visible_name=other.name if other else "?",
            )
        )
    name = claimed.visible_name
    # A name the template itself carries is the organiser's (the roster renamed the unit since): not the
    # unit's doing, so not a mismatch.
    template_name = claimed.hidden_name if hidden and hidden.strip().upper() == unit.code.upper() else None
    if name and not same_name(name, unit.name) and not (template_name and same_name(name, template_name)):
        other = _find_by_name(roster, name)
        kind = codes.UNIT_NAME_MISMATCH_OTHER_UNIT if other else codes.UNIT_NAME_MISMATCH
        out.append(
            make_issue(
                kind,
                lang,
                sheet=sheet,
                value=name,
                unit_code=unit.code,
                roster_name=unit.name,
                other_code=other.code if other else "",
            )
        )
        return out
    if not out:
        out.extend(_contact_issues(unit, roster, campaign, tables, raw))
    return out


def _contact_issues(
    unit: Unit,
    roster: Roster,
    campaign: Campaign,
    tables: Mapping[str, Sequence[Mapping[str, CellValue]]],
    raw: RawSubmission,
) -> list[Issue]:
    """The contact person or phone of a one-record table (填报人, 联系电话) is another roster unit's and not
    this unit's: the workbook was most likely filled by that other unit. A contact that is nobody's in
    the roster says nothing (people change), so it is not an error."""
    lang: Language = campaign.language
    for table in campaign.form_spec.tables:
        if table.kind != "record" or not tables.get(table.key) or table.key not in raw.tables:
            continue
        record = tables[table.key][0]
        phone = record.get("phone")
        own_phone = isinstance(phone, str) and bool(unit.phone) and _digits(phone) == _digits(unit.phone)
        for key, attr, norm in (("filled_by", "contact", _norm_name), ("phone", "phone", _digits)):
            value = record.get(key)
            if key not in {f.key for f in table.fields} or not isinstance(value, str) or not norm(value):
                continue
            if key == "filled_by" and own_phone:
                # Two people of the same name are common; with the unit's own phone beside it, it is theirs.
                continue
            mine = norm(getattr(unit, attr) or "")
            if mine and mine == norm(value):
                continue
            other = _index(roster).first(attr, norm(value), besides=unit.code)
            if other is None:
                continue
            cell = raw.tables[table.key].records[0].cells.get(key) if raw.tables[table.key].records else None
            return [
                make_issue(
                    codes.UNIT_NAME_MISMATCH_CONTACT,
                    lang,
                    sheet=raw.tables[table.key].sheet,
                    cell=cell.cell if cell else None,
                    column=table.field(key).label(lang),
                    value=value,
                    unit_code=unit.code,
                    roster_name=unit.name,
                    other_code=other.code,
                    other_name=other.name,
                )
            ]
    return []
