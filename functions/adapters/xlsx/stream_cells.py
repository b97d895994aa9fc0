"""Cell values to SpreadsheetML: the hot path of the streaming xlsx writer.

Text is always an inline string (never a formula; there is no formula support) so memory stays flat;
a text that Excel would take for a formula when re-edited gets the quote-prefix variant of its style.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal

from functions.adapters.xlsx.stream_styles import WRAPPING_STYLES, XF_ATTRS, Variant
from functions.sheet_model import SPREADSHEET_EPOCH, Cell, Style

MAX_COLUMNS = 16_384
MAX_TEXT = 32_767  # Excel's limit, counted in UTF-16 code units
# Excel keeps 15 significant digits; larger integers (ID numbers, long codes) would be silently rounded.
_MAX_EXACT_INT = 10**15
_FORMULA_LEAD = frozenset("=+-@\t\r")
_EDGE_SPACE = frozenset(" \t\n\r")
_DATE_EPOCH = SPREADSHEET_EPOCH.toordinal()

# Anything that needs more than a plain copy: XML specials, characters XML 1.0 forbids (lone surrogates
# cannot even be encoded), CR (an XML parser would turn it into LF) and text Excel would read as _xHHHH_.
# One character class, any underscore standing for _xHHHH_: it scans twice as fast as an alternation with
# the exact pattern, and cleaning and escaping a text with an underscore but no _xHHHH_ changes nothing.
_MAYBE_SPECIAL = re.compile("[&<>\r_\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")


def _letters(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


COLUMN_LETTERS: tuple[str, ...] = tuple(_letters(i) for i in range(MAX_COLUMNS))


def clean_text(text: str) -> str:
    """The text as it will be stored: XML-illegal characters dropped, cut to Excel's 32,767 limit."""
    text = _ILLEGAL.sub("", text)
    if len(text) > MAX_TEXT // 2 and len(text.encode("utf-16-le")) > 2 * MAX_TEXT:
        text = text.encode("utf-16-le")[: 2 * MAX_TEXT].decode("utf-16-le", errors="ignore")
    return text


