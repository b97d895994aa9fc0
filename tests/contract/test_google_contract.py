"""The Google contract (google_contract.py), run against every Google the tests have.

To add one (a real Google in a test folder, say), add a param to `google_port`: a branch that yields a
GooglePort on it, and cleans up after.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from schemas.google import GoogleSettings
from tests.contract.google_contract import GooglePort, GoogleSessionContract
from tests.fakes.google import SA_EMAIL, FakeGoogle
from tests.helpers.google import google_session

SETTINGS = GoogleSettings(folder_id="FOLDER123", max_retries=0)


@pytest.fixture(params=["fake-over-http", "fake-in-memory"])
def google_port(request: pytest.FixtureRequest) -> Iterator[GooglePort]:
    if request.param == "fake-over-http":
        # The production session, gspread, google-auth and requests, answered by the fake through `responses`.
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            FakeGoogle(mock, folder_id=SETTINGS.folder_id)
            yield GooglePort(google_session(SETTINGS, service_account_email=SA_EMAIL), SETTINGS.folder_id,
                             "unit@example.org")  # fmt: skip
    elif request.param == "fake-in-memory":
        # The production session over the fake's in-memory transport: no HTTP library in the way.
        with responses.RequestsMock() as guard:  # and nothing may leave through requests
            google = FakeGoogle(folder_id=SETTINGS.folder_id)
            yield GooglePort(google.session(SETTINGS), SETTINGS.folder_id, "unit@example.org")
            assert len(guard.calls) == 0
    else:  # pragma: no cover - a param added above without a branch
        raise AssertionError(request.param)


class TestGoogleContract(GoogleSessionContract):
    pass
