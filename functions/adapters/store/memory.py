"""An in-process Store: the fake for unit tests, with exactly the semantics of the durable stores.

Versions and claims are kept as the same JSON the durable stores write (store_codec), so a value that
would not survive SQLite or S3 does not survive here either, and nothing handed out shares state with
what is stored.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from functions.adapters.store import codec as store_codec
from functions.adapters.store.peer_shards import Key, PeerShardMethods, ShardedPeers
from functions.ports import Claim
from functions.validate.peer_median import peer_entry
from schemas.attachments import AttachmentRef
from schemas.report import ValidationReport
from schemas.submission import ParsedSubmission, Version, VersionStatus


@dataclass(frozen=True)
class _StoredVersion:
    status: VersionStatus
    content_hash: str
    document: str
    summary: str = ""  # the document with only the small tables (issue 13 §2)


@dataclass(frozen=True)
class _StoredClaim:
    claimed_at: dt.datetime
    payload: str


class MemoryStore(PeerShardMethods):
    """Dicts behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[tuple[str, str], list[_StoredVersion]] = {}
        self._claims: dict[str, _StoredClaim] = {}
        self._meta: dict[str, str] = {}
        # Peer statistics in S3's layout, over a dict with ETags: the same code as S3 (peer_shards.py).
        self._peer_objects = _PeerObjects()
        self._peers = ShardedPeers(self._peer_objects)
        self._blobs: dict[str, bytes] = {}
        self._attachments: dict[str, str] = {}  # version id -> refs as JSON
        self._blob_units: dict[str, set[str]] = {}

    def add_version(
        self,
        submission: ParsedSubmission,
        report: ValidationReport,
        *,
        received_at: dt.datetime,
        late: bool,
    ) -> tuple[Version, bool]:
        content_hash = submission.content_hash()
        with self._lock:
            history = self._versions.setdefault((submission.unit, submission.deliverable), [])
            if history and history[-1].content_hash == content_hash:
                return store_codec.version_from_json_trusted(history[-1].document), False
            version = store_codec.build_version(
                submission,
                report,
                seq=len(history) + 1,
                content_hash=content_hash,
                received_at=received_at,
                late=late,
            )
            small = version.model_copy(update={"tables": store_codec.summary_tables(version.tables)})
            history.append(
                _StoredVersion(
                    version.status,
                    content_hash,
                    store_codec.version_to_json(version),
                    store_codec.version_to_json(small),
                )
            )
            if submission.attachments:
                self._attachments[version.id] = store_codec.dumps_attachments(submission.attachments)
                for ref in submission.attachments:
                    self._blob_units.setdefault(ref.sha256, set()).add(version.unit)
        if version.status == "submitted":
            # A draft never replaces the latest submitted version, so only these change the peers. After
            # the version, outside the lock, as in S3 (the peer objects have their own conditional writes).
            self._peers.put_entry(version.deliverable, version.unit, version.seq, peer_entry(version.tables))
        return version, True

    def latest(self, unit: str, deliverable: str, status: VersionStatus | None = None) -> Version | None:
        with self._lock:
            found = _latest_of(self._versions.get((unit, deliverable), []), status)
        return store_codec.version_from_json_trusted(found.document) if found is not None else None

    def latest_versions(self, status: VersionStatus | None = None) -> list[Version]:
        with self._lock:
            found = [_latest_of(self._versions[key], status) for key in sorted(self._versions)]
        return [store_codec.version_from_json_trusted(v.document) for v in found if v is not None]

    def iter_latest_versions(self, status: VersionStatus | None = None) -> Iterator[Version]:
        with self._lock:
            found = [_latest_of(self._versions[key], status) for key in sorted(self._versions)]
        for v in found:
            if v is not None:
                yield store_codec.version_from_json_trusted(v.document)

    def iter_latest_summaries(self, status: VersionStatus | None = None) -> Iterator[Version]:
        with self._lock:
            found = [_latest_of(self._versions[key], status) for key in sorted(self._versions)]
        for v in found:
            if v is not None:
                yield store_codec.version_from_json_trusted(v.summary)

    def history(self, unit: str, deliverable: str) -> list[Version]:
        with self._lock:
            stored = list(self._versions.get((unit, deliverable), []))
        return [store_codec.version_from_json_trusted(v.document) for v in stored]

    def iter_versions(self, keys: Sequence[tuple[str, str, int]]) -> Iterator[Version]:
        for unit, deliverable, seq in keys:
            with self._lock:
                stored = self._versions.get((unit, deliverable), [])
                found = stored[seq - 1] if 1 <= seq <= len(stored) else None  # seqs are 1, 2, … per pair
            if found is not None:
                yield store_codec.version_from_json_trusted(found.document)

    def claim(self, key: str, payload: dict[str, Any], *, at: dt.datetime) -> bool:
        stored = _StoredClaim(at, store_codec.dumps(payload))
        with self._lock:
            if key in self._claims:
                return False
            self._claims[key] = stored
            return True

    def update_claim(self, key: str, payload: dict[str, Any]) -> None:
        encoded = store_codec.dumps(payload)
        with self._lock:
            claim = self._claims.get(key)
            if claim is None:
                raise KeyError(key)
            self._claims[key] = _StoredClaim(claim.claimed_at, encoded)

    def release(self, key: str) -> None:
        with self._lock:
            self._claims.pop(key, None)

    def claims(self, prefix: str = "") -> list[Claim]:
        with self._lock:
            found = [(k, c) for k, c in self._claims.items() if k.startswith(prefix)]
        found.sort(key=lambda kc: (store_codec.instant_key(kc[1].claimed_at), kc[0]))
        # The store wrote them: built without re-validation, as SQLite's claims are (issue 13 §4).
        trusted, loads = store_codec.model_trusted, store_codec.loads_trusted
        return [
            trusted(Claim, {"key": k, "claimed_at": c.claimed_at, "payload": loads(c.payload)})
            for k, c in found
        ]

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            return self._meta.get(key)

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._meta[key] = value

    def close(self) -> None:
        """Nothing to release; present so callers can treat every store alike."""

    # -- evidence files ---------------------------------------------------------------------------

    def put_blob(self, sha256: str, data: bytes) -> None:
        store_codec.check_blob(sha256, data)
        with self._lock:
            self._blobs.setdefault(sha256, bytes(data))

    def get_blob(self, sha256: str) -> bytes | None:
        with self._lock:
            return self._blobs.get(sha256)

    def attachments(self, version_id: str) -> list[AttachmentRef]:
        with self._lock:
            found = self._attachments.get(version_id)
        return store_codec.loads_attachments(found) if found is not None else []

    def units_with_blob(self, sha256: str) -> set[str]:
        with self._lock:
            return set(self._blob_units.get(sha256, ()))


