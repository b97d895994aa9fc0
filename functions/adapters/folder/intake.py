"""Intake from a folder: every workbook under DIR/inbox/, at any depth, under any name.

Evidence files (issue 12 §4), when the campaign asks for any, travel in a unit's own sub-folder, named by its code or its name as in the
roster (`inbox/WJ001/` or `inbox/第一中学/`, at any depth, sub-folders of it included): every other file
there comes with the workbook(s) in that folder. A unit folder with files but no workbook is handed over
as one item whose source is the folder, so ingest can say what is missing instead of staying silent.
Nothing here uses a file's name for anything but finding it: the names travel as metadata.
"""

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
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
# A unit folder brings at most this many files; the rest are left where they are and reported.
MAX_FILES_PER_FOLDER = 200


class FolderIntake:
    def __init__(self, inbox: Path, campaign: Campaign, roster: Roster, *, read: WorkbookReader):
        self.inbox = inbox
        self.campaign = campaign
        self.roster = roster
        self._read = read
        # A campaign that asks for no files keeps the old reading: every file is a workbook to try, and
        # a Word document in a unit's folder is an unread file of that unit, not an attachment.
        self._evidence = any(d.attachments for d in campaign.deliverables)

    def pending(self) -> Iterator[IntakeItem]:
        if not self.inbox.exists():
            return
        found: list[tuple[float, str, list[str] | None]] = []
        workbooks: dict[Path, list[Path]] = {}  # unit folder -> its workbooks
        files: dict[Path, list[Path]] = {}  # unit folder -> its other files
        loose: list[Path] = []
        for path in self.inbox.rglob("*"):
            # A link could point anywhere on the machine: only real files in the inbox are read.
            if path.is_symlink() or not path.is_file():
                continue
            if path.name in _IGNORED_NAMES or path.name.startswith(_IGNORED_PREFIXES):
                continue
            folder = self._unit_folder(path) if self._evidence else None
            if folder is None:
                loose.append(path)
            elif path.suffix.lower() in WORKBOOK_SUFFIXES:
                workbooks.setdefault(folder, []).append(path)
            else:
                files.setdefault(folder, []).append(path)
        for path in loose:
            found.append((path.stat().st_mtime, str(path), None))
        for folder, books in workbooks.items():
            # Sorted by name: the same folder always hands over the same list (bounded, see above).
            attached = [str(p) for p in sorted(files.get(folder, []))[: MAX_FILES_PER_FOLDER + 1]]
            for book in books:
                # When the file arrived is when the unit sent it (for the late flag), not when we ran.
                found.append((book.stat().st_mtime, str(book), attached))
        for folder, extra in files.items():
            if folder not in workbooks:
                newest = max(p.stat().st_mtime for p in extra)
                attached = [str(p) for p in sorted(extra)[: MAX_FILES_PER_FOLDER + 1]]
                found.append((newest, str(folder), attached))
        # Oldest first: when a unit sent two versions, the one sent last must end up the latest.
        for mtime, source, attached in sorted(found, key=lambda f: (f[0], f[1])):
            yield IntakeItem(
                source=source,
                received_at=dt.datetime.fromtimestamp(mtime, tz=dt.UTC),
                attachments=attached,
            )

    def _unit_folder(self, path: Path) -> Path | None:
        """The nearest folder above `path`, inside the inbox, named by a unit's code or name."""
        for parent in path.parents:
            if parent == self.inbox or self.inbox not in parent.parents:
                return None
            if self.roster.get(parent.name) is not None or self.roster.find_by_name(parent.name) is not None:
                return parent
        return None

    def read(self, item: IntakeItem) -> RawSubmission:
        return self._read(Path(item.source), self.campaign, self.roster)
