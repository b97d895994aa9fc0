"""Where the evidence files of a mail (photos, documents, video) go.

The evidence-file service (content-addressed files stored with each version) is built in parallel and
is not on this branch yet. `receive_evidence_files` is the one place it is to be connected: until then
the files are only described (count, names, sizes, digests) in the message's handling record, and the
reply tells the unit they were received. No second attachment store is kept here on purpose.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from functions.app import App
from functions.services.mail_intake.reading import MailFile


def receive_evidence_files(
    app: App, *, unit: str | None, source: str, files: list[MailFile], received_at: dt.datetime
) -> dict[str, Any]:
    """Hand a message's evidence files over; returns what the handling record keeps about them.

    `unit` is None when the message could not be tied to a unit (the files then wait with the message
    in the organiser's list). Connect the evidence-file service here after merging.
    """
    del app, received_at  # used once the evidence-file service is connected
    return {
        "unit": unit,
        "source": source,
        "count": len(files),
        "files": [{"name": f.name, "size": len(f.data), "sha256": f.sha256} for f in files],
    }
