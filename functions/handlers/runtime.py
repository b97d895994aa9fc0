"""What a cold start does once: find the campaign, read secrets, open the app; JSON logs.

Campaign files come from S3 (HUIZONG_CONFIG_BUCKET + HUIZONG_CONFIG_PREFIX: campaign.yaml and
units.csv) copied to /tmp, or from a folder bundled with the deployment (HUIZONG_CAMPAIGN_DIR).
Secrets come from SSM Parameter Store SecureString parameters whose *names* are in the environment
(HUIZONG_WEBHOOK_SECRET_PARAM, HUIZONG_GOOGLE_CREDENTIALS_PARAM): never a secret value in an
environment variable, never a secret in a log line. boto3 is imported only when needed, so a warm
webhook pays nothing for it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

from functions.bootstrap import App, open_app

CONFIG_FILES = ("campaign.yaml", "units.csv", "units.xlsx")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
            "time": round(record.created, 3),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logger() -> logging.Logger:
    log = logging.getLogger("huizong")
    if not any(isinstance(h.formatter, JsonFormatter) for h in log.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def log_event(message: str, **fields: Any) -> None:
    logger().info(message, extra={"fields": fields})


def boto3_client(service: str) -> Any:
    import boto3

    return boto3.client(service)


@cache
def campaign_folder() -> Path:
    bundled = os.environ.get("HUIZONG_CAMPAIGN_DIR")
    if bundled:
        return Path(bundled)
    bucket = os.environ["HUIZONG_CONFIG_BUCKET"]
    prefix = os.environ.get("HUIZONG_CONFIG_PREFIX", "").strip("/")
    target = Path(os.environ.get("HUIZONG_WORK_DIR", "/tmp/huizong")) / "campaign"
    target.mkdir(parents=True, exist_ok=True)
    s3 = boto3_client("s3")
    for name in CONFIG_FILES:
        key = f"{prefix}/{name}" if prefix else name
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            continue
        (target / name).write_bytes(body)
    return target


@cache
def secret(param_env: str) -> bytes:
    """A SecureString from SSM, read once per cold start; the environment holds only its name."""
    name = os.environ.get(param_env)
    if not name:
        raise RuntimeError(f"{param_env} is not set (it names an SSM SecureString parameter)")
    reply = boto3_client("ssm").get_parameter(Name=name, WithDecryption=True)
    return str(reply["Parameter"]["Value"]).encode()


@cache
def app() -> App:
    started = time.perf_counter()
    opened = open_app(campaign_folder())
    log_event("campaign opened", campaign=opened.campaign.id, seconds=round(time.perf_counter() - started, 3))
    return opened


def reset() -> None:
    """Forget the cold-start state (tests, or a function that must re-read its configuration)."""
    campaign_folder.cache_clear()
    secret.cache_clear()
    app.cache_clear()
