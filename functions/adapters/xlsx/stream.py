"""A fast streaming xlsx writer with flat memory: rows go straight into a deflated zip member.

Generic: it knows nothing about campaigns. Usage::

    with StreamingWorkbook(Path("master.xlsx"), title="汇总") as book:
        with book.sheet("活动", columns=[Column(12), Column(fit_width(names))], header=["单位", "名称"]) as ws:
            ws.append(["W001", Cell("已提交", Style.STATE_VALID)])
        with book.sheet("统计", header=["类型", "数量"]) as ws:
            ...
            ws.add_bar_chart("数量", categories=(2, 7, 1), series=[("数量", 2, 7, 2)], anchor="D2")

API
- ``StreamingWorkbook(path, *, title="", creator="huizong", max_rows_per_sheet=1_048_576,
  max_sheet_bytes=2_000_000_000, compresslevel=6)``: a context manager. ``close()`` finishes the package
  in ``<path>.tmp-XXXX`` in the same directory, fsyncs it and ``os.replace``-s it onto ``path``; leaving
  the ``with`` block by an exception (or calling ``abort()``) removes the temporary file and leaves an
  existing file at ``path`` untouched. A writer holds an advisory lock on its temporary file, so when a
  killed writer left one behind, the next writer to the same path deletes it (POSIX only).
- ``book.sheet(name, *, columns=(), header=None, freeze_header=True, autofilter=True) -> SheetWriter``:
  sheets are written one after another; opening a sheet closes the previous one. Names are validated
  (1-31 characters, none of ``[]:*?/\\``, no leading/trailing apostrophe, not "History") and unique
  (case-insensitively, as Excel compares them). Freezing and the autofilter need a header.
- ``SheetWriter.append(row)``: ``row`` is a sequence of values or ``Cell(value, style)``.
  ``row_count`` counts data rows (not headers) over all parts; ``name`` is the sheet part being written,
  ``names`` every part so far; ``last_row`` is the Excel row number of the last row written in the
  current part (the header is row 1).
- ``SheetWriter.add_bar_chart(title, categories=(first_row, last_row, col), series=[(name, first_row,
  last_row, col), ...], anchor="H2", *, percent_axis=False, width_cm=16, height_cm=8)``: a clustered
  column chart on the current part, referencing that part's own cells (rows are Excel row numbers,
  columns 1-based numbers or letters).
- ``SheetWriter.merge("A1:D1")``: merges a range of the current part (not repeated on overflow parts).
- ``Column(width)``: width in Excel character units; ``fit_width(texts)`` estimates one.

Values
- ``str`` is always text (an inline string; there is no formula support at all). A text starting with
  = + - @ tab or CR is additionally quote-prefixed so Excel keeps it text when the cell is re-edited.
  Characters illegal in XML 1.0 are dropped, text is cut to 32,767 characters, the empty string is a
  blank cell. Text that contains Excel's own escape form ``_xHHHH_`` is escaped so Excel shows it
  literally (openpyxl does not unescape, so it reads such text back with ``_x005F_`` in front).
- ``bool`` is a boolean cell; ``int``/``float``/``Decimal`` are numbers (NaN and infinities are blank;
  integers of 16 digits or more are written as text because Excel would round them to 15 digits).
- ``date``/``datetime`` are serial numbers shown as yyyy-mm-dd / yyyy-mm-dd hh:mm. The wall-clock time
  is written as it is: convert an aware datetime to the zone to show first; its tzinfo is then ignored.
  Dates before 1900-01-01 (which Excel cannot hold) are written as ISO text.
- ``None`` is no cell; ``Cell(None, style)`` is a styled blank.
- Every style keeps the quote prefix of formula-like text; a date or datetime keeps its date format under
  every style but DATE and DATETIME (which choose between the two), so a date never shows as a serial.

Overflow: when a part has ``max_rows_per_sheet`` rows (header included), or its XML would pass
``max_sheet_bytes`` (members stay below the 2 GiB that plain zip headers allow), writing continues on a
new sheet "<name> (2)", "<name> (3)", ... (the base cut so the name fits 31 characters; a number whose
name is taken is skipped) with the header row, frozen pane and autofilter repeated.
"""

