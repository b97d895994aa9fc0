"""Tiny helper for the two languages every organiser- or unit-facing text comes in."""

from __future__ import annotations

import datetime as dt

from schemas.formspec import Language

_WEEKDAYS_ZH = "一二三四五六日"


def t(lang: Language, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def month_day(lang: Language, d: dt.date) -> str:
    return d.strftime("%d %B").lstrip("0") if lang == "en" else f"{d.month}月{d.day}日"


def full_date(lang: Language, d: dt.date) -> str:
    if lang == "en":
        return f"{d.strftime('%A')} {d.day} {d.strftime('%B %Y')}"
    return f"{d.year}年{d.month}月{d.day}日（星期{_WEEKDAYS_ZH[d.weekday()]}）"


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
