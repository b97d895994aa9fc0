"""S3Store behaviour beyond the shared contract: key layout, races, markers; and the artifact store beside it (blobs, presigned links).

S3 is moto's, made linearizable by `moto_s3` (tests/fakes/aws.py), the same fake the Store contract uses
for its "s3" param; `test_the_fake_s3_decides_conditional_creates_atomically` checks the fake.
"""

from __future__ import annotations

import datetime as dt
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.adapters.aws import artifacts_s3
from functions.adapters.aws.artifacts_s3 import S3Artifacts
from functions.adapters.store import codec as store_codec
from functions.adapters.store.s3 import S3Store
from tests.fakes.aws import BUCKET, PREFIX, moto_s3
from tests.helpers.aws import REGION
from tests.helpers.store import T0, add, report, run_together, submission


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with moto_s3(monkeypatch) as client:
        yield client


@pytest.fixture
def store(s3: Any) -> S3Store:
    return S3Store(BUCKET, PREFIX, client=s3)


def keys(s3: Any, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


# -- the fake itself -------------------------------------------------------------------------------


def test_the_fake_s3_decides_conditional_creates_atomically(s3: Any) -> None:
    def create(i: int) -> bool:
        try:
            s3.put_object(Bucket=BUCKET, Key="race", Body=str(i).encode(), IfNoneMatch="*")
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "PreconditionFailed"
            return False
        return True

    for _ in range(3):
        s3.delete_object(Bucket=BUCKET, Key="race")
        assert run_together(20, create).count(True) == 1


def test_the_fake_s3_supports_compare_and_swap(s3: Any) -> None:
    etag = s3.put_object(Bucket=BUCKET, Key="cas", Body=b"1")["ETag"]
    s3.put_object(Bucket=BUCKET, Key="cas", Body=b"2", IfMatch=etag)
    with pytest.raises(ClientError) as stale:
        s3.put_object(Bucket=BUCKET, Key="cas", Body=b"3", IfMatch=etag)
    assert stale.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3.get_object(Bucket=BUCKET, Key="cas")["Body"].read() == b"2"


# -- layout ----------------------------------------------------------------------------------------


def test_versions_are_immutable_objects_under_the_prefix(store: S3Store, s3: Any) -> None:
    v1, _ = add(store, submission("U001", "plan", n=1))
    v2, _ = add(store, submission("U001", "plan", n=2, status="draft"), minutes=1)
    add(store, submission("学校/一中", "summary", n=1))

    versions = keys(s3, f"{PREFIX}/versions/")
    assert versions == sorted(
        [
            f"{PREFIX}/versions/U001/plan/00000001.json",
            f"{PREFIX}/versions/U001/plan/00000002.json",
            # "/" inside a unit id is escaped, so it cannot add a level to the key.
            f"{PREFIX}/versions/学校!2F一中/summary/00000001.json",
        ]
    )
    # Nothing written outside the prefix.
    assert all(k.startswith(f"{PREFIX}/") for k in keys(s3))
    body = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/versions/U001/plan/00000001.json")
    assert body["ContentType"].startswith("application/json")
    assert body["ServerSideEncryption"] == "AES256"  # the bucket default applies
    assert v2.status == "draft" and v1.status == "submitted"


def test_each_status_keeps_one_marker_per_unit(store: S3Store, s3: Any) -> None:
    for n in range(1, 5):
        add(store, submission(n=n), minutes=n)
    add(store, submission(n=5, status="draft"), minutes=5)
    add(store, submission(n=6, status="draft"), minutes=6)

    markers = keys(s3, f"{PREFIX}/index/")

    assert [m.rsplit("/", 1)[1].rsplit(".", 1)[0] for m in markers] == [
        "00000004.submitted",
        "00000006.draft",
    ]
    assert store.latest("U001", "plan", status="submitted") == store.history("U001", "plan")[3]


def test_prefixes_keep_campaigns_apart(s3: Any) -> None:
    a = S3Store(BUCKET, "a", client=s3)
    b = S3Store(BUCKET, "/a-b/", client=s3)
    add(a, submission(n=1))
    a.claim("remind/U001", {}, at=T0)
    a.set_meta("cursor", "x")

    assert b.latest_versions() == [] and b.claims() == [] and b.get_meta("cursor") is None
    assert b.prefix == "a-b/"
    assert len(a.latest_versions()) == 1


def test_an_empty_prefix_uses_the_bucket_root(s3: Any) -> None:
    root = S3Store(BUCKET, client=s3)
    add(root, submission(n=1))
    assert keys(s3, "versions/") == ["versions/U001/plan/00000001.json"]


def test_odd_ids_and_claim_keys_round_trip(store: S3Store) -> None:
    odd_units = ["", ".", "..", "a/b", "a!2Fb", "!", "x y", "Ünït", "学校", "😀", "a\\b"]
    for unit in odd_units:
        add(store, submission(unit, "plan/x", n=1))
    assert sorted((v.unit, v.deliverable) for v in store.latest_versions()) == sorted(
        (u, "plan/x") for u in odd_units
    )
    for unit in odd_units:
        assert store.latest(unit, "plan/x") is not None
        assert len(store.history(unit, "plan/x")) == 1

    claim_keys = ["", "/", "a//b", "a/./b", "a/../b", "x!2F", "x/", "x", "提醒 1", "?&=#%"]
    for key in claim_keys:
        assert store.claim(key, {"k": key}, at=T0) is True
    assert sorted(c.key for c in store.claims()) == sorted(claim_keys)
    assert [c.key for c in store.claims("x")] == ["x", "x!2F", "x/"]
    assert [c.key for c in store.claims("a/")] == ["a/../b", "a/./b", "a//b"]


def test_foreign_objects_under_the_prefix_are_ignored(store: S3Store, s3: Any) -> None:
    version, _ = add(store, submission(n=1))
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/index/README.txt", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/index/U001/plan/notes.txt", Body=b"x")
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/versions/U001/plan/README.md", Body=b"x")

    assert store.latest_versions() == [version]
    assert store.history("U001", "plan") == [version]


