"""Google Form responses as submissions: mapping, the unit, one version per response, the organiser's list."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from functions.bootstrap import App, open_app
from functions.services.intake.form_responses import (
    CLAIM_PREFIX,
    FormIntakeBusy,
    FormPayloadError,
    claim_key,
    ingest_form_response,
    list_unidentified,
)
from schemas.roster import Unit
from tests.helpers.campaigns import EXTRA_FIELDS_YAML, GOOGLE_YAML, customise
from tests.helpers.forms import ANSWERS, NOW, SUBMITTED, respond


@pytest.fixture
def app(wujin_dir: Path) -> App:
    return open_app(customise(wujin_dir, GOOGLE_YAML, EXTRA_FIELDS_YAML))


def _unit(app: App, i: int = 0) -> Unit:
    return [u for u in app.roster.units if u.type == "镇（街道）社区教育中心"][i]


def test_a_response_becomes_a_version_with_its_values_and_report(app: App) -> None:
    unit = _unit(app)
    result = ingest_form_response(app, respond(app, unit.code, "R1", email=unit.emails[0]), now=NOW)
    assert (result.unit, result.stored, result.seq, result.duplicate, result.unidentified) == (
        unit.code,
        True,
        1,
        False,
        False,
    )
    assert result.valid and result.note == ""

    [version] = app.store.history(unit.code, "summary")
    assert (version.source_kind, version.source, version.received_at, version.late) == (
        "form",
        "form:FORM1:R1",
        SUBMITTED,
        False,
    )
    stats, materials = version.tables["statistics"][0], version.tables["summary_materials"][0]
    assert (stats["total_sessions"], stats["total_participants"], stats["phone"]) == (12, 3000, "13912345678")
    assert stats["volunteers"] is None  # not answered
    assert materials["activity_forms"] == ["线下", "线上"]
    assert materials["report_date"] == dt.date(2022, 12, 8)
    assert (materials["highlight"], materials["photo_count"]) == ("品牌", 6)
    assert materials["summary_url"] == ANSWERS["summary_url"]

    # The approximate number is reported as in a workbook, named by the question's title.
    [approx] = [w for w in result.report.warnings if w.code == "approximate-number"]
    assert approx.column == "参与总人次" and approx.value == "3000余" and "已按 3000 计入" in approx.message
    saved = json.loads((app.paths.reports / f"{unit.code}-summary.json").read_text(encoding="utf-8"))
    assert saved == result.report.model_dump(mode="json")
    assert "3000余" in (app.paths.reports / f"{unit.code}-summary.txt").read_text(encoding="utf-8")
    assert version.report.warnings == result.report.warnings


def test_problems_in_answers_reach_the_report(app: App) -> None:
    unit = _unit(app)
    payload = respond(
        app,
        unit.code,
        "R1",
        total_sessions="1",
        lecture_sessions="3",
        photo_count="2",
        extra={"你的姓名": "李"},
    )
    result = ingest_form_response(app, payload, now=NOW)
    assert result.stored and not result.valid  # stored with its errors, as a workbook would be
    codes = {i.code for i in result.report.errors}
    assert {"parts-exceed-total", "too-few-photos"} <= codes
    [ignored] = [w for w in result.report.warnings if w.code == "unknown-column"]
    assert ignored.message == "问题“你的姓名”不是报送表单中的问题，其回答已忽略。"


def test_the_same_response_twice_makes_one_version(app: App) -> None:
    unit = _unit(app)
    first = ingest_form_response(app, respond(app, unit.code, "R1"), now=NOW)
    again = ingest_form_response(app, respond(app, unit.code, "R1"), now=NOW + dt.timedelta(minutes=3))
    assert again.duplicate and not first.duplicate
    assert again.model_dump(exclude={"duplicate"}) == first.model_dump(exclude={"duplicate"})
    assert len(app.store.history(unit.code, "summary")) == 1

    # A later response changes the figures; the first one delivered again must not bring its own back.
    ingest_form_response(app, respond(app, unit.code, "R2", total_sessions="15"), now=NOW)
    late_copy = ingest_form_response(app, respond(app, unit.code, "R1"), now=NOW + dt.timedelta(hours=1))
    assert late_copy.duplicate
    history = app.store.history(unit.code, "summary")
    assert [v.tables["statistics"][0]["total_sessions"] for v in history] == [12, 15]

    # Editing a response keeps its id but is new content: a new version.
    edited = ingest_form_response(app, respond(app, unit.code, "R1", total_sessions="16"), now=NOW)
    assert edited.stored and not edited.duplicate and edited.seq == 3


def test_lateness_follows_the_form_timestamp_not_the_delivery(app: App) -> None:
    unit, other = _unit(app, 0), _unit(app, 1)
    due = app.campaign.due_at("summary")
    delivered_after_due = due + dt.timedelta(hours=2)
    on_time = respond(app, unit.code, "R1", submitted=due - dt.timedelta(minutes=5))
    ingest_form_response(app, on_time, now=delivered_after_due)
    assert app.store.history(unit.code, "summary")[0].late is False
    late = respond(app, other.code, "R2", submitted=due + dt.timedelta(minutes=5))
    ingest_form_response(app, late, now=delivered_after_due)
    assert app.store.history(other.code, "summary")[0].late is True


def test_the_unit_by_email_and_by_a_loosely_typed_code(app: App) -> None:
    unit, other = _unit(app, 0), _unit(app, 1)
    by_email = ingest_form_response(app, respond(app, None, "R1", email=unit.emails[0].upper()), now=NOW)
    assert by_email.unit == unit.code and by_email.stored
    fullwidth = other.code.lower().translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    typed = ingest_form_response(app, respond(app, f" {fullwidth} ", "R2"), now=NOW)
    assert typed.unit == other.code and typed.stored


def test_no_code_and_an_unknown_email(app: App) -> None:
    result = ingest_form_response(app, respond(app, None, "R5", email="who@example.net"), now=NOW)
    assert result.unidentified and not result.stored
    [error] = result.report.errors
    assert error.message.startswith(
        "没有填写单位编码，提交人邮箱 who@example.net 也不在单位名单中，无法确定报送单位"
    )
    assert [u.response_id for u in list_unidentified(app)] == ["R5"]


def test_a_payload_for_another_campaign_or_deliverable(app: App) -> None:
    payload = respond(app, _unit(app).code, "R1")
    with pytest.raises(FormPayloadError):
        ingest_form_response(app, payload.model_copy(update={"campaign_id": "other-2022"}), now=NOW)
    with pytest.raises(FormPayloadError):
        ingest_form_response(app, payload.model_copy(update={"deliverable": "nope"}), now=NOW)
    assert app.store.claims(CLAIM_PREFIX) == []


def test_a_delivery_in_progress_and_one_that_died(app: App) -> None:
    unit = _unit(app)
    payload = respond(app, unit.code, "R1")
    # Another delivery of this response holds the claim and is still working: the sender must retry.
    assert app.store.claim(claim_key(payload), {"response_id": "R1"}, at=NOW - dt.timedelta(seconds=30))
    with pytest.raises(FormIntakeBusy):
        ingest_form_response(app, payload, now=NOW)
    assert app.store.history(unit.code, "summary") == []
    # Minutes later the claim has no result: that delivery died (a Lambda timeout). This one takes over.
    result = ingest_form_response(app, payload, now=NOW + dt.timedelta(minutes=3))
    assert result.stored and not result.duplicate
    assert len(app.store.history(unit.code, "summary")) == 1


def test_a_failed_ingest_lets_the_retry_do_it(app: App) -> None:
    unit = _unit(app)
    payload = respond(app, unit.code, "R1")
    # The report folder cannot be created: the ingest fails after the claim was taken.
    app.paths.out.mkdir(parents=True, exist_ok=True)
    app.paths.reports.write_text("in the way", encoding="utf-8")
    with pytest.raises(OSError):
        ingest_form_response(app, payload, now=NOW)
    assert app.store.claims(CLAIM_PREFIX) == []
    app.paths.reports.unlink()
    result = ingest_form_response(app, payload, now=NOW)
    assert result.stored and not result.duplicate


def test_the_webhook_answers_a_delivery_in_progress_with_503(app: App) -> None:
    from functions.services.intake.form_webhook import BUSY_RETRY_SECONDS, handle_webhook
    from functions.services.intake.signature import HEADER, sign

    secret = b"a-webhook-secret-of-enough-length-0123"
    unit = _unit(app)
    payload = respond(app, unit.code, "R7")
    body = payload.model_dump_json().encode()
    headers = {HEADER: sign(secret, body, timestamp=int(NOW.timestamp()))}
    assert app.store.claim(claim_key(payload), {"response_id": "R7"}, at=NOW - dt.timedelta(seconds=5))
    busy = handle_webhook(app, body=body, headers=headers, secret=secret, now=NOW)
    assert (
        busy.status == 503 and busy.body["code"] == "busy" and busy.body["retry_after"] == BUSY_RETRY_SECONDS
    )
    assert "正在处理中" in busy.body["error"] and busy.versions == []
    assert app.store.history(unit.code, "summary") == []
