"""The streaming writer's output pinned byte for byte (issue 13 §4: a faster writer, the same XML).

The sheet parts a varied, hostile corpus produces are compared with what the writer produced before its
per-cell work was made cheaper (main at b6fd69c). The expected parts are in
tests/data/xlsx_stream_golden.json.gz; they were written by running this module as a script with that
commit's code first on the path::

    PYTHONPATH=/path/to/checkout-of-b6fd69c .venv/bin/python tests/unit/test_xlsx_stream_golden.py --write

Regenerate them only for a deliberate change of the writer's output, and say so in the commit.
The corpus is built from ``random.Random.random()`` alone: its sequence for a seed is the one part of
the random module Python promises not to change (``choice``/``randrange`` may).
"""

from __future__ import annotations

import gzip
import json
import math
import random
import sys
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

if __name__ == "__main__":  # run as a script: the checkout given by PYTHONPATH writes the golden parts
    sys.path.append(str(Path(__file__).resolve().parents[2]))

from openpyxl import load_workbook

from functions.adapters.xlsx.stream import Cell, Column, StreamingWorkbook, Style

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "xlsx_stream_golden.json.gz"
SEED = 20221123

# Text that needs something done: every formula lead, edge whitespace, XML specials, characters XML 1.0
# forbids, lone surrogates, non-characters, Excel's own _xHHHH_ escape form, CR, emoji (astral), CJK.
HOSTILE = [
    "=1+1", '=HYPERLINK("http://x","点我")', "+86 138 0000 0000", "-1-", "-", "@foo", "@", "=",
    "\tindented", "\rcr", "a\r\nb", " lead", "trail ", "\n换行开头", "换行结尾\n", " ", "\t",
    "&<>]]>\"'", "a&b", "<b>粗</b>", "a\x00b\x07c\x0bd\x1fe\ufffef\uffff", "x\ud800y", "\udfff",
    "_x0041_", "_X00a0_", "a_x00_b", "_x005F_", "__x1234__", "😀", "家👨‍👩‍👧庭", "中文 ＡＢＣ 😀",
    "１２３", "全角＝公式", "＝１", "'quoted", '"dq"', "0012", "1e5", "TRUE", "#N/A", "𠀀𪚥",
    "终身学习活动周、社区居民、老年人", "社区居民、老年人", "",
]  # fmt: skip
PLAIN = ["讲座", "展览", "培训", "测试单位00017", "湖塘镇", "镇（街道）社区教育中心", "张老师", "13812345678",
         "线下", "线上", "是", "需预约", "社区活动室3", "ok", "Plain ASCII text", "a_b_c"]  # fmt: skip
CHARS = (
    "学习活动社区居民老年人终身周讲座展览培训abcXYZ019 ,.;:!?、。，（）()=+-@_&<>\t\n\r\x00\x1f😀\ud800\ufffe"
)
LONG = [
    "长" * 16_383,  # just under the length that triggers the UTF-16 count
    "长" * 16_384,
    "长" * 40_000,  # cut to 32,767
    "😀" * 20_000,  # cut inside a surrogate pair: the half is dropped
    "终身学习，" * 7_000 + "=",
    "=" + "公式" * 20_000,
    "a\x01" * 20_000,  # shorter than the limit once the control characters are dropped
    "&" * 33_000,
]
NUMBERS: list[object] = [
    0, 1, -7, 42, 10**15 - 1, 10**15, -(10**15) + 1, -(10**15), 1_234_567_890_123_456, 10**30,
    0.0, -0.0, 3.25, 0.1, 1 / 3, 1e-300, 1e300, -2.5e-8, math.nan, math.inf, -math.inf,
    Decimal("2.5"), Decimal("0.1"), Decimal("-1E+3"), True, False,
]  # fmt: skip
EAST8 = timezone(timedelta(hours=8))
DATES: list[object] = [
    date(1899, 12, 31), date(1900, 1, 1), date(1900, 2, 28), date(1900, 3, 1), date(2022, 10, 20),
    date(9999, 12, 31), datetime(1900, 1, 1, 0, 0), datetime(1900, 2, 28, 23, 59, 59),
    datetime(2022, 10, 20, 8, 30, 15), datetime(2022, 10, 20, 8, 30, 15, 500_000),
    datetime(2022, 10, 20), datetime(2022, 10, 20, 8, 30, tzinfo=EAST8), datetime(1899, 12, 31, 12),
]  # fmt: skip
STYLES: list[Style | str | None] = [None, *Style, "wrap", "text"]


