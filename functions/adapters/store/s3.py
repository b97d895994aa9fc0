"""A Store in one S3 bucket (under a prefix), for the serverless deployment.

Layout under the prefix (unit, deliverable and keys escaped by `_escape`, see below):

    versions/<unit>/<deliverable>/<seq:08d>.json       one immutable object per version (the truth)
    summaries/<unit>/<deliverable>/<seq:08d>.json      the same without its row tables (statuses read these)
    index/<unit>/<deliverable>/<seq:08d>.<status>.<w>  empty "latest" markers, found by listing alone
    claims/<key>                                       one object per claim
    meta/<key>                                         one object per meta value
    blobs/<sha256>                                     evidence files, content-addressed (issue 12 §4)
    attachments/<version id>.json                      a version's attachment refs
    blob-units/<sha256>/<unit>                         empty: this unit has sent this content
    peers/unit/<unit>, peers/shard/<gen>/<kind>/<deliverable>/<type>, peers/vals/…, peers/mark
                                                       peer statistics (functions/adapters/store/
                                                       peer_shards.py: small objects, conditional writes)

Sequence numbers: a writer creates versions/.../<seq>.json with If-None-Match: * (a conditional create).
Exactly one writer gets each seq; a loser (412) reads the winner, returns it when it holds the same content,
and otherwise retries with the next seq, so racing writers never lose a version and seqs stay dense (1..N).
The key holds only the seq, not the content hash: with the hash in the key two writers of different content
would both "win" the same seq.

Finding the latest version without reading them all: before creating version <seq> the writer puts an
empty marker index/.../<seq>.<status>.<writer-id>; after winning it deletes the markers of the same status
with a smaller seq. Markers are written before the version, so every version that exists has one and the
newest marker of each status is never deleted; a marker whose version does not exist (a writer that crashed
or lost) or holds another status is skipped on read, because a marker is only a hint and the version object
is checked. A listing of index/ therefore names the latest seq of every (unit, deliverable) and status:
about two keys per pair, 1,000 keys per LIST page.

Why this, measured with moto on this machine (2,000 units, one version each, 20 ms added to every request
to stand for Lambda-to-S3 latency): `latest_versions` must return every full version (the master needs the
tables), so one GET per unit is unavoidable; what varies is the rest. A small pointer object per unit costs
2,000 more GETs before those (49 s one by one); one consolidated index object rewritten with If-Match by
every submission would serialise all units on one key and grow with the campaign; the markers cost two
LIST pages (0.8 s in moto). The version GETs run in a thread pool (`workers`, default 16): 52 s one at a
time, 8 s with 16 workers, where moto's own CPU time (about 3.5 ms a request under the GIL, 7.5 s for the
lot without added latency) is the floor; against S3, which is latency-bound, 16 workers come to about
2000 x 20 ms / 16 = 2.5 s.

Expected bucket settings (the SAM template sets them): versioning enabled (a release or a lost marker
leaves a recoverable noncurrent version; add a lifecycle rule expiring noncurrent versions of index/ and
claims/ after some days), default encryption (SSE-S3 or SSE-KMS: objects are written without encryption
headers so the bucket default applies), all public access blocked, a TLS-only bucket policy. Conditional
writes need SigV4, which boto3 uses. IAM: s3:GetObject, s3:PutObject, s3:DeleteObject on
arn:aws:s3:::<bucket>/<prefix>* and s3:ListBucket on the bucket with an s3:prefix condition (without
ListBucket S3 answers a missing key with 403 instead of 404, and the store would fail instead of reading
"absent").

The master and the reports are not kept here but in the artifact store (functions/adapters/aws/
artifacts_s3.py), which also signs the links.

Key escaping: letters, digits, "-", "_" and non-ASCII letters and digits (学校) stay readable; every other
character becomes "!XX" per UTF-8 byte, so "/" inside a unit id cannot split a key and "." never forms
a ".." segment. Each character maps to its own code and no code is a prefix of another, so a claim prefix
escapes to a key prefix: listing claims/<escaped prefix> finds exactly the claims with that literal prefix.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from functions.adapters.store import codec as store_codec
from functions.adapters.store.peer_shards import Key, PeerShardMethods, ShardedPeers
from functions.ports import Claim
from functions.validate.peer_median import peer_entry
from schemas.attachments import AttachmentRef
from schemas.report import ValidationReport
from schemas.submission import ParsedSubmission, Version, VersionStatus

DEFAULT_WORKERS = 16
# Each retry means another writer made progress, so this bounds only pathological contention.
MAX_ATTEMPTS = 200
JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"

_VERSIONS = "versions/"
_SUMMARIES = "summaries/"
_INDEX = "index/"
_CLAIMS = "claims/"
_META = "meta/"
_BLOBS = "blobs/"
_ATTACHMENTS = "attachments/"
_BLOB_UNITS = "blob-units/"
_PEERS = "peers/"
_WRITER = "_writer"  # who created a version object: tells a lost reply from a lost race

_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_ESCAPED = re.compile(r"(?:![0-9A-F]{2})+")
_EMPTY_PART = "!"

A = TypeVar("A")
R = TypeVar("R")


class S3StoreError(RuntimeError):
    """The bucket answered in a way the store cannot work with (or contention never settled)."""


@dataclass(frozen=True)
class _Marker:
    key: str
    seq: int
    status: str


@dataclass(frozen=True)
class _Loaded:
    version: Version
    writer: str | None


class S3Store(PeerShardMethods):
    """A Store on S3: versions append-only by conditional create, claims by create-if-absent."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        client: Any = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        if not bucket:
            raise ValueError("S3 存储需要桶名 (bucket)")
        self.bucket = bucket
        self.prefix = _normalise_prefix(prefix)
        self._workers = max(1, workers)
        if client is None:
            client = _sigv4_client(max_pool_connections=self._workers + 4)
        self._s3 = client
        self._peers = ShardedPeers(
            _PeerObjects(self), legacy=self._legacy_peer_groups, drop_legacy=self._drop_legacy_peers
        )

    def close(self) -> None:
        """Nothing to release (the client's pool closes with it); present so callers treat stores alike."""

    # -- versions ----------------------------------------------------------------------------------

    def add_version(
        self,
        submission: ParsedSubmission,
        report: ValidationReport,
        *,
        received_at: dt.datetime,
        late: bool,
    ) -> tuple[Version, bool]:
        unit, deliverable = submission.unit, submission.deliverable
        content_hash = submission.content_hash()
        writer = uuid.uuid4().hex
        for _ in range(MAX_ATTEMPTS):
            markers = self._markers(unit, deliverable)
            current = self._resolve(unit, deliverable, markers, None)
            if current is not None and current.content_hash == content_hash:
                return current, False
            seq = 1 if current is None else current.seq + 1
            version = store_codec.build_version(
                submission, report, seq=seq, content_hash=content_hash, received_at=received_at, late=late
            )
            marker = self._marker_key(unit, deliverable, seq, version.status, writer)
            # The marker goes first, so that no version can exist that a listing of index/ would miss.
            self._put(marker, b"", "application/octet-stream")
            if submission.attachments:
                # Before the version, like the marker: a version is never seen without its refs. The id
                # names seq and content, so a writer that loses this seq wrote the winner's refs or refs
                # no version will ever name; a unit marker of a lost race only says the unit sent it.
                self._put_attachments(version, submission)
            document = store_codec.version_to_document(version)
            document[_WRITER] = writer
            body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            key = self._version_key(unit, deliverable, seq)
            if self._put(key, body, JSON_TYPE, IfNoneMatch="*"):
                self._drop_superseded(markers, seq, version.status)
                self._count_peer(version)
                self._put_summary(version)
                return version, True
            winner = self._load(key)
            if winner is not None and winner.writer == writer:
                # Our create succeeded but its reply was lost and the SDK's retry met our own object.
                self._drop_superseded(markers, seq, version.status)
                self._count_peer(version)
                self._put_summary(version)
                return version, True
            self._delete([marker])
            if winner is not None and winner.version.content_hash == content_hash:
                return winner.version, False
        raise S3StoreError(f"{unit}/{deliverable}: 连续 {MAX_ATTEMPTS} 次未能写入新版本（并发写入过多）")

    def latest(self, unit: str, deliverable: str, status: VersionStatus | None = None) -> Version | None:
        return self._resolve(unit, deliverable, self._markers(unit, deliverable), status)

    def latest_versions(self, status: VersionStatus | None = None) -> list[Version]:
        return list(self.iter_latest_versions(status))

    def iter_latest_versions(self, status: VersionStatus | None = None) -> Iterator[Version]:
        grouped: dict[tuple[str, str], list[_Marker]] = defaultdict(list)
        for key in self._list(self.prefix + _INDEX):
            parsed = self._parse_marker(key)
            if parsed is not None:
                pair, marker = parsed
                grouped[pair].append(marker)
        # Escaped keys do not sort like the ids they encode: order by the ids themselves.
        pairs = sorted(grouped)

        def resolve(pair: tuple[str, str]) -> Version | None:
            return self._resolve(pair[0], pair[1], grouped[pair], status)

        for version in self._ordered_parallel(resolve, pairs):
            if version is not None:
                yield version

    def iter_latest_summaries(self, status: VersionStatus | None = None) -> Iterator[Version]:
        # The same markers as iter_latest_versions, then the small summary objects (_put_summary)
        # instead of the versions: no activity rows fetched or decoded.
        grouped: dict[tuple[str, str], list[_Marker]] = defaultdict(list)
        for key in self._list(self.prefix + _INDEX):
            parsed = self._parse_marker(key)
            if parsed is not None:
                pair, marker = parsed
                grouped[pair].append(marker)

        def resolve(pair: tuple[str, str]) -> Version | None:
            return self._resolve_summary(pair[0], pair[1], grouped[pair], status)

        for version in self._ordered_parallel(resolve, sorted(grouped)):
            if version is not None:
                yield version

    def iter_versions(self, keys: Sequence[tuple[str, str, int]]) -> Iterator[Version]:
        # One GET per version is what S3 offers; they run in parallel and come back in the given order.
        def load(key: tuple[str, str, int]) -> Version | None:
            found = self._load(self._version_key(*key))
            return found.version if found is not None else None

        for version in self._ordered_parallel(load, keys):
            if version is not None:
                yield version

    def history(self, unit: str, deliverable: str) -> list[Version]:
        folder = self._version_folder(unit, deliverable)
        seqs = sorted(
            seq for key in self._list(folder) if (seq := _parse_seq(key.removeprefix(folder))) is not None
        )
        loaded = self._ordered_parallel(lambda s: self._load(self._version_key(unit, deliverable, s)), seqs)
        return [found.version for found in loaded if found is not None]

    # -- claims ------------------------------------------------------------------------------------

    def claim(self, key: str, payload: dict[str, Any], *, at: dt.datetime) -> bool:
        # Encoded first: a payload that is not JSON raises TypeError before anything is claimed.
        body = _claim_body(key, at, payload)
        return self._put(self._claim_key(key), body, JSON_TYPE, IfNoneMatch="*")

    def update_claim(self, key: str, payload: dict[str, Any]) -> None:
        store_codec.dumps(payload)  # a payload that is not JSON raises TypeError before any request
        object_key = self._claim_key(key)
        for _ in range(MAX_ATTEMPTS):
            found = self._get(object_key)
            if found is None:
                raise KeyError(key)
            body, etag = found
            claimed_at = store_codec.loads(body.decode("utf-8"))["claimed_at"]
            new_body = _claim_body(key, claimed_at, payload)
            try:
                # If-Match: a release or another update in between is not overwritten blindly.
                if self._put(object_key, new_body, JSON_TYPE, IfMatch=etag):
                    return
            except ClientError as exc:
                if _is_missing(exc):
                    raise KeyError(key) from None
                raise
        raise S3StoreError(f"{key}: 连续 {MAX_ATTEMPTS} 次未能更新（并发修改过多）")

    def release(self, key: str) -> None:
        self._delete([self._claim_key(key)])

    def claims(self, prefix: str = "") -> list[Claim]:
        keys = list(self._list(self._claim_key(prefix)))
        found = [c for c in self._ordered_parallel(self._load_claim, keys) if c is not None]
        found.sort(key=lambda c: (store_codec.instant_key(c.claimed_at), c.key))
        return found

    def _load_claim(self, object_key: str) -> Claim | None:
        got = self._get(object_key)
        if got is None:  # released between the listing and the read
            return None
        # The store wrote it: built without re-validation, as SQLite's claims are (issue 13 §4).
        data = store_codec.loads_trusted(got[0].decode("utf-8"))
        fields = {"key": data["key"], "claimed_at": data["claimed_at"], "payload": data["payload"]}
        return store_codec.model_trusted(Claim, fields)

    # -- meta --------------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        got = self._get(self.prefix + _META + _escape(key, keep_slash=True))
        return got[0].decode("utf-8") if got is not None else None

    def set_meta(self, key: str, value: str) -> None:
        self._put(self.prefix + _META + _escape(key, keep_slash=True), value.encode("utf-8"), TEXT_TYPE)

    # -- peer statistics: small objects per (deliverable, unit type, figure), see peer_shards.py ----

    def _count_peer(self, version: Version) -> None:
        # After the version exists: a crash in between leaves the figures one version behind until the
        # unit's next submission; the seq guard keeps a slow writer from undoing a newer one.
        if version.status == "submitted":
            self.put_peer_entry(version.deliverable, version.unit, version.seq, peer_entry(version.tables))

    def _legacy_peer_key(self, group: str) -> str:
        # Before the shards: one object per group holding every unit's entry (migrated by the first build).
        return self.prefix + _META + "!peers/" + _escape(group)

    def _legacy_peer_groups(self) -> Iterator[tuple[str, dict[str, Any]]]:
        folder = self.prefix + _META + "!peers/"
        for key in list(self._list(folder)):
            got = self._get(key)
            if got is not None:
                yield _unescape(key[len(folder) :]), store_codec.loads_plain(got[0].decode("utf-8"))

    def _drop_legacy_peers(self, group: str) -> None:
        self._delete([self._legacy_peer_key(group)])

    # -- keys --------------------------------------------------------------------------------------

    def _version_folder(self, unit: str, deliverable: str) -> str:
        return f"{self.prefix}{_VERSIONS}{_escape_part(unit)}/{_escape_part(deliverable)}/"

    def _version_key(self, unit: str, deliverable: str, seq: int) -> str:
        return f"{self._version_folder(unit, deliverable)}{seq:08d}.json"

    def _marker_folder(self, unit: str, deliverable: str) -> str:
        return f"{self.prefix}{_INDEX}{_escape_part(unit)}/{_escape_part(deliverable)}/"

    def _marker_key(self, unit: str, deliverable: str, seq: int, status: str, writer: str) -> str:
        return f"{self._marker_folder(unit, deliverable)}{seq:08d}.{status}.{writer}"

    def _claim_key(self, key: str) -> str:
        return self.prefix + _CLAIMS + _escape(key, keep_slash=True)

    def _parse_marker(self, key: str) -> tuple[tuple[str, str], _Marker] | None:
        parts = key.removeprefix(self.prefix + _INDEX).split("/")
        if len(parts) != 3:
            return None  # not ours: ignore rather than fail a whole listing
        marker = _parse_marker_name(key, parts[2])
        if marker is None:
            return None
        return (_unescape_part(parts[0]), _unescape_part(parts[1])), marker

    # -- version reading ---------------------------------------------------------------------------

    def _markers(self, unit: str, deliverable: str) -> list[_Marker]:
        folder = self._marker_folder(unit, deliverable)
        return [m for key in self._list(folder) if (m := _parse_marker_name(key, key[len(folder) :]))]

    def _resolve(
        self, unit: str, deliverable: str, markers: list[_Marker], status: VersionStatus | None
    ) -> Version | None:
        """The newest version named by `markers` that exists (and has `status`, when given)."""
        seqs = sorted({m.seq for m in markers if status is None or m.status == status}, reverse=True)
        for seq in seqs:
            found = self._load(self._version_key(unit, deliverable, seq))
            if found is not None and (status is None or found.version.status == status):
                return found.version
        return None

    def _load(self, key: str) -> _Loaded | None:
        got = self._get(key)
        if got is None:
            return None
        # Written by this store (version_to_document, then the writer mark): read without re-validation.
        document = store_codec.document_from_json_trusted(got[0].decode("utf-8"))
        writer = document.pop(_WRITER, None)
        return _Loaded(store_codec.version_from_document_trusted(document, tables_decoded=True), writer)

    def _drop_superseded(self, markers: list[_Marker], seq: int, status: str) -> None:
        # Only markers older than a version we just created, of its status: the newest stays findable.
        self._delete([m.key for m in markers if m.status == status and m.seq < seq])

    # -- S3 calls ----------------------------------------------------------------------------------

    def _get(self, key: str) -> tuple[bytes, str] | None:
        try:
            reply = self._s3.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _is_missing(exc):
                return None
            raise
        return reply["Body"].read(), reply["ETag"]

    def _put(self, key: str, body: bytes, content_type: str, **condition: str) -> bool:
        """PutObject; False when a condition (If-None-Match / If-Match) does not hold."""
        delay = 0.05
        for _ in range(8):
            try:
                self._s3.put_object(
                    Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, **condition
                )
                return True
            except ClientError as exc:
                code = _error_code(exc)
                if code == "PreconditionFailed" or _status(exc) == 412:
                    return False
                # S3 answers 409 when another conditional request on the key is in flight: retry.
                if code != "ConditionalRequestConflict" or not condition:
                    raise
            time.sleep(delay)
            delay *= 2
        raise S3StoreError(f"s3://{self.bucket}/{key}: 条件写入持续冲突 (409)")

    def _delete(self, keys: list[str]) -> None:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            chunk = keys[start : start + 1000]
            if len(chunk) == 1:
                self._s3.delete_object(Bucket=self.bucket, Key=chunk[0])
                continue
            reply = self._s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
            if reply.get("Errors"):
                first = reply["Errors"][0]
                raise S3StoreError(f"s3://{self.bucket}/{first.get('Key')}: 删除失败 {first.get('Code')}")

    def _list(self, prefix: str) -> Iterator[str]:
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def _ordered_parallel(self, work: Callable[[A], R], items: Iterable[A]) -> Iterator[R]:
        """work(item) for each item, `workers` at a time, results in input order.

        At most a small window runs ahead of the consumer, so a caller iterating 2,000 versions holds
        a few dozen in memory, not all of them.
        """
        if self._workers == 1:
            yield from map(work, items)
            return
        window = 2 * self._workers
        with ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="s3store") as pool:
            pending: deque[Future[R]] = deque()
            try:
                for item in items:
                    pending.append(pool.submit(work, item))
                    if len(pending) >= window:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            finally:
                for future in pending:
                    future.cancel()

    # -- evidence files (issue 12 §4) -------------------------------------------------------------

    def put_blob(self, sha256: str, data: bytes) -> None:
        store_codec.check_blob(sha256, data)
        # Create-if-absent: the content is the key, so an existing object already holds these bytes.
        self._put(self.prefix + _BLOBS + sha256, data, "application/octet-stream", IfNoneMatch="*")

    def get_blob(self, sha256: str) -> bytes | None:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            return None
        got = self._get(self.prefix + _BLOBS + sha256)
        return got[0] if got is not None else None

    def attachments(self, version_id: str) -> list[AttachmentRef]:
        got = self._get(self.prefix + _ATTACHMENTS + _escape(version_id) + ".json")
        return store_codec.loads_attachments(got[0].decode("utf-8")) if got is not None else []

    def units_with_blob(self, sha256: str) -> set[str]:
        folder = f"{self.prefix}{_BLOB_UNITS}{_escape(sha256)}/"
        return {_unescape_part(key[len(folder) :]) for key in self._list(folder)}

    def _put_attachments(self, version: Version, submission: ParsedSubmission) -> None:
        body = store_codec.dumps_attachments(submission.attachments).encode("utf-8")
        self._put(self.prefix + _ATTACHMENTS + _escape(version.id) + ".json", body, JSON_TYPE)
        for sha in sorted({ref.sha256 for ref in submission.attachments}):
            unit_key = f"{self.prefix}{_BLOB_UNITS}{_escape(sha)}/{_escape_part(version.unit)}"
            self._put(unit_key, b"", "application/octet-stream")

    # -- summaries (issue 13 §2) -------------------------------------------------------------------
    # summaries/<unit>/<deliverable>/<seq:08d>.json: the version's document with only its small tables,
    # written after the version by its writer. Derived and immutable (the same seq always has the same
    # version), so a plain put suffices; a version without one (its writer stopped in between, or a
    # store written before summaries) is read whole and trimmed, as before.

    def _summary_key(self, unit: str, deliverable: str, seq: int) -> str:
        return f"{self.prefix}{_SUMMARIES}{_escape_part(unit)}/{_escape_part(deliverable)}/{seq:08d}.json"

    def _put_summary(self, version: Version) -> None:
        small = version.model_copy(update={"tables": store_codec.summary_tables(version.tables)})
        body = store_codec.version_to_json(small).encode("utf-8")
        self._put(self._summary_key(version.unit, version.deliverable, version.seq), body, JSON_TYPE)

    def _resolve_summary(
        self, unit: str, deliverable: str, markers: list[_Marker], status: VersionStatus | None
    ) -> Version | None:
        seqs = sorted({m.seq for m in markers if status is None or m.status == status}, reverse=True)
        for seq in seqs:
            got = self._get(self._summary_key(unit, deliverable, seq))
            if got is not None:
                small = store_codec.version_from_json_trusted(got[0].decode("utf-8"))
                if status is None or small.status == status:
                    return small
                continue
            found = self._load(self._version_key(unit, deliverable, seq))
            if found is not None and (status is None or found.version.status == status):
                v = found.version
                return v.model_copy(update={"tables": store_codec.summary_tables(v.tables)})
        return None


