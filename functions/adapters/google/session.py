"""One connection to Google for one run: a gspread client whose every request goes through the budget.

The Google services (provision, poll, master publish) speak to the APIs only through :class:`GoogleSession`
(the GoogleClient port),
so the call budget, the deadline, the backoff and the per-operation counts cover every call, and tests can
assert exact requests in one place. Methods return the API's JSON body as a dict.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gspread
from google.auth.credentials import Credentials

from functions.adapters.google import master_sheet, sheet_reader
from functions.adapters.google.credentials import load_credentials
from functions.adapters.google.http import DRIVE_FILES_API, SHEETS_API, BudgetedHTTPClient
from functions.adapters.google.json_body import compact_json
from functions.ports import GoogleNotConfigured, MasterWriteStats, PreparedMaster, SheetContent
from functions.sheet_model import MasterSheet
from schemas.campaign import Campaign
from schemas.google import SPREADSHEET_MIME, GoogleSettings
from schemas.i18n import t

DRIVE_PAGE_SIZE = 1000  # files.list's maximum: fewer pages, fewer calls


_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def _flag(value: bool) -> str:
    # Google's query parameters want lowercase booleans; requests would send "True".
    return "true" if value else "false"


@dataclass
class GoogleSession:
    client: gspread.Client
    http: BudgetedHTTPClient
    settings: GoogleSettings
    # The address units' sheets are shared from and protected ranges are editable by; empty when the
    # credentials are not a service account's (tests pass plain OAuth credentials).
    service_account_email: str = ""

    # --- Drive ---------------------------------------------------------------------------------------

    def drive_list(
        self, q: str, fields: str, page_token: str | None = None, *, order_by: str = ""
    ) -> dict[str, Any]:
        params: dict[str, Any] = {
            "q": q,
            "fields": fields,
            "pageSize": DRIVE_PAGE_SIZE,
            "supportsAllDrives": "true",
            "includeItemsFromAllDrives": "true",
        }
        if order_by:
            params["orderBy"] = order_by
        if page_token:
            params["pageToken"] = page_token
        return self.http.json_request("GET", DRIVE_FILES_API, params=params)

    def get_file(self, file_id: str, fields: str) -> dict[str, Any]:
        params = {"fields": fields, "supportsAllDrives": "true"}
        return self.http.json_request("GET", f"{DRIVE_FILES_API}/{file_id}", params=params)

    def create_spreadsheet(self, title: str, folder_id: str) -> dict[str, Any]:
        """A new, empty Google Sheet directly in the folder (Drive files.create: one call, no move)."""
        body = {"name": title, "mimeType": SPREADSHEET_MIME, "parents": [folder_id]}
        params = {"supportsAllDrives": "true", "fields": "id,name,webViewLink"}
        return self.http.json_request("POST", DRIVE_FILES_API, params=params, json=body)

    def share(
        self, file_id: str, email: str, role: str, message: str | None = None, *, notify: bool = True
    ) -> dict[str, Any]:
        """Drive permissions.create for one user; the message goes into Google's notification email."""
        params: dict[str, Any] = {"sendNotificationEmail": _flag(notify), "supportsAllDrives": "true"}
        if notify and message:
            params["emailMessage"] = message
        body = {"type": "user", "role": role, "emailAddress": email}
        return self.http.json_request(
            "POST", f"{DRIVE_FILES_API}/{file_id}/permissions", params=params, json=body
        )

    # --- Sheets --------------------------------------------------------------------------------------

    def get_spreadsheet(self, spreadsheet_id: str, fields: str) -> dict[str, Any]:
        return self.http.json_request("GET", f"{SHEETS_API}/{spreadsheet_id}", params={"fields": fields})

    def batch_update(self, spreadsheet_id: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
        return self.http.json_request(
            "POST",
            f"{SHEETS_API}/{spreadsheet_id}:batchUpdate",
            data=compact_json({"requests": requests}),
            headers=dict(_JSON_HEADERS),
        )

    def values_batch_get(self, spreadsheet_id: str, ranges: list[str]) -> dict[str, Any]:
        # Unformatted values and serial dates: the reader gets numbers and dates, not display strings.
        params = {
            "ranges": ranges,
            "majorDimension": "ROWS",
            "valueRenderOption": "UNFORMATTED_VALUE",
            "dateTimeRenderOption": "SERIAL_NUMBER",
        }
        return self.http.json_request("GET", f"{SHEETS_API}/{spreadsheet_id}/values:batchGet", params=params)

    def values_batch_update(
        self, spreadsheet_id: str, data: list[dict[str, Any]], input_option: str = "RAW"
    ) -> dict[str, Any]:
        # RAW by default: a unit's "=…" text or "2024-05-01" must not be turned into formulas or dates.
        body = {"valueInputOption": input_option, "data": data}
        return self.http.json_request(
            "POST",
            f"{SHEETS_API}/{spreadsheet_id}/values:batchUpdate",
            data=compact_json(body),
            headers=dict(_JSON_HEADERS),
        )

    def read_unit_sheet(
        self,
        spreadsheet_id: str,
        campaign: Campaign,
        *,
        unit_code: str,
        unit_name: str,
        deliverable: str,
        columns: Mapping[str, int] | None = None,
    ) -> SheetContent:
        ranges = sheet_reader.sheet_ranges(campaign, deliverable, columns)
        got = self.values_batch_get(spreadsheet_id, ranges)
        return sheet_reader.read_unit_sheet(
            got.get("valueRanges", []),
            campaign,
            spreadsheet_id=spreadsheet_id,
            unit_code=unit_code,
            unit_name=unit_name,
            deliverable=deliverable,
        )

    # --- the master, rendered by master_sheet.py ---------------------------------------------------------

    def prepare_master(self, sheets: Sequence[MasterSheet]) -> PreparedMaster:
        return master_sheet.prepare_master(sheets)

    def write_master(
        self, spreadsheet_id: str, prepared: PreparedMaster, *, drop_others: bool
    ) -> MasterWriteStats:
        return master_sheet.write_master(self, spreadsheet_id, prepared, drop_others=drop_others)

    # --- what the run has spent ------------------------------------------------------------------------

    def call_counts(self) -> dict[str, int]:
        return dict(self.http.counts)

    def remaining_calls(self) -> int | None:
        return self.http.remaining()


def build_session(
    credentials: Credentials,
    settings: GoogleSettings,
    *,
    deadline: float | None = None,
    service_account_email: str = "",
) -> GoogleSession:
    """A session over given credentials; `deadline` is a time.monotonic() value after which calls stop."""
    client = gspread.Client(credentials, http_client=BudgetedHTTPClient)
    http = client.http_client
    assert isinstance(http, BudgetedHTTPClient)  # gspread built it from the type we passed
    http.configure(
        budget=settings.call_budget,
        max_retries=settings.max_retries,
        base_delay=settings.backoff_base_seconds,
        max_delay=settings.backoff_max_seconds,
        deadline=deadline,
    )
    email = service_account_email or str(getattr(credentials, "service_account_email", "") or "")
    return GoogleSession(client=client, http=http, settings=settings, service_account_email=email)


def connect(
    campaign: Campaign,
    folder: Path,
    *,
    env: Mapping[str, str] = os.environ,
    credentials: Credentials | None = None,
    deadline: float | None = None,
) -> GoogleSession:
    """The run's session: credentials from the campaign's sources unless given (tests pass their own)."""
    settings = campaign.google
    if settings is None:
        raise GoogleNotConfigured(
            t(
                campaign.language,
                "campaign.yaml 没有 google 设置（google.folder_id 等），未启用 Google 渠道。",
                "campaign.yaml has no google section (google.folder_id …): the Google channel is off.",
            )
        )
    email = ""
    if credentials is None:
        credentials, loaded = load_credentials(settings, folder, env=env, language=campaign.language)
        email = loaded.client_email
    return build_session(credentials, settings, deadline=deadline, service_account_email=email)
