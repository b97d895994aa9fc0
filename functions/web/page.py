"""The form page's view: the form spec turned into inputs, the unit's values and the report's issues placed.

Kept apart from the routes so what a page shows is decided in one place: field types → inputs (choices as
a select, several choices as checkboxes, dates bounded by the campaign week, whole numbers with a numeric
keyboard, text), tables of rows as cards the unit adds and removes, issues next to their field or row.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment

from functions.services.intake.receipt import ReceiptOutcome
from functions.services.web.form_fields import FormValues, PlacedIssues, place_issues
from functions.services.web.form_intake import SaveResult
from functions.services.web.form_review import FormReview
from functions.web.page_files import FileField, file_anchor
from functions.web.page_upload import UploadSection
from functions.web.page_uploads import upload_texts
from schemas.campaign import Campaign, Week
from schemas.formspec import FieldSpec, TableSpec
from schemas.i18n import full_date, t
from schemas.report import Issue, ValidationReport
from schemas.roster import Unit

# Free text longer than this gets a text area.
LONG_TEXT = 100


@dataclass
class Input:
    """One input of the page: its name in the post, how it is shown, what it holds, what is wrong."""

    name: str
    id: str
    label: str
    help: str
    kind: str  # select, checkboxes, textarea, input
    input_type: str = "text"
    inputmode: str = ""
    required: bool = False
    choices: list[str] = field(default_factory=list)
    value: str = ""
    selected: list[str] = field(default_factory=list)
    min: str = ""
    max: str = ""
    maxlength: int | None = None
    issues: list[Issue] = field(default_factory=list)


@dataclass
class Row:
    index: str  # as in the field names; "__N__" in the template a script copies
    number: int
    inputs: list[Input]
    issues: list[Issue] = field(default_factory=list)


@dataclass
class TableView:
    key: str
    title: str
    help: str
    kind: str
    inputs: list[Input] = field(default_factory=list)  # one-record tables
    rows: list[Row] = field(default_factory=list)  # tables of rows
    blank: Row | None = None  # the empty row a script clones
    next_index: int = 0
    issues: list[Issue] = field(default_factory=list)


def _input(
    campaign: Campaign,
    spec: FieldSpec,
    name: str,
    value: Any,
    issues: list[Issue],
    window: Week | None = None,
) -> Input:
    lang = campaign.language
    box = Input(
        name=name,
        # The name with dots as dashes: unique in the page, and the script can re-point it at a new row.
        id="f-" + name.replace(".", "-"),
        label=spec.label(lang),
        help=spec.help(lang),
        kind="input",
        required=spec.required,
        issues=issues,
    )
    if spec.type == "multi_choice":
        box.kind, box.choices = "checkboxes", list(spec.choices)
        box.selected = [str(v) for v in value] if isinstance(value, list) else ([value] if value else [])
        return box
    box.value = "、".join(value) if isinstance(value, list) else str(value or "")
    if spec.type == "choice":
        box.kind, box.choices = "select", list(spec.choices)
    elif spec.type == "date":
        # The picker offers the week and its grace days; a date outside still reaches the validator
        # (the form is posted with novalidate), which says why it is wrong in the unit's language.
        # The unit's window (campaign.windows) when its type has one.
        grace = dt.timedelta(days=campaign.rules.grace_days)
        w = window or campaign.week
        box.input_type = "date"
        box.min = (w.start - grace).isoformat()
        box.max = (w.end + grace).isoformat()
    elif spec.type == "integer":
        # A text box with the numeric keyboard, not type=number: a browser empties a number box holding
        # "3000余", and the unit would be told the value is missing instead of what is wrong with it.
        box.inputmode = "numeric"
    elif spec.type == "number":
        box.inputmode = "decimal"
    elif spec.type == "phone":
        box.input_type = "tel"
    elif spec.type == "url":
        box.input_type, box.inputmode = "url", "url"
    elif spec.max_length and spec.max_length > LONG_TEXT:
        box.kind = "textarea"
    if spec.type == "text" and spec.max_length:
        box.maxlength = spec.max_length
    return box


def _fields(table: TableSpec) -> list[FieldSpec]:
    # The row number is the card's place; nobody types it.
    return [f for f in table.fields if f.type != "serial"]


def table_views(
    campaign: Campaign,
    deliverable: str,
    values: FormValues,
    placed: PlacedIssues,
    unit_type: str | None = None,
) -> list[TableView]:
    """The form's tables as a unit of `unit_type` fills them: its required fields, its dates."""
    lang = campaign.language
    views: list[TableView] = []
    field_input = functools.partial(_input, window=campaign.window_for(unit_type))
    for table in campaign.tables_of(deliverable, unit_type):
        view = TableView(
            key=table.key,
            title=table.title(lang),
            help=table.help(lang),
            kind=table.kind,
            issues=placed.tables.get(table.key, []),
        )
        records = values.get(table.key) or []
        if table.kind == "record":
            rec = records[0] if records else {}
            view.inputs = [
                field_input(
                    campaign, f, f"{table.key}.{f.key}", rec.get(f.key), placed.at(table.key, None, f.key)
                )
                for f in _fields(table)
            ]
        else:
            for i, rec in enumerate(records):
                number = i + 1
                view.rows.append(
                    Row(
                        index=str(i),
                        number=number,
                        inputs=[
                            _input(
                                campaign,
                                f,
                                f"{table.key}.{i}.{f.key}",
                                rec.get(f.key),
                                placed.at(table.key, number, f.key),
                            )
                            for f in _fields(table)
                        ],
                        issues=placed.rows.get((table.key, number), []),
                    )
                )
            # One empty row more: without the script a unit can still add a row by saving.
            n = len(records)
            view.rows.append(
                Row(
                    index=str(n),
                    number=n + 1,
                    inputs=[
                        field_input(campaign, f, f"{table.key}.{n}.{f.key}", None, []) for f in _fields(table)
                    ],
                )
            )
            view.blank = Row(
                index="__N__",
                number=0,
                inputs=[
                    field_input(campaign, f, f"{table.key}.__N__.{f.key}", None, []) for f in _fields(table)
                ],
            )
            view.next_index = n + 1
        views.append(view)
    return views


