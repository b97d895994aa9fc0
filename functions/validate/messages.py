"""An issue from a kind of the registry (functions/validate/codes.py): its severity and its message,
rendered in the campaign's language from the params the emitting check gives."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from functions.validate.codes import IssueKind
from schemas.i18n import Language
from schemas.report import Issue


def render(kind: IssueKind, lang: Language, **params: Any) -> str:
    """The kind's message in `lang`: fragments first (they may use the params), then the message."""
    values: defaultdict[str, str] = defaultdict(
        str, {k: "" if v is None else str(v) for k, v in params.items()}
    )
    for name, fragment in kind.fragments.items():
        values[name] = fragment(lang).format_map(values)
    return kind.message(lang).format_map(values)


def make_issue(
    kind: IssueKind,
    lang: Language,
    *,
    sheet: str | None = None,
    cell: str | None = None,
    row: int | None = None,
    column: str | None = None,
    value: Any = None,
    **params: Any,
) -> Issue:
    shown = None if value is None else _show(value)
    return Issue(
        code=kind.code,
        severity=kind.severity,
        sheet=sheet,
        cell=cell,
        row=row,
        column=column,
        value=shown,
        message=render(kind, lang, column=column, value=shown, sheet=sheet, **params),
    )


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    return text if len(text) <= 200 else text[:199] + "…"
