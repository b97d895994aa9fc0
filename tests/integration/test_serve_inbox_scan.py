"""`huizong serve`'s every-minute inbox scan passes its memo to ingest_all: a workbook whose version is
stored is neither hashed nor opened again by later scans until it changes (without the memo it would be
hashed every minute to be recognised; functions/serve/local_server.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from functions.bootstrap import open_app
from functions.serve.local_server import LocalServer
from functions.services.intake import ingest_folder
from tests.helpers.workbooks import summary_entries, unit_of_type, write_workbook


class _CountingIntake:
    def __init__(self, intake: Any) -> None:
        self._intake = intake
        self.opened: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._intake, name)

    def read(self, item: Any, *args: Any, **kwargs: Any) -> Any:
        self.opened.append(Path(item.source).name)
        return self._intake.read(item, *args, **kwargs)


def test_serves_later_scans_leave_a_stored_workbook_unread_until_it_changes(
    wujin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    digest = ingest_folder.file_digest

    def counted_digest(path: Path) -> str:
        hashed.append(path.name)
        return digest(path)

    monkeypatch.setattr(ingest_folder, "file_digest", counted_digest)
    app = open_app(wujin_dir)
    now = dt.datetime.combine(app.campaign.deliverable("summary").due, dt.time(12), tzinfo=app.campaign.tz)
    school = unit_of_type(app.roster, "中小学")
    counting = _CountingIntake(app.intake)
    server = LocalServer(
        dataclasses.replace(app, intake=counting), secret=b"s" * 32, port=0, clock=lambda: now
    )
    try:
        book = app.paths.inbox / "总结.xlsx"
        write_workbook(book, app.campaign, "summary", school, summary_entries(total_sessions=10))
        assert server.ingest_inbox() == 1 and counting.opened == hashed == ["总结.xlsx"]

        counting.opened.clear()
        hashed.clear()
        assert server.ingest_inbox() == 0 and counting.opened == hashed == []

        write_workbook(book, app.campaign, "summary", school, summary_entries(total_sessions=11))
        assert server.ingest_inbox() == 1 and counting.opened == ["总结.xlsx"]
    finally:
        server.httpd.server_close()