class _PeerObjects:
    """peer_shards.Objects over the bucket: ("shard", "1", …) is peers/shard/1/… (each part escaped)."""

    def __init__(self, store: S3Store) -> None:
        self._store = store
        self._root = store.prefix + _PEERS

    def _key(self, key: Key) -> str:
        return self._root + "/".join(_escape_part(p) for p in key)

    def get(self, key: Key) -> tuple[bytes, str] | None:
        return self._store._get(self._key(key))

    def put(self, key: Key, body: bytes, *, if_match: str | None = None, if_none_match: bool = False) -> bool:
        condition = (
            {"IfMatch": if_match} if if_match is not None else {"IfNoneMatch": "*"} if if_none_match else {}
        )
        return self._store._put(self._key(key), body, JSON_TYPE, **condition)

    def delete(self, key: Key) -> None:
        self._store._delete([self._key(key)])

    def keys(self, prefix: Key) -> list[Key]:
        folder = self._key(prefix) + "/"
        return [
            (*prefix, *(_unescape_part(p) for p in name.split("/")))
            for name in (k[len(folder) :] for k in self._store._list(folder))
        ]

    def get_many(self, keys: list[Key]) -> list[tuple[bytes, str] | None]:
        return list(self._store._ordered_parallel(self.get, keys))

    def run(self, work: Callable[[Any], None], items: list[Any]) -> None:
        for _ in self._store._ordered_parallel(work, items):
            pass


