"""How wide each tab of a unit sheet really is, so the poll never reads past a tab's grid.

Google answers 400 "exceeds grid limits" for a whole values batchGet when one range reaches past its
tab's grid, and the sheet is then never ingested. Tabs made by the current template are wide enough for
every field and the extra columns the poll reads (sheets_templates/google_unit_sheet.rows_tab_columns),
but a sheet built earlier keeps its grid (26 columns, or its field count), a form may gain fields after
provisioning, and a unit may delete a column. So the widths are recorded when a sheet is built, fetched
once (one spreadsheets.get) for a sheet built before they were recorded, and fetched again when Google
still says a read exceeds the grid.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from functions.ports import GoogleClient, GoogleRefused, Store

GRID_META = "google-grid:"
_FIELDS = "sheets.properties(title,gridProperties.columnCount)"


def _key(spreadsheet_id: str) -> str:
    return GRID_META + spreadsheet_id


def _save(store: Store, spreadsheet_id: str, widths: dict[str, int]) -> dict[str, int]:
    store.set_meta(_key(spreadsheet_id), json.dumps(widths, ensure_ascii=False, sort_keys=True))
    return widths


def record_built(store: Store, spreadsheet_id: str, requests: Sequence[dict[str, Any]]) -> dict[str, int]:
    """The widths of the tabs a build's addSheet requests create, recorded for the poll."""
    widths: dict[str, int] = {}
    for request in requests:
        props = request.get("addSheet", {}).get("properties")
        if props and "columnCount" in props.get("gridProperties", {}):
            widths[str(props["title"])] = int(props["gridProperties"]["columnCount"])
    return _save(store, spreadsheet_id, widths)


def tab_columns(
    store: Store, session: GoogleClient, spreadsheet_id: str, *, refresh: bool = False
) -> dict[str, int]:
    """Tab title → column count: as recorded, or read from the spreadsheet (and recorded) when unknown."""
    if not refresh:
        recorded = store.get_meta(_key(spreadsheet_id))
        if recorded:
            try:
                loaded = json.loads(recorded)
            except ValueError:
                loaded = None  # a damaged record is read again below
            if isinstance(loaded, dict) and loaded:
                return {str(k): int(v) for k, v in loaded.items()}
    got = session.get_spreadsheet(spreadsheet_id, _FIELDS)
    widths = {}
    for sheet in got.get("sheets", []):
        props = sheet.get("properties", {})
        count = props.get("gridProperties", {}).get("columnCount")
        if "title" in props and isinstance(count, int):
            widths[str(props["title"])] = count
    return _save(store, spreadsheet_id, widths)


def exceeds_grid(exc: GoogleRefused) -> bool:
    """Google's refusal of a range past a tab's grid (the tab shrank since its width was recorded)."""
    return exc.status == 400 and "exceeds grid limits" in exc.message
