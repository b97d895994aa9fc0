"""What changed between two versions of a unit's submission, field by field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from schemas.campaign import Campaign
from schemas.submission import Version

Change = Literal["added", "removed", "changed"]


@dataclass(frozen=True)
class FieldChange:
    table: str  # the table's title as units see it
    row: int | None  # 1-based for row tables, None for record tables
    field: str  # the field's label
    before: str
    after: str
    change: Change


def show(value: Any) -> str:
    """A cell as a person reads it: dates as YYYY-MM-DD, several choices joined, numbers without .0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(show(v) for v in value)
    return str(value)


def version_diff(campaign: Campaign, old: Version, new: Version) -> list[FieldChange]:
    """Every field whose value differs, in the form's order (tables, rows, fields); rows by position."""
    lang = campaign.language
    spec = campaign.form_spec
    keys = list(dict.fromkeys([*old.tables, *new.tables]))
    out: list[FieldChange] = []
    for key in keys:
        table = spec.table(key) if spec.has_table(key) else None
        title = table.title(lang) if table is not None else key
        labels = {f.key: f.label(lang) for f in table.fields} if table is not None else {}
        order = list(labels)
        a_rows, b_rows = old.tables.get(key, []), new.tables.get(key, [])
        is_rows = table is not None and table.kind == "rows"
        for i in range(max(len(a_rows), len(b_rows))):
            a = a_rows[i] if i < len(a_rows) else None
            b = b_rows[i] if i < len(b_rows) else None
            names = order + sorted(set(a or {}).union(b or {}).difference(order))
            for name in names:
                before = show((a or {}).get(name))
                after = show((b or {}).get(name))
                if before == after:
                    continue
                change: Change = (
                    "added" if a is None or not before else "removed" if b is None or not after else "changed"
                )
                out.append(
                    FieldChange(
                        title, i + 1 if is_rows else None, labels.get(name, name), before, after, change
                    )
                )
    return out