# -- helpers ---------------------------------------------------------------------------------------


def _sigv4_client(*, region_name: str | None = None, max_pool_connections: int = 10) -> Any:
    # boto3 is imported here, not at module level, so that handlers importing this module for its types
    # pay for it only when they open a store.
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        region_name=region_name,
        config=Config(
            signature_version="s3v4",
            max_pool_connections=max_pool_connections,
            retries={"mode": "standard", "max_attempts": 5},
        ),
    )


def _claim_body(key: str, at: dt.datetime, payload: dict[str, Any]) -> bytes:
    # The key is kept in the body too, so a listing never depends on reversing the escaping.
    return store_codec.dumps({"key": key, "claimed_at": at, "payload": payload}).encode("utf-8")


def _normalise_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return prefix + "/" if prefix else ""


def _escape(text: str, *, keep_slash: bool = False) -> str:
    out = []
    for ch in text:
        if ch in _SAFE or (keep_slash and ch == "/") or (ord(ch) > 127 and ch.isalnum()):
            out.append(ch)
        else:
            out.append("".join(f"!{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
    return "".join(out)


def _unescape(text: str) -> str:
    return _ESCAPED.sub(
        lambda m: bytes.fromhex(m.group().replace("!", "")).decode("utf-8", "surrogatepass"), text
    )


def _escape_part(text: str) -> str:
    """One key segment: never empty, so no "//" appears between a unit and its deliverable."""
    return _escape(text) or _EMPTY_PART


def _unescape_part(text: str) -> str:
    return "" if text == _EMPTY_PART else _unescape(text)


def _parse_seq(name: str) -> int | None:
    stem, dot, ext = name.partition(".")
    return int(stem) if dot and ext == "json" and stem.isdigit() else None


def _parse_marker_name(key: str, name: str) -> _Marker | None:
    parts = name.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    return _Marker(key=key, seq=int(parts[0]), status=parts[1])


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _is_missing(exc: ClientError) -> bool:
    # Only a missing key: a missing bucket (NoSuchBucket, also 404) is a configuration error to report.
    return _error_code(exc) in {"NoSuchKey", "404", "NotFound"}