def _escape(text: str) -> str:
    if "_x" in text:
        text = _EXCEL_ESCAPE.sub(r"_x005F_\1", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _text_tail(text: str, style: Style | str | None) -> str:
    """A text cell's XML after ``<c r="A1`` (it does not depend on where the cell is), or "" for none.

    Only text that could need something goes through the cleaning: _MAYBE_SPECIAL is one character
    class (a cheap scan of the plain CJK text most cells hold); an underscore sends a text to the full
    check, which looks for Excel's _xHHHH_ form and leaves any other underscore as it is."""
    if _MAYBE_SPECIAL.search(text) is not None or len(text) > MAX_TEXT // 2:
        text = clean_text(text)
        body = _escape(text)
    else:
        body = text
    if not text:
        return f'"{XF_ATTRS[style][0]}/>' if style is not None else ""
    variant = Variant.QUOTE if text[0] in _FORMULA_LEAD else Variant.PLAIN
    space = ' xml:space="preserve"' if text[0] in _EDGE_SPACE or text[-1] in _EDGE_SPACE else ""
    return f'"{XF_ATTRS[style][variant]} t="inlineStr"><is><t{space}>{body}</t></is></c>'


def _text_cell(ref: str, text: str, style: Style | str | None) -> str | None:
    tail = _text_tail(text, style)
    return f'<c r="{ref}{tail}' if tail else None


def excel_serial(value: date) -> float | int | None:
    """Days since Excel's 1900 epoch (with its fictitious 1900-02-29); None before 1900-01-01."""
    days = value.toordinal() - _DATE_EPOCH
    if days <= 60:
        days -= 1
    if days < 1:
        return None
    if not isinstance(value, datetime):
        return days
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1_000_000
    return days + seconds / 86_400 if seconds else days


def _other_cell(ref: str, value: object, style: Style | str | None) -> str | None:
    attrs = XF_ATTRS[style]
    if isinstance(value, bool):
        return f'<c r="{ref}"{attrs[0]} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, str):
        return _text_cell(ref, str(value), style)
    if isinstance(value, date):
        return _date_cell(ref, value, style)
    if isinstance(value, numbers.Integral):
        return _int_cell(ref, int(value), style)
    if isinstance(value, numbers.Real | Decimal):
        return _float_cell(ref, float(value), style)
    raise TypeError(f"cannot write a {type(value).__name__} to a cell: {value!r}")


def _date_tail(value: date, style: Style | str | None) -> str:
    # Aware datetimes keep their wall-clock time: the caller converts to the zone it wants shown.
    serial = excel_serial(value)
    if serial is None:
        return _text_tail(value.isoformat(), style)
    variant = Variant.DATETIME if isinstance(value, datetime) else Variant.DATE
    return f'"{XF_ATTRS[style][variant]}><v>{serial!r}</v></c>'


def _date_cell(ref: str, value: date, style: Style | str | None) -> str | None:
    return f'<c r="{ref}{_date_tail(value, style)}'


def _int_cell(ref: str, value: int, style: Style | str | None) -> str:
    if -_MAX_EXACT_INT < value < _MAX_EXACT_INT:
        return f'<c r="{ref}"{XF_ATTRS[style][0]}><v>{value}</v></c>'
    return f'<c r="{ref}"{XF_ATTRS[style][0]} t="inlineStr"><is><t>{value}</t></is></c>'


def _float_cell(ref: str, value: float, style: Style | str | None) -> str | None:
    if math.isfinite(value):
        return f'<c r="{ref}"{XF_ATTRS[style][0]}><v>{value!r}</v></c>'
    return f'<c r="{ref}"{XF_ATTRS[style][0]}/>' if style is not None else None


# `<c r="A` for every column: a cell is then one f-string of that, the row number and the rest.
_HEADS: tuple[str, ...] = tuple(f'<c r="{letters}' for letters in COLUMN_LETTERS)
# The XML after the reference of texts and dates that repeat (a unit's name, type and area on each of its
# activity rows, categories, venues, dates of the campaign week) is kept per style. Bounded so memory
# stays flat: only texts up to _CACHED_TEXT characters, and a style's cache is emptied when it holds
# _CACHE_ENTRIES (unique texts such as activity names then cost one dictionary insertion each). A full
# cache of 64-character CJK texts is about 2 MB; short repeated texts are the ones worth remembering.
_CACHED_TEXT = 64
_CACHE_ENTRIES = 4_096

# A row's wrapping text cells, (0-based column, text), and its number to the row's height in points
# (None: one line).
WrapHeight = Callable[[list[tuple[int, str]], int], float | None]


def _remember_text(cache: dict[object, str], text: str, style: Style | str | None) -> str:
    tail = _text_tail(text, style)
    if len(text) <= _CACHED_TEXT:
        if len(cache) >= _CACHE_ENTRIES:
            cache.clear()
        cache[text] = tail
    return tail


class RowWriter:
    """Rows as ``<row>`` elements; one per sheet, whose repeated values it remembers."""

    __slots__ = ("_caches",)

    def __init__(self) -> None:
        self._caches: dict[Style | str | None, dict[object, str]] = {None: {}}

    def row(
        self,
        row: Sequence[object],
        number: int,
        height: float | None = None,
        wrap_height: WrapHeight | None = None,
    ) -> tuple[str, int]:
        """One ``<row>`` element and the number of columns it spans (0 when every cell is blank).

        ``height`` (points) is set for rows whose wrapped text needs more than one line: neither Excel
        nor LibreOffice grows a row to fit wrapped text when it opens a file. Without one,
        ``wrap_height`` is asked for it with the row's text cells of a wrapping style (if any)."""
        if len(row) > MAX_COLUMNS:
            raise ValueError(f"a row has {len(row)} cells; Excel allows {MAX_COLUMNS}")
        rn = str(number)
        parts = [""]  # the start tag, once the height is known
        add = parts.append
        heads = _HEADS
        caches = self._caches
        plain = caches[None]
        wrapped: list[tuple[int, str]] | None = None
        width = 0
        for i, value in enumerate(row):
            kind = type(value)
            if kind is str:  # unstyled text, most of the master's cells: the shortest way through
                tail = plain.get(value)
                if tail is None:
                    tail = _remember_text(plain, value, None)  # type: ignore[arg-type]
                if tail:
                    add(f"{heads[i]}{rn}{tail}")
                    width = i + 1
                continue
            style = None
            cache = plain
            if kind is Cell:
                style = value.style  # type: ignore[union-attr]
                value = value.value  # type: ignore[union-attr]
                if value is None:
                    if style is not None:
                        add(f'{heads[i]}{rn}"{XF_ATTRS[style][0]}/>')
                        width = i + 1
                    continue
                if style is not None:
                    cache = caches.get(style)  # type: ignore[assignment]
                    if cache is None:
                        cache = caches[style] = {}
                    if style in WRAPPING_STYLES and type(value) is str:
                        if wrapped is None:
                            wrapped = []
                        wrapped.append((i, value))
                kind = type(value)
            elif value is None:
                continue
            if kind is str:
                tail = cache.get(value)
                if tail is None:
                    tail = _remember_text(cache, value, style)  # type: ignore[arg-type]
                if not tail:
                    continue
                add(f"{heads[i]}{rn}{tail}")
            elif kind is int:
                if -_MAX_EXACT_INT < value < _MAX_EXACT_INT:  # type: ignore[operator]
                    add(f'{heads[i]}{rn}"{XF_ATTRS[style][0]}><v>{value}</v></c>')
                else:
                    add(_int_cell(COLUMN_LETTERS[i] + rn, value, style))  # type: ignore[arg-type]
            elif kind is date or (kind is datetime and value.tzinfo is None):  # type: ignore[union-attr]
                # Not aware datetimes: equal instants in two zones are equal keys but show two times.
                tail = cache.get(value)
                if tail is None:
                    tail = _date_tail(value, style)  # type: ignore[arg-type]
                    if len(cache) >= _CACHE_ENTRIES:
                        cache.clear()
                    cache[value] = tail
                add(f"{heads[i]}{rn}{tail}")
            else:
                ref = COLUMN_LETTERS[i] + rn
                xml = (
                    _float_cell(ref, value, style)  # type: ignore[arg-type]
                    if kind is float
                    else _other_cell(ref, value, style)
                )
                if xml is None:
                    continue
                add(xml)
            width = i + 1
        if height is None and wrapped is not None and wrap_height is not None:
            height = wrap_height(wrapped, number)
        parts[0] = f'<row r="{rn}" ht="{height:g}" customHeight="1">' if height else f'<row r="{rn}">'
        add("</row>")
        return "".join(parts), width
