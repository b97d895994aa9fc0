"""What the webhook accepts: a Google Form response or a sheet-change ping. Published as JSON Schema
(schemas/webhook.schema.json) for the Apps Script side."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class FormAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(description="The question title as shown in the form")
    value: str | list[str] | None = Field(default=None, description="Text, or several choices")


class FormResponsePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["form_response"] = "form_response"
    campaign_id: str
    deliverable: str
    form_id: str
    response_id: str = Field(description="Google's response id: a response delivered twice has the same id")
    submitted_at: dt.datetime
    respondent_email: str | None = None
    answers: list[FormAnswer]


class SheetChangePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["sheet_change"] = "sheet_change"
    campaign_id: str
    spreadsheet_id: str
    changed_at: dt.datetime


WebhookPayload = Annotated[FormResponsePayload | SheetChangePayload, Field(discriminator="kind")]
WEBHOOK_ADAPTER: TypeAdapter[FormResponsePayload | SheetChangePayload] = TypeAdapter(WebhookPayload)
SCHEMA_PATH = Path(__file__).with_name("webhook.schema.json")


def webhook_json_schema() -> dict[str, object]:
    schema = WEBHOOK_ADAPTER.json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "huizong webhook payload"
    return schema


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(json.dumps(webhook_json_schema(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