# -- crash and race recovery -----------------------------------------------------------------------


def test_a_marker_without_its_version_is_skipped(store: S3Store, s3: Any) -> None:
    # A writer that put its marker for seq 2 and died before creating the version.
    v1, _ = add(store, submission(n=1))
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/index/U001/plan/00000002.draft.dead", Body=b"")

    assert store.latest("U001", "plan") == v1
    assert store.latest("U001", "plan", status="draft") is None
    assert store.latest_versions() == [v1]

    v2, created = add(store, submission(n=2))
    assert created and v2.seq == 2
    assert store.latest("U001", "plan") == v2
    # The dead draft marker names seq 2, which is a submitted version: no draft exists.
    assert store.latest("U001", "plan", status="draft") is None
    assert store.latest_versions(status="draft") == []


def test_a_lost_reply_is_still_our_version(s3: Any) -> None:
    """The create succeeded but its reply was lost and the retry met our own object (412)."""
    lost: list[str] = []

    def lose_first_create(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key", "").endswith(".json") and not lost:
            lost.append(params["Key"])
            s3.put_object(Bucket=BUCKET, **{k: v for k, v in params.items() if k != "Bucket"})

    client = boto3.client("s3", region_name=REGION)
    client.meta.events.register("provide-client-params.s3.PutObject", lose_first_create)
    store = S3Store(BUCKET, PREFIX, client=client)

    version, created = add(store, submission(n=1))

    assert lost == [f"{PREFIX}/versions/U001/plan/00000001.json"]
    assert created is True and version.seq == 1
    assert store.history("U001", "plan") == [version]


def test_losing_writers_remove_their_markers(store: S3Store, s3: Any) -> None:
    run_together(8, lambda i: [add(store, submission(n=100 * i + k)) for k in range(3)])

    assert [v.seq for v in store.history("U001", "plan")] == list(range(1, 25))
    (marker,) = keys(s3, f"{PREFIX}/index/")
    assert marker.startswith(f"{PREFIX}/index/U001/plan/00000024.submitted.")


# -- concurrency (separate clients, as separate Lambda instances would have) ----------------------


def test_twenty_threads_on_different_units_lose_nothing(s3: Any) -> None:
    handles = [S3Store(BUCKET, PREFIX, client=boto3.client("s3", region_name=REGION)) for _ in range(4)]

    def work(i: int) -> list[bool]:
        return [add(handles[i % 4], submission(f"U{i:03d}", "plan", n=k))[1] for k in range(1, 4)]

    results = run_together(20, work)

    assert results == [[True, True, True]] * 20
    latest = handles[0].latest_versions()
    assert [(v.unit, v.seq) for v in latest] == [(f"U{i:03d}", 3) for i in range(20)]
    for i in range(20):
        assert [v.seq for v in handles[1].history(f"U{i:03d}", "plan")] == [1, 2, 3]


def test_twenty_threads_on_one_unit_get_unique_seqs(s3: Any) -> None:
    handles = [S3Store(BUCKET, PREFIX, client=boto3.client("s3", region_name=REGION)) for _ in range(5)]

    results = run_together(20, lambda i: add(handles[i % 5], submission(n=i)))

    seqs = sorted(v.seq for v, created in results if created)
    assert seqs == list(range(1, 21))
    history = handles[0].history("U001", "plan")
    assert [v.seq for v in history] == list(range(1, 21))
    assert {v.content_hash for v in history} == {submission(n=i).content_hash() for i in range(20)}
    assert handles[0].latest("U001", "plan") == history[-1]


def test_ten_threads_claiming_one_key_have_one_winner(s3: Any) -> None:
    handles = [S3Store(BUCKET, PREFIX, client=boto3.client("s3", region_name=REGION)) for _ in range(10)]

    wins = run_together(10, lambda i: handles[i].claim("digest/2022-11-20", {"by": i}, at=T0))

    assert wins.count(True) == 1
    (claim,) = handles[0].claims("digest/")
    assert claim.payload == {"by": wins.index(True)}


def test_update_claim_does_not_resurrect_a_claim_released_meanwhile(s3: Any) -> None:
    client = boto3.client("s3", region_name=REGION)
    store = S3Store(BUCKET, PREFIX, client=client)
    store.claim("remind/U001", {"n": 0}, at=T0)
    released: list[str] = []

    def release_first(params: dict[str, Any], **_: Any) -> None:
        # Another run releases the claim after this update read it and before it writes.
        if "IfMatch" in params and not released:
            released.append(params["Key"])
            s3.delete_object(Bucket=BUCKET, Key=params["Key"])

    client.meta.events.register("provide-client-params.s3.PutObject", release_first)

    with pytest.raises(KeyError):
        store.update_claim("remind/U001", {"n": 1})

    assert released and store.claims() == []


def test_update_claim_retries_after_a_concurrent_update(s3: Any) -> None:
    client = boto3.client("s3", region_name=REGION)
    store = S3Store(BUCKET, PREFIX, client=client)
    store.claim("digest/today", {"n": 0}, at=T0)
    other = S3Store(BUCKET, PREFIX, client=s3)
    raced: list[str] = []

    def update_first(params: dict[str, Any], **_: Any) -> None:
        if "IfMatch" in params and not raced:
            raced.append(params["Key"])
            other.update_claim("digest/today", {"n": "other"})

    client.meta.events.register("provide-client-params.s3.PutObject", update_first)

    store.update_claim("digest/today", {"n": "mine"})

    (claim,) = store.claims()
    assert raced and claim.payload == {"n": "mine"} and claim.claimed_at == T0


def test_racing_updates_of_one_claim_keep_one_of_them(store: S3Store) -> None:
    store.claim("digest/today", {"n": -1}, at=T0)

    run_together(10, lambda i: store.update_claim("digest/today", {"n": i}))

    (claim,) = store.claims()
    assert claim.payload["n"] in range(10)
    assert claim.claimed_at == T0


# -- reading many ----------------------------------------------------------------------------------


def test_latest_versions_pages_through_more_than_a_thousand_markers(s3: Any) -> None:
    # Seeded with plain puts in the store's layout: 1,000+ adds through the store would take 20 s in moto.
    store = S3Store(BUCKET, PREFIX, client=s3, workers=8)
    expected = []
    for u in range(1001):
        sub = submission(f"U{u:04d}", "plan", n=u)
        version = store_codec.build_version(
            sub, report(sub), seq=1, content_hash=sub.content_hash(), received_at=T0, late=False
        )
        s3.put_object(
            Bucket=BUCKET,
            Key=f"{PREFIX}/versions/U{u:04d}/plan/00000001.json",
            Body=store_codec.version_to_json(version).encode(),
        )
        s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/index/U{u:04d}/plan/00000001.submitted.seed", Body=b"")
        expected.append(version)
    draft, _ = add(store, submission("U1000", "plan", n=-1, status="draft"))

    assert len(keys(s3, f"{PREFIX}/index/")) == 1002  # more than one LIST page
    assert store.latest_versions(status="submitted") == expected
    assert store.latest_versions() == [*expected[:-1], draft]


def test_iterating_latest_versions_can_stop_early(s3: Any) -> None:
    store = S3Store(BUCKET, PREFIX, client=s3, workers=4)
    for u in range(30):
        add(store, submission(f"U{u:03d}", n=1))

    iterator = store.iter_latest_versions()
    first = [next(iterator) for _ in range(3)]
    iterator.close()  # stops the worker threads; nothing left running

    assert [v.unit for v in first] == ["U000", "U001", "U002"]
    assert not [t for t in threading.enumerate() if t.name.startswith("s3store")]


def test_one_worker_reads_without_a_pool(s3: Any) -> None:
    store = S3Store(BUCKET, PREFIX, client=s3, workers=1)
    v, _ = add(store, submission(n=1))
    assert store.latest_versions() == [v]


# -- the artifact store beside the store (the master and reports the handlers upload) --------------


@pytest.fixture
def artifacts(s3: Any) -> S3Artifacts:
    from botocore.config import Config

    # Links are SigV4, as the Lambda's shared client signs them (functions/adapters/aws/clients.py).
    presigner = boto3.client("s3", region_name="ap-southeast-1", config=Config(signature_version="s3v4"))
    return S3Artifacts(BUCKET, s3, prefix=f"{PREFIX}/", presigner=presigner)


def test_put_and_get_bytes(artifacts: S3Artifacts, s3: Any) -> None:
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    where = artifacts.put("out/master.xlsx", b"PK\x03\x04 workbook", content_type=xlsx)

    assert where == f"s3://{BUCKET}/{PREFIX}/out/master.xlsx"
    stored = s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/out/master.xlsx")
    assert stored["ContentType"] == xlsx
    assert artifacts.get("out/master.xlsx") == b"PK\x03\x04 workbook"
    assert artifacts.get("out/none.xlsx") is None
    artifacts.put("out/master.xlsx", b"second", content_type=xlsx)
    assert artifacts.get("out/master.xlsx") == b"second"


@pytest.mark.parametrize("bad", ["", "/abs", "../store/versions/x", "out/../../x"])
def test_artifact_keys_cannot_leave_their_prefix(artifacts: S3Artifacts, bad: str) -> None:
    with pytest.raises(ValueError):
        artifacts.put(bad, b"x", content_type="text/plain")


def test_presigned_url_names_the_key_and_expiry(artifacts: S3Artifacts) -> None:
    artifacts.put("out/reports/U001 第一中学.xlsx", b"data", content_type="application/octet-stream")

    url = artifacts.link(
        "out/reports/U001 第一中学.xlsx", expires_s=7 * 24 * 3600, download_name="武进区汇总表.xlsx"
    )

    parsed = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parsed.query)
    assert BUCKET in parsed.netloc + parsed.path
    assert urllib.parse.unquote(parsed.path).endswith(f"{PREFIX}/out/reports/U001 第一中学.xlsx")
    assert query["X-Amz-Expires"] == [str(7 * 24 * 3600)]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    disposition = query["response-content-disposition"][0]
    assert "filename*=UTF-8''" + urllib.parse.quote("武进区汇总表.xlsx", safe="") in disposition

    short = artifacts.link("out/master.xlsx", expires_s=7200)
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(short).query)["X-Amz-Expires"] == ["7200"]


