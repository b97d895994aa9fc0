"""Intake from a folder: every workbook under DIR/inbox/, at any depth, under any name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from functions.ports import IntakeItem, WorkbookReader
from schemas.campaign import Campaign
from schemas.raw import RawSubmission
from schemas.roster import Roster

# Files people drop next to workbooks that are not submissions (Office lock files, OS litter).
_IGNORED_PREFIXES = ("~$", ".~", "._")
_IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


class FolderIntake:
    def __init__(self, inbox: Path, campaign: Campaign, roster: Roster, *, read: WorkbookReader):
        self.inbox = inbox
        self.campaign = campaign
        self.roster = roster
        self._read = read

    def pending(self) -> Iterator[IntakeItem]:
        if not self.inbox.exists():
            return
        found = []
        for path in self.inbox.rglob("*"):
            if not path.is_file() or path.name in _IGNORED_NAMES or path.name.startswith(_IGNORED_PREFIXES):
                continue
            # When the file arrived is when the unit sent it (for the late flag), not when we ran.
            found.append((path.stat().st_mtime, str(path)))
        # Oldest first: when a unit sent two versions, the one sent last must end up the latest.
        for mtime, path in sorted(found):
            yield IntakeItem(source=path, received_at=dt.datetime.fromtimestamp(mtime, tz=dt.UTC))

    def read(self, item: IntakeItem) -> RawSubmission:
        return self._read(Path(item.source), self.campaign, self.roster)
