"""The campaign files (campaign.yaml and units.csv or units.xlsx) in a writable folder, once per cold start:
from S3 (HUIZONG_CONFIG_BUCKET + HUIZONG_CONFIG_KEY) or from a folder bundled with the deployment
(HUIZONG_CAMPAIGN_DIR). The services write next to the campaign file and the package is read-only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from functions.adapters.aws.clients import client
from functions.adapters.aws.logs import log_event
from functions.config.loading import CAMPAIGN_FILE, ROSTER_FILES
from functions.settings import RuntimeConfigError, Settings


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


def fetch_campaign_files(settings: Settings) -> Path:
    """The campaign files in a writable folder under the work dir (the caller keeps it per cold start)."""
    target = settings.work_dir / "campaign"
    target.mkdir(parents=True, exist_ok=True)
    if settings.campaign_dir:
        files = _copy_bundled(Path(settings.campaign_dir), target)
        log_event("campaign files copied", source=settings.campaign_dir, files=files)
        return target
    if not settings.config_bucket:
        raise RuntimeConfigError("set HUIZONG_CONFIG_BUCKET (+ HUIZONG_CONFIG_KEY) or HUIZONG_CAMPAIGN_DIR")
    files = _fetch_from_s3(settings.config_bucket, settings.config_key, target)
    log_event(
        "campaign files fetched", bucket=settings.config_bucket, prefix=settings.config_key, files=files
    )
    return target
