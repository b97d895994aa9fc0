"""Small workbooks written with the streaming writer, and the temporary files a writer leaves beside its target."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import load_workbook

from functions.adapters.xlsx.stream import StreamingWorkbook

FORMULA_LIKE = ['=HYPERLINK("http://x","y")', "+86 138 0000 0000", "@foo", "-1-", "=1+1", "\tindented"]


def write_rows(path: Path, rows: Iterable[Sequence[object]], *, header: Sequence[str] | None = None) -> Path:
    with StreamingWorkbook(path, title="测试") as book, book.sheet("数据", header=header) as ws:
        for row in rows:
            ws.append(row)
    return path


def temps(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if ".tmp-" in p.name)


def old_master(path: Path) -> None:
    write_rows(path, [["旧数据", 1]], header=["内容", "版本"])


def assert_old_master(path: Path) -> None:
    ws = load_workbook(path).active
    assert ws.title == "数据"
    assert [[c.value for c in r] for r in ws.iter_rows()] == [["内容", "版本"], ["旧数据", 1]]
