"""The one door to Google's APIs: bounded retries, a per-run call budget, a deadline, call counts.

gspread's BackOffHTTPClient retries forever; a poll that runs every five minutes must instead stop
cleanly when the quota (60 reads and 60 writes per minute per user) or the function's time runs out, and
resume from its cursor next run. Every request (Sheets and Drive) goes through
:meth:`BudgetedHTTPClient.request`, so the budget and the counts cover everything.
"""

from __future__ import annotations

import random
import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from google.auth.credentials import Credentials
from gspread.http_client import HTTPClient
from requests import Response, Session
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout

from functions.ports import GoogleBudgetExhausted, GoogleCallFailed, GoogleRefused

SHEETS_API = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE_FILES_API = "https://www.googleapis.com/drive/v3/files"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Drive answers 403 (not 429) when its rate limits trip: those mean "later", not "no access".
RATE_LIMIT_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded"})


_OPERATIONS: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"/drive/v3/files/[^/]+/permissions"), "drive.permissions.list"),
    ("POST", re.compile(r"/drive/v3/files/[^/]+/permissions"), "drive.permissions.create"),
    ("GET", re.compile(r"/drive/v3/files/?$"), "drive.files.list"),
    ("POST", re.compile(r"/drive/v3/files/?$"), "drive.files.create"),
    ("GET", re.compile(r"/drive/v3/files/[^/]+$"), "drive.files.get"),
    ("PATCH", re.compile(r"/drive/v3/files/[^/]+$"), "drive.files.update"),
    ("GET", re.compile(r"/v4/spreadsheets/[^/]+/values:batchGet$"), "sheets.values.batchGet"),
    ("POST", re.compile(r"/v4/spreadsheets/[^/]+/values:batchUpdate$"), "sheets.values.batchUpdate"),
    ("POST", re.compile(r"/v4/spreadsheets/[^/]+/values:batchClear$"), "sheets.values.batchClear"),
    ("POST", re.compile(r"/v4/spreadsheets/[^/]+:batchUpdate$"), "sheets.batchUpdate"),
    ("GET", re.compile(r"/v4/spreadsheets/[^/:]+$"), "sheets.get"),
    ("POST", re.compile(r"/v4/spreadsheets/?$"), "sheets.create"),
]


def operation_name(method: str, url: str) -> str:
    path = url.split("?", 1)[0]
    for m, pattern, name in _OPERATIONS:
        if m == method.upper() and pattern.search(path):
            return name
    return f"{method.upper()} {path}"


def _api_reason(response: Response) -> str:
    """Google's machine-readable reason (error.errors[0].reason), e.g. "storageQuotaExceeded"."""
    try:
        errors = response.json().get("error", {}).get("errors") or [{}]
    except (ValueError, AttributeError):
        return ""
    first = errors[0] if isinstance(errors, list) and errors else {}
    return str(first.get("reason", "")) if isinstance(first, dict) else ""


def _is_rate_limited(response: Response) -> bool:
    if response.status_code != 403:
        return False
    try:
        errors = response.json().get("error", {}).get("errors", [])
    except (ValueError, AttributeError):
        return False
    return any(isinstance(e, dict) and e.get("reason") in RATE_LIMIT_REASONS for e in errors)


def _message(response: Response) -> str:
    try:
        err = response.json().get("error", {})
        return str(err.get("message") or err.get("status") or response.reason)
    except ValueError:
        return response.text[:200] or str(response.reason)


class BudgetedHTTPClient(HTTPClient):
    """gspread's HTTP client with bounded exponential backoff (full jitter), a budget and a deadline.

    Configure after construction with :meth:`configure` (gspread builds the client itself from a type).
    """

    def __init__(self, auth: Credentials, session: Session | None = None) -> None:
        super().__init__(auth, session)
        self.counts: Counter[str] = Counter()
        self.budget: int | None = None
        self.max_retries = 5
        self.base_delay = 1.0
        self.max_delay = 32.0
        self.deadline: float | None = None
        self.clock: Callable[[], float] = time.monotonic
        self.sleep: Callable[[float], None] = time.sleep
        self.rng: Callable[[], float] = random.random
        self.timeout = 60.0

    def configure(
        self,
        *,
        budget: int | None = None,
        max_retries: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 32.0,
        deadline: float | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: Callable[[], float] | None = None,
    ) -> None:
        self.budget = budget
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.deadline = deadline
        self.clock = clock or self.clock
        self.sleep = sleep or self.sleep
        self.rng = rng or self.rng

    @property
    def calls(self) -> int:
        return sum(self.counts.values())

    def remaining(self) -> int | None:
        return None if self.budget is None else self.budget - self.calls

    def _spend(self, operation: str) -> None:
        if self.budget is not None and self.calls >= self.budget:
            raise GoogleBudgetExhausted(f"call budget of {self.budget} spent before {operation}")
        if self.deadline is not None and self.clock() >= self.deadline:
            raise GoogleBudgetExhausted(f"deadline reached before {operation}")
        self.counts[operation] += 1

    def _wait(self, attempt: int, response: Response | None, operation: str) -> None:
        delay = min(self.max_delay, self.base_delay * (2**attempt)) * self.rng()
        if response is not None:
            retry_after = response.headers.get("Retry-After", "")
            if retry_after.isdigit():
                delay = max(delay, min(float(retry_after), self.max_delay))
        if self.deadline is not None and self.clock() + delay >= self.deadline:
            raise GoogleBudgetExhausted(f"no time left to retry {operation}")
        self.sleep(delay)

    def request(
        self,
        method: str,
        endpoint: str,
        params: Any = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> Response:
        operation = operation_name(method, endpoint)
        attempt = 0
        while True:
            self._spend(operation)
            response: Response | None = None
            try:
                response = self.session.request(
                    method=method,
                    url=endpoint,
                    json=json,
                    params=params,
                    data=data,
                    files=files,
                    headers=headers,
                    timeout=self.timeout,
                )
            except (RequestsConnectionError, Timeout) as exc:
                if attempt >= self.max_retries:
                    raise GoogleCallFailed(operation, None, str(exc)) from exc
            else:
                if response.ok:
                    return response
                if response.status_code not in RETRY_STATUSES and not _is_rate_limited(response):
                    raise GoogleRefused(
                        operation, response.status_code, _message(response), _api_reason(response)
                    )
                if attempt >= self.max_retries:
                    raise GoogleCallFailed(operation, response.status_code, _message(response))
            self._wait(attempt, response, operation)
            attempt += 1

    def json_request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        body = self.request(method, url, **kwargs).json()
        return body if isinstance(body, dict) else {}
