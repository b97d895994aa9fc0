"""The folder channel's scan with nothing new (`huizong serve` runs it every minute): each file already
stored is answered from its own version, so a scan costs one version read per file whatever the length
of the unit's history (issue 13 §6: reading the whole history per file made a unit that sent k files
cost k² version reads on every scan)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from functions.app import App
from functions.bootstrap import open_app
from functions.ports import Store
from functions.services.intake.ingest_folder import ingest_all
from schemas.submission import Version
from tests.helpers.workbooks import summary_entries, unit_of_type, write_workbook


class _CountingStore:
    """The real store, counting the stored versions it hands back (each one decoded from the store)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.versions_read = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def history(self, unit: str, deliverable: str) -> list[Version]:
        found = self._store.history(unit, deliverable)
        self.versions_read += len(found)
        return found

    def iter_versions(self, keys: Sequence[tuple[str, str, int]]) -> Iterator[Version]:
        for version in self._store.iter_versions(keys):
            self.versions_read += 1
            yield version

    def latest(self, unit: str, deliverable: str, status: Any = None) -> Version | None:
        found = self._store.latest(unit, deliverable, status)
        self.versions_read += found is not None
        return found


def _now(app: App) -> dt.datetime:
    return dt.datetime.combine(app.campaign.deliverable("summary").due, dt.time(12), tzinfo=app.campaign.tz)


def test_a_scan_with_nothing_new_reads_each_stored_file_s_own_version_once(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    files = 6
    for i in range(files):
        # The unit corrects its summary and sends it again: a new file each time, all kept in the inbox.
        write_workbook(
            app.paths.inbox / f"总结-{i}.xlsx",
            app.campaign,
            "summary",
            school,
            summary_entries(total_sessions=10 + i),
        )
        stored = [o for o in ingest_all(app, now=_now(app)) if o.stored]
        assert [o.seq for o in stored] == [i + 1]

    counting = _CountingStore(app.store)
    outcomes = ingest_all(dataclasses.replace(app, store=counting), now=_now(app))  # type: ignore[arg-type]

    # Every file is recognised as its own version, not as the unit's latest.
    by_file = {Path(o.source).name: (o.note, o.stored, o.seq, o.unit, o.deliverable) for o in outcomes}
    assert by_file == {
        f"总结-{i}.xlsx": ("unchanged", False, i + 1, school.code, "summary") for i in range(files)
    }
    assert all(o.valid and o.version_id for o in outcomes)
    # One version per file (6), not the unit's whole history per file (36).
    assert counting.versions_read == files


class _CountingIntake:
    """The real folder intake, counting the files it is asked to read."""

    def __init__(self, intake: Any) -> None:
        self._intake = intake
        self.opened: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._intake, name)

    def read(self, item: Any, *args: Any, **kwargs: Any) -> Any:
        self.opened.append(Path(item.source).name)
        return self._intake.read(item, *args, **kwargs)


def test_a_repeated_scan_skips_stored_files_until_they_change(wujin_dir: Path) -> None:
    app = open_app(wujin_dir)
    school = unit_of_type(app.roster, "中小学")
    for i in range(3):
        write_workbook(
            app.paths.inbox / f"总结-{i}.xlsx",
            app.campaign,
            "summary",
            school,
            summary_entries(total_sessions=10 + i),
        )
    # A workbook naming no unit of the roster: stores nothing, so it is looked at on every scan.
    stranger = school.model_copy(update={"code": "ZZ999", "name": "不在名单的单位"})
    write_workbook(app.paths.inbox / "陌生.xlsx", app.campaign, "summary", stranger, summary_entries())
    settled: dict[str, Any] = {}
    counting = _CountingIntake(app.intake)
    scanning = dataclasses.replace(app, intake=counting)  # type: ignore[arg-type]

    first = ingest_all(scanning, now=_now(app), settled=settled)
    assert sorted(counting.opened) == ["总结-0.xlsx", "总结-1.xlsx", "总结-2.xlsx", "陌生.xlsx"]
    assert sum(o.stored for o in first) == 3 and len(settled) == 3

    counting.opened.clear()
    assert [Path(o.source).name for o in ingest_all(scanning, now=_now(app), settled=settled)] == [
        "陌生.xlsx"
    ]
    assert counting.opened == ["陌生.xlsx"]

    # The unit saves the same file again with other figures: read, and stored as a new version.
    write_workbook(
        app.paths.inbox / "总结-1.xlsx", app.campaign, "summary", school, summary_entries(total_sessions=99)
    )
    counting.opened.clear()
    again = ingest_all(scanning, now=_now(app), settled=settled)
    assert sorted(counting.opened) == ["总结-1.xlsx", "陌生.xlsx"]
    assert [o.seq for o in again if o.stored] == [4]
    # Without the memo (the CLI) every file is looked at again: the stored ones by their digest, unread.
    counting.opened.clear()
    assert len(ingest_all(scanning, now=_now(app))) == 4 and counting.opened == ["陌生.xlsx"]
