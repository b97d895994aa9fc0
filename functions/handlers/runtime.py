"""What a cold start does once: find the campaign, read the secrets, open the app; JSON logs.

Configuration. The campaign files (campaign.yaml and units.csv or units.xlsx) come from S3
(HUIZONG_CONFIG_BUCKET, with the key prefix HUIZONG_CONFIG_KEY) or from a folder bundled with the
deployment (HUIZONG_CAMPAIGN_DIR). Either way they are copied to a folder under /tmp once per cold start:
the services write next to the campaign file (reports, the master before upload) and the deployment
package is read-only.

Secrets. The webhook secret and the Google service-account key are SSM Parameter Store SecureString
parameters whose *names* are in the environment (HUIZONG_WEBHOOK_SECRET_PARAM,
HUIZONG_GOOGLE_CREDENTIALS_PARAM). Each is read once per cold start and kept in memory; a secret value is
never accepted from the environment, never logged, and scrubbed from any log line that would carry it.
With HUIZONG_SECRETS_EXTENSION=1 (the template sets it when the AWS Parameters and Secrets Lambda
Extension layer is attached) a parameter is read from the extension's HTTP server on localhost with
urllib, which spares the cold start an SSM client (its model and endpoint rules); without it, botocore's
SSM client reads it. A switch rather than probing the port: a function without the layer would otherwise
wait for a connection on every cold start, and a layer that fails is reported, not silently bypassed.
The extension answers only during invocations, not during the init phase, so secrets are read by the
first request, never at import.

AWS clients. botocore is used directly (boto3 only adds a resource layer these functions do not use), one
session and one client per service per cold start; botocore clients are thread-safe, so the store's
threads share them.

Logs. One JSON object per line on stdout (CloudWatch keeps each as one event): level, message, the
request id of the invocation, the campaign, and counts given by the caller.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.bootstrap import STORE_ENV, App, open_app
from functions.ports import Store

CAMPAIGN_FILE = "campaign.yaml"
ROSTER_FILES = ("units.csv", "units.xlsx")  # the first found wins, as in functions/config/loading.py
WEBHOOK_SECRET_PARAM = "HUIZONG_WEBHOOK_SECRET_PARAM"
GOOGLE_CREDENTIALS_PARAM = "HUIZONG_GOOGLE_CREDENTIALS_PARAM"
# The AWS Parameters and Secrets Lambda Extension: our switch, then the layer's own settings.
SECRETS_EXTENSION_ENV = "HUIZONG_SECRETS_EXTENSION"
EXTENSION_PORT_ENV = "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"
DEFAULT_EXTENSION_PORT = 2773
EXTENSION_TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"
# A cache miss makes the extension call SSM itself: allow for that round trip and its retries.
EXTENSION_TIMEOUT_S = 5.0
DEFAULT_WORK_DIR = "/tmp/huizong"

QUEUE_URL_ENV = "HUIZONG_QUEUE_URL"
# One message group: the FIFO queue hands the consolidate function one batch at a time, so two rebuilds
# of the master never overlap.
MESSAGE_GROUP = "consolidate"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The handlers' clock; tests set it to a campaign's dates (the reminder plan depends on the day).
clock: Callable[[], dt.datetime] = _utc_now

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("huizong_request_id", default=None)
_campaign_id: list[str] = []  # set once the app is open; every later log line names the campaign
_secret_values: set[str] = set()


class ConsolidateRequest(BaseModel):
    """The body of one consolidation message: the version that made the master stale, when known."""

    model_config = ConfigDict(extra="ignore")

    version: str = Field(min_length=1)
    unit: str | None = None
    deliverable: str | None = None


class RuntimeConfigError(Exception):
    """The function's environment is incomplete: a deployment mistake, reported in the log."""


