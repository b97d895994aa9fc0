"""Issue 13 §2 in the S3 store: statuses read small summary objects, not the versions with their rows.

The contract (tests/contract/store_contract.py) checks that every store's summaries are its latest
versions without their row tables; this checks what is S3's own: a summary object is written beside
each version, `iter_latest_summaries` reads those and never a version, and a version whose summary is
missing (its writer stopped between the two writes, or a store from before summaries) is read whole and
trimmed instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from functions.adapters.store.s3 import S3Store
from schemas.submission import TableData
from tests.fakes.aws import BUCKET, PREFIX, moto_s3
from tests.helpers.store import add, submission

ROWS: TableData = {
    "activities": [{"name": f"活动{i}", "expected_participants": 10 + i} for i in range(30)],
    "plan_materials": [{"work_plan_url": "https://example.org/p"}],
}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_s3(monkeypatch) as client:
        yield client


def _keys(s3: Any, prefix: str) -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=PREFIX + "/" + prefix)
    return sorted(
        item["Key"].removeprefix(PREFIX + "/") for page in pages for item in page.get("Contents", [])
    )


def test_summaries_are_read_from_their_own_objects(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = S3Store(BUCKET, PREFIX, client=s3)
    add(store, submission("U001", tables=ROWS))
    add(store, submission("U001", tables={**ROWS, "plan_materials": [{"work_plan_url": "https://e.org/2"}]}))
    add(store, submission("U002", n=3, status="draft"))
    assert _keys(s3, "summaries/") == [
        "summaries/U001/plan/00000001.json",
        "summaries/U001/plan/00000002.json",
        "summaries/U002/plan/00000001.json",
    ]
    expected = [
        v.model_copy(update={"tables": {k: t for k, t in v.tables.items() if len(t) <= 1}})
        for v in store.latest_versions()
    ]
    fetched: list[str] = []
    real_get = store._get

    def spy(key: str) -> tuple[bytes, str] | None:
        fetched.append(key.removeprefix(PREFIX + "/"))
        return real_get(key)

    monkeypatch.setattr(store, "_get", spy)
    assert list(store.iter_latest_summaries()) == expected
    assert expected[0].tables == {"plan_materials": [{"work_plan_url": "https://e.org/2"}]}
    assert sorted(fetched) == ["summaries/U001/plan/00000002.json", "summaries/U002/plan/00000001.json"]
    assert [v.unit for v in store.iter_latest_summaries("draft")] == ["U002"]
    assert [v.unit for v in store.iter_latest_summaries("submitted")] == ["U001"]


def test_a_version_without_its_summary_is_read_whole_and_trimmed(s3: Any) -> None:
    store = S3Store(BUCKET, PREFIX, client=s3)
    version, _ = add(store, submission("U001", tables=ROWS))
    s3.delete_object(Bucket=BUCKET, Key=PREFIX + "/summaries/U001/plan/00000001.json")
    (summary,) = store.iter_latest_summaries("submitted")
    assert summary == version.model_copy(update={"tables": {"plan_materials": ROWS["plan_materials"]}})