@pytest.mark.parametrize("expires_s", [0, 7 * 24 * 3600 + 1])
def test_presigned_url_refuses_impossible_expiry(artifacts: S3Artifacts, expires_s: int) -> None:
    with pytest.raises(ValueError, match="7 天"):
        artifacts.link("out/master.xlsx", expires_s=expires_s)


def test_a_presigned_url_downloads_the_object(artifacts: S3Artifacts) -> None:
    # mock_aws also intercepts the requests library, so this GET reaches moto, never the network.
    # (moto does not check the signature; the tests above check what was signed.)
    import requests

    artifacts.put("out/master.xlsx", b"the master", content_type="application/octet-stream")
    url = artifacts.link("out/master.xlsx", expires_s=3600, download_name="汇总表.xlsx")

    reply = requests.get(url, timeout=10)

    assert reply.status_code == 200
    assert reply.content == b"the master"
    assert urllib.parse.quote("汇总表.xlsx") in reply.headers["Content-Disposition"]


# -- errors ----------------------------------------------------------------------------------------


def test_a_missing_bucket_is_an_error_not_an_empty_store(s3: Any) -> None:
    store = S3Store("huizong-no-such-bucket", client=s3)
    with pytest.raises(ClientError) as raised:
        store.latest("U001", "plan")
    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"
    with pytest.raises(ClientError):
        store.get_meta("x")


def test_a_bucket_name_is_required() -> None:
    with pytest.raises(ValueError):
        S3Store("")


def test_default_client_uses_the_environment(s3: Any) -> None:
    store = S3Store(BUCKET, PREFIX)
    v, created = store.add_version(submission(n=1), report(submission(n=1)), received_at=T0, late=False)
    assert created and S3Store(BUCKET, PREFIX, client=s3).latest("U001", "plan") == v


def test_store_is_picked_by_huizong_store(s3: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from functions.bootstrap import open_store

    monkeypatch.setenv("HUIZONG_STORE", f"s3://{BUCKET}/{PREFIX}")
    opened = open_store(tmp_path)

    assert isinstance(opened, S3Store)
    assert (opened.bucket, opened.prefix) == (BUCKET, PREFIX + "/")
    assert artifacts_s3.MAX_PRESIGN == dt.timedelta(days=7)
