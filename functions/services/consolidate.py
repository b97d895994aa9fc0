"""Build the master workbook organisers watch, from the store (the source of truth).

The file is written by the streaming writer and replaced atomically: a reader never sees a half-written
master, and a killed run leaves the previous one intact.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.adapters.xlsx_stream import Cell, Column, StreamingWorkbook, Style, fit_width
from functions.ports import Store
from functions.services.i18n import full_date, state_label, t
from functions.services.status import (
    UnitStatus,
    count_by_deliverable,
    rate_by,
    unit_statuses,
)
from functions.services.summary_text import statistics_totals, summary_paragraph
from schemas.campaign import Campaign
from schemas.formspec import FieldSpec, Language, TableSpec
from schemas.roster import Roster, Unit

SHEETS: dict[str, tuple[str, str]] = {
    "overview": ("总览", "Overview"),
    "status": ("报送情况", "Status"),
    "activities": ("活动安排", "Activities"),
    "statistics": ("统计", "Statistics"),
    "issues": ("问题清单", "Issues"),
    "reminders": ("催报记录", "Reminders"),
}

_STATE_STYLE = {
    "valid": Style.STATE_VALID,
    "errors": Style.STATE_ERRORS,
    "draft": Style.STATE_DRAFT,
    "missing": Style.STATE_MISSING,
}


@dataclass(frozen=True)
class MasterResult:
    path: Path
    units: int
    activity_rows: int
    issue_rows: int


def sheet_name(lang: Language, key: str) -> str:
    zh, en = SHEETS[key]
    return t(lang, zh, en)


def _unit_header(lang: Language) -> list[str]:
    return [t(lang, "单位编码", "Unit code"), t(lang, "单位名称", "Unit"), t(lang, "单位类型", "Type"),
            t(lang, "所属镇街", "Area")]  # fmt: skip


def _unit_cells(u: Unit) -> list[Any]:
    return [u.code, u.name, u.type, u.area]


def _field_value(f: FieldSpec, value: Any) -> Any:
    if isinstance(value, list):
        return "、".join(str(x) for x in value)
    if f.type in ("integer", "number") and isinstance(value, int | float):
        return value
    if isinstance(value, dt.date):
        return value
    return value


def _widths(headers: Sequence[str], fields: Sequence[FieldSpec] = ()) -> list[Column]:
    widths = {f.label_zh: f.width for f in fields} | {f.label_en: f.width for f in fields}
    return [Column(width=widths.get(h) or fit_width([h], minimum=8)) for h in headers]


def _local(ts: dt.datetime | None, tz: dt.tzinfo) -> dt.datetime | None:
    # Excel has no time zones: show the campaign's local time.
    return ts.astimezone(tz).replace(tzinfo=None) if ts else None


def build_master(
    campaign: Campaign,
    roster: Roster,
    store: Store,
    path: Path,
    *,
    now: dt.datetime,
    max_rows_per_sheet: int = 1_048_576,
) -> MasterResult:
    lang = campaign.language
    statuses = unit_statuses(campaign, roster, store)
    path.parent.mkdir(parents=True, exist_ok=True)
    with StreamingWorkbook(
        path, title=f"{campaign.title} {t(lang, '汇总表', 'master')}", max_rows_per_sheet=max_rows_per_sheet
    ) as wb:
        _overview(wb, campaign, statuses, now)
        _status_sheet(wb, campaign, roster, statuses)
        acts = _activities_sheet(wb, campaign, statuses)
        _statistics_sheet(wb, campaign, roster, statuses)
        issues = _issues_sheet(wb, campaign, statuses)
        _reminders_sheet(wb, campaign, roster, store)
    return MasterResult(path=path, units=len(roster.units), activity_rows=acts, issue_rows=issues)


def _overview(
    wb: StreamingWorkbook, campaign: Campaign, statuses: list[UnitStatus], now: dt.datetime
) -> None:
    lang = campaign.language
    tz = campaign.tz
    counts = count_by_deliverable(campaign, statuses)
    with wb.sheet(
        sheet_name(lang, "overview"),
        columns=[Column(width=w) for w in (30, 14, 10, 10, 10, 10, 14, 10, 10, 10, 10)],
        freeze_header=False,
        autofilter=False,
    ) as ws:
        ws.append([Cell(campaign.title + t(lang, " 报送汇总", " — reporting overview"), Style.TITLE)])
        ws.append([t(lang, "数据截至", "As of"), Cell(_local(now, tz), Style.DATETIME)])
        ws.append(
            [
                t(lang, "活动周", "Week"),
                f"{full_date(lang, campaign.week.start)} — {full_date(lang, campaign.week.end)}",
            ]
        )
        ws.append([])
        head = [t(lang, "材料", "Deliverable"), t(lang, "截止日期", "Due"), t(lang, "应报", "Expected"),
                t(lang, "已报", "Submitted"), t(lang, "通过", "Valid"), t(lang, "有错误", "With errors"),
                t(lang, "已填写未提交", "Drafts"), t(lang, "未报", "Missing"), t(lang, "逾期", "Late"),
                t(lang, "报送率", "Reporting rate"), t(lang, "按时率", "On-time rate")]  # fmt: skip
        ws.append([Cell(h, Style.HEADER) for h in head])
        for c in counts:
            ws.append([
                c.deliverable.title(lang), Cell(c.deliverable.due, Style.DATE), c.expected, c.submitted, c.valid,
                c.errors, c.drafts, c.missing, c.late, Cell(c.reporting_rate, Style.PERCENT),
                Cell(c.on_time_rate, Style.PERCENT),
            ])  # fmt: skip
        for attr, label in (
            ("area", t(lang, "所属镇街", "Area")),
            ("type", t(lang, "单位类型", "Unit type")),
        ):
            ws.append([])
            groups = rate_by(statuses, attr)
            head = [label]
            for d in campaign.deliverables:
                head += [
                    f"{d.title(lang)} {t(lang, '已报/应报', 'sent/expected')}",
                    t(lang, "报送率", "rate"),
                ]
            ws.append([Cell(h, Style.HEADER) for h in head])
            first = ws.row_count + 1
            for group in sorted(groups):
                row: list[Any] = [group]
                for d in campaign.deliverables:
                    sent, expected = groups[group].get(d.key, (0, 0))
                    row += [f"{sent}/{expected}", Cell(sent / expected if expected else None, Style.PERCENT)]
                ws.append(row)
            last = ws.row_count
            if last >= first:
                series = [(campaign.deliverables[i].title(lang), first, last, 3 + 2 * i)
                          for i in range(len(campaign.deliverables))]  # fmt: skip
                ws.add_bar_chart(
                    t(lang, f"按{label}的报送率", f"Reporting rate by {label.lower()}"),
                    categories=(first, last, 1),
                    series=series,
                    anchor=f"M{first - 1}",
                    percent_axis=True,
                )
        ws.append([])
        submitted_versions = [s.version for s in statuses if s.done and s.version is not None]
        totals = statistics_totals(campaign, submitted_versions)
        ws.append([Cell(t(lang, "主要统计合计", "Key statistics (totals)"), Style.HEADER),
                   Cell(t(lang, "合计", "Total"), Style.HEADER)])  # fmt: skip
        ws.append([t(lang, "计入单位数", "Units counted"), totals.units])
        spec = campaign.form_spec.table("statistics")
        for f in spec.fields:
            if f.summable:
                ws.append([f.label(lang), totals.sums.get(f.key, 0)])
        ws.append([])
        ws.append(
            [
                Cell(
                    t(lang, "工作总结参考文字（可直接复制）", "Paragraph for the summary report"),
                    Style.HEADER,
                )
            ]
        )
        ws.append([Cell(summary_paragraph(campaign, totals), Style.WRAP)])


def _status_sheet(
    wb: StreamingWorkbook, campaign: Campaign, roster: Roster, statuses: list[UnitStatus]
) -> None:
    lang = campaign.language
    tz = campaign.tz
    by_unit: dict[str, dict[str, UnitStatus]] = defaultdict(dict)
    for s in statuses:
        by_unit[s.unit.code][s.deliverable.key] = s
    header = _unit_header(lang)
    for d in campaign.deliverables:
        title = d.title(lang)
        header += [f"{title} {t(lang, '状态', 'state')}", t(lang, "报送时间", "received"), t(lang, "版本", "version"),
                   t(lang, "错误数", "errors"), t(lang, "提醒数", "warnings")]  # fmt: skip
    with wb.sheet(sheet_name(lang, "status"), header=header, columns=_widths(header)) as ws:
        for u in roster.units:
            row: list[Any] = _unit_cells(u)
            for d in campaign.deliverables:
                s = by_unit[u.code].get(d.key)
                if s is None:
                    row += [Cell(t(lang, "不适用", "n/a"), Style.NOTE), None, None, None, None]
                    continue
                v = s.version
                row += [
                    Cell(state_label(lang, s.state, s.late), _STATE_STYLE[s.state]),
                    Cell(_local(v.received_at, tz), Style.DATETIME) if v else None,
                    v.seq if v else None,
                    v.error_count if v else None,
                    v.warning_count if v else None,
                ]
            ws.append(row)


def _table_rows_sheet(
    wb: StreamingWorkbook,
    name: str,
    lang: Language,
    table: TableSpec,
    rows: Iterable[tuple[Unit, dict[str, Any]]],
) -> int:
    header = _unit_header(lang) + [f.label(lang) for f in table.fields]
    n = 0
    with wb.sheet(name, header=header, columns=_widths(header, table.fields)) as ws:
        for unit, record in rows:
            ws.append(_unit_cells(unit) + [_field_value(f, record.get(f.key)) for f in table.fields])
            n += 1
    return n


def _activities_sheet(wb: StreamingWorkbook, campaign: Campaign, statuses: list[UnitStatus]) -> int:
    lang = campaign.language
    if not campaign.form_spec.has_table("activities"):
        return 0
    table = campaign.form_spec.table("activities")

    def rows() -> Iterable[tuple[Unit, dict[str, Any]]]:
        for s in statuses:
            if s.done and s.version is not None:
                for record in s.version.tables.get("activities", []):
                    yield s.unit, record

    return _table_rows_sheet(wb, sheet_name(lang, "activities"), lang, table, rows())


def _statistics_sheet(
    wb: StreamingWorkbook, campaign: Campaign, roster: Roster, statuses: list[UnitStatus]
) -> None:
    lang = campaign.language
    table = campaign.form_spec.table("statistics")
    summable = [f for f in table.fields if f.summable]
    header = _unit_header(lang) + [f.label(lang) for f in table.fields]
    records: list[tuple[Unit, dict[str, Any]]] = []
    for s in statuses:
        if s.done and s.version is not None and s.version.tables.get("statistics"):
            records.append((s.unit, s.version.tables["statistics"][0]))
    with wb.sheet(sheet_name(lang, "statistics"), header=header, columns=_widths(header, table.fields)) as ws:
        for unit, record in records:
            ws.append(_unit_cells(unit) + [_field_value(f, record.get(f.key)) for f in table.fields])
        for attr, label in (("type", t(lang, "小计（按单位类型）", "Subtotal by type")),
                            ("area", t(lang, "小计（按所属镇街）", "Subtotal by area"))):  # fmt: skip
            groups: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
            units_in: dict[str, int] = defaultdict(int)
            for unit, record in records:
                g = getattr(unit, attr) or "—"
                units_in[g] += 1
                for f in summable:
                    x = record.get(f.key)
                    if isinstance(x, int | float):
                        groups[g][f.key] += x
            for g in sorted(groups):
                cells: list[Any] = [Cell(label, Style.TOTAL), Cell(g, Style.TOTAL), Cell(f"{units_in[g]}", Style.TOTAL),
                                    Cell("", Style.TOTAL)]  # fmt: skip
                for f in table.fields:
                    cells.append(
                        Cell(_num(groups[g][f.key]), Style.TOTAL) if f.summable else Cell("", Style.TOTAL)
                    )
                ws.append(cells)
        total: dict[str, float] = defaultdict(float)
        for _, record in records:
            for f in summable:
                x = record.get(f.key)
                if isinstance(x, int | float):
                    total[f.key] += x
        cells = [Cell(t(lang, "合计", "Total"), Style.TOTAL), Cell(f"{len(records)}", Style.TOTAL), Cell("", Style.TOTAL),
                 Cell("", Style.TOTAL)]  # fmt: skip
        for f in table.fields:
            cells.append(Cell(_num(total[f.key]), Style.TOTAL) if f.summable else Cell("", Style.TOTAL))
        ws.append(cells)


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _issues_sheet(wb: StreamingWorkbook, campaign: Campaign, statuses: list[UnitStatus]) -> int:
    lang = campaign.language
    header = _unit_header(lang)[:2] + [t(lang, "材料", "Deliverable"), t(lang, "工作表", "Sheet"),
                                       t(lang, "单元格", "Cell"), t(lang, "代码", "Code"), t(lang, "级别", "Severity"),
                                       t(lang, "问题说明", "Message")]  # fmt: skip
    columns = [Column(width=w) for w in (10, 28, 22, 18, 8, 24, 8, 90)]
    n = 0
    with wb.sheet(sheet_name(lang, "issues"), header=header, columns=columns) as ws:
        for s in statuses:
            if s.version is None:
                continue
            for issue in s.version.report.issues:
                sev = t(lang, "错误", "error") if issue.severity == "error" else t(lang, "提醒", "warning")
                style = Style.STATE_ERRORS if issue.severity == "error" else Style.STATE_DRAFT
                ws.append([s.unit.code, s.unit.name, s.deliverable.title(lang), issue.sheet, issue.cell, issue.code,
                           Cell(sev, style), issue.message])  # fmt: skip
                n += 1
    return n


def _reminders_sheet(wb: StreamingWorkbook, campaign: Campaign, roster: Roster, store: Store) -> None:
    lang = campaign.language
    header = [t(lang, "时间", "Time"), t(lang, "单位编码", "Unit code"), t(lang, "单位名称", "Unit"),
              t(lang, "材料", "Deliverable"), t(lang, "步骤", "Step"), t(lang, "邮箱", "Address"),
              t(lang, "结果", "Result")]  # fmt: skip
    columns = [Column(width=w) for w in (18, 10, 28, 22, 14, 36, 30)]
    names = {d.key: d.title(lang) for d in campaign.deliverables}
    with wb.sheet(sheet_name(lang, "reminders"), header=header, columns=columns) as ws:
        for claim in store.claims("remind/"):
            p = claim.payload
            unit = roster.get(p.get("unit", ""))
            ws.append([
                Cell(_local(claim.claimed_at, campaign.tz), Style.DATETIME), p.get("unit"),
                unit.name if unit else p.get("unit_name"), names.get(p.get("deliverable", ""), p.get("deliverable")),
                p.get("step_label"), p.get("address"), p.get("result"),
            ])  # fmt: skip