from __future__ import annotations

import contextlib
import glob
import math
import os
import re
import tempfile
import time
import weakref
import zipfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from functions.adapters.xlsx.stream_cells import COLUMN_LETTERS, MAX_COLUMNS, RowWriter
from functions.adapters.xlsx.stream_parts import (
    DEFAULT_COLUMN_WIDTH,
    NS_MAIN,
    NS_R,
    XML_HEAD,
    BarChart,
    Series,
    SheetEntry,
    app_xml,
    chart_xml,
    content_types,
    core_xml,
    drawing_rels,
    drawing_xml,
    page_setup_xml,
    root_rels,
    sheet_ref,
    sheet_rels,
    workbook_rels,
    workbook_xml,
)
from functions.adapters.xlsx.stream_styles import styles_xml
from functions.atomic_file import fsync_dir
from functions.sheet_model import Cell, Column, Style, display_width, fit_width

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; stale temporary files then stay
    fcntl = None  # type: ignore[assignment]

__all__ = ["Cell", "Column", "SheetWriter", "StreamingWorkbook", "Style", "fit_width"]

MAX_ROWS = 1_048_576
MAX_SHEET_NAME = 31
_FORBIDDEN_IN_NAME = re.compile(r"[\[\]:*?/\\\x00-\x1f]")
_A1_RANGE = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d+)(?::\$?([A-Za-z]{1,3})\$?(\d+))?$")
_A1_CELL = re.compile(r"^([A-Za-z]{1,3})(\d+)$")
_FLUSH_CHARS = 1 << 20
_COLUMN_INDEX = {letters: i + 1 for i, letters in enumerate(COLUMN_LETTERS)}
# A new writer's temporary file exists unlocked for an instant between mkstemp() and flock(); only files
# older than this are candidates for the sweep, so that instant is never mistaken for a dead writer.
STALE_TEMP_SECONDS = 60.0
LINE_HEIGHT_PT = 15.0  # one line of 11 pt text, CJK included


def _column_number(col: int | str) -> int:
    if isinstance(col, str):
        number = _COLUMN_INDEX.get(col.upper())
        if number is None:
            raise ValueError(f"not a column: {col!r}")
        return number
    if not 1 <= col <= MAX_COLUMNS:
        raise ValueError(f"column number must be 1..{MAX_COLUMNS}, got {col}")
    return col


def _row_number(row: int) -> int:
    if not 1 <= row <= MAX_ROWS:
        raise ValueError(f"row number must be 1..{MAX_ROWS}, got {row}")
    return row


def _cell_position(a1: str) -> tuple[int, int]:
    found = _A1_CELL.match(a1)
    if found is None:
        raise ValueError(f"not a cell reference: {a1!r}")
    return _column_number(found.group(1)), _row_number(int(found.group(2)))


def validate_sheet_name(name: str) -> str:
    if not isinstance(name, str) or not name or not name.strip():
        raise ValueError("a sheet name must not be empty")
    if len(name) > MAX_SHEET_NAME:
        raise ValueError(f"sheet name longer than {MAX_SHEET_NAME} characters: {name!r}")
    if _FORBIDDEN_IN_NAME.search(name):
        raise ValueError(f"sheet name contains one of []:*?/\\ or a control character: {name!r}")
    if name.startswith("'") or name.endswith("'"):
        raise ValueError(f"sheet name must not start or end with an apostrophe: {name!r}")
    if name.casefold() == "history":
        raise ValueError("Excel reserves the sheet name 'History'")
    return name