class _Draw:
    """Choices from one seeded sequence of random() values (stable across Python versions)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed).random

    def below(self, n: int) -> int:
        return min(n - 1, int(self._random() * n))

    def pick(self, options: list[object] | list[str]) -> object:
        return options[self.below(len(options))]

    def text(self, longest: int) -> str:
        return "".join(CHARS[self.below(len(CHARS))] for _ in range(self.below(longest + 1)))


def _value(draw: _Draw) -> object:
    kind = draw.below(100)
    if kind < 35:
        return draw.pick(PLAIN)
    if kind < 50:
        return draw.pick(HOSTILE)
    if kind < 65:
        return draw.text(24)
    if kind < 80:
        return draw.pick(NUMBERS)
    if kind < 90:
        return draw.pick(DATES)
    if kind < 95:
        return None
    return draw.text(300)


def _cell(draw: _Draw) -> object:
    value = _value(draw)
    if draw.below(3):
        return value
    style = draw.pick(STYLES)
    if value == "" and draw.below(2):
        value = None  # a styled blank
    return Cell(value, style)  # type: ignore[arg-type]


def write_corpus(path: Path) -> Path:
    """A workbook of every kind of value under every style, wrapped rows, merges and overflow parts."""
    draw = _Draw(SEED)
    with StreamingWorkbook(path, title="语料", max_rows_per_sheet=700) as book:
        header = [
            "单位编码",
            "单位名称",
            Cell("=类型", Style.HEADER),
            "所属镇街",
            "活动名称很长很长很长很长很长很长很长",
            "备注",
        ]
        columns = [Column(10), Column(28), Column(None), Column(12), Column(6), Column(40)]
        with book.sheet("随机", columns=columns, header=header) as ws:
            for _ in range(1_500):  # three parts of 700 rows (header included)
                ws.append([_cell(draw) for _ in range(draw.below(12))])
        with book.sheet("每一种", header=["值", *[str(s) for s in STYLES[1:]]]) as ws:
            for value in [*HOSTILE, *PLAIN, *NUMBERS, *DATES, *LONG, None]:
                ws.append([value, *[Cell(value, style) for style in STYLES[1:]]])  # type: ignore[arg-type]
        with book.sheet("换行", columns=[Column(12), Column(8), Column(20), Column(None)], header=None) as ws:
            ws.merge("A1:C1")
            ws.merge("B3:D3")
            ws.merge("A5:A6")
            texts = [
                "总体情况：" + "本次活动周共有单位报送。" * 12,
                "第一行\n第二行\n\n第四行",
                "English words wrap at a narrower count than 中文字符 do " * 3,
                "😀" * 30 + "\n" + "ＡＢＣ" * 10,
                "",
                "短",
            ]
            for i, text in enumerate(texts):
                ws.append([Cell(text, Style.NOTE), Cell(text, Style.WRAP), text, Cell(text, Style.HEADER)])
                ws.append(
                    [None, Cell(text[:40], "wrap"), Cell(len(text), Style.WRAP), Cell(None, Style.NOTE)]
                )
                ws.append([Cell(f"{i}", Style.TITLE)] * 3 + [Cell(text, Style.TEXT)])
        with book.sheet("空", header=None, freeze_header=False, autofilter=False) as ws:
            ws.append([])
            ws.append([None, None, Cell(None, Style.DEFAULT)])
            ws.append([None] * 20 + ["远处"])
    return path


def sheet_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {
            name: z.read(name).decode("utf-8")
            for name in sorted(z.namelist())
            if name.startswith("xl/worksheets/sheet") or name == "xl/styles.xml"
        }


def test_the_corpus_is_written_as_before_byte_for_byte(tmp_path: Path) -> None:
    expected = json.loads(gzip.decompress(GOLDEN.read_bytes()))
    got = sheet_parts(write_corpus(tmp_path / "corpus.xlsx"))
    assert sorted(got) == sorted(expected)
    for name, xml in expected.items():
        if got[name] != xml:
            at = next(
                (i for i, (a, b) in enumerate(zip(got[name], xml, strict=False)) if a != b),
                min(len(got[name]), len(xml)),
            )
            raise AssertionError(
                f"{name} differs at {at}: {got[name][max(0, at - 80) : at + 80]!r} != {xml[max(0, at - 80) : at + 80]!r}"
            )


# The corpus puts out-of-range numbers in date-styled cells on purpose; openpyxl warns when reading them.
@pytest.mark.filterwarnings("ignore:Cell .* is marked as a date:UserWarning")
def test_the_corpus_reads_back_as_text_never_as_a_formula(tmp_path: Path) -> None:
    path = write_corpus(tmp_path / "corpus.xlsx")
    book = load_workbook(path)
    leads = 0
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                text = cell.value
                # (A negative integer of 16+ digits is written as its digits, unquoted: it is no formula.)
                if isinstance(text, str) and text[:1] in "=+-@\t\r" and not text.lstrip("-").isdigit():
                    assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
                    leads += 1
    assert leads > 100  # the corpus really holds formula-like text under many styles
    assert book.sheetnames == ["随机", "随机 (2)", "随机 (3)", "每一种", "换行", "空"]


def test_values_equal_as_keys_are_still_written_as_themselves(tmp_path: Path) -> None:
    # The row writer remembers the XML of repeated texts and dates: values that are equal (and hash
    # alike) but are written differently must never share it.
    same_instant = [
        datetime(2022, 10, 20, 8, 30, tzinfo=EAST8),
        datetime(2022, 10, 20, 0, 30, tzinfo=UTC),
    ]
    rows: list[list[object]] = [
        [*same_instant, date(2022, 10, 20), datetime(2022, 10, 20), 1, True, 1.0, Decimal(1), 0.0, -0.0],
        [*same_instant, date(2022, 10, 20), datetime(2022, 10, 20), 1, True, 1.0, Decimal(1), 0.0, -0.0],
        [Cell(v, Style.TEXT) for v in ["=1", "1", "=1", "1"]],
    ]
    path = tmp_path / "keys.xlsx"
    with StreamingWorkbook(path) as book, book.sheet("值") as ws:
        for row in rows:
            ws.append(row)
    got = [
        [(c.value, c.data_type, c.number_format, c.quotePrefix) for c in r]
        for r in load_workbook(path).active.iter_rows()
    ]
    first = [
        (datetime(2022, 10, 20, 8, 30), "d", "yyyy-mm-dd hh:mm", False),
        (datetime(2022, 10, 20, 0, 30), "d", "yyyy-mm-dd hh:mm", False),
        (datetime(2022, 10, 20), "d", "yyyy-mm-dd", False),
        (datetime(2022, 10, 20), "d", "yyyy-mm-dd hh:mm", False),
        (1, "n", "General", False),
        (True, "b", "General", False),
        (1, "n", "General", False),
        (1, "n", "General", False),
        (0, "n", "General", False),
        (0, "n", "General", False),
    ]
    assert got[0] == got[1] == first
    assert [(v, q) for v, _t, _f, q in got[2][:4]] == [("=1", True), ("1", False), ("=1", True), ("1", False)]
    xml = sheet_parts(path)["xl/worksheets/sheet1.xml"]
    assert xml.count("<v>0.0</v>") == 2 and xml.count("<v>-0.0</v>") == 2  # -0.0 is not 0.0's XML


def test_the_remembered_xml_is_bounded(tmp_path: Path) -> None:
    # Memory stays flat however many distinct texts a sheet has: a style's cache is emptied when full.
    path = tmp_path / "many.xlsx"
    with StreamingWorkbook(path) as book, book.sheet("多") as ws:
        for i in range(20_000):
            ws.append([f"活动{i}", Cell(f"备注{i}", Style.NOTE), date(2000, 1, 1) + timedelta(days=i)])
        caches = ws._row_writer._caches  # the bound is the point of this test
        assert 0 < max(len(c) for c in caches.values()) <= 4_096
    ws2 = load_workbook(path, read_only=True)["多"]
    last = list(ws2.iter_rows(min_row=20_000, values_only=True))
    assert last == [("活动19999", "备注19999", datetime(2054, 10, 3))]


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        raise SystemExit(__doc__)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        parts = sheet_parts(write_corpus(Path(tmp) / "corpus.xlsx"))
    GOLDEN.write_bytes(gzip.compress(json.dumps(parts, ensure_ascii=False).encode("utf-8"), mtime=0))
    import functions

    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes) from {functions.__file__}")