def _latest_of(history: list[_StoredVersion], status: VersionStatus | None) -> _StoredVersion | None:
    for version in reversed(history):
        if status is None or version.status == status:
            return version
    return None


class _PeerObjects:
    """peer_shards.Objects in a dict: an ETag is a counter, conditions are checked under a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._objects: dict[Key, tuple[bytes, str]] = {}
        self._next = 0
        # (key, size) of every get once a test sets a list here (it counts what a submission reads).
        self.reads: list[tuple[Key, int]] | None = None

    def get(self, key: Key) -> tuple[bytes, str] | None:
        with self._lock:
            found = self._objects.get(key)
            if self.reads is not None:
                self.reads.append((key, len(found[0]) if found is not None else 0))
            return found

    def put(self, key: Key, body: bytes, *, if_match: str | None = None, if_none_match: bool = False) -> bool:
        with self._lock:
            held = self._objects.get(key)
            if if_none_match and held is not None:
                return False
            if if_match is not None and (held is None or held[1] != if_match):
                return False
            self._next += 1
            self._objects[key] = (bytes(body), f'"{self._next}"')
            return True

    def delete(self, key: Key) -> None:
        with self._lock:
            self._objects.pop(key, None)

    def keys(self, prefix: Key) -> list[Key]:
        with self._lock:
            return sorted(k for k in self._objects if k[: len(prefix)] == prefix and len(k) > len(prefix))

    def get_many(self, keys: list[Key]) -> list[tuple[bytes, str] | None]:
        return [self.get(k) for k in keys]

    def run(self, work: Callable[[Any], None], items: list[Any]) -> None:
        for item in items:
            work(item)
