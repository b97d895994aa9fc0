"""What the handling record of a mail keeps about its evidence files (photos, documents, video).

The files themselves go through the one evidence entry of every channel (`ingest_raw(files=...)`,
services/intake/attachments.py) with the mail's workbooks, when the campaign asks for files and every
workbook in the mail is one unit's: they are then checked against the deliverables' rules and stored,
content-addressed, with the version. Files with no workbook, or in a mail carrying several units'
workbooks, are not attached to any version: their bytes are kept as content-addressed blobs
(Store.put_blob) and described in the handling record (`attached: false`, `kept: true`), listed for the
organiser (records.left_for_organiser). When the mail's one workbook could not be tied to a unit, the
files are linked to that workbook's kept bytes (`mail-files/<workbook sha256>`), so `huizong assign`
stores them with the version it makes (services/intake/assign.py). Photos mailed on their own after the
workbook are listed, not attached to the latest version: which deliverable they belong to, and whether
they replace or add to what is stored, is the organiser's call (docs/guide-zh.md).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from functions.app import App
from functions.ports import Store
from functions.services.mail_intake.reading import MailFile

# meta key: the evidence files that came with an unidentified mailed workbook, by the workbook's digest
FILES_OF_WORKBOOK = "mail-files/"


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
    del received_at  # kept in the signature: every channel's hand-over takes the same arguments
    if not attached:
        # Not stored with a version: the bytes are kept anyway, since a mailed file has no copy on disk
        # and the message may be deleted from the mailbox before the organiser decides.
        for f in files:
            app.store.put_blob(f.sha256, f.data)
    return {
        "unit": unit,
        "source": source,
        "attached": attached,
        "kept": not attached,
        "count": len(files),
        "files": [{"name": f.name, "size": len(f.data), "sha256": f.sha256} for f in files],
    }


def link_files_to_workbook(store: Store, workbook_sha256: str, files: list[MailFile]) -> None:
    """Remember which kept files came with a kept (unidentified) workbook, for `huizong assign`."""
    listed = [{"name": f.name, "sha256": f.sha256} for f in files]
    store.set_meta(FILES_OF_WORKBOOK + workbook_sha256, json.dumps(listed, ensure_ascii=False))


def files_of_workbook(store: Store, workbook_sha256: str) -> list[tuple[str, bytes]]:
    """The kept files that came with a workbook, as (name, bytes); those whose bytes are gone are left out."""
    text = store.get_meta(FILES_OF_WORKBOOK + workbook_sha256)
    if not text:
        return []
    try:
        listed = json.loads(text)
    except ValueError:
        return []
    out: list[tuple[str, bytes]] = []
    for item in listed if isinstance(listed, list) else []:
        if not isinstance(item, dict):
            continue
        data = store.get_blob(str(item.get("sha256", "")))
        if data is not None:
            out.append((str(item.get("name", "")), data))
    return out
