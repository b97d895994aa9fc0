"""Integration-tier fixtures: servers on loopback (SMTP, the Lambda secrets extension)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.handlers import runtime
from tests.fakes.secrets_extension import PARAM, TOKEN, VALUE, FakeExtension, serving_extension
from tests.fakes.smtp import RunningServer, running_smtp, running_smtp_tls


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """Plain SMTP with AUTH allowed without TLS; indirect parametrisation passes extra aiosmtpd options."""
    with running_smtp(getattr(request, "param", None)) as server:
        yield server


@pytest.fixture
def smtp_tls_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[RunningServer]:
    """STARTTLS (param "starttls", the default) or implicit TLS (param "ssl") with a self-signed certificate."""
    with running_smtp_tls(tmp_path, getattr(request, "param", "starttls")) as server:
        yield server


@pytest.fixture
def extension(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeExtension]:
    """The secrets extension on loopback, holding PARAM, with huizong's runtime pointed at it."""
    with serving_extension({PARAM: VALUE}) as state:
        monkeypatch.setenv(runtime.SECRETS_EXTENSION_ENV, "1")
        monkeypatch.setenv(runtime.EXTENSION_PORT_ENV, str(state.port))
        monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
        # The session token must never go to a proxy: point one at a closed port, it must be ignored.
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        runtime.reset()
        try:
            yield state
        finally:
            runtime.reset()
