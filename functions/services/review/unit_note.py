"""The organiser's return comment as the unit sees it in its web form (issue 15)."""

from __future__ import annotations

from functions.ports import Store
from functions.services.review.records import PREFIX, ReviewRecord, fold


def return_comment(store: Store, unit: str, deliverable: str) -> str:
    """The comment of the return the unit has not answered yet, else "" (it resubmitted, or the
    organiser approved or reopened since). Reads only this unit's records, not the whole campaign's."""
    records = []
    for c in store.claims(f"{PREFIX}{unit}/{deliverable}/"):
        try:
            records.append(ReviewRecord.model_validate(c.payload))
        except ValueError:  # a record a newer huizong wrote: skipped, like all_records does
            continue
    review = fold(sorted(records, key=lambda r: r.n))
    latest = store.latest(unit, deliverable, "submitted")
    if review.approved_id is None and review.returned_seq is not None and latest is not None:
        if latest.seq <= review.returned_seq:
            return review.comment
    return ""
