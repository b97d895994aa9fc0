"""Build the master workbook organisers watch, from the store (the source of truth).

The file is written by the writer the caller is given (the streaming xlsx writer) and replaced atomically: a reader never sees a half-written
master, and a killed run leaves the previous one intact.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from functions.ports import MasterWriter, Store
from functions.services.intake.attachments import EVIDENCE_META
from functions.services.intake.unread import unread_files, unread_note
from functions.services.master.evidence import attachments_sheet
from functions.services.master.review_sheets import (
    overview_rows,
    review_log_sheet,
    review_on,
    status_cells,
    status_header,
)
from functions.services.master.summary_text import summary_paragraph
from functions.services.master.totals import StatRow, Totals, counted_label, statistics_totals
from functions.services.reminders.stuck import latest_sent_steps
from functions.services.reminders.stuck import result_text as reminder_result_text
from functions.services.status.unit_states import (
    UnitStatus,
    count_by_deliverable,
    overdue_missing,
    rate_by,
    unit_statuses,
)
from functions.sheet_model import Cell, Chart, Column, MasterSheet, Style, fit_width
from functions.validate.codes import code_kind
from schemas.campaign import Campaign
from schemas.formspec import FieldSpec
from schemas.i18n import Language, full_date, state_label, t
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


def _unit_header(campaign: Campaign) -> list[str]:
    # The area column in the notice's words (所属镇街, 所属区…): campaign.area_label.
    lang = campaign.language
    return [t(lang, "单位编码", "Unit code"), t(lang, "单位名称", "Unit"), t(lang, "单位类型", "Type"),
            campaign.area_label(lang)]  # fmt: skip


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


def master_sheets(
    campaign: Campaign,
    roster: Roster,
    store: Store,
    *,
    now: dt.datetime,
    statuses: list[UnitStatus] | None = None,
) -> list[MasterSheet]:
    """The six tabs, in order. Big tabs yield their rows lazily so writers can stream them."""
    statuses = statuses if statuses is not None else unit_statuses(campaign, roster, store)
    # One computation for 总览, 统计 and the paragraph: the three can never disagree.
    totals = statistics_totals(campaign, statuses)
    reviewing = review_on(campaign, store)
    sheets = [
        _overview(campaign, statuses, now, totals, reviewing=reviewing),
        _status_sheet(campaign, roster, statuses, reviewing=reviewing),
        _activities_sheet(campaign, statuses, store),
        _statistics_sheet(campaign, totals),
        _issues_sheet(campaign, statuses, store, roster),
        _reminders_sheet(campaign, roster, store, now),
    ]
    if reviewing:
        sheets.append(review_log_sheet(campaign, roster, store))
    if any(d.attachments for d in campaign.deliverables) and store.get_meta(EVIDENCE_META) is not None:
        # 附件 (issue 12 §4): once a file has been stored, so every other master keeps its usual tabs.
        sheets.append(attachments_sheet(campaign, roster, store))
    return sheets


def build_master(
    campaign: Campaign,
    roster: Roster,
    store: Store,
    path: Path,
    *,
    now: dt.datetime,
    write: MasterWriter,
    max_rows_per_sheet: int = 1_048_576,
) -> MasterResult:
    sheets = master_sheets(campaign, roster, store, now=now)
    title = f"{campaign.title} {t(campaign.language, '汇总表', 'master')}"
    counts = write(sheets, path, title=title, max_rows_per_sheet=max_rows_per_sheet)
    return MasterResult(
        path=path, units=len(roster.units), activity_rows=counts["activities"], issue_rows=counts["issues"]
    )


_OVERVIEW_WIDTHS = (30, 16, 10, 10, 10, 10, 14, 10, 10, 10, 10, 10)
_OVERVIEW_LAST_COLUMN = "L"  # the twelfth column
_CHART_ROWS = 18  # an 8 cm chart is about 16 rows of 15 pt; two spare rows between charts
# Column A, and column F where A:E (76 character units, about 14 cm) ends: two 13.5 cm charts side by side
# fill a landscape A4 page's printable width.
_CHART_COLUMNS = ("A", "F")


def _overview(
    campaign: Campaign,
    statuses: list[UnitStatus],
    now: dt.datetime,
    totals: Totals,
    *,
    reviewing: bool = False,
) -> MasterSheet:
    lang = campaign.language
    tz = campaign.tz
    counts = count_by_deliverable(campaign, statuses)
    rows: list[list[Any]] = []
    charts: list[Chart] = []
    # The notice's theme joins the title in the same cell: no row moves for the sheets that read them.
    theme = t(lang, f"（主题：{campaign.theme}）", f" ({campaign.theme})") if campaign.theme else ""
    rows.append([Cell(campaign.title + theme + t(lang, " 报送汇总", " — reporting overview"), Style.TITLE)])
    rows.append([t(lang, "数据截至", "As of"), Cell(_local(now, tz), Style.DATETIME)])
    rows.append(
        [
            t(lang, "活动周", "Week"),
            f"{full_date(lang, campaign.week.start)} — {full_date(lang, campaign.week.end)}",
        ]
    )
    rows.append([])
    head = [t(lang, "材料", "Deliverable"), t(lang, "截止日期", "Due"), t(lang, "应报", "Expected"),
            t(lang, "已报", "Submitted"), t(lang, "通过", "Valid"), t(lang, "有错误", "With errors"),
            t(lang, "已填写未提交", "Drafts"), t(lang, "未报", "Missing"),
            t(lang, "逾期已报", "Late, sent"), t(lang, "逾期未报", "Overdue, not sent"),
            t(lang, "报送率", "Reporting rate"), t(lang, "按时率", "On-time rate")]  # fmt: skip
    rows.append([Cell(h, Style.HEADER) for h in head])
    # 逾期已报 = sent after the due time; 逾期未报 = still not sent (or only a draft) once it has passed.
    overdue = overdue_missing(campaign, statuses, now)
    for c in counts:
        rows.append([
            c.deliverable.title(lang), Cell(c.deliverable.due, Style.DATE), c.expected, c.submitted, c.valid,
            c.errors, c.drafts, c.missing, c.late, overdue[c.deliverable.key], Cell(c.reporting_rate, Style.PERCENT),
            Cell(c.on_time_rate, Style.PERCENT),
        ])  # fmt: skip
    if reviewing:
        rows += overview_rows(campaign, statuses)
    for attr, label in (("area", campaign.area_label(lang)), ("type", t(lang, "单位类型", "Unit type"))):
        rows.append([])
        groups = rate_by(statuses, attr)
        head = [label]
        for d in campaign.deliverables:
            head += [f"{d.title(lang)} {t(lang, '已报/应报', 'sent/expected')}", t(lang, "报送率", "rate")]
        rows.append([Cell(h, Style.HEADER) for h in head])
        first = len(rows) + 1
        for group in sorted(groups):
            row: list[Any] = [group]
            for d in campaign.deliverables:
                sent, expected = groups[group].get(d.key, (0, 0))
                row += [f"{sent}/{expected}", Cell(sent / expected if expected else None, Style.PERCENT)]
            rows.append(row)
        last = len(rows)
        if last >= first:
            series = [(campaign.deliverables[i].title(lang), first, last, 3 + 2 * i)
                      for i in range(len(campaign.deliverables))]  # fmt: skip
            charts.append(
                Chart(
                    t(lang, f"按{label}的报送率", f"Reporting rate by {label.lower()}"),
                    categories=(first, last, 1),
                    series=series,
                    anchor=f"M{first - 1}",
                    percent_axis=True,
                )
            )
    rows.append([])
    rows.append([Cell(t(lang, "主要统计合计", "Key statistics (totals)"), Style.HEADER),
                 Cell(t(lang, "合计", "Total"), Style.HEADER)])  # fmt: skip
    rows.append([Cell(counted_label(campaign, totals), Style.NOTE)])
    rows.append([t(lang, "计入单位数", "Units counted"), totals.units])
    if totals.left_out:
        rows.append([
            t(lang, "未计入单位数", "Units not counted"), len(totals.left_out),
            Cell(t(lang, "名单及原因见“统计”表", "who and why: see the Statistics sheet"), Style.NOTE),
        ])  # fmt: skip
    for f in campaign.form_spec.table("statistics").fields:
        if f.summable:
            rows.append([f.label(lang), totals.sums.get(f.key, 0)])
    rows.append([])
    rows.append(
        [Cell(t(lang, "工作总结参考文字（可直接复制）", "Paragraph for the summary report"), Style.HEADER)]
    )
    rows.append([Cell(summary_paragraph(campaign, totals), Style.WRAP)])
    # The paragraph spans the printed width; the charts go below it side by side, so they never cover a
    # table or each other and the sheet prints one landscape page wide.
    paragraph = f"A{len(rows)}:{_OVERVIEW_LAST_COLUMN}{len(rows)}"
    top = len(rows) + 2
    charts = [
        dataclasses.replace(c, anchor=f"{_CHART_COLUMNS[i % 2]}{top + (i // 2) * _CHART_ROWS}", width_cm=13.5)
        for i, c in enumerate(charts)
    ]
    return MasterSheet(
        key="overview",
        name=sheet_name(lang, "overview"),
        header=None,
        columns=[Column(width=w) for w in _OVERVIEW_WIDTHS],
        rows=rows,
        charts=charts,
        merges=[paragraph],
    )


def _status_sheet(
    campaign: Campaign, roster: Roster, statuses: list[UnitStatus], *, reviewing: bool = False
) -> MasterSheet:
    lang = campaign.language
    tz = campaign.tz
    by_unit: dict[str, dict[str, UnitStatus]] = defaultdict(dict)
    for s in statuses:
        by_unit[s.unit.code][s.deliverable.key] = s
    header = _unit_header(campaign)
    for d in campaign.deliverables:
        title = d.title(lang)
        header += [f"{title} {t(lang, '状态', 'state')}", t(lang, "报送时间", "received"), t(lang, "版本", "version"),
                   t(lang, "错误数", "errors"), t(lang, "提醒数", "warnings")]  # fmt: skip
        if reviewing:
            header += status_header(lang)

    def rows() -> Iterator[list[Any]]:
        for u in roster.units:
            row: list[Any] = _unit_cells(u)
            for d in campaign.deliverables:
                s = by_unit[u.code].get(d.key)
                if s is None:
                    row += [Cell(t(lang, "不适用", "n/a"), Style.NOTE), None, None, None, None]
                    row += status_cells(lang, None) if reviewing else []
                    continue
                v = s.version
                row += [
                    Cell(state_label(lang, s.state, s.late), _STATE_STYLE[s.state]),
                    Cell(_local(v.received_at, tz), Style.DATETIME) if v else None,
                    v.seq if v else None,
                    v.error_count if v else None,
                    v.warning_count if v else None,
                ]
                row += status_cells(lang, s) if reviewing else []
            yield row

    return MasterSheet("status", sheet_name(lang, "status"), header, _widths(header), rows())


def _activities_sheet(campaign: Campaign, statuses: list[UnitStatus], store: Store) -> MasterSheet:
    lang = campaign.language
    table = campaign.form_spec.table("activities")
    with_rows = {d.key for d in campaign.deliverables if table.key in d.tables}
    header = _unit_header(campaign) + [f.label(lang) for f in table.fields]
    keys = [f.key for f in table.fields]
    joined = "、".join

    def rows() -> Iterator[list[Any]]:
        wanted = [
            (s, s.version)
            for s in statuses
            if s.done and s.version is not None and s.deliverable.key in with_rows
        ]
        # One read of every unit's full version, streamed in the statuses' order (not one query per
        # unit): one unit's rows at a time in memory, however many units and rows.
        stream = store.iter_versions([(v.unit, v.deliverable, v.seq) for _, v in wanted])
        ahead = next(stream, None)
        for s, version in wanted:
            full = version  # a version the store no longer has keeps what the statuses carried
            if ahead is not None and ahead.id == version.id:
                full, ahead = ahead, next(stream, None)
            unit_cells = _unit_cells(s.unit)
            # _field_value inlined: this is the master's one loop over every activity cell (a million at
            # 2,000 units × 40 activities × 13 fields), and for every type but a list it is the value.
            for record in full.tables.get(table.key, []):
                yield unit_cells + [
                    joined(map(str, value)) if isinstance(value, list) else value
                    for value in map(record.get, keys)
                ]

    return MasterSheet(
        "activities", sheet_name(lang, "activities"), header, _widths(header, table.fields), rows()
    )


def _statistics_sheet(campaign: Campaign, totals: Totals) -> MasterSheet:
    """Every submitted unit's statistics with its 状态, subtotals and the 合计 row over the units counted,
    then the units left out and why."""
    lang = campaign.language
    table = campaign.form_spec.table("statistics")
    summable = [f for f in table.fields if f.summable]
    header = _unit_header(campaign) + [t(lang, "状态", "State")] + [f.label(lang) for f in table.fields]
    counted = [r for r in totals.rows if r.counted]
    not_counted = t(lang, "，未计入合计", ", not counted")
    incomplete = t(lang, "，部分计入（出错的数据未计入）", ", partly counted (failed cells left out)")
    failed_cell = t(lang, "有误，未计入", "failed, not counted")

    def state_cell(r: StatRow) -> Cell:
        text = state_label(lang, r.state, r.late)
        if r.state == "errors":
            text += incomplete if r.counted else not_counted
        return Cell(text, _STATE_STYLE[r.state])

    def value_cell(r: StatRow, f: FieldSpec) -> Any:
        # A cell that failed shows it: an empty cell next to a total would read as zero.
        if f.key in r.failed:
            return Cell(failed_cell, Style.STATE_ERRORS)
        return _field_value(f, r.record.get(f.key))

    def total_row(first: str, second: str, third: str, sums: dict[str, float]) -> list[Any]:
        cells: list[Any] = [Cell(x, Style.TOTAL) for x in (first, second, third, "", "")]
        for f in table.fields:
            cells.append(Cell(_num(sums[f.key]), Style.TOTAL) if f.summable else Cell("", Style.TOTAL))
        return cells

    def add(sums: dict[str, float], r: StatRow) -> None:
        for f in summable:
            x = r.record.get(f.key)
            if f.key not in r.failed and isinstance(x, int | float) and not isinstance(x, bool):
                sums[f.key] += x

    def rows() -> Iterator[list[Any]]:
        for r in totals.rows:
            yield _unit_cells(r.unit) + [state_cell(r)] + [value_cell(r, f) for f in table.fields]
        for attr, label in (("type", t(lang, "小计（按单位类型）", "Subtotal by type")),
                            ("area", t(lang, f"小计（按{campaign.area_label_zh}）",
                                       f"Subtotal by {campaign.area_label_en.lower()}"))):  # fmt: skip
            groups: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
            units_in: dict[str, int] = defaultdict(int)
            for r in counted:
                g = getattr(r.unit, attr) or "—"
                units_in[g] += 1
                add(groups[g], r)
            for g in sorted(groups):
                yield total_row(label, g, t(lang, f"{units_in[g]}个单位", f"{units_in[g]} units"), groups[g])
        total: dict[str, float] = defaultdict(float)
        for r in counted:
            add(total, r)
        yield total_row(t(lang, "合计", "Total"), "", counted_label(campaign, totals), total)
        if totals.left_out:
            # No blank row before: a reader of the sheet (openpyxl read-only) gets an empty tuple for one.
            yield [Cell(t(lang, f"未计入合计的单位（{len(totals.left_out)}个）",
                          f"Units not counted ({len(totals.left_out)})"), Style.HEADER)]  # fmt: skip
            for x in totals.left_out:
                yield _unit_cells(x.unit) + [
                    Cell(state_label(lang, x.state), _STATE_STYLE[x.state]),
                    x.reason,
                ]

    return MasterSheet(
        "statistics", sheet_name(lang, "statistics"), header, _widths(header, table.fields), rows()
    )


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _issues_sheet(
    campaign: Campaign, statuses: list[UnitStatus], store: Store, roster: Roster
) -> MasterSheet:
    lang = campaign.language
    header = _unit_header(campaign)[:2] + [t(lang, "材料", "Deliverable"), t(lang, "工作表", "Sheet"),
                                       t(lang, "单元格", "Cell"), t(lang, "代码", "Code"),
                                       t(lang, "问题类型", "Kind of problem"), t(lang, "级别", "Severity"),
                                       t(lang, "问题说明", "Message")]  # fmt: skip
    columns = [Column(width=w) for w in (10, 28, 22, 18, 8, 22, 30, 8, 90)]
    titles = {d.key: d.title(lang) for d in campaign.deliverables}

    def rows() -> Iterator[list[Any]]:
        for s in statuses:
            # A held version (its identity disagrees with the roster) is listed with why it is not used.
            for v, prefix in ((s.version, ""), (s.held, _held_prefix(lang, s))):
                if v is None:
                    continue
                for issue in v.report.issues:
                    sev = (
                        t(lang, "错误", "error") if issue.severity == "error" else t(lang, "提醒", "warning")
                    )
                    style = Style.STATE_ERRORS if issue.severity == "error" else Style.STATE_DRAFT
                    # A waived error stays listed, saying so (the organiser decided, the check did not).
                    mark = t(lang, "【已豁免】", "[waived] ") if v is s.version and issue in s.waived else ""
                    yield [s.unit.code, s.unit.name, s.deliverable.title(lang), issue.sheet, issue.cell, issue.code,
                           code_kind(issue.code, lang), Cell(sev, style), prefix + mark + issue.message]  # fmt: skip
        records = unread_files(store)
        if records:
            # The files nobody could read or tie to a unit: a section of their own, so none is unseen.
            yield [
                Cell(
                    t(lang, "未能读取或未能识别单位的文件", "Files not read or not tied to a unit"),
                    Style.TOTAL,
                )
            ]
            for r in records:
                unit = roster.get(r.unit) if r.unit else None
                yield [r.unit or "", unit.name if unit else t(lang, "（未识别）", "(unknown)"),
                       titles.get(r.deliverable or "", ""), r.name, None, ", ".join(r.codes),
                       t(lang, "、", ", ").join(code_kind(c, lang) for c in r.codes),
                       Cell(t(lang, "错误", "error"), Style.STATE_ERRORS), unread_note(lang, r)]  # fmt: skip

    return MasterSheet("issues", sheet_name(lang, "issues"), header, columns, rows())


def _held_prefix(lang: Language, s: UnitStatus) -> str:
    if s.held is None:
        return ""
    kept = s.version.seq if s.version else "?"
    return t(
        lang,
        f"【第{s.held.seq}版未采用，汇总仍用第{kept}版，待组织方确认】",
        f"[version {s.held.seq} not used; the master keeps version {kept} until the organiser decides] ",
    )


def _reminders_sheet(campaign: Campaign, roster: Roster, store: Store, now: dt.datetime) -> MasterSheet:
    lang = campaign.language
    header = [t(lang, "时间", "Time"), t(lang, "单位编码", "Unit code"), t(lang, "单位名称", "Unit"),
              t(lang, "材料", "Deliverable"), t(lang, "步骤", "Step"), t(lang, "邮箱", "Address"),
              t(lang, "结果", "Result")]  # fmt: skip
    columns = [Column(width=w) for w in (18, 10, 28, 22, 14, 36, 30)]
    names = {d.key: d.title(lang) for d in campaign.deliverables}

    def rows() -> Iterator[list[Any]]:
        claims = store.claims("remind/")
        sent_steps = latest_sent_steps(claims)  # interrupted claims since superseded by a later one
        for claim in claims:
            p = claim.payload
            unit = roster.get(p.get("unit", ""))
            yield [
                Cell(_local(claim.claimed_at, campaign.tz), Style.DATETIME), p.get("unit"),
                unit.name if unit else p.get("unit_name"), names.get(p.get("deliverable", ""), p.get("deliverable")),
                p.get("step_label"), p.get("address"), reminder_result_text(campaign, claim, now, sent_steps),
            ]  # fmt: skip

    return MasterSheet("reminders", sheet_name(lang, "reminders"), header, columns, rows())
