"""The organiser's review in the status area of a unit's Google sheet: 已退回 with the comment, 已通过, 待审核.

Two rows under the check result on the instructions tab (REVIEW_* and COMMENT_* below). What the unit
sees is `form_review` (functions/services/web/form_review.py), the same folding its web form shows, so
the sheet and the form never disagree.

When it is written: on the poll, never by the review action itself. A return, approval or reopen
(functions/services/review/actions.py, from the CLI or the console) only appends its record to the store;
the next poll writes the sheets whose review changed since it last wrote them (`stale_sheets`). So a
Google outage, a revoked credential or a spent call budget can never lose, slow or refuse the action:
the poll retries until the sheet shows it. The poll also writes these rows in the batchUpdate of every
check, since a resubmission turns 已退回 into 待审核.

Old sheets: provisioned before these rows existed, they have nothing in D7:E8 (the rows are empty
in every template so far, and the instructions tab keeps Google's default 1,000 rows). Each write sends
the labels with the values, so an old sheet gains the rows the first time there is a review to show;
nothing has to know which layout a sheet was built with.

Untrusted text: the comment (and the label, for symmetry) is sent as `userEnteredValue.stringValue`
through batchUpdate, which Sheets stores as the literal string, never parsed as a formula or number;
the values API with USER_ENTERED (which would parse "=…") is not used here.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from functions.app import App
from functions.services.google.registry import SheetRecord, sheet_for
from functions.services.google.writeback import value_cell
from functions.services.review.records import all_records
from functions.services.web.form_review import FormReview, form_review
from schemas.campaign import Campaign
from schemas.i18n import Language

log = logging.getLogger(__name__)

Request = dict[str, Any]

# Below the status area of sheets_templates/google_layout.py (D3:E6), same label/value columns.
REVIEW_LABEL_CELL = "D7"
REVIEW_CELL = "E7"  # 已退回 / 已通过 / 待审核
COMMENT_LABEL_CELL = "D8"
COMMENT_CELL = "E8"  # the organiser's comment (of a return or an approval)
REVIEW_LABEL: dict[Language, str] = {"zh": "审核结果", "en": "Review"}
COMMENT_LABEL: dict[Language, str] = {"zh": "审核意见", "en": "Reviewer's comment"}
# What was last written to a sheet's review rows, so the poll writes only the sheets that changed.
SHOWN_META = "google-review-shown:"
# (unit/deliverable) → the last review action the poll has handled, so an idle poll compares nothing.
ACTIONS_META = "google-review-actions"

_BG: dict[str, dict[str, float]] = {
    "approved": {"red": 0.776, "green": 0.937, "blue": 0.808},  # C6EFCE, as the master's 已通过
    "returned": {"red": 1.0, "green": 0.78, "blue": 0.808},  # FFC7CE
    "pending": {"red": 1.0, "green": 0.922, "blue": 0.612},  # FFEB9C
    "": {"red": 1.0, "green": 1.0, "blue": 1.0},  # cleared: no review to show
}


@dataclass(frozen=True)
class Shown:
    """What a sheet's review rows say (state "" with no label: nothing to show)."""

    state: str
    label: str
    comment: str

    def key(self) -> str:
        return json.dumps([self.state, self.label, self.comment], ensure_ascii=False)


NOTHING = Shown("", "", "")


def shown_for(app: App, unit: str, deliverable: str) -> Shown:
    review: FormReview | None = form_review(app, unit, deliverable)
    if review is None:
        return NOTHING
    return Shown(review.state, review.label, review.comment)


def last_shown(app: App, spreadsheet_id: str) -> str | None:
    """The key of what was last written to this sheet's review rows; None if they were never written."""
    return app.store.get_meta(SHOWN_META + spreadsheet_id)


def mark_shown(app: App, spreadsheet_id: str, shown: Shown) -> None:
    app.store.set_meta(SHOWN_META + spreadsheet_id, shown.key())


def needs_write(app: App, spreadsheet_id: str, shown: Shown) -> bool:
    """A sheet that never had review rows gets none while there is nothing to show (no empty labels)."""
    last = last_shown(app, spreadsheet_id)
    if last is None:
        return shown != NOTHING
    return last != shown.key()


def review_requests(campaign: Campaign, shown: Shown) -> list[Request]:
    """The review rows, labels included (an old sheet gains them here): part of one batchUpdate."""
    lang = campaign.language
    label_fields = "userEnteredValue,userEnteredFormat(textFormat,horizontalAlignment)"
    return [
        value_cell(REVIEW_LABEL_CELL, REVIEW_LABEL[lang], label_fields,
              textFormat={"bold": True}, horizontalAlignment="RIGHT"),
        value_cell(REVIEW_CELL, shown.label, "userEnteredValue,userEnteredFormat(textFormat,backgroundColorStyle)",
              textFormat={"bold": True}, backgroundColorStyle={"rgbColor": _BG[shown.state]}),
        value_cell(COMMENT_LABEL_CELL, COMMENT_LABEL[lang], label_fields,
              textFormat={"bold": True}, horizontalAlignment="RIGHT"),
        value_cell(COMMENT_CELL, shown.comment, "userEnteredValue,userEnteredFormat.wrapStrategy",
              wrapStrategy="WRAP"),
    ]  # fmt: skip


@dataclass(frozen=True)
class Due:
    """A sheet whose review rows must be written, and the review action they will then reflect."""

    record: SheetRecord
    shown: Shown
    last_action: int  # the n of the (unit, deliverable)'s latest review record


def _pair(unit: str, deliverable: str) -> str:
    return f"{unit}/{deliverable}"


def _handled(app: App) -> dict[str, int]:
    raw = app.store.get_meta(ACTIONS_META)
    try:
        loaded = json.loads(raw) if raw else {}
    except ValueError:
        loaded = {}  # a damaged index only costs one full comparison
    return {str(k): int(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}


def stale_sheets(app: App) -> list[Due]:
    """Sheets whose review rows no longer say what the review records do, in a stable order.

    Only a review action changes the review without the unit touching its sheet (a unit's edit is
    checked, and its rows written, by the poll's check), so only the (unit, deliverable) pairs with an
    action not yet handled are looked at: one listing of the records and one meta read when nothing
    happened, which is almost every poll.
    """
    deliverables = {d.key for d in app.campaign.deliverables}
    handled = _handled(app)
    settled: dict[str, int] = {}
    out: list[Due] = []
    for (unit, deliverable), records in sorted(all_records(app.store).items()):
        last = records[-1].n
        if deliverable not in deliverables or handled.get(_pair(unit, deliverable)) == last:
            continue
        record = sheet_for(app.store, unit, deliverable)
        shown = shown_for(app, unit, deliverable)
        if record is None or not record.spreadsheet_id or not needs_write(app, record.spreadsheet_id, shown):
            # No Google sheet (the unit sends files or a form), or it already shows this.
            settled[_pair(unit, deliverable)] = last
            continue
        out.append(Due(record, shown, last))
    if settled:
        _save_handled(app, {**handled, **settled})
    return out


def mark_written(app: App, due: Due) -> None:
    """After the batchUpdate succeeded: the sheet shows `due.shown`, and its action needs nothing more."""
    mark_shown(app, due.record.spreadsheet_id, due.shown)
    _save_handled(app, {**_handled(app), _pair(due.record.unit, due.record.deliverable): due.last_action})


def _save_handled(app: App, handled: dict[str, int]) -> None:
    app.store.set_meta(ACTIONS_META, json.dumps(handled, ensure_ascii=False, sort_keys=True))
