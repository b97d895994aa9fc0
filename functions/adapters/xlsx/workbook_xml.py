"""A small, bounded xlsx parser: sheet names, and every cell of a sheet with its value, number format,
formula and cached error.

Why not openpyxl: its read-only mode stops at a sheet's declared `<dimension>` (a stale one silently
drops rows), parses lazily where no limit can be checked, and gives either the formulas or their cached
values, never both, so a cached `#NAME?` looks like text a unit typed. This parser reads the package
with expat, streams every part in chunks through zip_guard (bytes, cells, rows, columns, time), refuses
DTDs and entities (an xlsx never has one), and keeps, per cell, what the file really holds.
"""

from __future__ import annotations

import datetime as dt
import math
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple
from xml.parsers import expat

from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

from functions.adapters.xlsx.zip_guard import Budget, LimitExceeded, iter_part
from functions.validate import codes
from schemas.i18n import Text

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | None

WORKBOOK_PART = "xl/workbook.xml"
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
_SHARED_STRINGS = "xl/sharedStrings.xml"
_STYLES = "xl/styles.xml"
_MAX_TEXT = 32_767  # Excel's own limit per cell: a longer text was not written by a spreadsheet program
_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
_INT = re.compile(r"^-?\d{1,20}$")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Control characters are never data a unit meant to type; tab and line breaks are.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_MISSING = Text("文件中缺少此部件", "the part is missing from the file")


class UnreadablePart(Exception):
    """A part the package names but that cannot be read as SpreadsheetML."""

    def __init__(self, part: str, reason: Text) -> None:
        super().__init__(f"{part}: {reason.en}")
        self.part = part
        self.reason = reason


class XCell(NamedTuple):
    """One cell as the file holds it. `value` is None for an error or an uncalculated formula.
    (A NamedTuple: tens of thousands are made per workbook, and a frozen dataclass is slower to build.)"""

    value: CellValue
    number_format: str | None = None
    formula: str | None = None  # the text after "=", when the cell holds a formula
    error: str | None = None  # a cached error value such as "#NAME?"
    cached: bool = True  # False for a formula the file has not calculated


def _local(name: str) -> str:
    # Namespace prefixes vary between producers (x:c, c); the local names are what SpreadsheetML fixes.
    return name.rpartition(":")[2] if ":" in name else name


def _local_attrs(attrs: dict[str, str]) -> dict[str, str]:
    for k in attrs:
        if ":" in k:
            return {_local(k): v for k, v in attrs.items()}
    return attrs


def _clean_text(text: str) -> str:
    text = _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)
    return _CONTROL.sub("", text)


def _refuse_dtd(*_args: Any) -> None:
    raise UnreadablePart("", Text("含有 DTD 或实体声明", "it holds a DTD or an entity declaration"))


def _parse(
    zf: zipfile.ZipFile,
    part: str,
    budget: Budget,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None],
    chars: Callable[[str], None] | None = None,
) -> None:
    parser = expat.ParserCreate()
    # No DTD means no entity can expand (billion laughs) and nothing external is fetched.
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    parser.StartElementHandler = lambda name, attrs: start(_local(name), _local_attrs(attrs))
    parser.EndElementHandler = lambda name: end(_local(name))
    if chars is not None:
        parser.CharacterDataHandler = chars
    try:
        for chunk in iter_part(zf, part, budget):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        where = (exc.lineno, exc.offset)
        reason = Text(
            "XML 格式错误（第 {} 行第 {} 列）".format(*where),
            "malformed XML (line {}, column {})".format(*where),
        )
        raise UnreadablePart(part, reason) from exc
    except UnreadablePart as exc:
        raise UnreadablePart(part, exc.reason) from exc
    # A damaged member, a bad CRC, or a compression method Python cannot read (NotImplementedError).
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error, NotImplementedError) as exc:
        raise UnreadablePart(part, Text("压缩数据损坏", "damaged compressed data")) from exc


