"""Validate one submission: cells, rows, tables, cross-table and unit-type rules, peer outliers.

Input is a RawSubmission from any channel; output is the typed submission (None when it cannot be
stored: unknown unit or unreadable file) and the report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from functions.validate import codes
from functions.validate.cells import Place, place_of, read_cell
from functions.validate.codes import IssueKind
from functions.validate.identity import identity_issues
from functions.validate.messages import make_issue
from functions.validate.peer_median import PeerFigures, PeerMedian, PeerSource, peer_median
from schemas.campaign import Campaign
from schemas.formspec import TableSpec
from schemas.i18n import Language, t
from schemas.raw import RawSubmission, RawTable
from schemas.report import Issue, ValidationReport
from schemas.roster import Roster, Unit
from schemas.submission import CellValue, ParsedSubmission

# Issues from the reader that mean the tables could not be read at all.
_FATAL_FILE_CODES = {k.code for k in (codes.NOT_XLSX, codes.LEGACY_XLS, codes.ENCRYPTED, codes.TOO_LARGE)} | {
    k.code for k in codes.READER_REFUSALS
}
# Issues that leave nothing to store: the file is not this campaign's, or not a known unit's.
_UNSTORABLE_CODES = {k.code for k in (codes.UNKNOWN_TEMPLATE, codes.UNKNOWN_UNIT, codes.WRONG_DELIVERABLE)}


@dataclass(frozen=True)
class ValidationContext:
    """What validation needs to know beyond the file itself, looked up from the store by the caller."""

    # Activities in the unit's latest stored plan (for fewer-than-planned).
    planned_activities: int | None = None
    # Campaign-wide medians from other units' latest versions (for outlier warnings), used only when
    # `peers` is not given: they cannot be narrowed to the unit's own type.
    median_participants_per_activity: float | None = None
    median_participants_per_session: float | None = None
    activity_peers: int = 0  # units whose plans gave the activity median
    session_peers: int = 0  # units whose statistics gave the session median
    # Other units' own figures: the outlier rule takes the median of the unit's type from them.
    # Or a source that answers the median itself (the SQLite store's ordered index, issue 13 §1).
    peers: PeerFigures | PeerSource | None = None
    checked_at: dt.datetime | None = None


@dataclass
class _Row:
    place_row: int | None
    values: dict[str, CellValue]
    bad: set[str]  # fields whose cell had an error


class _Checker:
    def __init__(self, campaign: Campaign, raw: RawSubmission, unit: Unit | None, ctx: ValidationContext):
        self.campaign = campaign
        self.lang: Language = campaign.language
        self.raw = raw
        self.unit = unit
        self.ctx = ctx
        self.issues: list[Issue] = list(raw.issues)
        self.tables: dict[str, list[dict[str, CellValue]]] = {}
        self.rows: dict[str, list[_Row]] = {}
        self.year = campaign.week.start.year
        # A bad date is shown a date from the unit's own window (campaign.windows), else the week.
        self.example_date = campaign.window_for(unit.type if unit else None).start.isoformat()
        self.example_phone = campaign.example_phone()  # once per submission, not per cell

    # ---- helpers -------------------------------------------------------------------------
    def add(self, kind: IssueKind, **kw: Any) -> None:
        self.issues.append(make_issue(kind, self.lang, **kw))

    def spec(self, table_key: str) -> TableSpec:
        # The unit's own form: fields `required_for` its type are required here and nowhere else.
        return self.campaign.form_spec_for(self.unit.type if self.unit else None).table(table_key)

    def place(self, table_key: str, field: str, row: _Row | None = None) -> Place:
        rt = self.raw.tables[table_key]
        recs = rt.records
        if row is None:
            raw_cell = recs[0].cells.get(field) if recs else None
            return place_of(rt.sheet, raw_cell, None)
        for rec in recs:
            if rec.row == row.place_row:
                return place_of(rt.sheet, rec.cells.get(field), rec.row)
        return Place(rt.sheet, None, row.place_row)

    def at(self, table_key: str, field: str, row: _Row | None = None) -> dict[str, Any]:
        p = self.place(table_key, field, row)
        return {
            "sheet": p.sheet,
            "cell": p.cell,
            "row": p.row,
            "column": self.spec(table_key).field(field).label(self.lang),
        }

    def record(self, table_key: str) -> _Row | None:
        rows = self.rows.get(table_key)
        return rows[0] if rows else None

    def num(self, row: _Row, key: str) -> int | float:
        v = row.values.get(key)
        return v if isinstance(v, int | float) else 0

    # ---- cells ---------------------------------------------------------------------------
    def read_table(self, table: TableSpec, rt: RawTable) -> None:
        out_rows: list[_Row] = []
        if table.kind == "rows" and not rt.records:
            self.add(codes.EMPTY_TABLE, sheet=rt.sheet)
        for rec in rt.records:
            values: dict[str, CellValue] = {}
            bad: set[str] = set()
            for spec in table.fields:
                raw_cell = rec.cells.get(spec.key)
                where = place_of(rt.sheet, raw_cell, rec.row)
                result = read_cell(
                    spec,
                    raw_cell,
                    where,
                    self.lang,
                    self.year,
                    self.example_date,
                    self.example_phone,
                )
                self.issues.extend(result.issues)
                values[spec.key] = result.value
                if not result.ok:
                    bad.add(spec.key)
            out_rows.append(_Row(rec.row, values, bad))
        self.rows[table.key] = out_rows
        self.tables[table.key] = [r.values for r in out_rows]

    # ---- rows ----------------------------------------------------------------------------
    def check_activity_rows(self) -> None:
        if "activities" not in self.rows:
            return
        # The unit's window (its type's, else the campaign week): seed 004 lets community centres hold
        # their week any time in October.
        week = self.campaign.window_for(self.unit.type if self.unit else None)
        grace = dt.timedelta(days=self.campaign.rules.grace_days)
        seen: dict[tuple[str, dt.date], int | None] = {}
        for row in self.rows["activities"]:
            start, end = row.values.get("start_date"), row.values.get("end_date")
            if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
                self.add(
                    codes.END_BEFORE_START,
                    **self.at("activities", "end_date", row),
                    value=end.isoformat(),
                    start=start.isoformat(),
                    end=end.isoformat(),
                )
            for key in ("start_date", "end_date"):
                d = row.values.get(key)
                if not isinstance(d, dt.date) or week.start <= d <= week.end:
                    continue
                inside_grace = week.start - grace <= d <= week.end + grace
                self.add(
                    codes.OUT_OF_WEEK_WITHIN_GRACE if inside_grace else codes.OUT_OF_WEEK,
                    **self.at("activities", key, row),
                    value=d.isoformat(),
                    date=d.isoformat(),
                    week_start=week.start.isoformat(),
                    week_end=week.end.isoformat(),
                )
            name = row.values.get("name")
            if isinstance(name, str) and isinstance(start, dt.date):
                k = (name, start)
                if k in seen:
                    self.add(
                        codes.DUPLICATE_ACTIVITY,
                        **self.at("activities", "name", row),
                        value=name,
                        other_row=seen[k],
                    )
                else:
                    seen[k] = row.place_row

    # ---- statistics and materials ------------------------------------------------------------
    def check_statistics(self) -> None:
        """The statistics table's rules, one method each, in the order their issues are listed."""
        row = self.record("statistics")
        if row is None:
            return
        total = self._total_sessions(row)
        if total is not None:
            self._check_parts_exceed_total(row, total)
            self._check_online_sessions_exceed_total(row, total)
            self._check_fewer_than_planned(total)
        self._check_online_participants_exceed_total(row)
        self._check_free_class_mismatch(row)

    @staticmethod
    def _total_sessions(row: _Row) -> int | float | None:
        """活动总场次, when it was read: the rules comparing with it say nothing about a bad cell."""
        total = row.values.get("total_sessions")
        if isinstance(total, int | float) and "total_sessions" not in row.bad:
            return total
        return None

    def _check_parts_exceed_total(self, row: _Row, total: int | float) -> None:
        """讲座 + 培训 + 展览展示 + 读书活动 场次 (those the form has) may not exceed 活动总场次."""
        spec = self.spec("statistics")
        part_keys = [
            k
            for k in ("lecture_sessions", "training_sessions", "exhibition_sessions", "reading_sessions")
            if spec.has_field(k)
        ]
        parts = sum(self.num(row, k) for k in part_keys)
        if parts <= total:
            return
        labels = t(self.lang, "、", ", ").join(spec.field(k).label(self.lang) for k in part_keys)
        # 讲座场次、培训场次…之和 reads 讲座、培训…场次之和; English labels never hold 场次、.
        labels = labels.replace("场次、", "、")
        self.add(
            codes.PARTS_EXCEED_TOTAL_SUM,
            **self.at("statistics", "total_sessions"),
            value=total,
            parts=parts,
            total=total,
            labels=labels,
        )

    def _check_online_sessions_exceed_total(self, row: _Row, total: int | float) -> None:
        """线上活动场次 are part of 活动总场次."""
        online = row.values.get("online_sessions")
        if isinstance(online, int | float) and online > total:
            self.add(
                codes.PARTS_EXCEED_TOTAL_ONLINE,
                **self.at("statistics", "online_sessions"),
                value=online,
                parts=online,
                total=total,
            )

    def _check_fewer_than_planned(self, total: int | float) -> None:
        """Far fewer sessions than the activities in the unit's stored plan (a warning)."""
        planned = self.ctx.planned_activities
        if planned and total < planned * self.campaign.rules.fewer_than_planned_ratio:
            self.add(
                codes.FEWER_THAN_PLANNED,
                **self.at("statistics", "total_sessions"),
                value=total,
                total=total,
                planned=planned,
            )

    def _check_online_participants_exceed_total(self, row: _Row) -> None:
        """线上参与人次 are part of 参与总人次."""
        total, online = row.values.get("total_participants"), row.values.get("online_participants")
        if isinstance(total, int | float) and isinstance(online, int | float) and online > total:
            self.add(
                codes.ONLINE_EXCEEDS_TOTAL,
                **self.at("statistics", "online_participants"),
                value=online,
                online=online,
                total=total,
            )

    def _check_free_class_mismatch(self, row: _Row) -> None:
        """免费惠民培训 classes and trainees come together: one without the other is a slip."""
        if "free_classes" in row.bad or "free_class_trainees" in row.bad:
            return
        classes, trainees = self.num(row, "free_classes"), self.num(row, "free_class_trainees")
        if (trainees > 0) == (classes > 0):
            return
        if trainees > 0:
            where = self.at("statistics", "free_classes")
            self.add(codes.FREE_CLASS_MISMATCH_NO_CLASSES, **where, value=classes, trainees=trainees)
        else:
            where = self.at("statistics", "free_class_trainees")
            self.add(codes.FREE_CLASS_MISMATCH_NO_TRAINEES, **where, value=trainees, classes=classes)

    def check_materials(self) -> None:
        row = self.record("summary_materials")
        if row is None or "photo_count" in row.bad:
            return
        minimum = self.campaign.rules.photo_minimum
        count = self.num(row, "photo_count")
        if count < minimum and not row.values.get("video_url"):
            self.add(
                codes.TOO_FEW_PHOTOS,
                **self.at("summary_materials", "photo_count"),
                value=count,
                count=count,
                minimum=minimum,
            )

    # ---- unit type rules -------------------------------------------------------------------
    def check_unit_rules(self) -> None:
        if self.unit is None or "activities" not in self.rows:
            return
        rules = self.campaign.rules
        acts = self.rows["activities"]
        spec = self.spec("activities")
        sheet = self.raw.tables["activities"].sheet
        unit_type = self.unit.type
        items = rules.required_items_for(unit_type)
        if items:
            categories = spec.field("category").choices
            for item in items:
                category = (
                    item if item in categories else next((c for c in categories if item.endswith(c)), item)
                )
                if not any(_matches(item, category, r) for r in acts):
                    self.add(
                        codes.MISSING_REQUIRED_ACTIVITY,
                        sheet=sheet,
                        column=spec.field("category").label(self.lang),
                        value=item,
                        item=item,
                        category=category,
                        unit_type=unit_type,
                    )
        if rules.needs_free_class(unit_type) and not any(r.values.get("free") == "是" for r in acts):
            label = spec.field("free").label(self.lang)
            self.add(codes.NO_FREE_CLASS, sheet=sheet, column=label, unit_type=unit_type)

    # ---- peer outliers -----------------------------------------------------------------------
    def _median(self, which: Literal["session", "activity"], roster: Roster) -> PeerMedian | None:
        """The median the unit is compared with: its own type's, else all units', else none."""
        rules = self.campaign.rules.outlier
        if self.ctx.peers is not None:
            if self.unit is None:
                return None
            if not isinstance(self.ctx.peers, PeerFigures):
                return self.ctx.peers.median(which, roster, self.unit, rules.min_peers)
            figures = self.ctx.peers.per_session if which == "session" else self.ctx.peers.per_activity
            return peer_median(figures, roster, self.unit, rules.min_peers)
        # A caller that computed campaign-wide medians itself: all units, as before peers by type.
        if which == "session":
            median, peers = self.ctx.median_participants_per_session, self.ctx.session_peers
        else:
            median, peers = self.ctx.median_participants_per_activity, self.ctx.activity_peers
        if not median or peers < rules.min_peers:
            return None
        return PeerMedian(median=median, peers=peers, unit_type=None)

    def _group(self, m: PeerMedian) -> str:
        """Who the median is of, for the message: the clerk should see what their figure was held to."""
        if m.unit_type is not None:
            return t(
                self.lang,
                f"同类单位（{m.unit_type}，{m.peers}个）",
                f"units of the same type ({m.unit_type}, {m.peers})",
            )
        min_peers = self.campaign.rules.outlier.min_peers
        return t(
            self.lang,
            f"{self.campaign.scope_zh}所有单位（{m.peers}个；同类单位不足{min_peers}个）",
            f"all units in {self.campaign.scope_en} ({m.peers}; fewer than {min_peers} of the same type)",
        )

    def check_outliers(self, roster: Roster) -> None:
        self._check_session_outlier(roster)
        self._check_activity_outliers(roster)

    def _check_session_outlier(self, roster: Roster) -> None:
        """参与总人次 ÷ 活动总场次 far above the median of the unit's peers."""
        row = self.record("statistics")
        if row is None or row.bad & {"total_sessions", "total_participants"}:
            return
        people, total = row.values.get("total_participants"), row.values.get("total_sessions")
        if not (isinstance(people, int | float) and isinstance(total, int | float) and total > 0):
            return
        m = self._median("session", roster)
        per_session = people / total
        if m is None or not m.median or per_session <= m.median * self.campaign.rules.outlier.ratio:
            return
        self.add(
            codes.OUTLIER_PER_SESSION,
            **self.at("statistics", "total_participants"),
            value=people,
            figure=_figure(per_session),
            total=_figure(total),
            median=_figure(m.median),
            group=self._group(m),
        )

    def _check_activity_outliers(self, roster: Roster) -> None:
        if "activities" not in self.rows:
            return
        m = self._median("activity", roster)
        if m is None or not m.median:
            return
        for row in self.rows["activities"]:
            n = row.values.get("expected_participants")
            if isinstance(n, int | float) and n > m.median * self.campaign.rules.outlier.ratio:
                self.add(
                    codes.OUTLIER_PER_ACTIVITY,
                    **self.at("activities", "expected_participants", row),
                    value=n,
                    figure=_figure(n),
                    median=_figure(m.median),
                    group=self._group(m),
                )