class SheetWriter:
    """Writes the rows of one logical sheet, continuing on overflow parts; get one from ``sheet()``."""

    def __init__(
        self,
        book: StreamingWorkbook,
        name: str,
        columns: Sequence[Column],
        header: Sequence[str | Cell] | None,
        freeze_header: bool,
        autofilter: bool,
    ) -> None:
        self._book = book
        self._base = name
        self._header: tuple[Cell, ...] | None = None
        if header is not None:
            self._header = tuple(
                cell
                if isinstance(cell, Cell) and cell.style is not None
                else Cell(_plain(cell), Style.HEADER)
                for cell in header
            )
            if len(self._header) > MAX_COLUMNS:
                raise ValueError(f"a header has {len(self._header)} cells; Excel allows {MAX_COLUMNS}")
        self._freeze = freeze_header and self._header is not None
        self._autofilter = autofilter and self._header is not None
        self._columns = tuple(columns)
        self._cols_xml = "".join(
            f'<col min="{i}" max="{i}" width="{c.width!r}" customWidth="1"/>'
            for i, c in enumerate(columns, start=1)
            if c.width is not None
        )
        self._names: list[str] = []
        self._rows = 0
        self._closed = False
        self._stream: IO[bytes] | None = None
        self._row_writer = RowWriter()  # for every part: the XML of a value does not depend on the part
        self._open_part(name)

    # -- public ---------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._names[-1]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._names)

    @property
    def row_count(self) -> int:
        return self._rows

    @property
    def last_row(self) -> int:
        return self._part_rows

    def append(self, row: Sequence[object]) -> None:
        if self._closed:
            raise ValueError(f"sheet {self._base!r} is closed")
        book = self._book
        if self._part_rows >= book.max_rows_per_sheet or (
            self._part_bytes + 4 * self._buf_chars >= book.max_sheet_bytes
            and self._part_rows > self._top_rows
        ):
            self._finish_part()
            self._open_part(book._overflow_name(self._base, len(self._names) + 1))
        xml, width = self._row_writer.row(row, self._part_rows + 1, None, self._wrapped_height)
        self._part_rows += 1
        self._rows += 1
        if width > self._width:
            self._width = width
        self._buf.append(xml)
        self._buf_chars += len(xml)
        if self._buf_chars >= _FLUSH_CHARS:
            self._flush()

    def merge(self, range_a1: str) -> None:
        """Merge a range of the current part; overlapping merges are refused (Excel would repair them)."""
        if self._closed:
            raise ValueError(f"sheet {self._base!r} is closed")
        found = _A1_RANGE.match(range_a1.strip())
        if found is None or found.group(3) is None:
            raise ValueError(f"not a range like A1:C3: {range_a1!r}")
        c1, r1 = _column_number(found.group(1)), _row_number(int(found.group(2)))
        c2, r2 = _column_number(found.group(3)), _row_number(int(found.group(4)))
        box = (min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2))
        if box[:2] == box[2:]:
            raise ValueError(f"a merge needs more than one cell: {range_a1!r}")
        for other in self._merges:
            if box[0] <= other[2] and other[0] <= box[2] and box[1] <= other[3] and other[1] <= box[3]:
                raise ValueError(f"merge {range_a1!r} overlaps another merged range")
        self._merges.append(box)

    def add_bar_chart(
        self,
        title: str,
        categories: tuple[int, int, int | str],
        series: Sequence[tuple[str, int, int, int | str]],
        anchor: str = "H2",
        *,
        percent_axis: bool = False,
        width_cm: float = 16.0,
        height_cm: float = 8.0,
    ) -> None:
        """A clustered column chart over this part's cells; rows are Excel row numbers (header = 1)."""
        if self._closed:
            raise ValueError(f"sheet {self._base!r} is closed")
        if not series:
            raise ValueError("a chart needs at least one series")
        if not (0 < width_cm <= 100 and 0 < height_cm <= 100):
            raise ValueError("chart size must be in (0, 100] cm")
        cat_first, cat_last = _row_number(categories[0]), _row_number(categories[1])
        if cat_first > cat_last:
            raise ValueError(f"category rows are reversed: {categories}")
        specs = []
        for name, first, last, col in series:
            if _row_number(first) > _row_number(last):
                raise ValueError(f"series {name!r} rows are reversed")
            specs.append(Series(str(name), first, last, _column_number(col)))
        anchor_col, anchor_row = _cell_position(anchor)
        self._charts.append(
            BarChart(
                sheet=self.name,
                title=title,
                cat_first_row=cat_first,
                cat_last_row=cat_last,
                cat_col=_column_number(categories[2]),
                series=tuple(specs),
                anchor_col=anchor_col - 1,
                anchor_row=anchor_row - 1,
                width_cm=width_cm,
                height_cm=height_cm,
                percent_axis=percent_axis,
            )
        )

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._finish_part()
        self._book._sheet_closed(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Even after an error the part is completed, so a caller that handles it can go on writing.
        self.close()

    # -- parts ----------------------------------------------------------------------------------------

    def _open_part(self, name: str) -> None:
        number, stream = self._book._start_part(name)
        self._names.append(name)
        self._number = number
        self._stream = stream
        self._part_rows = 0
        self._part_bytes = 0
        self._buf: list[str] = []
        self._buf_chars = 0
        self._width = 0
        self._merges: list[tuple[int, int, int, int]] = []
        self._charts: list[BarChart] = []
        self._write(self._head_xml(number == 1))
        self._top_rows = 0
        if self._header is not None:
            self.append(self._header)
            self._rows -= 1
            self._top_rows = 1

    def _head_xml(self, selected: bool) -> str:
        tab = ' tabSelected="1"' if selected else ""
        if self._freeze:
            view = (
                f'<sheetView{tab} workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft"'
                ' state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView>'
            )
        else:
            view = f'<sheetView{tab} workbookViewId="0"/>'
        cols = f"<cols>{self._cols_xml}</cols>" if self._cols_xml else ""
        # fitToPage with fitToHeight 0 (in the page setup): one page wide, as many pages down as needed.
        return (
            f'{XML_HEAD}<worksheet xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            f'<sheetViews>{view}</sheetViews><sheetFormatPr defaultRowHeight="15"/>{cols}<sheetData>'
        )

    def _column_width(self, col: int) -> float:
        if col <= len(self._columns) and self._columns[col - 1].width is not None:
            return float(self._columns[col - 1].width)  # type: ignore[arg-type]
        return DEFAULT_COLUMN_WIDTH

    def _wrapped_height(self, cells: list[tuple[int, str]], number: int) -> float | None:
        """The height that shows every line of a row's wrapped text cells (0-based column, text), or
        None for one line. The row writer collects those cells as it converts the row."""
        lines = 1
        for i, text in cells:
            first, last = i + 1, i + 1
            for c1, r1, c2, r2 in self._merges:
                if c1 == first and r1 == number == r2:
                    last = c2
            # One character of the width is padding; wide (CJK) characters take two units.
            per_line = max(1.0, sum(self._column_width(c) for c in range(first, last + 1)) - 1)
            needed = sum(max(1, math.ceil(display_width(line) / per_line)) for line in text.split("\n"))
            lines = max(lines, needed)
        return LINE_HEIGHT_PT * lines + 3 if lines > 1 else None

    def _print_width(self) -> float:
        """The printed width in Excel character units: the set widths, Excel's default for the rest."""
        widths = {i: c.width for i, c in enumerate(self._columns, start=1) if c.width is not None}
        return sum(widths.get(i, DEFAULT_COLUMN_WIDTH) for i in range(1, max(self._width, len(widths)) + 1))

    def _flush(self) -> None:
        if self._buf:
            self._write("".join(self._buf))
            self._buf.clear()
            self._buf_chars = 0

    def _write(self, text: str) -> None:
        data = text.encode("utf-8")
        self._part_bytes += len(data)
        assert self._stream is not None
        self._stream.write(data)

    def _finish_part(self) -> None:
        self._flush()
        name = self.name
        filter_ref = None
        tail = ["</sheetData>"]
        if self._autofilter:
            last_col = max(self._width, 1)
            tail.append(f'<autoFilter ref="A1:{COLUMN_LETTERS[last_col - 1]}{self._part_rows}"/>')
            filter_ref = sheet_ref(name, 1, 1, last_col, self._part_rows)
        if self._merges:
            refs = "".join(
                f'<mergeCell ref="{COLUMN_LETTERS[c1 - 1]}{r1}:{COLUMN_LETTERS[c2 - 1]}{r2}"/>'
                for c1, r1, c2, r2 in self._merges
            )
            tail.append(f'<mergeCells count="{len(self._merges)}">{refs}</mergeCells>')
        tail.append(page_setup_xml(self._print_width(), charts=bool(self._charts)))
        if self._charts:
            tail.append('<drawing r:id="rId1"/>')
        tail.append("</worksheet>")
        self._write("".join(tail))
        assert self._stream is not None
        self._stream.close()
        self._stream = None
        drawing = self._book._write_charts(self._number, self._charts) if self._charts else None
        self._book._part_done(
            SheetEntry(
                name=name,
                number=self._number,
                filter_ref=filter_ref,
                header=self._header is not None,
                drawing=drawing,
            )
        )


def _plain(value: object) -> object:
    return value.value if isinstance(value, Cell) else value


def _discard(archive: zipfile.ZipFile, streams: list[IO[bytes]], handle: IO[bytes], tmp: str) -> None:
    # The open member is closed first: a ZipFile with an open writing handle refuses close(), and would
    # complain again from its __del__.
    for stream in streams:
        with contextlib.suppress(Exception):
            stream.close()
    streams.clear()
    with contextlib.suppress(Exception):
        archive.close()
    with contextlib.suppress(OSError):
        handle.close()
    with contextlib.suppress(OSError):
        os.unlink(tmp)


class StreamingWorkbook:
    """An xlsx file written sheet by sheet with flat memory, then atomically moved onto ``path``."""

    def __init__(
        self,
        path: Path,
        *,
        title: str = "",
        creator: str = "huizong",
        max_rows_per_sheet: int = MAX_ROWS,
        max_sheet_bytes: int = 2_000_000_000,
        compresslevel: int = 6,
    ) -> None:
        if not 2 <= max_rows_per_sheet <= MAX_ROWS:
            raise ValueError(f"max_rows_per_sheet must be 2..{MAX_ROWS}, got {max_rows_per_sheet}")
        if not 1 <= max_sheet_bytes <= 2_100_000_000:
            raise ValueError("max_sheet_bytes must be positive and below 2.1e9 (zip member limit)")
        self.path = Path(path)
        self.title = title
        self.creator = creator
        self.max_rows_per_sheet = max_rows_per_sheet
        self.max_sheet_bytes = max_sheet_bytes
        fd, tmp = tempfile.mkstemp(prefix=f"{self.path.name}.tmp-", dir=self.path.parent)
        self._tmp = tmp
        self._handle: IO[bytes] = os.fdopen(fd, "w+b")
        try:
            _lock(fd)
            _sweep_stale_temps(self.path, tmp)
            self._zip = zipfile.ZipFile(
                self._handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
            )
        except BaseException:
            self._handle.close()
            os.unlink(tmp)
            raise
        self._compresslevel = compresslevel
        self._streams: list[IO[bytes]] = []  # the sheet member being written, if any
        # Removes the temporary file if the object is dropped without close() or abort(); it holds no
        # reference to self, so it does not keep the workbook alive.
        self._finalizer = weakref.finalize(self, _discard, self._zip, self._streams, self._handle, tmp)
        self._entries: list[SheetEntry] = []
        self._used: set[str] = set()
        self._open: SheetWriter | None = None
        self._drawings = 0
        self._charts = 0
        self._done = False

    def sheet(
        self,
        name: str,
        *,
        columns: Sequence[Column] = (),
        header: Sequence[str | Cell] | None = None,
        freeze_header: bool = True,
        autofilter: bool = True,
    ) -> SheetWriter:
        self._check_open()
        validate_sheet_name(name)
        if name.casefold() in self._used:
            raise ValueError(f"duplicate sheet name: {name!r}")
        if self._open is not None:
            self._open.close()
        writer = SheetWriter(self, name, columns, header, freeze_header, autofilter)
        self._open = writer
        return writer

    @property
    def sheet_names(self) -> list[str]:
        return [e.name for e in self._entries] + ([] if self._open is None else [self._open.name])

    def close(self) -> None:
        """Finish the package and replace ``path`` atomically; on failure nothing at ``path`` changes."""
        if self._done:
            return
        try:
            if self._open is not None:
                self._open.close()
            if not self._entries:
                self.sheet("Sheet1").close()
            self._write_package()
            self._zip.close()
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
            os.chmod(self._tmp, mode)
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        self._done = True
        self._finalizer.detach()
        fsync_dir(self.path.parent)

    def abort(self) -> None:
        """Drop everything written so far; ``path`` is left as it was."""
        self._done = True
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    # -- used by SheetWriter --------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._done:
            raise ValueError("the workbook is closed")

    def _start_part(self, name: str) -> tuple[int, IO[bytes]]:
        self._check_open()
        self._used.add(name.casefold())
        number = len(self._entries) + 1
        info = zipfile.ZipInfo(f"xl/worksheets/sheet{number}.xml", date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        # ZipFile.open() only applies the archive's level to members it names itself.
        info._compresslevel = self._compresslevel  # type: ignore[attr-defined]
        stream = self._zip.open(info, "w")
        self._streams[:] = [stream]
        return number, stream

    def _part_done(self, entry: SheetEntry) -> None:
        self._streams.clear()
        self._entries.append(entry)

    def _sheet_closed(self, writer: SheetWriter) -> None:
        if self._open is writer:
            self._open = None

    def _overflow_name(self, base: str, number: int) -> str:
        while True:
            suffix = f" ({number})"
            name = base[: MAX_SHEET_NAME - len(suffix)].rstrip("'") + suffix
            if name.casefold() not in self._used:
                return name
            number += 1

    def _write_charts(self, sheet_number: int, charts: list[BarChart]) -> int:
        self._drawings += 1
        drawing = self._drawings
        numbers = []
        for chart in charts:
            self._charts += 1
            numbers.append(self._charts)
            self._zip.writestr(f"xl/charts/chart{self._charts}.xml", chart_xml(chart))
        pairs = list(zip(range(1, len(charts) + 1), charts, strict=True))
        self._zip.writestr(f"xl/drawings/drawing{drawing}.xml", drawing_xml(pairs))
        self._zip.writestr(f"xl/drawings/_rels/drawing{drawing}.xml.rels", drawing_rels(numbers))
        self._zip.writestr(f"xl/worksheets/_rels/sheet{sheet_number}.xml.rels", sheet_rels(drawing))
        return drawing

    def _write_package(self) -> None:
        entries = self._entries
        self._zip.writestr("xl/styles.xml", styles_xml())
        self._zip.writestr("xl/workbook.xml", workbook_xml(entries))
        self._zip.writestr("xl/_rels/workbook.xml.rels", workbook_rels(entries))
        self._zip.writestr("docProps/core.xml", core_xml(self.title, self.creator))
        self._zip.writestr("docProps/app.xml", app_xml([e.name for e in entries]))
        self._zip.writestr("_rels/.rels", root_rels())
        self._zip.writestr("[Content_Types].xml", content_types(entries, self._drawings, self._charts))


def _lock(fd: int) -> None:
    if fcntl is None:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        # Some file systems refuse locks; the writer still works, it only cannot be told from a dead one.
        return


def _sweep_stale_temps(path: Path, own: str) -> None:
    """Delete temporary files of writers to ``path`` that died (killed, power loss) before cleaning up.

    A live writer holds an exclusive flock on its temporary file until it is renamed or deleted, and the
    kernel drops the lock when the process dies, so a file we can lock belongs to nobody.
    """
    if fcntl is None:
        return
    now = time.time()
    for candidate in glob.glob(glob.escape(str(path)) + ".tmp-*"):
        if candidate == own:
            continue
        try:
            if now - os.stat(candidate).st_mtime < STALE_TEMP_SECONDS:
                continue
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue
        try:
            with contextlib.suppress(OSError):
                os.unlink(candidate)
        finally:
            os.close(fd)
