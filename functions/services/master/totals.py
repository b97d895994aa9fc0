"""What the master's statistics totals count, and which units they leave out and why (issue 10, item 3).

An organiser signs these figures in the bureau's name, so by default (`consolidate.count: valid`) only
submissions that passed validation are summed. With `count: all` units with errors are summed too,
marked incomplete, and a cell that failed is left out of the sums and shown as such — never as a
silent zero.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from functions.services.status.unit_states import UnitStatus
from schemas.campaign import Campaign
from schemas.i18n import t
from schemas.report import ValidationReport
from schemas.roster import Unit
from schemas.submission import UnitState

STATISTICS = "statistics"


@dataclass(frozen=True)
class StatRow:
    """One unit's submitted statistics, as the 统计 sheet lists it."""

    unit: Unit
    state: UnitState  # valid or errors
    late: bool
    record: dict[str, Any]
    failed: frozenset[str]  # statistics fields whose cell has an error: never summed
    counted: bool  # part of the totals


@dataclass(frozen=True)
class LeftOut:
    unit: Unit
    state: UnitState
    reason: str  # in the campaign's language


@dataclass(frozen=True)
class Totals:
    mode: Literal["valid", "all"]
    units: int  # units whose statistics are counted
    sums: dict[str, int | float]  # summable statistics field key -> total over the counted units
    by_type: dict[str, int]  # unit type -> counted units, in the campaign's order of types
    expected: int  # units that should send statistics
    incomplete: int  # counted units with errors (count: all only)
    rows: list[StatRow]  # every submitted unit, counted or not
    left_out: list[LeftOut]

    @property
    def coverage(self) -> float:
        return self.units / self.expected if self.expected else 0.0


def failed_fields(campaign: Campaign, report: ValidationReport) -> frozenset[str]:
    """Statistics fields named by an error of the report (by the column label its issues carry)."""
    spec = campaign.form_spec.table(STATISTICS)
    sheets = {spec.title_zh, spec.title_en, None}
    by_label = {f.label(campaign.language): f.key for f in spec.fields}
    return frozenset(by_label[i.column] for i in report.errors if i.column in by_label and i.sheet in sheets)


def _review_counts(campaign: Campaign, s: UnitStatus) -> bool:
    """Returned versions never count; with `review: required` only approved (已通过) ones do."""
    if s.review == "returned":
        return False
    return campaign.review != "required" or s.review == "approved"


def _reason(campaign: Campaign, s: UnitStatus) -> str:
    lang = campaign.language
    if s.review == "returned":
        return t(lang, f"已退回修改，未计入合计（{s.review_comment}）",
                 f"returned for correction, not counted ({s.review_comment})")  # fmt: skip
    if s.done and s.review != "approved" and campaign.review == "required":
        return t(lang, "尚未审核通过，未计入合计", "not approved yet, not counted")
    if s.state == "missing":
        return t(lang, "未报送", "not received")
    if s.state == "draft":
        return t(lang, "已填写，尚未提交", "filled in but not submitted")
    assert s.version is not None
    errors = s.version.report.errors
    if not errors:
        return t(lang, "统计表为空", "the statistics table is empty")
    first = errors[0]
    loc = " ".join(x for x in (first.sheet, first.cell) if x)
    said = first.message.rstrip("。.")
    n = len(errors)
    return t(
        lang,
        f"有{n}处错误，未计入合计（{loc + '：' if loc else ''}{said}{f'，等{n}处' if n > 1 else ''}）；"
        "请单位修改后重新报送",
        f"{n} error(s), not counted ({loc + ': ' if loc else ''}{said}{f'; {n - 1} more' if n > 1 else ''}); "
        "the unit should correct and resend",
    )


def statistics_totals(campaign: Campaign, statuses: list[UnitStatus]) -> Totals:
    """Totals of the statistics table over the units the campaign's `consolidate.count` counts."""
    mode = campaign.consolidate.count
    spec = campaign.form_spec.table(STATISTICS)
    keys = [f.key for f in spec.fields if f.summable]
    sums: dict[str, int | float] = dict.fromkeys(keys, 0)
    with_stats = {d.key for d in campaign.deliverables if STATISTICS in d.tables}
    rows: list[StatRow] = []
    left_out: list[LeftOut] = []
    types: Counter[str] = Counter()
    expected = incomplete = 0
    for s in statuses:
        if s.deliverable.key not in with_stats:
            continue
        expected += 1
        records = s.version.tables.get(STATISTICS) if s.done and s.version is not None else None
        if not records or s.version is None:
            left_out.append(LeftOut(s.unit, s.state, _reason(campaign, s)))
            continue
        failed = failed_fields(campaign, s.version.report)
        counted = (s.state == "valid" or mode == "all") and _review_counts(campaign, s)
        rows.append(StatRow(s.unit, s.state, s.late, records[0], failed, counted))
        if not counted:
            left_out.append(LeftOut(s.unit, s.state, _reason(campaign, s)))
            continue
        types[s.unit.type] += 1
        if s.state == "errors":
            incomplete += 1
        for k in keys:
            x = records[0].get(k)
            if k not in failed and isinstance(x, int | float) and not isinstance(x, bool):
                sums[k] += x
    order = [u.name for u in campaign.unit_types]
    by_type = {name: types[name] for name in order if types[name]}
    by_type |= {name: n for name, n in sorted(types.items()) if name not in by_type}
    return Totals(
        mode=mode,
        units=sum(types.values()),
        sums=sums,
        by_type=by_type,
        expected=expected,
        incomplete=incomplete,
        rows=rows,
        left_out=left_out,
    )


def counted_label(campaign: Campaign, totals: Totals) -> str:
    """What the totals are of, said wherever they are shown ("已通过校验的N个单位合计")."""
    lang = campaign.language
    if campaign.review == "required":
        return t(lang, f"已审核通过的{totals.units}个单位合计", f"total of the {totals.units} approved units")
    if totals.mode == "valid":
        return t(lang, f"已通过校验的{totals.units}个单位合计", f"total of the {totals.units} valid units")
    if totals.incomplete:
        return t(
            lang,
            f"已报送的{totals.units}个单位合计（其中{totals.incomplete}个单位有错误，出错的数据未计入）",
            f"total of the {totals.units} units that sent ({totals.incomplete} with errors: "
            "their failed cells are not counted)",
        )
    return t(lang, f"已报送的{totals.units}个单位合计", f"total of the {totals.units} units that sent")