# ---- logs ------------------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "message": record.getMessage(),
            "time": round(record.created, 3),
        }
        request_id = _request_id.get()
        if request_id:
            entry["request_id"] = request_id
        if _campaign_id:
            entry["campaign"] = _campaign_id[0]
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return _scrub(json.dumps(entry, ensure_ascii=False, default=str))


def _scrub(line: str) -> str:
    # Belt and braces: nothing logs a secret on purpose, but an exception text might quote one.
    for value in _secret_values:
        if value and value in line:
            line = line.replace(value, "***")
    return line


class _StdoutHandler(logging.Handler):
    """Writes to whatever sys.stdout is at the time (the Lambda runtime and pytest both replace it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def logger() -> logging.Logger:
    log = logging.getLogger("huizong.lambda")
    if not any(isinstance(h, _StdoutHandler) for h in log.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        # The Lambda runtime's root handler would print every line a second time, as plain text.
        log.propagate = False
    return log


def log_event(message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    logger().log(level, message, extra={"fields": fields})


@contextmanager
def invocation(handler: str, context: Any) -> Iterator[None]:
    """Tag every log line of one invocation with its request id; log what escapes, then re-raise."""
    token = _request_id.set(getattr(context, "aws_request_id", None))
    started = time.perf_counter()
    try:
        yield
    except Exception:
        logger().exception(f"{handler} failed", extra={"fields": {"handler": handler}})
        raise
    finally:
        log_event("done", handler=handler, ms=round((time.perf_counter() - started) * 1000))
        _request_id.reset(token)


# ---- AWS clients -------------------------------------------------------------------------------------


def region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


class PlainJsonFileLoader:
    """botocore's model file loader (the same files, .json or .json.gz), returning plain dicts.

    botocore parses its models with object_pairs_hook=OrderedDict, which makes json.loads two to three
    times slower. Dicts keep their order, and nothing in botocore relies on what else OrderedDict adds;
    a cold start parses endpoints.json (1.2 MB) and each client's model and endpoint rules, so this
    saves some 20-30 ms of it (docs/cold-start.md)."""

    SUFFIXES = (".json", ".json.gz")

    def exists(self, file_path: str) -> bool:
        # Gzipped first: botocore asks this of every service's folder, and most models are gzipped.
        return any(os.path.isfile(file_path + suffix) for suffix in reversed(self.SUFFIXES))

    def load_file(self, file_path: str) -> Any:
        import gzip

        for suffix in self.SUFFIXES:
            path = file_path + suffix
            if os.path.isfile(path):
                with (gzip.open if suffix.endswith(".gz") else open)(path, "rb") as fp:
                    return json.loads(fp.read().decode("utf-8"))
        return None


@cache
def _session() -> Any:
    import botocore.session

    session = botocore.session.get_session()
    # The session's own loader (it honours AWS_DATA_PATH), reading its files faster.
    session.get_component("data_loader").file_loader = PlainJsonFileLoader()
    return session


# The S3 store reads versions on 16 threads; a smaller pool would make them queue for connections.
S3_POOL = 24


_clients_created: list[str] = []


def clients_created() -> tuple[str, ...]:
    """The services a client was created for since the cold start, in order (what the cold start paid)."""
    return tuple(_clients_created)


@cache
def client(service: str) -> Any:
    """One botocore client per service per cold start (the same object boto3.client would return)."""
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 4})
    if service == "s3":
        # SigV4 for presigned links too: the only signature newer regions accept.
        config = config.merge(Config(signature_version="s3v4", max_pool_connections=S3_POOL))
    created = _session().create_client(service, region_name=region(), config=config)
    _clients_created.append(service)
    return created


# ---- secrets -----------------------------------------------------------------------------------------


class _ParameterValue(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Value: str


class _ExtensionReply(BaseModel):
    """The extension answers with the body of SSM's GetParameter reply."""

    model_config = ConfigDict(extra="ignore")

    Parameter: _ParameterValue


