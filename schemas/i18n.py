"""The one language switch: every organiser- or unit-facing text comes in Chinese and English.

This module sits below every layer (schemas, validation, services, adapters, CLI, templates) and imports
nothing from the project, so any module may use it. A text is chosen with :func:`t`; nowhere else tests
``lang == "en"``.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, NamedTuple, cast

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

_WEEKDAYS_ZH = "一二三四五六日"


def t(lang: Language | None, zh: str, en: str) -> str:
    """The text in `lang`; with None (the language is not known yet, e.g. campaign.yaml did not parse)
    both, Chinese first, so whoever reads it can."""
    if lang is None:
        return zh if zh == en else f"{zh} / {en}"
    return en if lang == "en" else zh


class Text(NamedTuple):
    """A text in both languages, for tables of texts (e.g. the validation codes' messages)."""

    zh: str
    en: str

    def __call__(self, lang: Language | None) -> str:
        return t(lang, self.zh, self.en)


def language_of(value: object) -> Language | None:
    """`value` if it names a language, else None: for raw configuration read before validation."""
    return cast(Language, value) if value in LANGUAGES else None


def month_day(lang: Language, d: dt.date) -> str:
    return t(lang, f"{d.month}月{d.day}日", d.strftime("%d %B").lstrip("0"))


def full_date(lang: Language, d: dt.date) -> str:
    return t(
        lang,
        f"{d.year}年{d.month}月{d.day}日（星期{_WEEKDAYS_ZH[d.weekday()]}）",
        f"{d.strftime('%A')} {d.day} {d.strftime('%B %Y')}",
    )


STATE_LABELS: dict[str, tuple[str, str]] = {
    "valid": ("已通过", "valid"),
    "errors": ("有错误", "has errors"),
    "draft": ("已填写未提交", "draft"),
    "missing": ("未报送", "missing"),
}


def state_label(lang: Language, state: str, late: bool = False) -> str:
    zh, en = STATE_LABELS[state]
    text = t(lang, zh, en)
    if late:
        text += t(lang, "（逾期）", " (late)")
    return text