class _Text:
    """Collects the text of <t> elements, leaving out phonetic runs (<rPh>), up to Excel's limit."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.in_t = False
        self.in_rph = 0

    def start(self, tag: str) -> None:
        if tag == "t" and not self.in_rph:
            self.in_t = True
        elif tag == "rPh":
            self.in_rph += 1

    def end(self, tag: str) -> None:
        if tag == "t":
            self.in_t = False
        elif tag == "rPh":
            self.in_rph -= 1

    def chars(self, data: str) -> None:
        if self.in_t and self.size < _MAX_TEXT:
            piece = data[: _MAX_TEXT - self.size]
            self.parts.append(piece)
            self.size += len(piece)

    def take(self) -> str:
        out = _clean_text("".join(self.parts))
        self.parts, self.size = [], 0
        return out


class Book:
    """An opened package: sheet names at once, a sheet's rows when asked (each sheet parsed once)."""

    def __init__(self, zf: zipfile.ZipFile, budget: Budget) -> None:
        self._zf = zf
        self._budget = budget
        self._names = set(zf.namelist())
        self._epoch = CALENDAR_WINDOWS_1900
        self._sheets: list[tuple[str, str]] = []  # (name, part)
        self._read_workbook()
        self._strings: list[str] | None = None
        self._formats: list[str | None] | None = None
        self._dates: list[bool] = []
        self._rows: dict[str, list[tuple[XCell | None, ...]]] = {}

    @property
    def sheetnames(self) -> list[str]:
        return [name for name, _ in self._sheets]

    # ---- workbook, relationships, shared strings, styles --------------------------------------------

    def _read_workbook(self) -> None:
        sheets: list[tuple[str, str]] = []

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "workbookPr" and attrs.get("date1904", "").lower() in ("1", "true"):
                self._epoch = CALENDAR_MAC_1904
            elif tag == "sheet" and "name" in attrs:
                sheets.append((_clean_text(attrs["name"]), attrs.get("id", "")))

        _parse(self._zf, WORKBOOK_PART, self._budget, start, lambda tag: None)
        targets: dict[str, str] = {}

        def rel(tag: str, attrs: dict[str, str]) -> None:
            if tag == "Relationship" and "Id" in attrs and "Target" in attrs:
                targets[attrs["Id"]] = attrs["Target"]

        if _WORKBOOK_RELS not in self._names:
            raise UnreadablePart(_WORKBOOK_RELS, _MISSING)
        _parse(self._zf, _WORKBOOK_RELS, self._budget, rel, lambda tag: None)
        for name, rid in sheets:
            target = targets.get(rid)
            if target is None:
                raise UnreadablePart(
                    WORKBOOK_PART,
                    Text(f"工作表“{name[:40]}”没有内容部件", f"sheet '{name[:40]}' has no part"),
                )
            if target.startswith("/"):
                part = posixpath.normpath(target.lstrip("/"))
            else:
                part = posixpath.normpath(posixpath.join("xl", target))
            self._sheets.append((name, part))

    def _shared_strings(self) -> list[str]:
        if self._strings is not None:
            return self._strings
        strings: list[str] = []
        text = _Text()

        def start(tag: str, attrs: dict[str, str]) -> None:
            text.start(tag)

        def end(tag: str) -> None:
            text.end(tag)
            if tag == "si":
                strings.append(text.take())

        if _SHARED_STRINGS in self._names:
            _parse(self._zf, _SHARED_STRINGS, self._budget, start, end, text.chars)
        self._strings = strings
        return strings

    def _number_formats(self) -> list[str | None]:
        """Number format code per cell style index (cellXfs)."""
        if self._formats is not None:
            return self._formats
        custom: dict[int, str] = {}
        xfs: list[int] = []
        depth = {"cellXfs": 0}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "numFmt":
                try:
                    custom[int(attrs.get("numFmtId", ""))] = attrs.get("formatCode", "")
                except ValueError:
                    pass
            elif tag == "cellXfs":
                depth["cellXfs"] += 1
            elif tag == "xf" and depth["cellXfs"]:
                try:
                    xfs.append(int(attrs.get("numFmtId", "0")))
                except ValueError:
                    xfs.append(0)

        def end(tag: str) -> None:
            if tag == "cellXfs":
                depth["cellXfs"] -= 1

        if _STYLES in self._names:
            _parse(self._zf, _STYLES, self._budget, start, end)
        self._formats = [custom.get(i) or BUILTIN_FORMATS.get(i) for i in xfs]
        # Whether a style shows a date, decided once per style rather than once per cell.
        self._dates = [bool(f) and is_date_format(f) and not is_timedelta_format(f) for f in self._formats]
        return self._formats

    # ---- sheets ---------------------------------------------------------------------------------------

    def rows(self, sheet: str) -> list[tuple[XCell | None, ...]]:
        """Every row of the sheet from row 1 to the last one holding a value (whatever <dimension> says);
        row i of the list is Excel row i + 1, cell j of a row is column j + 1."""
        if sheet in self._rows:
            return self._rows[sheet]
        part = dict(self._sheets)[sheet]
        if part not in self._names:
            raise UnreadablePart(part, _MISSING)
        self._rows[sheet] = _SheetParser(self, sheet, part).run()
        return self._rows[sheet]

    def _cell(self, kind: str, style: int, raw: str | None, inline: str | None, formula: str | None) -> XCell:
        formats = self._number_formats()
        known = 0 <= style < len(formats)
        fmt = formats[style] if known else None  # a bad style index reads as General
        is_date = known and self._dates[style]
        # openpyxl and other generators write an uncalculated formula as <f>…</f><v/>: an empty <v> is no
        # value, except for a text result (t="str"), where it is the empty text the formula gave.
        cached = inline is not None or (raw is not None and (raw.strip() != "" or kind == "str"))
        if kind == "e":
            return XCell(None, fmt, formula, (raw or "").strip()[:20] or "#ERROR", cached)
        value: CellValue
        if kind == "inlineStr":
            value = inline or None
        elif raw is None:
            value = None
        elif kind == "s":
            strings = self._shared_strings()
            try:
                value = strings[int(raw)]
            except (ValueError, IndexError) as exc:
                reason = Text(
                    f"引用了不存在的文字（序号 {raw[:20]}）",
                    f"a reference to missing text (index {raw[:20]})",
                )
                raise UnreadablePart("", reason) from exc
        elif kind == "str":
            value = _clean_text(raw)
        elif kind == "b":
            value = raw.strip() in ("1", "true")
        elif kind == "d":
            try:
                value = dt.datetime.fromisoformat(raw.strip())
            except ValueError:
                value = _clean_text(raw)
        else:
            value = _number(raw.strip(), is_date, self._epoch)
        if value == "":
            value = None
        if formula is not None and value is None and cached:
            # A formula whose result is empty text (=IF(A1="","",…)) is a blank cell, not a problem.
            return XCell(None, fmt)
        return XCell(value, fmt, formula, None, cached)


