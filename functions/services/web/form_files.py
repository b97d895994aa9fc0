"""Evidence files in the web form (issue 14 §5): what a unit's form already holds, and what a save sends.

A unit on a phone uploads photos one or two at a time and submits later, so a save does not forget the
files of earlier saves: they are the attachments of the unit's latest version (a draft is a version like
any other, and its files are blobs in the store, content-addressed). Each save hands the evidence entry
(ingest_raw → check_attachments) the kept files read back from the store, minus those the unit removed,
plus the new uploads; the same check as every channel then decides what is kept. No second store.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence

from functions.app import App
from functions.services.intake.attachments import IncomingFile
from functions.validate import codes
from schemas.attachments import AttachmentRef

log = logging.getLogger("huizong.web")

# The codes the attachment check emits: the page shows them with the file fields, not the tables.
ATTACHMENT_CODES: frozenset[str] = frozenset(
    c.code
    for c in (
        codes.MISSING_ATTACHMENT,
        codes.MISSING_ATTACHMENT_UNLESS,
        codes.TOO_MANY_ATTACHMENTS,
        codes.BAD_ATTACHMENT_TYPE,
        codes.BAD_ATTACHMENT_TYPE_UNKNOWN,
        codes.ATTACHMENT_TOO_LARGE,
        codes.PHOTO_OUTSIDE_WEEK,
        codes.DUPLICATE_PHOTO,
        codes.DUPLICATE_PHOTO_WITHIN,
        codes.UPLOAD_NOT_RECEIVED,
    )
)


def kept_files(app: App, unit: str, deliverable: str) -> list[AttachmentRef]:
    """The files the unit's form holds now: those of its latest version (draft or submitted)."""
    version = app.store.latest(unit, deliverable)
    if version is None:
        return []
    return app.store.attachments(version.id)


def files_for_save(
    app: App,
    unit: str,
    deliverable: str,
    uploads: Sequence[IncomingFile],
    remove: Collection[str],
) -> list[IncomingFile]:
    """What a save hands the evidence check: the kept files the unit did not remove, then the new ones.

    `remove` holds SHA-256 digests (what the page's remove boxes send); anything else in it matches
    nothing. A new upload with the bytes of a kept file is the same file: sent once, not flagged as a
    duplicate of itself."""
    out: list[IncomingFile] = []
    have: set[str] = set()
    for ref in kept_files(app, unit, deliverable):
        if ref.sha256 in remove or ref.sha256 in have:
            continue
        data = app.store.get_blob(ref.sha256)
        if data is None:
            # A ref without its bytes would be a store fault (blobs are written before versions): the
            # check then counts the file as missing, which is what the unit must be told.
            log.warning("blob %s of %s/%s is missing", ref.sha256, unit, deliverable)
            continue
        have.add(ref.sha256)
        out.append(IncomingFile.from_bytes(ref.name, data))
    for f in uploads:
        if f.data is not None and hashlib.sha256(f.data).hexdigest() in have:
            continue
        out.append(f)
    return out
