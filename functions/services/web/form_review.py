"""The organiser's review as the unit sees it on its form: returned with a comment, approved, or waiting.

Read from the review records (functions/services/review/records.py) of this one unit and deliverable,
folded the way `huizong status` folds them. A return applies until the unit submits again; a draft saved
after it does not clear it (the organiser has seen nothing new yet).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from functions.app import App
from functions.services.review.records import PREFIX, ReviewRecord, ReviewState, fold, review_label


@dataclass(frozen=True)
class FormReview:
    state: ReviewState
    label: str  # 已退回 / 已通过 / 待审核
    comment: str  # the organiser's words (untrusted on a page: escaped by the template)


def form_review(app: App, unit: str, deliverable: str) -> FormReview | None:
    """None when there is nothing to say: no review, or none yet in a campaign without review."""
    records: list[ReviewRecord] = []
    for claim in app.store.claims(f"{PREFIX}{unit}/{deliverable}/"):
        try:
            records.append(ReviewRecord.model_validate(claim.payload))
        except ValidationError:
            continue  # written by a newer version: the others still count (as in records.all_records)
    records.sort(key=lambda r: r.n)
    review = fold(records)
    submitted = app.store.latest(unit, deliverable, status="submitted")
    ok = submitted is not None and not review.open_errors(submitted)
    state = review.state(submitted, ok)
    if state == "" or (state == "pending" and app.campaign.review == "none"):
        return None
    # The comment belongs to the return: once the unit has sent again (pending) it no longer applies,
    # and showing it beside 待审核 would read as if the new version were returned too.
    comment = review.comment if state in ("returned", "approved") else ""
    return FormReview(state, review_label(app.campaign.language, state), comment)