def secrets_extension_port() -> int | None:
    """The extension's port when HUIZONG_SECRETS_EXTENSION is on, else None (read through botocore)."""
    if os.environ.get(SECRETS_EXTENSION_ENV, "").strip().lower() not in ("1", "true", "yes", "on"):
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
    _secret_values.add(value.strip())
    log_event(
        "parameter read",
        parameter=name,
        source="ssm" if port is None else "extension",
        ms=round((time.perf_counter() - started) * 1000),
    )
    return value


def secret(param_env: str) -> bytes:
    """The secret whose SSM parameter name is in the environment variable `param_env`."""
    name = os.environ.get(param_env, "").strip()
    if not name:
        raise RuntimeConfigError(f"{param_env} is not set: it must name an SSM SecureString parameter")
    return parameter(name).strip().encode()


# ---- campaign ----------------------------------------------------------------------------------------


def work_dir() -> Path:
    return Path(os.environ.get("HUIZONG_WORK_DIR", DEFAULT_WORK_DIR))


def _fetch_from_s3(bucket: str, prefix: str, target: Path) -> list[str]:
    s3 = client("s3")
    fetched: list[str] = []
    for name in (CAMPAIGN_FILE, *ROSTER_FILES):
        if name in ROSTER_FILES and any(f in ROSTER_FILES for f in fetched):
            continue
        key = f"{prefix}/{name}" if prefix else name
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            continue
        except Exception as exc:
            # Without s3:ListBucket S3 answers 403 for a missing key; name the key either way.
            raise RuntimeConfigError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
        (target / name).write_bytes(body)
        fetched.append(name)
    if CAMPAIGN_FILE not in fetched:
        raise RuntimeConfigError(f"s3://{bucket}/{prefix + '/' if prefix else ''}{CAMPAIGN_FILE} not found")
    return fetched


def _copy_bundled(source: Path, target: Path) -> list[str]:
    copied: list[str] = []
    for name in (CAMPAIGN_FILE, *ROSTER_FILES):
        if (source / name).is_file():
            shutil.copyfile(source / name, target / name)
            copied.append(name)
    if CAMPAIGN_FILE not in copied:
        raise RuntimeConfigError(f"{source / CAMPAIGN_FILE} not found (HUIZONG_CAMPAIGN_DIR)")
    return copied


@cache
def campaign_folder() -> Path:
    """The campaign files in a writable folder under /tmp, fetched once per cold start."""
    target = work_dir() / "campaign"
    target.mkdir(parents=True, exist_ok=True)
    bundled = os.environ.get("HUIZONG_CAMPAIGN_DIR", "").strip()
    if bundled:
        files = _copy_bundled(Path(bundled), target)
        log_event("campaign files copied", source=bundled, files=files)
        return target
    bucket = os.environ.get("HUIZONG_CONFIG_BUCKET", "").strip()
    if not bucket:
        raise RuntimeConfigError("set HUIZONG_CONFIG_BUCKET (+ HUIZONG_CONFIG_KEY) or HUIZONG_CAMPAIGN_DIR")
    prefix = os.environ.get("HUIZONG_CONFIG_KEY", "").strip("/ ")
    files = _fetch_from_s3(bucket, prefix, target)
    log_event("campaign files fetched", bucket=bucket, prefix=prefix, files=files)
    return target


def open_store_for(folder: Path) -> Store | None:
    """The S3 store over the shared client; None lets open_app pick the local store (tests, `serve`)."""
    spec = os.environ.get(STORE_ENV, "").strip()
    if not spec.startswith("s3://"):
        if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
            # /tmp does not outlive the execution environment: versions would be lost.
            log_event("the store is not on S3: data will not survive this instance", level=logging.WARNING)
        return None
    from functions.adapters.store.s3 import S3Store

    bucket, _, prefix = spec.removeprefix("s3://").partition("/")
    return S3Store(bucket=bucket, prefix=prefix, client=client("s3"))


