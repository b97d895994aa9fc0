"""Secrets through the AWS Parameters and Secrets Lambda Extension, against a real HTTP server on loopback.

The server answers as the extension does (GET /systemsmanager/parameters/get?name=…&withDecryption=true,
authenticated by the X-Aws-Parameters-Secrets-Token header, a GetParameter-shaped JSON reply) and counts
what it was asked (tests/fakes/secrets_extension.py; the `extension` fixture is in the tier's conftest).
The SSM fallback is exercised through moto in tests/integration/test_handlers.py.
"""

from __future__ import annotations

import json

import pytest

from functions.handlers import runtime
from tests.fakes.secrets_extension import PARAM, TOKEN, VALUE, FakeExtension


def test_parameter_is_read_once_from_the_extension_with_the_token(
    extension: FakeExtension, capsys: pytest.CaptureFixture[str]
) -> None:
    assert runtime.parameter(PARAM) == VALUE
    assert runtime.parameter(PARAM) == VALUE
    assert extension.requests == [
        {
            "path": "/systemsmanager/parameters/get",
            "token": TOKEN,
            "name": PARAM,
            "withDecryption": "true",
        }
    ]
    # No SSM client (its model and endpoint rules) on this path.
    assert "ssm" not in runtime.clients_created()
    logged = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    [read] = [x for x in logged if x["message"] == "parameter read"]
    assert read["source"] == "extension" and read["parameter"] == PARAM
    assert VALUE not in json.dumps(logged)


def test_secret_names_its_parameter_through_the_environment_and_is_scrubbed_from_logs(
    extension: FakeExtension, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(runtime.WEBHOOK_SECRET_PARAM, PARAM)
    assert runtime.secret(runtime.WEBHOOK_SECRET_PARAM) == VALUE.encode()
    # A value read is remembered and scrubbed from any later log line that quotes it.
    runtime.logger().error(f"something failed near {VALUE}")
    out = capsys.readouterr().out
    assert VALUE not in out and "something failed near ***" in out


def test_a_name_with_reserved_characters_is_url_encoded(extension: FakeExtension) -> None:
    odd = "/huizong/secret with space&x=1"
    extension.values[odd] = "odd-value-123456"
    assert runtime.parameter(odd) == "odd-value-123456"
    assert extension.requests[-1]["name"] == odd and "x" not in extension.requests[-1]


def test_a_wrong_token_is_a_clear_configuration_error(
    extension: FakeExtension, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", "a-stale-token")
    with pytest.raises(runtime.RuntimeConfigError) as caught:
        runtime.parameter(PARAM)
    text = str(caught.value)
    assert "refused" in text and "session token" in text and "HTTP 401" in text and PARAM in text
    assert extension.requests[0]["token"] == "a-stale-token"
    # Not remembered: the next invocation asks again (here with the right token).
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    assert runtime.parameter(PARAM) == VALUE


def test_a_missing_token_fails_before_asking(
    extension: FakeExtension, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    with pytest.raises(runtime.RuntimeConfigError, match="AWS_SESSION_TOKEN is not set"):
        runtime.parameter(PARAM)
    assert extension.requests == []


def test_an_unknown_parameter_names_the_extensions_answer(extension: FakeExtension) -> None:
    with pytest.raises(runtime.RuntimeConfigError, match=r"HTTP 400 ParameterNotFound") as caught:
        runtime.parameter("/huizong/nothing-here")
    assert "session token" not in str(caught.value)


def test_a_reply_without_a_value_does_not_quote_the_reply(extension: FakeExtension) -> None:
    extension.reply_override = json.dumps({"Parameter": {"Name": PARAM, "Valu": VALUE}}).encode()
    with pytest.raises(runtime.RuntimeConfigError, match="has no value") as caught:
        runtime.parameter(PARAM)
    assert VALUE not in str(caught.value)


def test_no_extension_listening_says_so(extension: FakeExtension, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv(runtime.EXTENSION_PORT_ENV, str(closed))
    with pytest.raises(runtime.RuntimeConfigError, match=f"did not answer on localhost:{closed}"):
        runtime.parameter(PARAM)


@pytest.mark.parametrize("port", ["0", "70000", "27x3"])
def test_a_bad_port_setting_is_reported(
    extension: FakeExtension, monkeypatch: pytest.MonkeyPatch, port: str
) -> None:
    monkeypatch.setenv(runtime.EXTENSION_PORT_ENV, port)
    with pytest.raises(runtime.RuntimeConfigError, match="is not a port number"):
        runtime.parameter(PARAM)
