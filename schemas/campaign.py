"""campaign.yaml: everything an organiser decides, validated before anything runs."""

from __future__ import annotations

import datetime as dt
import re
from functools import cached_property
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.attachments import FILE_KIND_ALIASES, FILE_KINDS, AttachmentRule, canonical_kind
from schemas.formspec import FormCustomisation, FormSpec, TableSpec
from schemas.google import GoogleSettings
from schemas.i18n import Language, t
from schemas.mail_intake import MailIntakeSettings

EMAIL_PATTERN = r"^[^@\s;,]+@[^@\s;,]+\.[A-Za-z0-9-]{2,}$"


def is_plain_address(text: str) -> bool:
    """A bare address that a mail header parses back to itself (issue 11 §2.9).

    The pattern alone admits `a<b@example.org` or `a:b@example.org`, which the mail library reads as
    `b@example.org`, and `a(b@example.org`, read as `a`: the message would go to someone else.
    """
    import re
    from email.utils import parseaddr

    return bool(re.match(EMAIL_PATTERN, text)) and parseaddr(text) == ("", text)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Organiser(_Strict):
    name: str
    emails: list[str] = Field(min_length=1)
    phone: str = ""
    contact: str = ""
    address: str = ""

    @field_validator("emails")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        for e in v:
            if not is_plain_address(e):
                raise ValueError(t(None, f"不是有效的邮箱地址：{e!r}", f"not an email address: {e!r}"))
        return v


class Person(_Strict):
    """Someone who signs in to the organiser's console (issue 15): an organiser sees every unit, a
    coordinator only the units of their areas (the roster's area column, e.g. 湖塘镇)."""

    name: str = Field(min_length=1, max_length=100)
    email: str
    role: Literal["organiser", "coordinator"]
    areas: list[str] = Field(default_factory=list)

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not is_plain_address(v):
            raise ValueError(t(None, f"不是有效的邮箱地址：{v!r}", f"not an email address: {v!r}"))
        # Sign-in compares addresses without case: Wang@x.org and wang@x.org are one person.
        return v.lower()

    @model_validator(mode="after")
    def _areas_match_role(self) -> Person:
        if self.role == "coordinator" and not self.areas:
            raise ValueError(t(None, f"协调人 {self.name} 没有填写 areas（负责的镇街，须与名单“所属镇街”一致）",
                               f"coordinator {self.name} has no areas (the roster's area names they cover)"))  # fmt: skip
        if self.role == "organiser" and self.areas:
            raise ValueError(t(None, f"组织方 {self.name} 可查看全部单位，不应填写 areas；只看部分镇街请用 role: coordinator",
                               f"organiser {self.name} sees every unit: remove areas, or use role: coordinator"))  # fmt: skip
        return self