@cache
def app() -> App:
    started = time.perf_counter()
    folder = campaign_folder()
    opened = open_app(folder, store=open_store_for(folder))
    _campaign_id[:] = [opened.campaign.id]
    log_event(
        "campaign opened",
        campaign=opened.campaign.id,
        units=len(opened.roster.units),
        roster_problems=len(opened.roster_problems),
        ms=round((time.perf_counter() - started) * 1000),
    )
    return opened


# Where the in-memory key is handed to google_credentials, which validates it without echoing it.
_KEY_VAR = "HUIZONG_GOOGLE_CREDENTIALS"


@cache
def google_credentials() -> Any:
    """The Google service-account credentials from SSM, once per cold start.

    Kept across invocations, so google-auth's access token is reused until it expires instead of being
    fetched again on every poll."""
    from functions.adapters.google.credentials import load_credentials

    opened = app()
    settings = opened.campaign.google
    if settings is None:
        raise RuntimeConfigError("campaign.yaml has no google section")
    name = settings.credentials_ssm or os.environ.get(GOOGLE_CREDENTIALS_PARAM, "").strip()
    if not name:
        raise RuntimeConfigError(f"{GOOGLE_CREDENTIALS_PARAM} is not set: it must name an SSM SecureString")
    local = settings.model_copy(
        update={"credentials_file": "", "credentials_env": _KEY_VAR, "credentials_ssm": ""}
    )
    credentials, _where = load_credentials(
        local, opened.folder, env={_KEY_VAR: parameter(name)}, language=opened.campaign.language
    )
    return credentials


def deadline_from(context: Any, *, reserve_ms: int, default_ms: int = 300_000) -> float:
    """A time.monotonic() deadline that leaves `reserve_ms` of the invocation for a clean stop."""
    remaining = context.get_remaining_time_in_millis() if context is not None else default_ms
    return time.monotonic() + max(0, remaining - reserve_ms) / 1000


# ---- the data bucket -----------------------------------------------------------------------------------


def data_bucket() -> str | None:
    return os.environ.get("HUIZONG_DATA_BUCKET", "").strip() or None


def master_key(campaign_id: str) -> str:
    return os.environ.get("HUIZONG_MASTER_KEY", "").strip() or f"{campaign_id}/out/master.xlsx"


def reset() -> None:
    """Forget everything a cold start read (tests; a warm instance never needs it)."""
    campaign_folder.cache_clear()
    parameter.cache_clear()
    app.cache_clear()
    google_credentials.cache_clear()
    client.cache_clear()
    _session.cache_clear()
    _secret_values.clear()
    _campaign_id.clear()
    _clients_created.clear()


# ---- the consolidation queue ---------------------------------------------------------------------------


def queue_consolidation(requests: list[ConsolidateRequest]) -> int:
    """One FIFO message per new version, deduplicated by the version id: a delivery seen twice (the Apps
    Script retries, Scheduler may repeat) queues nothing new within SQS's five-minute window, and after
    it a repeated rebuild is harmless. Returns the number of messages sent."""
    url = os.environ.get(QUEUE_URL_ENV, "").strip()
    if not url or not requests:
        return 0
    sqs = client("sqs")
    for start in range(0, len(requests), 10):  # SendMessageBatch takes at most ten entries
        chunk = requests[start : start + 10]
        reply = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(i),
                    "MessageBody": r.model_dump_json(exclude_none=True),
                    "MessageGroupId": MESSAGE_GROUP,
                    # SQS allows 128 characters; version ids are 32 hex characters.
                    "MessageDeduplicationId": r.version[:128],
                }
                for i, r in enumerate(chunk)
            ],
        )
        failed = reply.get("Failed") or []
        if failed:
            codes = sorted({str(f.get("Code")) for f in failed})
            raise RuntimeError(f"{len(failed)} consolidation message(s) not queued: {', '.join(codes)}")
    return len(requests)
