"""The consolidation queue (SQS FIFO): one message per new version, deduplicated by its id."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from functions.adapters.aws.clients import client

# One message group: the FIFO queue hands the consolidate function one batch at a time, so two rebuilds
# of the master never overlap.
MESSAGE_GROUP = "consolidate"


class ConsolidateRequest(BaseModel):
    """The body of one consolidation message: the version that made the master stale, when known."""

    model_config = ConfigDict(extra="ignore")

    version: str = Field(min_length=1)
    unit: str | None = None
    deliverable: str | None = None


def queue_consolidation(url: str, requests: list[ConsolidateRequest]) -> int:
    """One FIFO message per new version, deduplicated by the version id: a delivery seen twice (the Apps
    Script retries, Scheduler may repeat) queues nothing new within SQS's five-minute window, and after
    it a repeated rebuild is harmless. Returns the number of messages sent."""
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
