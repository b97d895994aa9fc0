"""Google Form responses as submissions: answers mapped to fields, the unit identified, then ingested.

A form response goes through the same validator and store as a workbook (ingest_raw), so "3000余"
typed into a form gets the same issue as in a workbook. What is particular to forms:
- answers are matched to fields by question title, through form_questions (the titles the form was
  built with);
- the unit is the unit-code answer, else the respondent's email in the roster; a code that is not in
  the roster, or that disagrees with the email, is refused and recorded for the organiser;
- the Apps Script retries deliveries, so each response is claimed in the store before it is ingested:
  a response delivered twice is ingested once and both deliveries get the same answer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict

from functions.app import App
from functions.services.google.form_spec import form_questions, unit_code_title
from functions.services.intake.ingest import ingest_raw
from functions.services.intake.peers import PeerStats
from functions.validate import codes
from functions.validate.codes import IssueKind
from functions.validate.messages import make_issue
from functions.validate.values import to_text
from schemas.campaign import Campaign
from schemas.form_questions import FormQuestion
from schemas.raw import RawCell, RawRecord, RawSubmission, RawTable
from schemas.report import Issue, ValidationReport
from schemas.roster import Roster, Unit
from schemas.webhook import FormResponsePayload

CLAIM_PREFIX = "form-response/"
UNIDENTIFIED_PREFIX = "unidentified-form/"
# A claim without a result older than this belongs to a delivery that died (a Lambda killed at its
# 30 s timeout, a server stopped): the next delivery of the same response takes it over.
STALE_CLAIM = dt.timedelta(minutes=2)

IntakeNote = Literal["", "unchanged", "unidentified", "unreadable"]
UnitProblem = Literal["unknown", "mismatch"]


class FormPayloadError(ValueError):
    """The payload is for another campaign or an unknown deliverable: a set-up mistake, not the unit's."""


class FormIntakeBusy(RuntimeError):
    """Another delivery of the same response is being ingested right now.

    Raised rather than answered so the webhook replies with an error status and the Apps Script retries:
    a success reply would make it forget a response whose first delivery may still fail.
    """


class FormIntakeResult(BaseModel):
    """What the webhook answers. Kept in the delivery's claim so a repeated delivery gets it again."""

    model_config = ConfigDict(extra="forbid")

    response_id: str
    source: str
    unit: str | None
    deliverable: str
    valid: bool
    stored: bool  # ingesting the response created a new version (a repeated delivery repeats the answer)
    seq: int | None
    note: IntakeNote = ""
    duplicate: bool = False  # an earlier delivery of the same response was ingested
    unidentified: bool = False
    report: ValidationReport


class UnidentifiedResponse(BaseModel):
    """A response that could not be tied to a unit, for the organiser to follow up."""

    model_config = ConfigDict(extra="forbid")

    response_id: str
    form_id: str
    deliverable: str
    submitted_at: dt.datetime
    respondent_email: str | None
    unit_code_answer: str | None
    problem: UnitProblem = "unknown"
    # The units the code and the email point to, when they do (a mismatch names both).
    code_unit: str | None = None
    email_unit: str | None = None
    reasons: list[str]


class _Identity(BaseModel):
    unit: Unit | None
    code_answer: str | None
    problem: UnitProblem | None = None
    code_unit: str | None = None
    email_unit: str | None = None
    issue: Issue | None = None


# ---- mapping -----------------------------------------------------------------------------------


def _answer_value(value: str | list[str] | None, multi: bool) -> str | None:
    """A form answer as the cell text a unit would have typed; several choices joined with 、."""
    if value is None:
        return None
    if isinstance(value, list):
        parts = [to_text(v) for v in value if to_text(v)]
        return "、".join(parts) if parts else None
    text = value if multi else value.strip()
    return text if text.strip() else None


def _find_unit(code: str, roster: Roster) -> Unit | None:
    # A code typed on a phone may come out in lower case or with full-width letters.
    return roster.get(code) or roster.get(to_text(code).upper())


