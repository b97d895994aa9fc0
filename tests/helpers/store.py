"""Store test data: submissions and reports whose content follows a number, and threads started together.

Used by the Store contract (tests/contract/store_contract.py) and the store-specific tests of every tier.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from functions.ports import Store
from schemas.attachments import AttachmentRef
from schemas.report import Issue, ValidationReport
from schemas.submission import ParsedSubmission, TableData, Version, VersionStatus

T = TypeVar("T")

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2022, 11, 20, 9, 30, tzinfo=CST)


def submission(
    unit: str = "U001",
    deliverable: str = "plan",
    *,
    n: int = 1,
    status: VersionStatus = "submitted",
    source: str = "inbox/U001.xlsx",
    tables: TableData | None = None,
    attachments: list[AttachmentRef] | None = None,
) -> ParsedSubmission:
    """A submission whose content is determined by `n` (or by `tables` when given)."""
    if tables is None:
        tables = {"activities": [{"name": f"活动 {n}", "expected_participants": n}]}
    return ParsedSubmission(
        unit=unit,
        deliverable=deliverable,
        tables=tables,
        source=source,
        status=status,
        source_kind="file",
        attachments=attachments or [],
    )


def attachment_ref(
    rule: str, data: bytes, *, kind: str, name: str, taken: dt.datetime | None = None
) -> AttachmentRef:
    """A ref to `data` as the intake would make it (the bytes themselves are not stored by this)."""
    return AttachmentRef(
        rule=rule, sha256=hashlib.sha256(data).hexdigest(), size=len(data), kind=kind, name=name, taken=taken
    )


def report(sub: ParsedSubmission, *, errors: int = 0, warnings: int = 0) -> ValidationReport:
    return ValidationReport(
        file=sub.source,
        unit=sub.unit,
        deliverable=sub.deliverable,
        valid=errors == 0,
        errors=[
            Issue(code="required-missing", severity="error", sheet="活动", cell=f"B{i + 2}", message="必填")
            for i in range(errors)
        ],
        warnings=[
            Issue(code="peer-outlier", severity="warning", row=i + 2, column="C", message="偏高")
            for i in range(warnings)
        ],
        checked_at=T0,
    )


def add(store: Store, sub: ParsedSubmission, *, minutes: int = 0, late: bool = False) -> tuple[Version, bool]:
    return store.add_version(sub, report(sub), received_at=T0 + dt.timedelta(minutes=minutes), late=late)


def run_together(count: int, work: Callable[[int], T]) -> list[T]:
    """Run work(0..count-1) in `count` threads released at the same moment; re-raise any failure."""
    barrier = threading.Barrier(count)

    def start(i: int) -> T:
        barrier.wait(timeout=30)
        return work(i)

    # Switch threads as often as possible so that races in pure-Python code (the memory store) show up
    # within a few dozen calls instead of hiding behind the GIL's default 5 ms slices.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=count) as pool:
            return list(pool.map(start, range(count)))
    finally:
        sys.setswitchinterval(interval)
