"""Cell level: turn each raw cell into a typed value, or an issue saying what is wrong and where."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from functions.validate import codes
from functions.validate.codes import IssueKind
from functions.validate.lazy_re import LazyPattern
from functions.validate.messages import make_issue
from functions.validate.values import (
    ValueProblem,
    check_phone,
    check_url,
    is_blank,
    parse_date,
    parse_number,
    split_choices,
    to_text,
)
from schemas.formspec import FieldSpec
from schemas.i18n import Language
from schemas.raw import RawCell
from schemas.report import Issue
from schemas.submission import CellValue

_ROW_OF_CELL = LazyPattern(r"(\d+)$")


@dataclass
class CellResult:
    value: CellValue = None
    issues: list[Issue] = field(default_factory=list)
    ok: bool = True  # False when the cell has an error (its value is then unusable)


@dataclass(frozen=True)
class Place:
    sheet: str
    cell: str | None
    row: int | None


def place_of(sheet: str, raw: RawCell | None, fallback_row: int | None) -> Place:
    cell = raw.cell if raw else None
    row = fallback_row
    if cell:
        m = _ROW_OF_CELL.search(cell)
        if m:
            row = int(m.group(1))
    return Place(sheet=sheet, cell=cell, row=row)


def _fmt_bound(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else str(x)


# A formula Excel would accept: a function call, a reference, a number, an operator, a quoted string.
# "=百姓学习之星评选" is none of these: it is text that happened to start with "=".
_FORMULA_SYNTAX = LazyPattern(r"""[()!:+\-*/^&<>=,"'$%\d]""")
_FORMULA_SHOWN = 60  # enough to recognise the formula; a unit's text is not echoed at length


def _typed_text(formula: str) -> bool:
    return formula != "" and _FORMULA_SYNTAX.search(formula) is None


def formula_issue(raw: RawCell, issue: Callable[..., Issue]) -> Issue:
    """What a formula cell gets: error-value (with how to fix text typed after "="), formula-no-value, or
    the formula-used warning when its cached value is used."""
    formula = (raw.formula or "")[:_FORMULA_SHOWN]
    if raw.error is not None:
        if raw.formula is not None and _typed_text(raw.formula):
            return issue(codes.ERROR_VALUE_TYPED_TEXT, value=raw.error, formula=formula)
        return issue(codes.ERROR_VALUE, value=raw.error, formula=formula)
    if raw.value is None:
        return issue(codes.FORMULA_NO_VALUE, formula=formula)
    return issue(codes.FORMULA_USED, value=to_text(raw.value), formula=formula)


def read_cell(
    spec: FieldSpec,
    raw: RawCell | None,
    where: Place,
    lang: Language,
    default_year: int,
    example_date: str = "",
    example_phone: str = "",
) -> CellResult:
    """`example_date` / `example_phone`: what a bad date or phone is told to look like, from the campaign
    (its week, the organiser's area code), so no unit reads another city's examples."""
    label = spec.label(lang)
    value = raw.value if raw else None

    def issue(kind: IssueKind, **params: object) -> Issue:
        return make_issue(
            kind, lang, sheet=where.sheet, cell=where.cell, row=where.row, column=label, **params
        )

    formula = raw.formula if raw else None
    if raw is not None and (raw.error is not None or formula is not None):
        shown = formula_issue(raw, issue)
        if shown.severity == "error":
            # An error value or an uncalculated formula is never data: not stored, never a blank either.
            return CellResult(None, [shown], ok=False)
        out = read_cell(
            spec,
            raw.model_copy(update={"formula": None}),
            where,
            lang,
            default_year,
            example_date,
            example_phone,
        )
        out.issues.insert(0, shown)
        return out

    if is_blank(value):
        if spec.required:
            return CellResult(None, [issue(codes.MISSING_VALUE)], ok=False)
        return CellResult(None)

    try:
        if spec.type in ("integer", "number"):
            parsed = parse_number(value, integer=spec.type == "integer")
            out = CellResult(parsed.value)
            if parsed.approximate:
                out.issues.append(issue(codes.APPROXIMATE_NUMBER, value=to_text(value), number=parsed.value))
            lo, hi = spec.min, spec.max
            num = parsed.value
            assert isinstance(num, int | float)
            if (lo is not None and num < lo) or (hi is not None and num > hi):
                out.issues.append(
                    issue(codes.OUT_OF_RANGE, value=num, min=_fmt_bound(lo), max=_fmt_bound(hi))
                )
                out.ok = False
            return out
        if spec.type == "date":
            parsed = parse_date(
                value, default_year=default_year, number_format=raw.number_format if raw else None
            )
            return CellResult(parsed.value)
        if spec.type == "phone":
            return CellResult(check_phone(value))
        if spec.type == "url":
            return CellResult(check_url(value))
    except ValueProblem as problem:
        if problem.code == codes.BAD_PHONE.code:
            example = example_phone or "13912345678"
        else:
            example = example_date or f"{default_year}-12-03"
        return CellResult(
            None, [issue(codes.CODES[problem.code], value=to_text(value), example=example)], ok=False
        )

    text = to_text(value)
    if spec.type == "serial":
        return CellResult(text)
    if spec.type == "choice":
        if text not in spec.choices:
            return CellResult(
                None, [issue(codes.BAD_CHOICE, value=text, choices="、".join(spec.choices))], ok=False
            )
        return CellResult(text)
    if spec.type == "multi_choice":
        picked = split_choices(value)
        bad = [p for p in picked if p not in spec.choices]
        if bad:
            return CellResult(
                None,
                [issue(codes.BAD_CHOICE, value="、".join(bad), choices="、".join(spec.choices))],
                ok=False,
            )
        return CellResult(picked)
    if spec.max_length is not None and len(text) > spec.max_length:
        return CellResult(
            text, [issue(codes.TOO_LONG, value=text, max=spec.max_length, length=len(text))], ok=False
        )
    return CellResult(text)
