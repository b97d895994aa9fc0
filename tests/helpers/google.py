"""A campaign that uses Google, sessions over the test token, and a real service-account key.

The key is a freshly generated RSA key in a service-account JSON (nothing real); its OAuth token exchange
is answered with `token_exchange(mock)` on a `responses` mock, next to tests/fakes/google.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.oauth2.credentials import Credentials

from functions.adapters.google.session import GoogleSession, build_session
from schemas.google import GoogleSettings
from tests.fakes.google import SA_EMAIL, TOKEN, Call, FakeGoogle

TOKEN_URI = "https://oauth2.googleapis.com/token"
__all__ = [
    "SA_EMAIL",
    "TOKEN_URI",
    "enable_google",
    "google_session",
    "service_account_json",
    "token_exchange",
]


def enable_google(
    folder: Path,
    *,
    language: str | None = None,
    units: int | None = None,
    schools: int | None = None,
    **settings: Any,
) -> None:
    """Add `google:` (and `settings`) to the example's campaign.yaml.

    `language` switches the campaign's language; `units` keeps the first units of the roster, `schools`
    its first schools (中小学) only.
    """
    path = folder / "campaign.yaml"
    text = path.read_text(encoding="utf-8")
    if language is not None:
        text = text.replace("language: zh", f"language: {language}")
    lines = ["", "google:", '  folder_id: "FOLDER123"', '  credentials_env: "HUIZONG_GOOGLE_CREDENTIALS"']
    lines += [f"  {k}: {json.dumps(v)}" for k, v in settings.items()]
    path.write_text(text + "\n".join(lines) + "\n", encoding="utf-8")
    roster = folder / "units.csv"
    rows = roster.read_text(encoding="utf-8").splitlines()
    if units is not None:
        roster.write_text("\n".join(rows[: units + 1]) + "\n", encoding="utf-8")
    if schools is not None:
        kept = [r for r in rows[1:] if r.split(",")[2] == "中小学"][:schools]
        roster.write_text("\n".join([rows[0], *kept]) + "\n", encoding="utf-8")


def google_session(settings: GoogleSettings | None, *, service_account_email: str = "") -> GoogleSession:
    """The production session with the fake's token; backoff waits are skipped (tested in test_google_http)."""
    assert settings is not None
    session = build_session(Credentials(token=TOKEN), settings, service_account_email=service_account_email)
    session.http.sleep = lambda _s: None
    return session


def service_account_json() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "wujin-test",
            "private_key_id": "abc123",
            "private_key": pem.decode(),
            "client_email": SA_EMAIL,
            "client_id": "1234567890",
            "token_uri": TOKEN_URI,
        }
    )


def token_exchange(mock: responses.RequestsMock) -> None:
    """Google's OAuth endpoint, answering the key's JWT with the fake's token."""
    mock.add(
        responses.POST, TOKEN_URI, json={"access_token": TOKEN, "expires_in": 3599, "token_type": "Bearer"}
    )


def _by_name_in_the_folder(call: Call) -> None:
    q = call.query["q"][0]
    assert re.match(r"name = '((?:[^'\\]|\\.)*)' and 'FOLDER123' in parents", q), q


def expect_provision_requests(google: FakeGoogle) -> FakeGoogle:
    """The requests provision and check make, checked beyond what the fake itself needs."""
    google.expect_query("drive.files.get", fields="id,name,driveId,capabilities(canAddChildren)", supportsAllDrives="true")  # fmt: skip
    google.expect_query("drive.files.create", supportsAllDrives="true", fields="id,name,webViewLink")
    google.expect_query("sheets.get", fields="sheets.properties(sheetId,title)")
    google.expect("drive.files.list", _by_name_in_the_folder)
    return google
