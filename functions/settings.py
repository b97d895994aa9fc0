"""The process's settings: every HUIZONG_* environment variable, read once into one typed model.

Campaign settings live in campaign.yaml; these say where things are (store, buckets, queue, secrets by
name) and differ per deployment. A secret's *value* is never here, only the name of its parameter, except
the local server's webhook secret (HUIZONG_WEBHOOK_SECRET), which an organiser sets in their own shell.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

_TRUE = frozenset({"1", "true", "yes", "on"})

STORE_ENV = "HUIZONG_STORE"
WEBHOOK_SECRET_ENV = "HUIZONG_WEBHOOK_SECRET"
WEBHOOK_SECRET_PARAM = "HUIZONG_WEBHOOK_SECRET_PARAM"
GOOGLE_CREDENTIALS_PARAM = "HUIZONG_GOOGLE_CREDENTIALS_PARAM"
QUEUE_URL_ENV = "HUIZONG_QUEUE_URL"
LINK_SECRET_PARAM = "HUIZONG_LINK_SECRET_PARAM"
UPLOAD_PREFIX_ENV = "HUIZONG_UPLOAD_PREFIX"
BASE_URL_ENV = "HUIZONG_BASE_URL"
SES_REGION_ENV = "HUIZONG_SES_REGION"
DEFAULT_WORK_DIR = "/tmp/huizong"


class RuntimeConfigError(Exception):
    """The deployment's environment is incomplete or wrong: reported in the log, for the IT person."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    store: str = "sqlite"  # HUIZONG_STORE: sqlite (DIR/huizong.sqlite3) or s3://bucket/prefix
    debug: bool = False  # HUIZONG_DEBUG: tracebacks instead of friendly one-line errors
    webhook_secret: SecretStr = SecretStr("")  # HUIZONG_WEBHOOK_SECRET (huizong serve)
    # Lambda
    work_dir: Path = Path(DEFAULT_WORK_DIR)  # HUIZONG_WORK_DIR
    campaign_dir: str = ""  # HUIZONG_CAMPAIGN_DIR: campaign files bundled with the deployment
    config_bucket: str = ""  # HUIZONG_CONFIG_BUCKET (+ HUIZONG_CONFIG_KEY): campaign files in S3
    config_key: str = ""
    data_bucket: str = ""  # HUIZONG_DATA_BUCKET: the master and reports for download
    master_key: str = ""  # HUIZONG_MASTER_KEY: default <campaign id>/out/master.xlsx
    queue_url: str = ""  # HUIZONG_QUEUE_URL: the consolidation FIFO queue
    webhook_secret_param: str = ""  # HUIZONG_WEBHOOK_SECRET_PARAM: SSM parameter name
    google_credentials_param: str = ""  # HUIZONG_GOOGLE_CREDENTIALS_PARAM: SSM parameter name
    link_secret_param: str = ""  # HUIZONG_LINK_SECRET_PARAM: SSM parameter name (the web form's links)
    base_url: str = ""  # HUIZONG_BASE_URL: where units open the web form (default: the function URL)
    # HUIZONG_UPLOAD_PREFIX: where browsers upload evidence files in the data bucket (the web form's
    # function only; the template sets it to the prefix its role may write). Empty: no direct uploads.
    upload_prefix: str = ""
    secrets_extension: bool = False  # HUIZONG_SECRETS_EXTENSION: read SSM through the Lambda extension
    in_lambda: bool = False  # AWS_LAMBDA_FUNCTION_NAME is set
    # HUIZONG_SES_REGION: overrides campaign.yaml mail.ses.region. The template sets it to the region
    # its SES permissions name, so the code cannot send from a region the role may not send in.
    ses_region: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def text(name: str) -> str:
            return env.get(name, "").strip()

        def flag(name: str) -> bool:
            return text(name).lower() in _TRUE

        return cls(
            store=text(STORE_ENV) or "sqlite",
            debug=bool(text("HUIZONG_DEBUG")),
            webhook_secret=SecretStr(text(WEBHOOK_SECRET_ENV)),
            work_dir=Path(text("HUIZONG_WORK_DIR") or DEFAULT_WORK_DIR),
            campaign_dir=text("HUIZONG_CAMPAIGN_DIR"),
            config_bucket=text("HUIZONG_CONFIG_BUCKET"),
            config_key=env.get("HUIZONG_CONFIG_KEY", "").strip("/ "),
            data_bucket=text("HUIZONG_DATA_BUCKET"),
            master_key=text("HUIZONG_MASTER_KEY"),
            queue_url=text(QUEUE_URL_ENV),
            webhook_secret_param=text(WEBHOOK_SECRET_PARAM),
            google_credentials_param=text(GOOGLE_CREDENTIALS_PARAM),
            link_secret_param=text(LINK_SECRET_PARAM),
            base_url=text(BASE_URL_ENV),
            upload_prefix=text(UPLOAD_PREFIX_ENV).strip("/") + "/"
            if text(UPLOAD_PREFIX_ENV).strip("/")
            else "",
            secrets_extension=flag("HUIZONG_SECRETS_EXTENSION"),
            in_lambda=bool(text("AWS_LAMBDA_FUNCTION_NAME")),
            ses_region=text(SES_REGION_ENV),
        )

    def master_key_for(self, campaign_id: str) -> str:
        return self.master_key or f"{campaign_id}/out/master.xlsx"
