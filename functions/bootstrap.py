"""The composition root: the one place that turns configuration into wired adapters, for every profile.

- local (`huizong …` on a campaign folder) and `huizong serve`: SQLite (or HUIZONG_STORE=s3://…), the
  inbox folder, the campaign's mail transport, the Google key from the campaign's sources, out/ as the
  artifact store;
- lambda (functions/handlers/): the campaign files fetched once per cold start, the S3 store and bucket
  over one shared botocore client, secrets from SSM, the Google key from SSM, and with
  HUIZONG_UPLOAD_PREFIX (the web form's function) the upload target for browsers' presigned POSTs.

Adapters are imported inside the builders so a profile pays only for what it uses (docs/cold-start.md).
Services receive the resulting App and never import this module.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from functions.app import App, Paths
from functions.config.loading import ConfigError, load_campaign, load_roster
from functions.ports import (
    ArtifactStore,
    GoogleClient,
    GoogleConnector,
    Mailbox,
    Mailer,
    Store,
    UploadTarget,
)
from functions.settings import STORE_ENV, Settings
from schemas.campaign import Campaign
from schemas.i18n import t

__all__ = ["App", "Paths", "open_app", "open_lambda_app", "open_store"]

SQLITE_NAME = "huizong.sqlite3"


def open_store(
    folder: Path, settings: Settings | None = None, *, s3_client: Any = None, read_only: bool = False
) -> Store:
    """HUIZONG_STORE chooses the store: unset or sqlite (DIR/huizong.sqlite3), or s3://bucket/prefix.
    `read_only`: the SQLite file is neither created nor written (commands that only read)."""
    spec = (settings or Settings.from_env()).store
    if spec == "sqlite":
        from functions.adapters.store.sqlite import SqliteStore

        return SqliteStore(Path(folder) / SQLITE_NAME, read_only=read_only)
    if spec.startswith("s3://"):
        from functions.adapters.store.s3 import S3Store

        bucket, _, prefix = spec.removeprefix("s3://").partition("/")
        return S3Store(bucket=bucket, prefix=prefix, client=s3_client)
    raise ConfigError(
        [
            f"{STORE_ENV}={spec!r}: "
            + t(None, "只支持 sqlite 或 s3://bucket/prefix", "only sqlite or s3://bucket/prefix")
        ]
    )


def _read_workbook(path: Path, campaign: Campaign, roster: Any) -> Any:
    from functions.adapters.xlsx.reader import read_workbook

    return read_workbook(path, campaign, roster)


def _write_master(sheets: Any, path: Path, *, title: str, max_rows_per_sheet: int) -> dict[str, int]:
    from functions.adapters.xlsx.master_writer import write_master_xlsx

    return write_master_xlsx(sheets, path, title=title, max_rows_per_sheet=max_rows_per_sheet)


def _local_google(campaign: Campaign, folder: Path) -> GoogleConnector | None:
    if campaign.google is None:
        return None

    def connect(*, deadline: float | None = None) -> GoogleClient:
        from functions.adapters.google.session import connect as google_connect

        return google_connect(campaign, folder, deadline=deadline)

    return connect


def _local_mailbox(campaign: Campaign) -> Callable[[], Mailbox] | None:
    """The units' mailbox over IMAP (issue 16), opened when a command reads it; None without a host."""
    settings = campaign.mail_intake
    if settings is None or not settings.host:
        return None

    def open_mailbox() -> Mailbox:
        import os

        from functions.adapters.mail.imap import ImapMailbox

        return ImapMailbox(settings, env=os.environ, language=campaign.language)

    return open_mailbox


def _assemble(
    folder: Path,
    *,
    store: Store,
    artifacts: ArtifactStore | None = None,
    google: Any = "local",
    mailer_factory: Any = None,
    ses_region: str = "",
    link_secret: Callable[[], bytes] | None = None,
    master_key_for: Callable[[str], str] | None = None,
    uploads: UploadTarget | None = None,
) -> App:
    from functions.adapters.folder.artifacts import FolderArtifacts
    from functions.adapters.folder.intake import FolderIntake

    campaign = load_campaign(folder)
    roster, problems = load_roster(folder, campaign)
    paths = Paths(folder)

    def build_mailer() -> Mailer:
        from functions.adapters.mail.factory import build_mailer as factory

        return factory(campaign.mail, folder, language=campaign.language, ses_region=ses_region)

    return App(
        folder=folder,
        campaign=campaign,
        roster=roster,
        roster_problems=problems,
        store=store,
        intake=FolderIntake(paths.inbox, campaign, roster, read=_read_workbook),
        read_workbook=_read_workbook,
        write_master=_write_master,
        artifacts=artifacts if artifacts is not None else FolderArtifacts(paths.out),
        mailer_factory=mailer_factory or build_mailer,
        google=_local_google(campaign, folder) if google == "local" else google(campaign),
        mailbox_factory=_local_mailbox(campaign),
        link_secret=link_secret,
        master_key=master_key_for(campaign.id) if master_key_for else "master.xlsx",
        uploads=uploads,
    )