class Week(_Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _order(self) -> Week:
        if self.end < self.start:
            raise ValueError(t(None, "week.end 早于 week.start", "week.end is before week.start"))
        return self


class Deliverable(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title_zh: str
    title_en: str = ""
    due: dt.date
    due_time: dt.time = dt.time(23, 59, 59)
    tables: list[str] = Field(min_length=1)
    # Unit types (names as in the roster) it applies to; empty = every unit.
    unit_types: list[str] = Field(default_factory=list)
    what_to_send_zh: str = ""
    what_to_send_en: str = ""
    # Evidence files the deliverable asks for (issue 12 §4); checked against each other by the campaign.
    attachments: list[AttachmentRule] = Field(default_factory=list)

    def title(self, lang: Language) -> str:
        return t(lang, self.title_zh, self.title_en or self.title_zh)

    def what_to_send(self, lang: Language) -> str:
        return t(lang, self.what_to_send_zh, self.what_to_send_en)

    def applies_to(self, unit_type: str) -> bool:
        return not self.unit_types or unit_type in self.unit_types


class UnitType(_Strict):
    name: str
    name_en: str = ""
    description: str = ""


class RequiredActivitiesRule(_Strict):
    """四个一: each item must appear in the plan, by 活动类别 or in the activity name."""

    items: list[str] = Field(default_factory=list)
    unit_types: list[str] = Field(default_factory=list)
    # What the notice calls this rule (e.g. 场馆开放), shown in 填写说明 next to the items.
    description: str = ""


class FreeClassRule(_Strict):
    unit_types: list[str] = Field(default_factory=list)
    description: str = ""


def _one_rule_as_list(v: object) -> object:
    """Campaign files written before rules became lists give one mapping: it is a one-rule list.

    An empty value (`required_activities:` with nothing after it) means no rule, not a rule with no items.
    """
    if v is None:
        return []
    if isinstance(v, dict):
        return [v]
    return v


class OutlierRule(_Strict):
    # Warn when a unit's participants per activity (or per session) exceed this multiple of the median
    # of the units of its own type; with fewer than min_peers such units, of all units.
    ratio: float = 5.0
    min_peers: int = 5


class Rules(_Strict):
    # Lists since issue 12: a notice may ask 场馆开放 of venues and 智能设备培训 of 老年大学 at once.
    required_activities: list[RequiredActivitiesRule] = Field(default_factory=list)
    free_class: list[FreeClassRule] = Field(default_factory=list)
    photo_minimum: int = Field(default=5, ge=0)
    # Days around the week in which an activity date is only a warning.
    grace_days: int = Field(default=2, ge=0)
    # Warn when the summary reports fewer than this share of the activities planned.
    fewer_than_planned_ratio: float = Field(default=0.5, ge=0, le=1)
    outlier: OutlierRule = Field(default_factory=OutlierRule)

    @field_validator("required_activities", "free_class", mode="before")
    @classmethod
    def _single_rule(cls, v: object) -> object:
        return _one_rule_as_list(v)

    def required_items_for(self, unit_type: str) -> list[str]:
        """Every item the unit type's rules ask for, each once, in the order the file lists them."""
        items: list[str] = []
        for rule in self.required_activities:
            if unit_type in rule.unit_types:
                items.extend(i for i in rule.items if i not in items)
        return items

    def needs_free_class(self, unit_type: str) -> bool:
        return any(unit_type in rule.unit_types for rule in self.free_class)


def _sorted_offsets(v: list[int]) -> list[int]:
    return sorted(set(v))


class DeliverableReminders(_Strict):
    """Per-deliverable override (reminders.deliverables.<key>): e.g. fewer steps for a summary."""

    offsets: list[int] | None = None
    stop_after_days: int | None = Field(default=None, ge=0)

    @field_validator("offsets")
    @classmethod
    def _sorted(cls, v: list[int] | None) -> list[int] | None:
        return None if v is None else _sorted_offsets(v)


class ConsolidateSettings(_Strict):
    """What the master's totals and its summary paragraph count (issue 10, item 3)."""

    # valid: only submissions that passed validation, so a figure an organiser signs never includes a
    # cell that failed; all: every submitted one, units with errors marked incomplete.
    count: Literal["valid", "all"] = "valid"


class ReminderPolicy(_Strict):
    # Days relative to the due date: negative before, 0 the due day, positive after.
    offsets: list[int] = Field(default_factory=lambda: [-3, -1, 0, 1, 3, 5])
    hour: int = Field(default=9, ge=0, le=23)
    errors_listed: int = Field(default=5, ge=0)
    digest: bool = True
    # No reminder after due + N days (a unit 41 days late is the organiser's call, not a robot's).
    # None = the last offset.
    stop_after_days: int | None = Field(default=None, ge=0)
    # A claim still at "sending" after this long was interrupted (a kill, a full disk): it is reported
    # as uncertain and never resent automatically (see docs/guide-zh.md, 催报).
    sending_timeout_minutes: int = Field(default=30, ge=1)
    # Copy each unit's reminders to the coordinators of its area (people: role coordinator; issue 15).
    cc_coordinator: bool = False
    deliverables: dict[str, DeliverableReminders] = Field(default_factory=dict)

    @field_validator("offsets")
    @classmethod
    def _sorted(cls, v: list[int]) -> list[int]:
        return _sorted_offsets(v)

    def offsets_for(self, deliverable_key: str) -> list[int]:
        override = self.deliverables.get(deliverable_key)
        if override is not None and override.offsets is not None:
            return override.offsets
        return self.offsets

    def stop_after_for(self, deliverable_key: str) -> int | None:
        """Days after the due date past which nothing is sent; None when there is no step at all."""
        override = self.deliverables.get(deliverable_key)
        if override is not None and override.stop_after_days is not None:
            return override.stop_after_days
        if self.stop_after_days is not None:
            return self.stop_after_days
        offsets = self.offsets_for(deliverable_key)
        return max(0, offsets[-1]) if offsets else None


class SmtpSettings(_Strict):
    host: str
    port: int = 465
    security: Literal["ssl", "starttls", "none"] = "ssl"
    user: str = ""
    password_env: str = "HUIZONG_SMTP_PASSWORD"
    timeout: float = 30.0


class SesSettings(_Strict):
    # SES is not offered in every region (not in Hong Kong); Singapore is the usual choice nearby.
    region: str = "ap-southeast-1"
    configuration_set: str = ""
    rate_per_second: float = 1.0


class MailSettings(_Strict):
    transport: Literal["outbox", "smtp", "ses"] = "outbox"
    sender: str = "huizong@example.org"
    sender_name: str = ""
    smtp: SmtpSettings | None = None
    ses: SesSettings | None = None

    @model_validator(mode="after")
    def _transport_has_settings(self) -> MailSettings:
        if self.transport == "smtp" and self.smtp is None:
            raise ValueError(
                t(
                    None,
                    "mail.transport 为 smtp，但没有填写 mail.smtp",
                    "mail.transport is smtp but mail.smtp is not set",
                )
            )
        return self


class WebSettings(_Strict):
    """The web form (issue 14): where units open it. When set, each unit's personal link is printed in
    its workbook's 填写说明 and in its reminders."""

    base_url: str = Field(pattern=r"^https?://[^\s?#]+$", max_length=200)


class Submission(_Strict):
    """How units return their workbooks; shown in 填写说明 and in reminders."""

    how_zh: str = "填写完成后，将本工作簿发送至组织方邮箱，或上传至指定文件夹。文件名可任意，系统按工作簿内的单位编码识别。"
    how_en: str = "Send the filled workbook to the organiser's mailbox or drop it into the shared folder."
    max_file_mb: float = Field(default=10, gt=0)

    def how(self, lang: Language) -> str:
        return t(lang, self.how_zh, self.how_en)


class Campaign(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    title: str
    theme: str = ""
    # The notice's own words for the area it covers (全区, 全市, 全县…) and for the roster's area column
    # (所属镇街, 所属区…): every text that says "the whole district" or names the column uses them.
    scope_zh: str = Field(default="全区", min_length=1, max_length=10)
    scope_en: str = Field(default="the district", min_length=1, max_length=40)
    area_label_zh: str = Field(default="所属镇街", min_length=1, max_length=20)
    area_label_en: str = Field(default="Area", min_length=1, max_length=40)
    organiser: Organiser
    timezone: str = "Asia/Shanghai"
    week: Week
    # Per unit type, the dates its activities may fall on when they differ from the week (seed 004: the
    # community centres hold their own week any time in October). Totals still speak of the week.
    windows: dict[str, Week] = Field(default_factory=dict)
    language: Language = "zh"
    deliverables: list[Deliverable] = Field(min_length=1)
    unit_types: list[UnitType] = Field(min_length=1)
    rules: Rules = Field(default_factory=Rules)
    reminders: ReminderPolicy = Field(default_factory=ReminderPolicy)
    consolidate: ConsolidateSettings = Field(default_factory=ConsolidateSettings)
    # The organiser's review loop (issue 15): none: no review; optional: approve/return/waive are
    # offered and shown; required: only approved (已通过) versions count in the master's totals.
    review: Literal["none", "optional", "required"] = "none"
    # Who may sign in to the organiser's console (issue 15); empty: nobody, the console stays closed.
    people: list[Person] = Field(default_factory=list)
    mail: MailSettings = Field(default_factory=MailSettings)
    submission: Submission = Field(default_factory=Submission)
    form: FormCustomisation = Field(default_factory=FormCustomisation)
    google: GoogleSettings | None = None
    # Email intake (issue 16): None when units' mail is not read by huizong.
    mail_intake: MailIntakeSettings | None = None
    web: WebSettings | None = None

    model_config = ConfigDict(extra="forbid", ignored_types=(cached_property,))

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                t(
                    None,
                    f"不认识的时区 {v!r}（如 Asia/Shanghai）",
                    f"unknown time zone {v!r} (e.g. Asia/Shanghai)",
                )
            ) from exc
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Campaign:
        lang = self.language
        keys = [d.key for d in self.deliverables]
        if len(set(keys)) != len(keys):
            raise ValueError(t(lang, "deliverables：材料的 key 重复", "deliverables: duplicate key"))
        type_names = [u.name for u in self.unit_types]
        known_types = t(lang, "、", ", ").join(type_names)
        known_keys = t(lang, "、", ", ").join(keys)
        spec = self.form_spec  # raises on bad customisation
        for d in self.deliverables:
            for ut in d.unit_types:
                if ut not in type_names:
                    raise ValueError(t(
                        lang,
                        f"deliverables.{d.key}.unit_types：单位类型“{ut}”不在 unit_types 中（可用：{known_types}）",
                        f"deliverables.{d.key}.unit_types: unknown unit type {ut!r} (known: {known_types})",
                    ))  # fmt: skip
            for tk in d.tables:
                if not spec.has_table(tk):
                    raise ValueError(t(lang, f"deliverables.{d.key}.tables：没有名为“{tk}”的表",
                                       f"deliverables.{d.key}.tables: unknown table {tk!r}"))  # fmt: skip
        if self.google is not None:
            for name, wanted in (
                ("google.sheet_deliverables", self.google.sheet_deliverables),
                ("google.form_deliverables", self.google.form_deliverables),
            ):
                for k in wanted:
                    if k not in keys:
                        raise ValueError(t(lang, f"{name}：没有材料“{k}”（可用：{known_keys}）",
                                           f"{name}: unknown deliverable {k!r} (known: {known_keys})"))  # fmt: skip
        named_types: list[tuple[str, list[str]]] = [(f"windows.{ut}", [ut]) for ut in self.windows]
        for rule_name, rules in (
            ("rules.required_activities", self.rules.required_activities),
            ("rules.free_class", self.rules.free_class),
        ):
            # One rule keeps the old path in messages; several say which one (counted from 1).
            for i, rule in enumerate(rules, start=1):
                named_types.append((rule_name if len(rules) == 1 else f"{rule_name}[{i}]", rule.unit_types))
        for path, field_name in spec.required_for_paths():
            named_types.append((f"form.fields.{path}.required_for", field_name))
        for rule_name, types in named_types:
            for ut in types:
                if ut not in type_names:
                    raise ValueError(t(
                        lang,
                        f"{_types_path(rule_name)}：单位类型“{ut}”不在 unit_types 中（可用：{known_types}）",
                        f"{_types_path(rule_name)}: unknown unit type {ut!r} (known: {known_types})",
                    ))  # fmt: skip
        return self

    @model_validator(mode="after")
    def _people_unique(self) -> Campaign:
        seen: set[str] = set()
        for i, p in enumerate(self.people):
            if p.email in seen:
                raise ValueError(t(self.language, f"people[{i}]：邮箱 {p.email} 重复，每人一个地址",
                                   f"people[{i}]: {p.email} is listed twice; one entry per person"))  # fmt: skip
            seen.add(p.email)
        return self

    @model_validator(mode="after")
    def _reminder_overrides_known(self) -> Campaign:
        keys = [d.key for d in self.deliverables]
        for k in self.reminders.deliverables:
            if k not in keys:
                known = ", ".join(keys)
                raise ValueError(
                    t(
                        self.language,
                        f"reminders.deliverables.{k}：没有这份材料，应为 deliverables 中的 key 之一：{known}",
                        f"reminders.deliverables.{k}: unknown deliverable; use one of the deliverables' keys: {known}",
                    )
                )
        return self

    @model_validator(mode="after")
    def _attachment_rules(self) -> Campaign:
        # Here rather than on AttachmentRule: only the campaign knows the language to say it in.
        lang = self.language
        sep = t(lang, "、", ", ")
        allowed = sep.join([*FILE_KINDS, *FILE_KIND_ALIASES])
        for d in self.deliverables:
            keys = [r.key for r in d.attachments]
            for i, rule in enumerate(d.attachments):
                where = f"deliverables.{d.key}.attachments[{i}]"
                if rule.key in keys[:i]:  # the second one is the mistake
                    raise ValueError(t(lang, f"{where}.key：附件规则“{rule.key}”重复",
                                       f"{where}.key: duplicate attachment rule {rule.key!r}"))  # fmt: skip
                for kind in rule.types:
                    if canonical_kind(kind) not in FILE_KINDS:
                        raise ValueError(t(
                            lang,
                            f"{where}.types：不认识的文件类型“{kind}”（可用：{allowed}）",
                            f"{where}.types: unknown file type {kind!r} (allowed: {allowed})",
                        ))  # fmt: skip
                if rule.max is not None and rule.min > rule.max:
                    raise ValueError(t(
                        lang,
                        f"{where}：min（{rule.min}）大于 max（{rule.max}）",
                        f"{where}: min ({rule.min}) is greater than max ({rule.max})",
                    ))  # fmt: skip
                if rule.required_unless is not None and (
                    rule.required_unless not in keys or rule.required_unless == rule.key
                ):
                    others = sep.join(k for k in keys if k != rule.key) or t(lang, "（无）", "(none)")
                    raise ValueError(t(
                        lang,
                        f"{where}.required_unless：“{rule.required_unless}”不是本材料的另一条附件规则（可用：{others}）",
                        f"{where}.required_unless: {rule.required_unless!r} is not another attachment rule of "
                        f"this deliverable (known: {others})",
                    ))  # fmt: skip
        return self

    def scope(self, lang: Language) -> str:
        return t(lang, self.scope_zh, self.scope_en)

    def area_label(self, lang: Language) -> str:
        return t(lang, self.area_label_zh, self.area_label_en)

    def window_for(self, unit_type: str | None) -> Week:
        """The dates a unit's activities may fall on: its type's window, else the campaign week."""
        if unit_type is not None and unit_type in self.windows:
            return self.windows[unit_type]
        return self.week

    def form_spec_for(self, unit_type: str | None) -> FormSpec:
        """The form a unit of this type fills: fields `required_for` its type become required."""
        return self.form_spec.for_unit_type(unit_type)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def form_spec(self) -> FormSpec:
        spec = self.form.apply(default_form_spec())
        # Help examples in the campaign's own terms (issue 12: a Wuhan 2021 campaign showed Changzhou's
        # 0519 and 2022 dates). Only these two markers are replaced: help text is never str.format-ed.
        examples = {"{example_date}": self.week.start.isoformat(), "{example_phone}": self.example_phone()}
        for table in spec.tables:
            for f in table.fields:
                for marker, value in examples.items():
                    f.help_zh = f.help_zh.replace(marker, value)
                    f.help_en = f.help_en.replace(marker, value)
        return spec

    def example_phone(self) -> str:
        """A landline in the organiser's area code (from organiser.phone), else a placeholder."""
        m = re.match(r"\s*(0\d{2,3})\D", self.organiser.phone)
        return f"{m.group(1)}-12345678" if m else t(self.language, "区号-电话号码", "area code-number")

    def deliverable(self, key: str) -> Deliverable:
        for d in self.deliverables:
            if d.key == key:
                return d
        raise KeyError(key)

    def tables_of(self, deliverable_key: str, unit_type: str | None = None) -> list[TableSpec]:
        """The deliverable's tables; for a unit type, as that type fills them (`required_for`)."""
        spec = self.form_spec_for(unit_type)
        return [spec.table(k) for k in self.deliverable(deliverable_key).tables]

    def due_at(self, deliverable_key: str) -> dt.datetime:
        d = self.deliverable(deliverable_key)
        return dt.datetime.combine(d.due, d.due_time, tzinfo=self.tz)

    def organiser_contact_line(self) -> str:
        o = self.organiser
        parts = [o.name]
        if o.contact:
            parts.append(o.contact)
        if o.phone:
            parts.append(o.phone)
        parts.append(t(self.language, "、", ", ").join(o.emails))
        return t(self.language, "，", "; ").join(parts)


def _types_path(rule_name: str) -> str:
    """`windows.X` and `form.fields.….required_for` name the list themselves; rules add `.unit_types`."""
    return rule_name if rule_name.startswith(("windows.", "form.fields.")) else f"{rule_name}.unit_types"


_DEFAULT_FORM: FormSpec | None = None
# libyaml's parser when PyYAML has it (the wheels do): the default form is parsed once per process,
# on the first request of every cold start and in every CLI command, and PyYAML's pure-Python scanner
# takes several times longer for its 8 KB. It is the project's own file, so the two parsers' different
# wording of a syntax error never reaches anyone; campaign.yaml keeps the pure parser for its messages.
_PACKAGED_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def default_form_spec() -> FormSpec:
    global _DEFAULT_FORM
    if _DEFAULT_FORM is None:
        text = resources.files("schemas").joinpath("default_form.yaml").read_text(encoding="utf-8")
        _DEFAULT_FORM = FormSpec.model_validate(yaml.load(text, Loader=_PACKAGED_YAML_LOADER))
    return _DEFAULT_FORM.model_copy(deep=True)
