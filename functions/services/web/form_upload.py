"""A filled workbook uploaded on the unit's own form page (issue 14 §5): the workbook channel, from the web.

The unit filled the 填报表 (the one the organiser sent, or the one its page offers) in Excel or WPS and
uploads it instead of typing. The bytes are read by the same reader as a file dropped in the folder
(`App.read_workbook`, from a private temp file whose name is ours), and stored by the same entry as every
channel (`ingest_raw`): same checks, same report with the workbook's cell references, same version — the
content hash leaves out where a submission came from, so the same workbook dropped in the folder later
is "unchanged".

What differs from the folder is who decides the unit: the signed link, not the workbook. A workbook that
names another unit (its hidden or visible code, or a name of another roster unit), or is the template of
another deliverable, is refused with a message saying so, and nothing is stored; a workbook that names
no unit at all is the link's unit. A file the reader cannot use (not a workbook, damaged, encrypted, too
large, no sheet of the template) is refused with the reader's own messages, the ones the folder channel
writes in its report, and nothing is stored either: unlike a file found in the folder, the unit is
looking at the page and can send a good one at once, so there is nothing for the organiser to sort out.

The version's source: `source_kind="web"` and `source="web:<unit>/<deliverable> <file name>"`. "web"
because the unit used its web form: its receipt then tells it to reopen its link (receipt.py's words for
the web channel), and the page treats it as its own. The web form's source (form_fields.web_source)
comes first, like the mail channel's `mail:<Message-ID>#n <file name>`, so every channel's source starts
with where it came from and a file's name follows as metadata (cleaned by safe_name, never a path).
Nothing downstream reads the source for anything but display, so versions, reports, status, reminders
and the master see this version exactly as the folder's.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from functions.app import App
from functions.services.intake.attachments import safe_name
from functions.services.intake.ingest import ingest_raw
from functions.services.intake.kept_workbook import ReceivedWorkbook
from functions.services.web.form_fields import FormValues, values_of_version, web_source
from functions.services.web.form_files import files_for_save
from functions.services.web.form_intake import SaveResult, receipt_for, typed_key
from functions.validate import codes
from functions.validate.identity import same_name
from schemas.i18n import t
from schemas.raw import RawSubmission
from schemas.report import Issue, ValidationReport
from schemas.roster import Unit

# What the workbook channel reads (adapters/folder/intake.WORKBOOK_SUFFIXES): the file picker offers these.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
WORKBOOK_ACCEPT = ",".join(
    [
        *WORKBOOK_SUFFIXES,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel.sheet.macroEnabled.12",
        "application/vnd.ms-excel",
    ]
)
# The reader found no unit in the workbook: the link says whose it is.
_NO_IDENTITY = {codes.UNKNOWN_UNIT_NO_IDENTITY.code}


@dataclass(frozen=True)
class UploadResult:
    """What the page shows after an upload: a refusal (nothing stored), or the stored version's result."""

    file_name: str
    refused: str = ""  # why nothing was stored, in the unit's language (empty when stored)
    problems: list[Issue] = field(default_factory=list)  # the reader's issues behind a refusal
    saved: SaveResult | None = None
    values: FormValues = field(default_factory=dict)  # the form, prefilled from the stored version
    report: ValidationReport | None = None  # the report, its rows numbered as the form numbers them


def read_upload(app: App, name: str, data: bytes) -> RawSubmission:
    """The uploaded bytes as the workbook reader reads a file: from a private temp file whose name is
    ours (the suffix only, when it is a workbook's; the reader opens by content anyway)."""
    suffix = Path(safe_name(name)).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="huizong-upload-") as tmp:
        path = Path(tmp) / f"upload{suffix if suffix in WORKBOOK_SUFFIXES else '.xlsx'}"
        path.write_bytes(data)
        return app.read_workbook(path, app.campaign, app.roster)


def upload_workbook(
    app: App,
    unit: Unit,
    deliverable: str,
    *,
    name: str,
    data: bytes,
    now: dt.datetime,
    link: str,
    defer_receipt: bool = False,
) -> UploadResult:
    """Read, check and store one uploaded workbook as `unit`'s `deliverable` (the link's), or refuse it.
    `defer_receipt`: as save_form's (the caller sends it with deliver_saved_receipt)."""
    shown = safe_name(name, fallback="workbook.xlsx")
    raw = read_upload(app, name, data)
    refusal = _refusal(app, unit, deliverable, raw)
    if refusal is not None:
        return UploadResult(file_name=shown, refused=refusal[0], problems=refusal[1])
    if raw.unit_code is None:
        # No code or name in the workbook: the link's unit, as `huizong assign` decides for a file.
        raw.unit_code, raw.unit_name = unit.code, unit.name
        raw.issues = [i for i in raw.issues if i.code not in _NO_IDENTITY]
    raw.source_kind = "web"
    raw.source = f"{web_source(unit.code, deliverable)} {shown}"
    rules = app.campaign.deliverable(deliverable).attachments
    # The files the unit's form holds (its draft's uploads): they go with the workbook, as a web save's do.
    files = files_for_save(app, unit.code, deliverable, [], ()) if rules else None
    # The uploaded bytes are kept with a new version: the console downloads what the unit sent.
    workbook = ReceivedWorkbook(name=shown, data=data)
    outcome = ingest_raw(
        app, raw, received_at=now, now=now, files=files, workbook=workbook, report_unstorable=False
    )
    assert outcome.report is not None  # ingest_raw always reports
    if outcome.version_id is None:
        # What ingest does not store (another campaign's template, a deliverable this unit's type does
        # not report): refused on the page, the unit's report file and the unread list untouched.
        return UploadResult(file_name=shown, refused=_not_storable(app), problems=outcome.report.errors)
    version = app.store.latest(unit.code, deliverable)
    values = values_of_version(app.campaign, deliverable, version.tables) if version else {}
    report = form_report(app, deliverable, raw, outcome.report)
    if version is not None:
        # What the page shows for this version from now on (form_intake.form_start reads it): its values
        # and its report with the rows numbered as the form's cards, so an issue sits next to its field.
        kept = {"version": version.id, "values": values, "report": report.model_dump(mode="json")}
        app.store.set_meta(typed_key(unit.code, deliverable), json.dumps(kept, ensure_ascii=False))
    receipt, pending = None, None
    if version is not None and version.status == "submitted" and outcome.version_id == version.id:
        # Claimed per version, like a web submit: the same workbook uploaded twice mails once.
        receipt, pending = receipt_for(app, version, link=link, now=now, defer=defer_receipt)
    saved = SaveResult(report=outcome.report, stored=outcome.stored, version=version, receipt=receipt,
                       pending_receipt=pending)  # fmt: skip
    return UploadResult(file_name=shown, saved=saved, values=values, report=report)


