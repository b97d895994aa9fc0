"""SQS FIFO → rebuild the master once per batch, upload it to S3; report partial batch failures."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from functions.handlers import runtime


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from functions.services.loop import consolidate

    records = event.get("Records") or []
    app = runtime.app()
    try:
        # Every message asks for the same thing (a fresh master), so one rebuild serves the batch.
        result = consolidate(app, now=dt.datetime.now(dt.UTC))
        bucket = os.environ.get("HUIZONG_DATA_BUCKET")
        if bucket:
            key = os.environ.get("HUIZONG_MASTER_KEY", f"{app.campaign.id}/out/master.xlsx")
            runtime.boto3_client("s3").upload_file(
                str(result.path),
                bucket,
                key,
                ExtraArgs={
                    "ContentType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                },
            )
    except Exception:
        runtime.logger().exception("consolidation failed")
        # The whole batch goes back to the queue (and, after retries, to the dead-letter queue).
        return {"batchItemFailures": [{"itemIdentifier": r.get("messageId", "")} for r in records]}
    runtime.log_event("consolidated", campaign=app.campaign.id, messages=len(records), units=result.units)
    return {"batchItemFailures": []}
