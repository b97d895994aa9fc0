"""Limits for reading an untrusted xlsx package: bounded bytes, bounded cells, bounded time.

An xlsx is a zip of XML parts. A small file can inflate to gigabytes (one huge shared string, a sheet
of repeated empty rows), so every limit is checked *while* reading, before the work is done:

- the zip's central directory is checked first (total unpacked bytes, bytes per part, compression
  ratio). zipfile never returns more than an entry's declared size, so the declared sizes bound what
  is read; the bytes actually inflated are counted again as a second line of defence;
- the sheet parser counts rows, columns and cells as it meets them (see workbook_xml.py);
- a time budget is checked between chunks and rows, so any workbook is answered within seconds.

Each limit is refused with its own validation code, so the unit is told which one and what to do.
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from functions.validate import codes
from functions.validate.codes import IssueKind

_MB = 1024 * 1024
# Parts smaller than this are never refused for their ratio: tiny XML parts compress very well.
_RATIO_FLOOR_BYTES = 1 * _MB
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class ReadLimits:
    """How much one workbook may cost. The defaults are far above any real campaign workbook (a few
    hundred activities) and far below what would slow the intake down for everyone else."""

    max_unpacked_bytes: int = 64 * _MB
    max_part_bytes: int = 32 * _MB
    max_ratio: float = 200.0
    max_rows: int = 10_000  # per sheet: the last row that holds a value
    max_columns: int = 200  # per sheet: the last column that holds a value
    max_cells: int = 500_000  # per workbook: cells that hold a value
    budget_seconds: float = 10.0


DEFAULT_LIMITS = ReadLimits()


class LimitExceeded(Exception):
    """A workbook over one of the limits: the issue kind and its message parameters."""

    def __init__(self, kind: IssueKind, **params: Any) -> None:
        super().__init__(f"{kind.code}: {params}")
        self.kind = kind
        self.params = params


@dataclass
class Budget:
    """The time and cell budget of one workbook read, shared by every part that is parsed."""

    limits: ReadLimits = DEFAULT_LIMITS
    started: float = field(default_factory=time.monotonic)
    cells: int = 0
    unpacked: int = 0

    def check_time(self) -> None:
        # ">=" so that a budget of 0 always trips: tests use it to reach this path without timing anything.
        if time.monotonic() - self.started >= self.limits.budget_seconds:
            raise LimitExceeded(codes.TOO_SLOW_TO_READ, seconds=f"{self.limits.budget_seconds:g}")

    def add_cell(self) -> None:
        self.cells += 1
        if self.cells > self.limits.max_cells:
            raise LimitExceeded(codes.TOO_MANY_CELLS, limit=self.limits.max_cells)

    def add_bytes(self, part: str, n: int, part_total: int) -> None:
        self.unpacked += n
        if part_total > self.limits.max_part_bytes:
            raise LimitExceeded(
                codes.TOO_LARGE_PART, part=part, limit_mb=f"{self.limits.max_part_bytes / _MB:g}"
            )
        if self.unpacked > self.limits.max_unpacked_bytes:
            raise LimitExceeded(
                codes.TOO_LARGE_UNPACKED,
                size_mb=f"{self.unpacked / _MB:.1f}",
                limit_mb=f"{self.limits.max_unpacked_bytes / _MB:g}",
            )


def check_directory(zf: zipfile.ZipFile, limits: ReadLimits) -> None:
    """Refuse a package whose declared sizes are over the limits, before anything is inflated."""
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > limits.max_part_bytes:
            raise LimitExceeded(
                codes.TOO_LARGE_PART, part=info.filename[:80], limit_mb=f"{limits.max_part_bytes / _MB:g}"
            )
        if info.file_size > _RATIO_FLOOR_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise LimitExceeded(
                    codes.TOO_COMPRESSED,
                    part=info.filename[:80],
                    ratio=f"{ratio:.0f}",
                    limit=f"{limits.max_ratio:g}",
                )
    if total > limits.max_unpacked_bytes:
        raise LimitExceeded(
            codes.TOO_LARGE_UNPACKED,
            size_mb=f"{total / _MB:.1f}",
            limit_mb=f"{limits.max_unpacked_bytes / _MB:g}",
        )


def iter_part(zf: zipfile.ZipFile, name: str, budget: Budget) -> Iterator[bytes]:
    """The part's bytes in chunks, counted against the budget as they are inflated."""
    seen = 0
    with zf.open(name) as fh:
        stream: BinaryIO = fh  # type: ignore[assignment]
        while True:
            budget.check_time()
            chunk = stream.read(CHUNK_BYTES)
            if not chunk:
                return
            seen += len(chunk)
            budget.add_bytes(name, len(chunk), seen)
            yield chunk
