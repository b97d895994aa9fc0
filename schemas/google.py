"""`google:` in campaign.yaml: the online channel (unit sheets, forms, the master Google Sheet)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

# Drive's type for a Google Sheet: what provisioning creates and the poll lists.
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"


class GoogleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The Drive folder (shared with the service account as editor) holding every unit sheet.
    folder_id: str = Field(min_length=1)
    # Where the service account's JSON key comes from, first found wins: a file (relative to the campaign
    # folder), an environment variable holding the JSON or a path to it, an SSM SecureString parameter.
    credentials_file: str = ""
    credentials_env: str = "HUIZONG_GOOGLE_CREDENTIALS"
    credentials_ssm: str = ""
    # Deliverables filled in Google Sheets (empty: all); deliverables whose one-record tables use a Form.
    sheet_deliverables: list[str] = Field(default_factory=list)
    form_deliverables: list[str] = Field(default_factory=list)
    share_with_units: bool = True
    # The master Google Sheet: an existing spreadsheet id, or empty to create one in the folder.
    master_spreadsheet_id: str = ""
    publish_master: bool = True
    # Extra viewers of the master besides the organiser's addresses.
    master_viewers: list[str] = Field(default_factory=list)
    # Quotas: at most this many API calls per run; bounded retries with exponential backoff and jitter.
    call_budget: int = Field(default=400, ge=1)
    max_retries: int = Field(default=5, ge=0, le=10)
    backoff_base_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=32.0, gt=0)
