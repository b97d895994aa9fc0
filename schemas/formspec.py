"""The form spec: every table a unit fills and every field in it, defined once.

The xlsx template, the validator, the master's columns and the Google Sheet/Form are all derived
from a :class:`FormSpec`; nothing else in the code base lists columns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.i18n import LANGUAGES, Language, t

FieldType = Literal["text", "integer", "number", "date", "choice", "multi_choice", "phone", "url", "serial"]
TableKind = Literal["rows", "record"]

# Separators people use between several choices in one cell: 、 , ， ; ；
MULTI_SEPARATORS = "、,，;；/"


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label_zh: str
    label_en: str
    type: FieldType = "text"
    required: bool = False
    choices: list[str] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    help_zh: str = ""
    help_en: str = ""
    width: int | None = None
    # Whether the master sums this field in subtotal rows (statistics).
    summable: bool = False
    # Unit types (roster names) for which an optional field is required (issue 12: a notice may ask
    # 开放学习场所数 of venues only). `required: true` means every unit; see FormSpec.for_unit_type.
    required_for: list[str] = Field(default_factory=list)

    def label(self, lang: Language) -> str:
        return t(lang, self.label_zh, self.label_en)

    def help(self, lang: Language) -> str:
        return t(lang, self.help_zh, self.help_en)

    @model_validator(mode="after")
    def _choices_need_choice_type(self) -> FieldSpec:
        if self.type in ("choice", "multi_choice") and not self.choices:
            raise ValueError(
                t(
                    None,
                    f"字段 {self.key}：类型 {self.type} 需要 choices（可选项）",
                    f"field {self.key}: type {self.type} needs choices",
                )
            )
        return self


class TableSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title_zh: str = Field(max_length=31)
    title_en: str = Field(max_length=31)
    kind: TableKind
    fields: list[FieldSpec]
    help_zh: str = ""
    help_en: str = ""

    def title(self, lang: Language) -> str:
        return t(lang, self.title_zh, self.title_en)

    def help(self, lang: Language) -> str:
        return t(lang, self.help_zh, self.help_en)

    def field(self, key: str) -> FieldSpec:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(f"{self.key}.{key}")

    def has_field(self, key: str) -> bool:
        return any(f.key == key for f in self.fields)

    @model_validator(mode="after")
    def _unique_keys(self) -> TableSpec:
        keys = [f.key for f in self.fields]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(
                t(
                    None,
                    f"表 {self.key}：字段 key 重复 {sorted(dupes)}",
                    f"table {self.key}: duplicate field keys {sorted(dupes)}",
                )
            )
        for lang in LANGUAGES:
            labels = [f.label(lang) for f in self.fields]
            dl = {x for x in labels if labels.count(x) > 1}
            if dl:
                raise ValueError(
                    t(
                        None,
                        f"表 {self.key}：列名重复 {sorted(dl)}",
                        f"table {self.key}: duplicate labels {sorted(dl)}",
                    )
                )
        return self


class FormSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tables: list[TableSpec]

    def table(self, key: str) -> TableSpec:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(key)

    def has_table(self, key: str) -> bool:
        return any(table.key == key for table in self.tables)

    def required_for_paths(self) -> list[tuple[str, list[str]]]:
        """("table.field", unit types) for every field required for some unit types only."""
        return [
            (f"{tb.key}.{f.key}", f.required_for) for tb in self.tables for f in tb.fields if f.required_for
        ]

    def for_unit_type(self, unit_type: str | None) -> FormSpec:
        """This spec as a unit of `unit_type` fills it: `required_for` its type made `required`.

        Without a unit (an unknown sender) nothing is added: an error must name a rule that applies.
        """
        if unit_type is None or not any(f.required_for for tb in self.tables for f in tb.fields):
            return self
        spec = self.model_copy(deep=True)
        for tb in spec.tables:
            for f in tb.fields:
                if unit_type in f.required_for:
                    f.required = True
        return spec


# Fields the validator's rules read by name and cannot do without: hiding one would silently turn a
# rule off, so `hidden: true` on them is refused (the default spec's required fields are refused too).
_NOT_HIDEABLE = {"activities.category", "activities.free"}


class FieldOverride(BaseModel):
    """What an organiser may change on an existing field from the campaign file."""

    model_config = ConfigDict(extra="forbid")

    label_zh: str | None = None
    label_en: str | None = None
    help_zh: str | None = None
    help_en: str | None = None
    add_choices: list[str] = Field(default_factory=list)
    required: bool | None = None
    required_for: list[str] | None = None
    # Left out of every template, form, check and master column (a statistic the notice does not ask).
    hidden: bool = False
    min: float | None = None
    max: float | None = None


class FormCustomisation(BaseModel):
    """`form:` in campaign.yaml. Keys of `fields` are "<table key>.<field key>"."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, FieldOverride] = Field(default_factory=dict)
    extra_fields: dict[str, list[FieldSpec]] = Field(default_factory=dict)

    def apply(self, base: FormSpec) -> FormSpec:
        spec = base.model_copy(deep=True)
        hidden: list[tuple[str, str]] = []
        for path, ov in self.fields.items():
            table_key, _, field_key = path.partition(".")
            if not spec.has_table(table_key) or not spec.table(table_key).has_field(field_key):
                raise ValueError(
                    t(
                        None,
                        f"form.fields.{path}：没有这个“表.字段”",
                        f"form.fields.{path}: no such table.field",
                    )
                )
            f = spec.table(table_key).field(field_key)
            if ov.hidden:
                if f.required or path in _NOT_HIDEABLE:
                    raise ValueError(
                        t(
                            None,
                            f"form.fields.{path}.hidden：“{f.label_zh}”是必填项或校验规则要用的列，不能隐藏",
                            f"form.fields.{path}.hidden: {f.label_en!r} is required or read by a check; "
                            "it cannot be hidden",
                        )
                    )
                hidden.append((table_key, field_key))
                continue
            for attr in (
                "label_zh",
                "label_en",
                "help_zh",
                "help_en",
                "required",
                "required_for",
                "min",
                "max",
            ):
                val = getattr(ov, attr)
                if val is not None:
                    setattr(f, attr, val)
            for c in ov.add_choices:
                if c not in f.choices:
                    f.choices.append(c)
        for table_key, extra in self.extra_fields.items():
            if not spec.has_table(table_key):
                raise ValueError(
                    t(
                        None,
                        f"form.extra_fields.{table_key}：没有这个表",
                        f"form.extra_fields.{table_key}: no such table",
                    )
                )
            table = spec.table(table_key)
            for f in extra:
                # Added columns may be required (issue 12): a workbook made from an older template
                # then lacks the column and gets a missing-column error naming it, which is the point.
                if table.has_field(f.key):
                    raise ValueError(
                        t(
                            None,
                            f"form.extra_fields.{table_key}.{f.key}：字段已存在",
                            f"form.extra_fields.{table_key}.{f.key}: field exists already",
                        )
                    )
                table.fields.append(f)
        for table_key, field_key in hidden:
            table = spec.table(table_key)
            table.fields = [f for f in table.fields if f.key != field_key]
        # Re-validate so duplicate labels introduced by a rename are caught here.
        return FormSpec.model_validate(spec.model_dump())
