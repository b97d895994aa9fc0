"""SSM SecureString parameters, read once per cold start: through the Parameters and Secrets Lambda
Extension on localhost when HUIZONG_SECRETS_EXTENSION is on (no SSM client to build), else botocore's SSM
client. A value is never accepted from the environment, never logged, and registered for log scrubbing.
The extension answers only during invocations, so secrets are read by the first request, never at import.
"""

from __future__ import annotations

import os
import time
from functools import cache

from pydantic import BaseModel, ConfigDict, ValidationError

from functions.adapters.aws.clients import client
from functions.adapters.aws.logs import log_event, remember_secret
from functions.settings import (
    GOOGLE_CREDENTIALS_PARAM,
    LINK_SECRET_PARAM,
    WEBHOOK_SECRET_PARAM,
    RuntimeConfigError,
    Settings,
)

# The AWS Parameters and Secrets Lambda Extension: our switch, then the layer's own settings.
SECRETS_EXTENSION_ENV = "HUIZONG_SECRETS_EXTENSION"
EXTENSION_PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
DEFAULT_EXTENSION_PORT = 2773
EXTENSION_TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"
# A cache miss makes the extension call SSM itself: allow for that round trip and its retries.
EXTENSION_TIMEOUT_S = 5.0


class _ParameterValue(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Value: str


class _ExtensionReply(BaseModel):
    """The extension answers with the body of SSM's GetParameter reply."""

    model_config = ConfigDict(extra="ignore")

    Parameter: _ParameterValue


def secrets_extension_port() -> int | None:
    """The extension's port when HUIZONG_SECRETS_EXTENSION is on, else None (read through botocore)."""
    if not Settings.from_env().secrets_extension:
        return None
    raw = os.environ.get(EXTENSION_PORT_ENV, "").strip() or str(DEFAULT_EXTENSION_PORT)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise RuntimeConfigError(f"{EXTENSION_PORT_ENV}={raw!r} is not a port number")
    return int(raw)


def _parameter_from_extension(name: str, port: int) -> str:
    import urllib.error
    import urllib.parse
    import urllib.request

    token = os.environ.get("AWS_SESSION_TOKEN", "").strip()
    if not token:
        raise RuntimeConfigError(
            f"{SECRETS_EXTENSION_ENV} is on but AWS_SESSION_TOKEN is not set: the extension authenticates "
            f"callers by the {EXTENSION_TOKEN_HEADER} header, which carries it"
        )
    query = urllib.parse.urlencode({"name": name, "withDecryption": "true"})
    request = urllib.request.Request(
        f"http://localhost:{port}/systemsmanager/parameters/get?{query}",
        headers={EXTENSION_TOKEN_HEADER: token},
    )
    # No proxy, whatever HTTP_PROXY says: the session token must not leave the instance.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=EXTENSION_TIMEOUT_S) as reply:
            data = reply.read()
    except urllib.error.HTTPError as exc:
        # An error body is the extension's message (no value in it); kept short for the log.
        detail = exc.read(300).decode("utf-8", "replace").strip()
        hint = " (a wrong or missing session token)" if exc.code in (401, 403) else ""
        raise RuntimeConfigError(
            f"the Parameters and Secrets extension refused {name}{hint}: HTTP {exc.code} {detail}"
        ) from None
    except OSError as exc:
        raise RuntimeConfigError(
            f"the Parameters and Secrets extension did not answer on localhost:{port} ({exc}): "
            f"is the layer attached (SecretsExtensionLayerArn)?"
        ) from None
    try:
        return _ExtensionReply.model_validate_json(data).Parameter.Value
    except ValidationError:
        # Not the error text: pydantic would quote the input, which may hold the value.
        raise RuntimeConfigError(
            f"the Parameters and Secrets extension's reply for {name} has no value"
        ) from None


def _parameter_from_ssm(name: str) -> str:
    reply = client("ssm").get_parameter(Name=name, WithDecryption=True)
    return str(reply["Parameter"]["Value"])


@cache
def parameter(name: str) -> str:
    """A SecureString parameter, decrypted, read once per cold start and remembered for log scrubbing."""
    started = time.perf_counter()
    port = secrets_extension_port()
    value = _parameter_from_ssm(name) if port is None else _parameter_from_extension(name, port)
    remember_secret(value.strip())
    log_event(
        "parameter read",
        parameter=name,
        source="ssm" if port is None else "extension",
        ms=round((time.perf_counter() - started) * 1000),
    )
    return value


def parameter_for_cli(name: str) -> str:
    """A SecureString parameter read straight from SSM for a command on the organiser's machine: no
    extension there, and no JSON log line on stdout (it would break `--json` output)."""
    return _parameter_from_ssm(name)


def secret(param_env: str) -> bytes:
    """The secret whose SSM parameter name is in the environment variable `param_env`."""
    settings = Settings.from_env()
    names = {
        WEBHOOK_SECRET_PARAM: settings.webhook_secret_param,
        GOOGLE_CREDENTIALS_PARAM: settings.google_credentials_param,
        LINK_SECRET_PARAM: settings.link_secret_param,
    }
    name = names.get(param_env, "")
    if not name:
        raise RuntimeConfigError(f"{param_env} is not set: it must name an SSM SecureString parameter")
    return parameter(name).strip().encode()


def reset() -> None:
    parameter.cache_clear()
