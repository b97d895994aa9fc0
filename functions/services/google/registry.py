"""Which Google spreadsheet belongs to which unit and deliverable, kept in the store.

A record is a claim (create-if-absent), so two provisioning runs can never create two sheets for the
same unit and deliverable: the second finds the claim. A meta index maps a spreadsheet id back to it.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from functions.ports import Store

SHEET_PREFIX = "google-sheet:"
_ID_INDEX = "google-sheet-id:"
MASTER_META = "google-master"


class SheetRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: str
    deliverable: str
    spreadsheet_id: str = ""  # empty while the claim is held but the sheet not created yet
    url: str = ""
    title: str = ""
    shared_with: list[str] = Field(default_factory=list)
    created_at: dt.datetime | None = None


def sheet_key(unit: str, deliverable: str) -> str:
    return f"{SHEET_PREFIX}{unit}:{deliverable}"


def claim_sheet(store: Store, unit: str, deliverable: str, *, at: dt.datetime) -> bool:
    """Reserve the (unit, deliverable) slot before creating its sheet; False if it is taken."""
    record = SheetRecord(unit=unit, deliverable=deliverable)
    return store.claim(sheet_key(unit, deliverable), record.model_dump(mode="json"), at=at)


def save_sheet(store: Store, record: SheetRecord) -> None:
    store.update_claim(sheet_key(record.unit, record.deliverable), record.model_dump(mode="json"))
    if record.spreadsheet_id:
        store.set_meta(_ID_INDEX + record.spreadsheet_id, sheet_key(record.unit, record.deliverable))


def release_sheet(store: Store, unit: str, deliverable: str) -> None:
    """Forget a slot whose sheet could not be created, so the next run tries again."""
    store.release(sheet_key(unit, deliverable))


def all_sheets(store: Store) -> list[SheetRecord]:
    return [SheetRecord.model_validate(c.payload) for c in store.claims(SHEET_PREFIX)]


def sheet_for(store: Store, unit: str, deliverable: str) -> SheetRecord | None:
    key = sheet_key(unit, deliverable)
    for claim in store.claims(key):
        if claim.key == key:
            return SheetRecord.model_validate(claim.payload)
    return None


def sheet_by_id(store: Store, spreadsheet_id: str) -> SheetRecord | None:
    key = store.get_meta(_ID_INDEX + spreadsheet_id)
    if key is None:
        return None
    unit, _, deliverable = key.removeprefix(SHEET_PREFIX).rpartition(":")
    return sheet_for(store, unit, deliverable)