def _identify(code_answer: str | None, email: str | None, campaign: Campaign, roster: Roster) -> _Identity:
    contact = campaign.organiser_contact_line()
    by_email = roster.find_by_email(email) if email else None
    email_unit = by_email.code if by_email else None

    def refused(
        problem: UnitProblem, kind: IssueKind, code_unit: Unit | None = None, **params: str | None
    ) -> _Identity:
        issue = make_issue(
            kind,
            campaign.language,
            column=unit_code_title(campaign.language),
            value=code_answer,
            contact=contact,
            code_unit=code_unit.code if code_unit else None,
            code_unit_name=code_unit.name if code_unit else None,
            email_unit=by_email.code if by_email else None,
            email_unit_name=by_email.name if by_email else None,
            **params,
        )
        return _Identity(
            unit=None,
            code_answer=code_answer,
            problem=problem,
            code_unit=code_unit.code if code_unit else None,
            email_unit=email_unit,
            issue=issue,
        )

    if code_answer:
        by_code = _find_unit(code_answer, roster)
        if by_code is None:
            if by_email is not None:
                return refused("unknown", codes.UNKNOWN_UNIT_FORM_CODE_EMAIL_KNOWN)
            return refused("unknown", codes.UNKNOWN_UNIT_FORM_CODE)
        if by_email is not None and by_email.code != by_code.code:
            # Either the code or the address is wrong; recording it under either unit could overwrite
            # another unit's report, so nothing is recorded until the respondent says which.
            return refused("mismatch", codes.UNKNOWN_UNIT_FORM_MISMATCH, code_unit=by_code, email=email)
        return _Identity(unit=by_code, code_answer=code_answer, code_unit=by_code.code, email_unit=email_unit)
    if by_email is not None:
        return _Identity(unit=by_email, code_answer=None, email_unit=email_unit)
    if email:
        return refused("unknown", codes.UNKNOWN_UNIT_FORM_NO_CODE, email=email)
    return refused("unknown", codes.UNKNOWN_UNIT_FORM_NO_CODE_NO_EMAIL)


def source_of(payload: FormResponsePayload) -> str:
    return f"form:{payload.form_id}:{payload.response_id}"


def _check_payload(payload: FormResponsePayload, campaign: Campaign) -> None:
    if payload.campaign_id != campaign.id:
        raise FormPayloadError(f"payload for campaign {payload.campaign_id!r}, not {campaign.id!r}")
    if payload.deliverable not in {d.key for d in campaign.deliverables}:
        raise FormPayloadError(f"unknown deliverable {payload.deliverable!r}")


def _code_answer(payload: FormResponsePayload, questions: list[FormQuestion]) -> str | None:
    code_title = next(q.title for q in questions if q.role == "unit_code")
    return next(
        (_answer_value(a.value, multi=False) for a in payload.answers if a.title.strip() == code_title), None
    )


def _raw_and_identity(
    payload: FormResponsePayload, campaign: Campaign, roster: Roster
) -> tuple[RawSubmission, _Identity]:
    _check_payload(payload, campaign)
    lang = campaign.language
    questions = form_questions(campaign, payload.deliverable)
    by_title: dict[str, FormQuestion] = {q.title: q for q in questions}
    multi = {
        (table.key, f.key)
        for table in campaign.tables_of(payload.deliverable)
        for f in table.fields
        if f.type == "multi_choice"
    }
    raw = RawSubmission(
        source=source_of(payload),
        source_kind="form",
        status="submitted",
        campaign_id=payload.campaign_id,
        deliverable=payload.deliverable,
    )
    # Every one-record table gets its record even when no answer reached it, so a required question left
    # out of the form (an old form) is reported as missing rather than silently absent.
    tables: dict[str, RawTable] = {}
    for q in questions:
        if q.table is not None and q.table not in tables:
            title = campaign.form_spec.table(q.table).title(lang)
            tables[q.table] = RawTable(key=q.table, sheet=title, records=[RawRecord(row=None)])
    for answer in payload.answers:
        q = by_title.get(answer.title.strip())
        if q is None:
            raw.issues.append(
                make_issue(codes.UNKNOWN_COLUMN_FORM_QUESTION, lang, column=answer.title, value=answer.title)
            )
            continue
        if q.table is None or q.field is None:  # the unit-code question
            continue
        rt = tables[q.table]
        rt.records[0].cells[q.field] = RawCell(value=_answer_value(answer.value, (q.table, q.field) in multi))
        rt.columns[q.field] = q.title
    raw.tables = tables
    identity = _identify(_code_answer(payload, questions), payload.respondent_email, campaign, roster)
    if identity.issue is not None:
        raw.issues.append(identity.issue)
    if identity.unit is not None:
        raw.unit_code, raw.unit_name = identity.unit.code, identity.unit.name
    return raw, identity


def _answers_digest(payload: FormResponsePayload) -> str:
    """Google keeps the response id when a respondent edits a response; an edit is new content."""
    data = payload.model_dump(mode="json", include={"form_id", "deliverable", "respondent_email", "answers"})
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def claim_key(payload: FormResponsePayload) -> str:
    return f"{CLAIM_PREFIX}{payload.response_id}/{_answers_digest(payload)}"


def _aware(when: dt.datetime, campaign: Campaign) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=campaign.tz)


