"""The workbook a unit actually sent, kept with the version it made (issue 15: the console downloads it).

Every channel with a workbook file (the folder, the web upload, mail, `huizong assign`) hands it to the
one entry, `ingest_raw(..., workbook=ReceivedWorkbook(...))`; when that stores a NEW version, the bytes go
into the store's content-addressed blobs (the same `put_blob` evidence files use, so the same workbook
sent twice is kept once) and a small record, meta `workbook/<version id>`, says which blob is the
version's workbook and what the unit called it. An unchanged submission stores nothing new: its version
already has its record (or, stored before this existed, none). Google sheets, forms and the typed web form
have no file and pass no workbook.

The name is the unit's (untrusted): kept through safe_name, only ever shown or sent as a download name,
never used as a path.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.ports import Store
from functions.services.intake.attachments import safe_name

META_PREFIX = "workbook/"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceivedWorkbook:
    """A workbook as its channel received it: its bytes (web, mail), or the file to read them from once a
    new version is stored (the folder: an unchanged file is then never read a second time)."""

    name: str
    data: bytes | None = None
    path: Path | None = None
    # The digest of the file when it was read, when known: a file replaced since is not kept as this
    # version's (the organiser would download something the unit's report does not describe).
    sha256: str | None = None


class KeptWorkbook(BaseModel):
    """The record of meta `workbook/<version id>`."""

    model_config = ConfigDict(extra="ignore")

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    name: str = Field(min_length=1, max_length=300)
    size: int = Field(ge=0)


def meta_key(version_id: str) -> str:
    return META_PREFIX + version_id


def keep_workbook(store: Store, version_id: str, workbook: ReceivedWorkbook, *, max_bytes: int) -> bool:
    """Keep the workbook's bytes and record them as the version's; False when there is nothing to keep
    (no bytes, the file gone or replaced, or larger than the campaign's max_file_mb, which the reader refuses anyway)."""
    data = workbook.data
    if data is None and workbook.path is not None:
        try:
            # Checked before reading: a file that grew past the limit since it was read is not loaded.
            if workbook.path.stat().st_size > max_bytes:
                return False
            data = workbook.path.read_bytes()
        except OSError:
            return False  # moved or deleted since it was read: the version stands without its file
    if data is None or len(data) > max_bytes:
        return False
    sha = hashlib.sha256(data).hexdigest()
    if workbook.sha256 is not None and sha != workbook.sha256:
        return False
    record = KeptWorkbook(sha256=sha, name=safe_name(workbook.name, fallback="workbook.xlsx"), size=len(data))
    try:
        store.put_blob(sha, data)
        store.set_meta(meta_key(version_id), record.model_dump_json())
    except Exception:  # the store's own failure (S3, a locked SQLite file), after the version was stored
        # The version is stored already: failing now would tell the unit its submission failed when it
        # did not (and sending it again would be "unchanged"). It stands without its file, logged.
        log.warning("workbook of version %s not kept", version_id, exc_info=True)
        return False
    return True


def kept_workbook(store: Store, version_id: str) -> KeptWorkbook | None:
    """The version's kept workbook record, or None (no file, stored before this existed, or unreadable)."""
    text = store.get_meta(meta_key(version_id))
    if not text:
        return None
    try:
        return KeptWorkbook.model_validate_json(text)
    except ValidationError:
        return None  # a damaged record is no file, not a crash of the console


def workbook_bytes(store: Store, version_id: str) -> tuple[KeptWorkbook, bytes] | None:
    """The record and its bytes, only when the blob is there and still matches the record."""
    record = kept_workbook(store, version_id)
    if record is None:
        return None
    data = store.get_blob(record.sha256)
    if data is None or hashlib.sha256(data).hexdigest() != record.sha256:
        return None
    return record, data