def _figure(x: float) -> str:
    """A figure as the message prints it: whole numbers plain, others to one decimal."""
    return str(round(x)) if abs(x - round(x)) < 0.05 else f"{x:.1f}"


def _matches(item: str, category: str, row: _Row) -> bool:
    name = row.values.get("name")
    return row.values.get("category") == category or (isinstance(name, str) and item in name)


def validate_submission(
    raw: RawSubmission,
    campaign: Campaign,
    roster: Roster,
    ctx: ValidationContext | None = None,
) -> tuple[ParsedSubmission | None, ValidationReport]:
    ctx = ctx or ValidationContext()
    unit = roster.get(raw.unit_code) if raw.unit_code else None
    checker = _Checker(campaign, raw, unit, ctx)
    fatal = any(i.code in _FATAL_FILE_CODES for i in raw.issues)
    if not fatal and raw.deliverable is not None:
        for table in campaign.tables_of(raw.deliverable):
            rt = raw.tables.get(table.key)
            if rt is not None:
                checker.read_table(checker.spec(table.key), rt)
        checker.check_activity_rows()
        checker.check_statistics()
        checker.check_materials()
        checker.check_unit_rules()
        checker.check_outliers(roster)
        # Who sent it: a workbook naming another unit than its code's is stored but held back.
        checker.issues.extend(identity_issues(raw, unit, roster, campaign, checker.tables))

    errors = [i for i in checker.issues if i.severity == "error"]
    warnings = [i for i in checker.issues if i.severity == "warning"]
    report = ValidationReport(
        file=raw.source,
        unit=unit.code if unit else raw.unit_code,
        unit_name=unit.name if unit else raw.unit_name,
        deliverable=raw.deliverable,
        valid=not errors,
        errors=errors,
        warnings=warnings,
        checked_at=ctx.checked_at,
    )
    storable = (
        unit is not None
        and raw.deliverable is not None
        and not fatal
        and not any(i.code in _UNSTORABLE_CODES for i in errors)
    )
    if not storable:
        return None, report
    assert unit is not None and raw.deliverable is not None
    parsed = ParsedSubmission(
        unit=unit.code,
        deliverable=raw.deliverable,
        tables=checker.tables,
        source_kind=raw.source_kind,
        source=raw.source,
        status=raw.status,
    )
    return parsed, report
