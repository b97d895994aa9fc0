"""The questions of a Google Form, derived from the form spec (never listed by hand).

`huizong google form-spec DIR` prints a :class:`FormSpecExport`; infra/apps_script/Code.gs builds the
form from exactly that JSON, and the form intake maps answers back to fields through the same titles.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.i18n import Language

# Google Forms item types, named as FormApp names them (FormApp.ItemType).
QuestionType = Literal["TEXT", "PARAGRAPH_TEXT", "MULTIPLE_CHOICE", "CHECKBOX", "LIST", "DATE"]
ValidationKind = Literal["number", "whole_number", "url", "regex", "max_length"]
QuestionRole = Literal["unit_code", "field"]


class QuestionValidation(BaseModel):
    """One Google Forms text validation. Forms enforce one rule per question; the server checks all."""

    model_config = ConfigDict(extra="forbid")

    kind: ValidationKind
    min: float | None = None
    max: float | None = None
    # RE2 syntax, matched against the whole answer. For kind "url" a pattern, when given, replaces Forms'
    # strict URL rule (which refuses a link followed by a cloud-drive extraction code).
    pattern: str | None = None
    max_length: int | None = None  # kind "max_length"
    # What the form shows when the answer breaks the rule.
    help_text: str = ""

    @model_validator(mode="after")
    def _has_what_it_needs(self) -> QuestionValidation:
        if self.kind == "regex" and not self.pattern:
            raise ValueError("a regex validation needs a pattern")
        if self.kind == "max_length" and not self.max_length:
            raise ValueError("a max_length validation needs max_length")
        return self


class FormQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1)
    help_text: str = ""
    type: QuestionType
    choices: list[str] = Field(default_factory=list)
    required: bool = False
    validation: QuestionValidation | None = None
    role: QuestionRole = "field"
    # The (table key, field key) the answer fills; None for the unit-code question.
    table: str | None = None
    field: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> FormQuestion:
        if self.role == "field" and (self.table is None or self.field is None):
            raise ValueError(f"question {self.title!r}: a field question names its table and field")
        if self.role == "unit_code" and (self.table is not None or self.field is not None):
            raise ValueError(f"question {self.title!r}: the unit-code question fills no field")
        if self.type in ("MULTIPLE_CHOICE", "CHECKBOX", "LIST") and not self.choices:
            raise ValueError(f"question {self.title!r}: {self.type} needs choices")
        return self


class FormSpecExport(BaseModel):
    """What `huizong google form-spec DIR` prints and what Code.gs buildForm(specJson) reads."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["huizong-form-spec/1"] = "huizong-form-spec/1"
    campaign_id: str
    deliverable: str
    language: Language
    title: str
    description: str
    due: dt.datetime
    questions: list[FormQuestion]
    # Tables of the deliverable a form cannot carry (many-row tables); sent as workbook or sheet.
    tables_not_in_form: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _answers_map_back(self) -> FormSpecExport:
        # Answers come back keyed by title only, so a repeated title or a second code question would
        # make an answer ambiguous.
        titles = [q.title for q in self.questions]
        dupes = sorted({t for t in titles if titles.count(t) > 1})
        if dupes:
            raise ValueError(f"question titles must be unique: {dupes}")
        if sum(q.role == "unit_code" for q in self.questions) != 1:
            raise ValueError("a form spec has exactly one unit-code question")
        return self