def where(issue: Issue, lang: str) -> str:
    """Where an issue is, as the summary at the top says it: a workbook's issue by its cell (活动安排!C5),
    which the unit finds in its file; a form's by table and row, as the page numbers them."""
    if issue.sheet and issue.cell:
        return " · ".join(p for p in (f"{issue.sheet}!{issue.cell}", issue.column or "") if p)
    parts = [issue.sheet or ""]
    if issue.row is not None:
        parts.append(t(lang, f"第{issue.row}行", f"row {issue.row}"))  # type: ignore[arg-type]
    if issue.column:
        parts.append(issue.column)
    return " · ".join(p for p in parts if p)


def anchor(campaign: Campaign, deliverable: str, issue: Issue) -> str:
    """The id of the input (else the table) an issue is about, so the summary can link to it."""
    lang = campaign.language
    table = next((tb for tb in campaign.tables_of(deliverable) if tb.title(lang) == issue.sheet), None)
    if table is None:
        return "summary"
    spec = next((f for f in _fields(table) if f.label(lang) == issue.column), None)
    if spec is None:
        return f"t-{table.key}"
    if table.kind == "record":
        return f"f-{table.key}-{spec.key}"
    if issue.row is None:
        return f"t-{table.key}"
    # Rows are rendered with indices 0, 1, … in the order the validator numbered them 1, 2, …
    return f"f-{table.key}-{issue.row - 1}-{spec.key}"


def _result_text(campaign: Campaign, result: SaveResult, submitted: bool) -> str:
    lang = campaign.language
    receipt: dict[ReceiptOutcome | None, str] = {
        "sent": t(lang, "回执已发送到本单位邮箱。", "A receipt was sent to your unit's e-mail."),
        "already": t(
            lang, "内容与上次提交相同，未重复发送回执。", "Same as the last submission; no new receipt."
        ),
        "no-address": t(
            lang, "名单中没有本单位的邮箱，未发送回执。", "No e-mail on file for your unit; no receipt."
        ),
        "refused": t(
            lang, "回执暂未发出，系统会自动重试。", "The receipt could not be sent yet; it will be retried."
        ),
        "uncertain": t(lang, "回执可能未送达。", "The receipt may not have arrived."),
        None: "",
    }
    if submitted:
        head = (
            t(lang, "已提交。", "Submitted.")
            if result.report.valid
            else t(
                lang,
                "已提交，但有问题需要修改后重新提交。",
                "Submitted, but there are problems to fix and submit again.",
            )
        )
        return head + receipt[result.receipt]
    return (
        t(lang, "草稿已保存（尚未提交）。", "Draft saved (not submitted yet).")
        if result.stored or result.version is not None
        else t(lang, "已检查。", "Checked.")
    )


def render_form_page(
    env: Environment,
    campaign: Campaign,
    unit: Unit,
    deliverable: str,
    *,
    values: FormValues,
    report: ValidationReport | None,
    state: str,
    csrf: str,
    result: SaveResult | None,
    submitted: bool,
    now: dt.datetime,
    review: FormReview | None = None,
    files: list[FileField] | None = None,
    upload: UploadSection | None = None,
    direct_upload: str | None = None,
) -> str:
    """`direct_upload`: the URL the page's script asks for presigned uploads at (cloud only; None: the
    files go in the form's own post)."""
    lang = campaign.language
    d = campaign.deliverable(deliverable)
    empty = ValidationReport(file="", valid=True)
    placed = place_issues(campaign, deliverable, report or empty)
    due = campaign.due_at(deliverable)
    unit_type = next((u for u in campaign.unit_types if u.name == unit.type), None)
    return env.get_template("form.html").render(
        lang=lang,
        tr=lambda zh, en: t(lang, zh, en),
        campaign=campaign,
        unit=unit,
        unit_type=t(lang, unit.type, (unit_type.name_en if unit_type else "") or unit.type),
        deliverable=d,
        title=d.title(lang),
        what_to_send=d.what_to_send(lang),
        due=f"{full_date(lang, due.date())} {due.strftime('%H:%M')}",
        overdue=now > due,
        state=state,
        csrf=csrf,
        tables=table_views(campaign, deliverable, values, placed, unit.type),
        report=report,
        errors=(report.errors if report else []),
        warnings=(report.warnings if report else []),
        other=placed.other,
        where=lambda issue: where(issue, lang),
        anchor=lambda issue: file_anchor(files or [], issue) or anchor(campaign, deliverable, issue),
        result_text=_result_text(campaign, result, submitted) if result else "",
        contact=campaign.organiser_contact_line(),
        review=review,
        files=files or [],
        upload=upload,
        direct_upload=direct_upload,
        upload_texts=upload_texts(lang) if direct_upload else None,
    )
