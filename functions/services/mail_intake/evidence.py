"""What the handling record of a mail keeps about its evidence files (photos, documents, video).

The files themselves go through the one evidence entry of every channel (`ingest_raw(files=...)`,
services/intake/attachments.py) with the mail's workbooks, when the campaign asks for files and every
workbook in the mail is one unit's: they are then checked against the deliverables' rules and stored,
content-addressed, with the version. Files with no workbook, or in a mail carrying several units'
workbooks, are only described here (`attached: false`) for the organiser; the message itself is kept in
the handled folder, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.app import App
from functions.services.mail_intake.reading import MailFile


def receive_evidence_files(
    app: App,
    *,
    unit: str | None,
    source: str,
    files: list[MailFile],
    received_at: dt.datetime,
    attached: bool = False,
) -> dict[str, Any]:
    """What the handling record keeps about a message's evidence files.

    `unit` is None when the message could not be tied to a unit (the files then wait with the message
    in the organiser's list); `attached` says whether they were stored with the unit's submission.
    """
    del app, received_at  # kept in the signature: every channel's hand-over takes the same arguments
    return {
        "unit": unit,
        "source": source,
        "attached": attached,
        "count": len(files),
        "files": [{"name": f.name, "size": len(f.data), "sha256": f.sha256} for f in files],
    }
