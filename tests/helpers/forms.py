"""Google Form responses as the Apps Script delivers them, for the summary form of the example campaign.

`payload` is the JSON dict the webhook receives (fixed statistics, overridable); `respond` is the
FormResponsePayload the intake service takes, with every kind of answer and the respondent's address.
Both key the answers by the titles the form was built with (`form_questions`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.bootstrap import App
from functions.services.google.form_spec import form_questions
from schemas.webhook import FormResponsePayload

TZ = dt.timezone(dt.timedelta(hours=8))
SUBMITTED = dt.datetime(2022, 12, 9, 9, 30, tzinfo=TZ)
NOW = dt.datetime(2022, 12, 9, 10, 0, tzinfo=TZ)

STATS = {
    "total_sessions": "12",
    "lecture_sessions": "3",
    "training_sessions": "2",
    "total_participants": "3000余",
    "online_participants": "200",
    "filled_by": "李老师",
    "phone": "13912345678",
    "summary_url": "https://example.org/s.docx",
    "photo_count": "6",
}

ANSWERS: dict[str, str | list[str]] = {
    "total_sessions": "12",
    "lecture_sessions": "3",
    "training_sessions": "2",
    "total_participants": "3000余",
    "online_participants": "200",
    "filled_by": "李老师",
    "phone": "13912345678",
    "summary_url": "链接: https://pan.baidu.com/s/1AbC 提取码: x7k2",
    "photo_count": "6",
    "activity_forms": ["线下", "线上"],
    "highlight": "品牌",
    "report_date": "2022-12-08",
}


def payload(app: App, unit_code: str, response_id: str, **over: str) -> dict[str, Any]:
    values = {**STATS, **over}
    answers = []
    for q in form_questions(app.campaign, "summary"):
        if q.role == "unit_code":
            answers.append({"title": q.title, "value": unit_code})
        elif q.field in values:
            answers.append({"title": q.title, "value": values[q.field]})
    return {
        "kind": "form_response",
        "campaign_id": app.campaign.id,
        "deliverable": "summary",
        "form_id": "FORM1",
        "response_id": response_id,
        "submitted_at": NOW.isoformat(),
        "answers": answers,
    }


def respond(
    app: App,
    code: str | None,
    response_id: str,
    *,
    email: str | None = None,
    submitted: dt.datetime = SUBMITTED,
    extra: dict[str, str] | None = None,
    **values: str | list[str],
) -> FormResponsePayload:
    """A payload as the Apps Script sends it: answers keyed by the titles the form was built with."""
    wanted = {**ANSWERS, **values}
    answers: list[dict[str, Any]] = []
    for q in form_questions(app.campaign, "summary"):
        if q.role == "unit_code":
            if code is not None:
                answers.append({"title": q.title, "value": code})
        elif q.field in wanted:
            answers.append({"title": q.title, "value": wanted[q.field]})
    answers += [{"title": t, "value": v} for t, v in (extra or {}).items()]
    return FormResponsePayload.model_validate(
        {
            "campaign_id": app.campaign.id,
            "deliverable": "summary",
            "form_id": "FORM1",
            "response_id": response_id,
            "submitted_at": submitted.isoformat(),
            "respondent_email": email,
            "answers": answers,
        }
    )
