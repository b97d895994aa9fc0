"""The help a unit sees for a field, the same in the xlsx (input message, help column) and the Google
Sheet (header note): whether it is required, the form spec's help, and what the field's type expects."""

from __future__ import annotations

from schemas.campaign import Campaign, Week
from schemas.formspec import FieldSpec
from schemas.i18n import t


def field_hint(field: FieldSpec, campaign: Campaign, window: Week | None = None) -> str:
    """`window`: the unit's own dates when its type has one (campaign.windows), else the week."""
    lang = campaign.language
    parts: list[str] = []
    if field.required:
        parts.append(t(lang, "必填。", "Required."))
    if field.help(lang):
        parts.append(field.help(lang))
    if field.type == "integer":
        parts.append(t(lang, "填整数，不要写“余”“多”等字。", "A whole number only."))
    elif field.type == "date":
        w = window or campaign.week
        parts.append(
            t(lang, f"活动时间：{w.start:%Y-%m-%d} 至 {w.end:%Y-%m-%d}。", f"Dates: {w.start} to {w.end}.")
            if w is not campaign.week
            else t(
                lang, f"活动周：{w.start:%Y-%m-%d} 至 {w.end:%Y-%m-%d}。", f"The week: {w.start} to {w.end}."
            )
        )
    elif field.type == "multi_choice":
        parts.append(t(lang, "可选：", "Choices: ") + "、".join(field.choices))
    elif field.type == "url":
        parts.append(t(lang, "以 http:// 或 https:// 开头的链接。", "A link starting with http(s)://."))
    return " ".join(parts)