def open_app(
    folder: Path, *, store: Store | None = None, settings: Settings | None = None, read_only: bool = False
) -> App:
    """The local profile (CLI, `huizong serve`): everything beside the campaign files in `folder`.
    `read_only` (validate, status): the store is opened for reading, so no write access is needed."""
    from functions.store_errors import StoreUnavailable

    folder = Path(folder)
    settings = settings or Settings.from_env()
    if store is None:
        try:
            store = open_store(folder, settings, read_only=read_only)
        except StoreUnavailable as exc:
            raise ConfigError([exc.message(_language_if_known(folder))]) from None
    return _assemble(
        folder, store=store, ses_region=settings.ses_region, link_secret=_cli_link_secret(settings)
    )


def _language_if_known(folder: Path) -> Any:
    """The campaign's language for a message, or None (both languages) when campaign.yaml is unusable."""
    try:
        return load_campaign(folder).language
    except ConfigError:
        return None


def open_lambda_app(settings: Settings) -> App:
    """The Lambda profile; the caller (functions/handlers/runtime.py) keeps it for the cold start."""
    from functions.adapters.aws import clients, logs
    from functions.adapters.aws.campaign_files import fetch_campaign_files

    folder = fetch_campaign_files(settings)
    s3 = None
    if settings.store.startswith("s3://") or settings.data_bucket:
        s3 = clients.client("s3")
    if not settings.store.startswith("s3://") and settings.in_lambda:
        # /tmp does not outlive the execution environment: versions would be lost.
        logs.log_event("the store is not on S3: data will not survive this instance", level=logging.WARNING)
    artifacts: ArtifactStore | None = None
    uploads: UploadTarget | None = None
    if settings.data_bucket:
        from functions.adapters.aws.artifacts_s3 import S3Artifacts
        from functions.adapters.aws.uploads_s3 import S3Uploads

        artifacts = S3Artifacts(settings.data_bucket, s3)
        if settings.upload_prefix:
            # The web form's evidence files go from the browser to the bucket (presigned POSTs): the
            # function URL's 6 MB request cap would refuse them in the page's own post. Only the web
            # form's function is given the prefix, and only its role may write there.
            uploads = S3Uploads(settings.data_bucket, s3, root=settings.upload_prefix)
    return _assemble(
        folder,
        store=open_store(folder, settings, s3_client=s3),
        artifacts=artifacts,
        google=lambda campaign: _lambda_google(campaign, folder, settings),
        ses_region=settings.ses_region,
        link_secret=_lambda_link_secret(settings),
        master_key_for=settings.master_key_for,
        uploads=uploads,
    )


def _cli_link_secret(settings: Settings) -> Callable[[], bytes] | None:
    """On the organiser's machine for a deployment that keeps the secret in SSM: read once, when needed."""
    if not settings.link_secret_param:
        return None
    return functools.cache(lambda: cloud_link_secret(settings) or b"")


def _lambda_link_secret(settings: Settings) -> Callable[[], bytes] | None:
    """On Lambda: SSM (or the extension), read on first use and cached for the cold start."""
    if not settings.link_secret_param:
        return None
    name = settings.link_secret_param

    def read() -> bytes:
        from functions.adapters.aws.secrets import parameter

        return parameter(name).strip().encode()

    return read


def cloud_link_secret(settings: Settings) -> bytes | None:
    """The web form links' secret when the deployment keeps it in SSM (HUIZONG_LINK_SECRET_PARAM), so
    `huizong links` signs with the secret the Lambda checks; None means the store's meta (local)."""
    if not settings.link_secret_param:
        return None
    from functions.adapters.aws.secrets import parameter_for_cli

    return parameter_for_cli(settings.link_secret_param).strip().encode()


def _lambda_google(campaign: Campaign, folder: Path, settings: Settings) -> GoogleConnector | None:
    if campaign.google is None:
        return None

    def connect(*, deadline: float | None = None) -> GoogleClient:
        from functions.adapters.google.session import build_session

        credentials = _lambda_google_credentials(campaign, folder, settings)
        return build_session(credentials, campaign.google, deadline=deadline)  # type: ignore[arg-type]

    return connect


_GOOGLE_CREDENTIALS: dict[str, Any] = {}
# Where the in-memory key is handed to google_credentials, which validates it without echoing it.
_KEY_VAR = "HUIZONG_GOOGLE_CREDENTIALS"


def _lambda_google_credentials(campaign: Campaign, folder: Path, settings: Settings) -> Any:
    """The service-account credentials from SSM, once per cold start: google-auth's access token is then
    reused until it expires instead of being fetched again on every poll."""
    if "value" in _GOOGLE_CREDENTIALS:
        return _GOOGLE_CREDENTIALS["value"]
    from functions.adapters.aws.secrets import parameter
    from functions.adapters.google.credentials import load_credentials
    from functions.settings import GOOGLE_CREDENTIALS_PARAM, RuntimeConfigError

    google = campaign.google
    assert google is not None
    name = google.credentials_ssm or settings.google_credentials_param
    if not name:
        raise RuntimeConfigError(f"{GOOGLE_CREDENTIALS_PARAM} is not set: it must name an SSM SecureString")
    local = google.model_copy(
        update={"credentials_file": "", "credentials_env": _KEY_VAR, "credentials_ssm": ""}
    )
    credentials, _where = load_credentials(
        local, folder, env={_KEY_VAR: parameter(name)}, language=campaign.language
    )
    _GOOGLE_CREDENTIALS["value"] = credentials
    return credentials


def forget_cold_start() -> None:
    """Forget what a cold start cached here (tests; a warm instance never needs it)."""
    _GOOGLE_CREDENTIALS.clear()