def _not_storable(app: App) -> str:
    return t(
        app.campaign.language,
        "上传的工作簿不能作为本表的报送保存，未保存任何内容。请按下面的提示处理后重新上传，或直接在下方在线填写。",
        "The uploaded workbook cannot be stored as this form's submission; nothing was saved. Do as said "
        "below and upload it again, or fill in the form below instead.",
    )


def _refusal(app: App, unit: Unit, deliverable: str, raw: RawSubmission) -> tuple[str, list[Issue]] | None:
    """Why this workbook cannot be stored as the link's unit and deliverable, or None."""
    lang = app.campaign.language
    campaign = app.campaign
    if not raw.tables or raw.deliverable is None:
        # The reader could not use it: its own messages (as in the folder channel's report) say why.
        problems = [i for i in raw.issues if i.severity == "error"]
        return (
            t(
                lang,
                "上传的文件无法作为填报表读取，未保存任何内容。请按下面的提示处理后重新上传，或直接在下方在线填写。",
                "The uploaded file cannot be read as the form's workbook; nothing was saved. Do as said "
                "below and upload it again, or fill in the form below instead.",
            ),
            problems,
        )
    if raw.deliverable != deliverable:
        other = campaign.deliverable(raw.deliverable).title(lang)
        mine = campaign.deliverable(deliverable).title(lang)
        return (
            t(
                lang,
                f"上传的工作簿是“{other}”的填报表，不是本页的“{mine}”，未保存任何内容。"
                f"请上传“{mine}”的填报表（可在本页下载），或用“{other}”的链接上传这个文件。",
                f"The uploaded workbook is the template of '{other}', not of '{mine}' on this page; nothing "
                f"was saved. Upload the '{mine}' workbook (you can download it here), or upload this file "
                f"from your '{other}' link.",
            ),
            [],
        )
    named = _other_unit(app, unit, raw)
    if named is not None:
        return (
            t(
                lang,
                f"上传的工作簿写明是“{named}”的，不是本单位（{unit.name}，编码 {unit.code}）的，未保存任何内容。"
                "请上传本单位自己的填报表（可在本页下载空白表），如确有疑问请联系组织方。",
                f"The uploaded workbook says it belongs to '{named}', not to your unit ({unit.name}, code "
                f"{unit.code}); nothing was saved. Upload your own unit's workbook (you can download a "
                "blank one here), or contact the organiser if in doubt.",
            ),
            [],
        )
    return None


def _other_unit(app: App, unit: Unit, raw: RawSubmission) -> str | None:
    """The other unit the workbook names (as it writes it), or None when it names this unit or nobody.

    Its hidden code (the template it was made from), its visible code and the code it was read as must
    all be this unit's; a visible name must not be another roster unit's. A name nobody in the roster has
    is left to the validator's identity rule (unit-name-mismatch), as in the folder channel."""
    mine = unit.code.upper()
    claimed = raw.claimed
    for code in (claimed.hidden_code, claimed.visible_code, raw.unit_code):
        if code and code.strip().upper() != mine:
            other = app.roster.get(code.strip()) or app.roster.get(code.strip().upper())
            return f"{other.name}（{other.code}）" if other else code.strip()
    name = claimed.visible_name
    if name and not same_name(name, unit.name):
        other = next((u for u in app.roster.units if u.code != unit.code and same_name(u.name, name)), None)
        if other is not None:
            return f"{other.name}（{other.code}）"
    return None


def form_report(app: App, deliverable: str, raw: RawSubmission, report: ValidationReport) -> ValidationReport:
    """The workbook's report with each row issue's row numbered as the form numbers its cards (1, 2, …)
    instead of the sheet's row (5, 6, …), so the page puts it next to its field. The cell reference
    (活动安排!C5) is kept: the page shows it, the unit may fix the workbook instead."""
    lang = app.campaign.language
    positions: dict[str, dict[int, int]] = {}
    for table in app.campaign.tables_of(deliverable):
        rt = raw.tables.get(table.key)
        if table.kind != "rows" or rt is None:
            continue
        # The validator keeps a table's records in the reader's order, one row each (validator.read_table).
        positions[table.title(lang)] = {
            rec.row: n for n, rec in enumerate(rt.records, start=1) if rec.row is not None
        }

    def moved(issue: Issue) -> Issue:
        rows = positions.get(issue.sheet or "")
        if rows is None or issue.row is None:
            return issue
        # A row the form has no card for (a header's, a blank one's) is the table's, not a card's.
        return issue.model_copy(update={"row": rows.get(issue.row)})

    return report.model_copy(
        update={"errors": [moved(i) for i in report.errors], "warnings": [moved(i) for i in report.warnings]}
    )