def _number(raw: str, is_date: bool, epoch: dt.datetime) -> CellValue:
    if raw == "":
        return None
    number: int | float
    if _INT.match(raw):
        number = int(raw)
    else:
        try:
            number = float(raw)
        except ValueError:
            return _clean_text(raw)  # not a number after all: the validator says so in words
        if not math.isfinite(number):
            return raw
    if is_date:
        try:
            converted: CellValue = from_excel(number, epoch)
            return converted
        except (OverflowError, ValueError):
            return number
    # A duration ([h]:mm:ss) stays the number it is: a count typed in a cell formatted as time.
    return number


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


class _SheetParser:
    def __init__(self, book: Book, sheet: str, part: str) -> None:
        self.book = book
        self.sheet = sheet
        self.part = part
        self.limits = book._budget.limits
        self.rows: dict[int, dict[int, XCell]] = {}
        self.row = 0
        self.col = 0
        self.kind = "n"
        self.style = 0
        self.value: list[str] | None = None
        self.formula: list[str] | None = None
        self.inline: _Text | None = None
        self.capture: list[str] | None = None

    def run(self) -> list[tuple[XCell | None, ...]]:
        _parse(self.book._zf, self.part, self.book._budget, self.start, self.end, self.chars)
        last = max(self.rows, default=0)
        out: list[tuple[XCell | None, ...]] = []
        for r in range(1, last + 1):
            cells = self.rows.get(r)
            if not cells:
                out.append(())
                continue
            width = max(cells)
            out.append(tuple(cells.get(c) for c in range(1, width + 1)))
        return out

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "row":
            r = attrs.get("r")
            self.row = int(r) if r and r.isdigit() else self.row + 1
            self.col = 0
        elif tag == "c":
            ref = attrs.get("r")
            if ref:
                m = _REF.match(ref)
                if m is None:
                    raise UnreadablePart(
                        self.part,
                        Text(f"单元格地址无效（{ref[:20]}）", f"an invalid cell reference ({ref[:20]})"),
                    )
                self.col, self.row = _column_index(m.group(1)), int(m.group(2))
            else:
                self.col += 1
            self.kind = attrs.get("t", "n")
            s = attrs.get("s", "0")
            self.style = int(s) if s.isdigit() else 0
            self.value = self.formula = None
            self.inline = None
        elif tag == "v":
            self.value = self.capture = []
        elif tag == "f":
            self.formula = self.capture = []
        elif tag == "is":
            self.inline = _Text()
        elif self.inline is not None:
            self.inline.start(tag)

    def chars(self, data: str) -> None:
        if self.capture is not None and sum(map(len, self.capture)) < _MAX_TEXT:
            self.capture.append(data)
        elif self.inline is not None:
            self.inline.chars(data)

    def end(self, tag: str) -> None:
        if tag in ("v", "f"):
            self.capture = None
        elif tag == "row":
            self.book._budget.check_time()
        elif tag == "c":
            self._finish_cell()
        elif self.inline is not None and tag != "is":
            self.inline.end(tag)

    def _finish_cell(self) -> None:
        raw = None if self.value is None else "".join(self.value)
        inline = self.inline.take() if self.inline is not None else None
        formula = None if self.formula is None else _clean_text("".join(self.formula)).strip()
        self.inline = None
        if raw is None and inline is None and formula is None:
            return  # a styled empty cell
        try:
            cell = self.book._cell(self.kind, self.style, raw, inline, formula)
        except UnreadablePart as exc:
            raise UnreadablePart(self.part, exc.reason) from exc
        if cell.value is None and cell.formula is None and cell.error is None:
            return
        if self.row > self.limits.max_rows:
            raise LimitExceeded(
                codes.TOO_MANY_ROWS, sheet=self.sheet, at_row=self.row, limit=self.limits.max_rows
            )
        if self.col > self.limits.max_columns:
            raise LimitExceeded(
                codes.TOO_MANY_COLUMNS, sheet=self.sheet, col=self.col, limit=self.limits.max_columns
            )
        self.book._budget.add_cell()
        self.rows.setdefault(self.row, {})[self.col] = cell