def ingest_form_response(app: App, payload: FormResponsePayload, *, now: dt.datetime) -> FormIntakeResult:
    """Ingest one response once; a repeated delivery gets the first delivery's answer.

    Raises FormPayloadError for a payload not meant for this campaign, FormIntakeBusy while another
    delivery of the same response is being ingested.
    """
    raw, identity = _raw_and_identity(payload, app.campaign, app.roster)
    key = claim_key(payload)
    if not app.store.claim(key, {"response_id": payload.response_id}, at=now):
        earlier = _earlier_result(app, key, now)
        if earlier is not None:
            return earlier
        if not app.store.claim(key, {"response_id": payload.response_id}, at=now):
            raise FormIntakeBusy(f"response {payload.response_id} is being ingested by another delivery")
    try:
        result = _ingest(app, payload, raw, identity, now=now)
    except BaseException:
        # Nothing was recorded for this delivery: let the sender's retry do it again.
        app.store.release(key)
        raise
    app.store.update_claim(key, result.model_dump(mode="json"))
    return result


def _earlier_result(app: App, key: str, now: dt.datetime) -> FormIntakeResult | None:
    """The answer an earlier delivery recorded; None when its stale claim was released for this one."""
    claim = next((c for c in app.store.claims(key) if c.key == key), None)
    if claim is None:
        return None  # released between our claim attempt and this look-up
    if "report" in claim.payload:
        earlier = FormIntakeResult.model_validate(claim.payload)
        return earlier.model_copy(update={"duplicate": True})
    if now - claim.claimed_at < STALE_CLAIM:
        raise FormIntakeBusy(f"response {claim.payload.get('response_id')} is being ingested")
    app.store.release(key)
    return None


def _ingest(
    app: App, payload: FormResponsePayload, raw: RawSubmission, identity: _Identity, *, now: dt.datetime
) -> FormIntakeResult:
    # The form's own timestamp decides lateness: a delivery retried after the deadline is not late.
    received_at = min(_aware(payload.submitted_at, app.campaign), now)
    peers = PeerStats(app.store, [d.key for d in app.campaign.deliverables])
    # The report the respondent sees is ingest_raw's own: validated once, with the peer figures from
    # before this response was counted.
    outcome = ingest_raw(app, raw, received_at=received_at, now=now, peers=peers)
    report = outcome.report
    assert report is not None  # ingest_raw always reports
    unidentified = raw.unit_code is None
    marker = f"{UNIDENTIFIED_PREFIX}{payload.response_id}"
    if unidentified:
        _record_unidentified(app, payload, identity, report)
    elif app.store.get_meta(marker):
        # An edit of the response named the unit after all: it no longer needs the organiser.
        app.store.set_meta(marker, "")
    return FormIntakeResult(
        response_id=payload.response_id,
        source=raw.source,
        unit=None if unidentified else outcome.unit,
        deliverable=payload.deliverable,
        valid=outcome.valid,
        stored=outcome.stored,
        seq=outcome.seq,
        note="unidentified" if unidentified else cast(IntakeNote, outcome.note),
        unidentified=unidentified,
        report=report,
    )


def _record_unidentified(
    app: App, payload: FormResponsePayload, identity: _Identity, report: ValidationReport
) -> None:
    entry = UnidentifiedResponse(
        response_id=payload.response_id,
        form_id=payload.form_id,
        deliverable=payload.deliverable,
        submitted_at=_aware(payload.submitted_at, app.campaign),
        respondent_email=payload.respondent_email,
        unit_code_answer=identity.code_answer,
        problem=identity.problem or "unknown",
        code_unit=identity.code_unit,
        email_unit=identity.email_unit,
        reasons=[i.message for i in report.errors if i.code == codes.UNKNOWN_UNIT.code],
    )
    app.store.set_meta(f"{UNIDENTIFIED_PREFIX}{payload.response_id}", entry.model_dump_json())


def list_unidentified(app: App) -> list[UnidentifiedResponse]:
    """Responses no unit could be found for (the latest state of each), oldest submission first."""
    out: list[UnidentifiedResponse] = []
    seen: set[str] = set()
    for claim in app.store.claims(CLAIM_PREFIX):
        rid = claim.payload.get("response_id")
        if not claim.payload.get("unidentified") or not isinstance(rid, str) or rid in seen:
            continue
        seen.add(rid)
        text = app.store.get_meta(f"{UNIDENTIFIED_PREFIX}{rid}")
        if text:
            out.append(UnidentifiedResponse.model_validate_json(text))
    return sorted(out, key=lambda u: (u.submitted_at, u.response_id))
