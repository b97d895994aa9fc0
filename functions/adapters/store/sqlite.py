"""The default Store: one SQLite file in the campaign folder (DIR/huizong.sqlite3).

Several huizong processes (a watch loop, a manual ingest, a cron reminder) may share the file, so writes
that read-then-insert run under BEGIN IMMEDIATE: the write lock is taken before the read, and a second
writer waits (busy_timeout) instead of computing the same next seq.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
import sqlite3
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from functions.adapters.store import codec as store_codec
from functions.ports import Claim
from functions.store_errors import StoreUnavailable
from functions.validate.peer_median import peer_entry
from schemas.attachments import AttachmentRef
from schemas.report import ValidationReport
from schemas.submission import ParsedSubmission, Version, VersionStatus

SCHEMA_VERSION = 1
BUSY_TIMEOUT_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS versions (
    id           TEXT    NOT NULL UNIQUE,
    unit         TEXT    NOT NULL,
    deliverable  TEXT    NOT NULL,
    seq          INTEGER NOT NULL CHECK (seq >= 1),
    received_at  TEXT    NOT NULL,
    source_kind  TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    late         INTEGER NOT NULL,
    tables_json  TEXT    NOT NULL,
    report_json  TEXT    NOT NULL,
    summary_json TEXT,
    UNIQUE (unit, deliverable, seq)
);
CREATE INDEX IF NOT EXISTS versions_by_status ON versions (status, unit, deliverable, seq);
CREATE TABLE IF NOT EXISTS claims (
    key          TEXT    NOT NULL PRIMARY KEY,
    claimed_at   TEXT    NOT NULL,
    claimed_us   INTEGER NOT NULL,
    payload_json TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS claims_by_time ON claims (claimed_us, key);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
-- Evidence files (issue 12 §4). New tables only, created on open, so a file of an earlier huizong is
-- migrated by opening it (its versions simply have no attachments) and an earlier huizong can still
-- read a file that has them: the schema version stays 1.
CREATE TABLE IF NOT EXISTS attachments (
    version_id TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    unit       TEXT    NOT NULL,
    sha256     TEXT    NOT NULL,
    ref_json   TEXT    NOT NULL,
    PRIMARY KEY (version_id, position)
);
CREATE INDEX IF NOT EXISTS attachments_by_blob ON attachments (sha256, unit);
CREATE TABLE IF NOT EXISTS blobs (
    sha256 TEXT    NOT NULL PRIMARY KEY,
    size   INTEGER NOT NULL,
    data   BLOB    NOT NULL
);
"""

_VERSION_COLUMNS = (
    "id, unit, deliverable, seq, received_at, source_kind, source, content_hash, status, late, "
    "tables_json, report_json"
)


class SchemaVersionError(RuntimeError):
    """The file was written by a newer huizong whose layout this one does not know."""


class StoreClosedError(RuntimeError):
    pass


_F = TypeVar("_F", bound=Callable[..., Any])


def _unavailable(path: Path, exc: sqlite3.DatabaseError) -> StoreUnavailable | None:
    """SQLite's error as a problem the organiser can act on; None for the transient ones (busy, locked)."""
    text = str(exc)
    lowered = text.lower()
    if "malformed" in lowered or "not a database" in lowered or "corrupt" in lowered:
        return StoreUnavailable(str(path), "damaged", text)
    if "readonly" in lowered or "read-only" in lowered:
        return StoreUnavailable(str(path), "read-only", text)
    if "unable to open" in lowered or "disk i/o error" in lowered:
        return StoreUnavailable(str(path), "unopenable", text)
    return None


def _translated(method: _F) -> _F:
    """A damaged or unwritable file found in the middle of a command is reported like one found at open."""

    @functools.wraps(method)
    def wrapper(self: SqliteStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            problem = _unavailable(self.path, exc)
            if problem is None:
                raise
            raise problem from exc

    return wrapper  # type: ignore[return-value]


class SqliteStore:
    """A Store in one SQLite file; safe to share between threads and between processes."""

    def __init__(
        self, path: Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS, read_only: bool = False
    ) -> None:
        """`read_only` (validate, status): never create, migrate or write the file, so a folder the user
        may only read works; a missing file reads as an empty store."""
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self.read_only = read_only
        # How a read-only store connects: "ro" (mode=ro), "immutable" (a read-only folder where SQLite
        # cannot make the WAL index; nobody can write there either) or "empty" (no file yet).
        self._ro_mode = "ro"
        self._local = threading.local()
        self._lock = threading.Lock()
        # Every connection opened, so close() can close them all, whichever thread opened them.
        self._connections: list[tuple[weakref.ref[threading.Thread], sqlite3.Connection]] = []
        self._closed = False
        self._summary_column: bool | None = None
        try:
            self._initialise()
        except sqlite3.DatabaseError as exc:
            self.close()
            problem = _unavailable(self.path, exc)
            if problem is None:
                raise
            raise problem from exc
        except PermissionError as exc:
            self.close()
            raise StoreUnavailable(str(self.path), "unopenable", str(exc)) from exc
        except BaseException:
            self.close()
            raise

    # -- connections -------------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreClosedError(f"存储已关闭: {self.path}")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        # A connection must not cross a fork: the child opens its own.
        if conn is not None and self._local.pid == os.getpid():
            return conn
        conn = self._connect()
        self._local.conn, self._local.pid = conn, os.getpid()
        with self._lock:
            self._forget_dead_threads()
            self._connections.append((weakref.ref(threading.current_thread()), conn))
        return conn

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; the methods below say where they begin.
        # check_same_thread=False only so close() may close connections of other (finished) threads;
        # each connection is still used by the one thread that opened it.
        if self.read_only:
            return self._connect_read_only()
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        # WAL makes a commit a sequential append; NORMAL is durable against process crashes.
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _connect_read_only(self) -> sqlite3.Connection:
        if self._ro_mode == "empty":
            # Nothing stored yet: an empty database in memory with the schema, so every query answers.
            conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            conn.executescript(_SCHEMA)
            return conn
        flags = "mode=ro" if self._ro_mode == "ro" else "immutable=1"
        uri = f"file:{quote(str(self.path.resolve()))}?{flags}"
        conn = sqlite3.connect(
            uri, uri=True, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        return conn

    def _initialise_read_only(self) -> None:
        # No file, or an empty one (SQLite creates a database lazily, on its first write).
        if not self.path.exists() or (self.path.is_file() and self.path.stat().st_size == 0):
            self._ro_mode = "empty"
            self._conn()
            return
        if not os.access(self.path, os.R_OK):
            raise StoreUnavailable(str(self.path), "unopenable", "permission denied")
        try:
            self._check_version(self._conn())
        except sqlite3.OperationalError as exc:
            # A WAL file in a folder this user cannot write: SQLite cannot create the shared-memory
            # index, so it reads the file as immutable (no writer can exist there anyway).
            if "unable to open" not in str(exc) and "readonly" not in str(exc):
                raise
            self._drop_connection()
            self._ro_mode = "immutable"
            self._check_version(self._conn())

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            with self._lock:
                self._connections = [(r, c) for r, c in self._connections if c is not conn]
            conn.close()
            self._local.conn = None

    def _check_version(self, conn: sqlite3.Connection) -> None:
        try:
            row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                # An empty file, or another program's database: huizong never wrote it.
                raise StoreUnavailable(str(self.path), "damaged", str(exc)) from exc
            raise
        found = row[0]
        if found is not None and found > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.path} 的数据格式版本是 {found}，本程序只支持到 {SCHEMA_VERSION}：请升级 huizong"
            )

    def _forget_dead_threads(self) -> None:
        alive = []
        for ref, conn in self._connections:
            thread = ref()
            if thread is not None and thread.is_alive():
                alive.append((ref, conn))
            else:
                conn.close()
        self._connections = alive

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for _, conn in self._connections:
                conn.close()
            self._connections = []

    def _writable(self) -> None:
        # Opened for reading (validate, status): a write is a bug in the caller, said plainly.
        if self.read_only:
            raise StoreUnavailable(str(self.path), "read-only", "opened for reading only")

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that holds the write lock from its first statement."""
        self._writable()
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            # SQLite has already rolled back after some errors (disk full, interrupt).
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _initialise(self) -> None:
        if self.read_only:
            self._initialise_read_only()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        self._enable_wal(conn)
        with self._immediate() as c:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    c.execute(statement)
            columns = {r[1] for r in c.execute("PRAGMA table_info(versions)")}
            if "summary_json" not in columns:
                # A file of a huizong before issue 13 §2: its versions get their summaries lazily
                # (NULL here), new ones are written with it.
                c.execute("ALTER TABLE versions ADD COLUMN summary_json TEXT")
            row = c.execute("SELECT MAX(version) FROM schema_version").fetchone()
            found = row[0]
            if found is None:
                c.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif found > SCHEMA_VERSION:
                raise SchemaVersionError(
                    f"{self.path} 的数据格式版本是 {found}，本程序只支持到 {SCHEMA_VERSION}：请升级 huizong"
                )

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # Switching to WAL needs a moment of exclusive access and does not wait on the busy handler
        # everywhere, so two processes creating the file together retry briefly. The mode is stored in
        # the file: once set, later openers find it already on.
        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    # -- versions ----------------------------------------------------------------------------------

    @_translated
    def add_version(
        self,
        submission: ParsedSubmission,
        report: ValidationReport,
        *,
        received_at: dt.datetime,
        late: bool,
    ) -> tuple[Version, bool]:
        content_hash = submission.content_hash()
        with self._immediate() as conn:
            row = conn.execute(
                f"SELECT {_VERSION_COLUMNS} FROM versions WHERE unit = ? AND deliverable = ? "
                "ORDER BY seq DESC LIMIT 1",
                (submission.unit, submission.deliverable),
            ).fetchone()
            if row is not None and row[7] == content_hash:
                return _version_from_row(row), False
            version = store_codec.build_version(
                submission,
                report,
                seq=1 if row is None else row[3] + 1,
                content_hash=content_hash,
                received_at=received_at,
                late=late,
            )
            conn.execute(
                f"INSERT INTO versions ({_VERSION_COLUMNS}, summary_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *_row_from_version(version),
                    store_codec.dumps_tables(store_codec.summary_tables(version.tables)),
                ),
            )
            if version.status == "submitted":
                # In the same transaction: the peer figures never disagree with the versions.
                _put_peer(conn, version.deliverable, version.unit, version.seq, peer_entry(version.tables))
            _put_attachments(conn, version, submission)
        return version, True

    @_translated
    def latest(self, unit: str, deliverable: str, status: VersionStatus | None = None) -> Version | None:
        sql = f"SELECT {_VERSION_COLUMNS} FROM versions WHERE unit = ? AND deliverable = ?"
        params: tuple[Any, ...] = (unit, deliverable)
        if status is not None:
            sql += " AND status = ?"
            params += (status,)
        row = self._conn().execute(sql + " ORDER BY seq DESC LIMIT 1", params).fetchone()
        return _version_from_row(row) if row is not None else None

    def latest_versions(self, status: VersionStatus | None = None) -> list[Version]:
        return list(self.iter_latest_versions(status))

    def iter_latest_versions(self, status: VersionStatus | None = None) -> Iterator[Version]:
        # One query: each group's row of highest seq (see _iter_latest_versions); rows are fetched in
        # batches as the caller goes rather than all at once.
        try:
            yield from self._iter_latest_versions(status)
        except sqlite3.DatabaseError as exc:
            problem = _unavailable(self.path, exc)
            if problem is None:
                raise
            raise problem from exc

    def iter_latest_summaries(self, status: VersionStatus | None = None) -> Iterator[Version]:
        try:
            yield from self._iter_latest_versions(status, summaries=True)
        except sqlite3.DatabaseError as exc:
            problem = _unavailable(self.path, exc)
            if problem is None:
                raise
            raise problem from exc

    def _has_summaries(self) -> bool:
        # A file of an earlier huizong opened read-only has no summary column (nothing may add it).
        if self._summary_column is None:
            columns = {r[1] for r in self._conn().execute("PRAGMA table_info(versions)")}
            self._summary_column = "summary_json" in columns
        return self._summary_column

    def _iter_latest_versions(
        self, status: VersionStatus | None, *, summaries: bool = False
    ) -> Iterator[Version]:
        outer, inner, params = (
            ("v.status = ?1 AND ", "w.status = ?1 AND ", (status,)) if status is not None else ("", "", ())
        )
        columns = ["v." + c for c in _VERSION_COLUMNS.split(", ")]
        decode: Callable[[tuple[Any, ...]], Version] = _version_from_row
        if summaries:
            decode = _summary_version_from_row
            # Versions stored before summaries existed (NULL, or no column in an older file opened
            # read-only) come with their full tables, trimmed as they are decoded.
            columns[columns.index("v.tables_json")] = (
                "COALESCE(v.summary_json, v.tables_json), v.summary_json IS NULL"
                if self._has_summaries()
                else "v.tables_json, 1"
            )
        # Each group's highest seq by a correlated MAX, answered from an index, while walking an index
        # that is already in (unit, deliverable) order (versions_by_status, or the unique key without a
        # status): rows stream in order as fetched. Joining a GROUP BY instead made SQLite sort every
        # row, summaries and reports included, in a temporary B-tree before returning the first.
        cursor = self._conn().execute(
            f"SELECT {', '.join(columns)} FROM versions AS v "
            f"WHERE {outer}v.seq = (SELECT MAX(w.seq) FROM versions AS w "
            f"  WHERE {inner}w.unit = v.unit AND w.deliverable = v.deliverable) "
            "ORDER BY v.unit, v.deliverable",
            params,
        )
        try:
            while rows := cursor.fetchmany(200):
                yield from store_codec.decode_batch(decode, rows)
        finally:
            cursor.close()

    def iter_versions(self, keys: Sequence[tuple[str, str, int]]) -> Iterator[Version]:
        try:
            yield from self._iter_versions(keys)
        except sqlite3.DatabaseError as exc:
            problem = _unavailable(self.path, exc)
            if problem is None:
                raise
            raise problem from exc

    def _iter_versions(self, keys: Sequence[tuple[str, str, int]]) -> Iterator[Version]:
        if not keys:
            return
        # One query for every key, passed as one JSON array (no limit on bound parameters). CROSS JOIN
        # makes SQLite loop over the keys outermost, looking each up in the (unit, deliverable, seq)
        # index, so rows come in the caller's order without an ORDER BY that would sort (hold) them all.
        columns = ", ".join("v." + c for c in _VERSION_COLUMNS.split(", "))
        cursor = self._conn().execute(
            f"SELECT {columns} FROM json_each(?) AS k CROSS JOIN versions AS v "
            "ON v.unit = json_extract(k.value, '$[0]') AND v.deliverable = json_extract(k.value, '$[1]') "
            "AND v.seq = json_extract(k.value, '$[2]')",
            (json.dumps([list(k) for k in keys], ensure_ascii=False),),
        )
        try:
            while rows := cursor.fetchmany(200):
                yield from store_codec.decode_batch(_version_from_row, rows)
        finally:
            cursor.close()

    @_translated
    def history(self, unit: str, deliverable: str) -> list[Version]:
        rows = (
            self._conn()
            .execute(
                f"SELECT {_VERSION_COLUMNS} FROM versions WHERE unit = ? AND deliverable = ? ORDER BY seq",
                (unit, deliverable),
            )
            .fetchall()
        )
        return [_version_from_row(r) for r in rows]

    # -- claims ------------------------------------------------------------------------------------

    @_translated
    def claim(self, key: str, payload: dict[str, Any], *, at: dt.datetime) -> bool:
        payload_json = store_codec.dumps(payload)
        with self._immediate() as conn:
            cur = conn.execute(
                "INSERT INTO claims (key, claimed_at, claimed_us, payload_json) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING",
                (key, store_codec.dumps_datetime(at), store_codec.instant_key(at), payload_json),
            )
            return cur.rowcount == 1

    @_translated
    def update_claim(self, key: str, payload: dict[str, Any]) -> None:
        with self._immediate() as conn:
            cur = conn.execute(
                "UPDATE claims SET payload_json = ? WHERE key = ?", (store_codec.dumps(payload), key)
            )
            if cur.rowcount == 0:
                raise KeyError(key)

    @_translated
    def release(self, key: str) -> None:
        self._writable()
        self._conn().execute("DELETE FROM claims WHERE key = ?", (key,))

    @_translated
    def claims(self, prefix: str = "") -> list[Claim]:
        sql = "SELECT key, claimed_at, payload_json FROM claims"
        params: tuple[str, ...] = ()
        if prefix:
            # A key range rather than LIKE: LIKE ignores case and treats % and _ as wildcards.
            upper = _prefix_upper_bound(prefix)
            sql += " WHERE key >= ?" + (" AND key < ?" if upper is not None else "")
            params = (prefix,) if upper is None else (prefix, upper)
        rows = self._conn().execute(sql + " ORDER BY claimed_us, key", params).fetchall()
        # Rows this store wrote from validated claims: decoded in one pass and not validated again. A
        # reminder run reads every remind/ claim twice (what is due, what is stuck): thousands of rows
        # at 10,000 units.
        loads_datetime, loads_trusted, trusted = (
            store_codec.loads_datetime, store_codec.loads_trusted, store_codec.model_trusted
        )  # fmt: skip
        return [
            trusted(Claim, {"key": k, "claimed_at": loads_datetime(at), "payload": loads_trusted(p)})
            for k, at, p in rows
        ]

    # -- meta --------------------------------------------------------------------------------------

    @_translated
    def get_meta(self, key: str) -> str | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row is not None else None

    @_translated
    def set_meta(self, key: str, value: str) -> None:
        self._writable()
        self._conn().execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- peer statistics: rows of the meta table under one key prefix per group ---------------------
    # The meta table rather than a new one: files written before this change open (even read-only)
    # without a migration. One row per unit makes an update a single upsert under the write lock.

    @_translated
    def put_peer_entry(self, group: str, unit: str, seq: int, entry: dict[str, Any]) -> None:
        with self._immediate() as conn:
            _put_peer(conn, group, unit, seq, entry)

    @_translated
    def peer_group(self, group: str) -> dict[str, dict[str, Any]]:
        prefix = _peer_key(group, "")
        upper = _prefix_upper_bound(prefix)
        sql = "SELECT key, value FROM meta WHERE key >= ?" + (" AND key < ?" if upper is not None else "")
        params = (prefix,) if upper is None else (prefix, upper)
        conn = self._conn()
        try:
            # SQLite assembles the group as one JSON object in C: one json.loads instead of one per unit.
            found = conn.execute(
                "SELECT json_group_object(substr(key, ?), json(json_extract(value, '$.entry')))"
                + sql.removeprefix("SELECT key, value"),
                (len(prefix) + 1, *params),
            ).fetchone()[0]
            return dict(store_codec.loads_plain(found))
        except sqlite3.OperationalError as exc:
            if "json" not in str(exc).lower():
                raise
        # SQLite's JSON refuses NaN and Infinity, which Python's writes: entry by entry then.
        return {
            key[len(prefix) :]: store_codec.loads_plain(value)["entry"]
            for key, value in conn.execute(sql, params).fetchall()
        }

    # -- evidence files (issue 12 §4) -------------------------------------------------------------
    # Blobs live in this file too: one file to back up, written in a transaction, readable read-only.
    # Rules cap a file at MAX_MB_CEILING (500 MB), under SQLite's default 1 GB limit for a value.

    @_translated
    def put_blob(self, sha256: str, data: bytes) -> None:
        store_codec.check_blob(sha256, data)
        with self._immediate() as conn:
            conn.execute(
                "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
                (sha256, len(data), sqlite3.Binary(data)),
            )

    @_translated
    def get_blob(self, sha256: str) -> bytes | None:
        row = self._read_new_table("SELECT data FROM blobs WHERE sha256 = ?", (sha256,))
        return bytes(row[0][0]) if row else None

    @_translated
    def attachments(self, version_id: str) -> list[AttachmentRef]:
        rows = self._read_new_table(
            "SELECT ref_json FROM attachments WHERE version_id = ? ORDER BY position", (version_id,)
        )
        return [AttachmentRef.model_validate_json(r[0]) for r in rows]

    @_translated
    def units_with_blob(self, sha256: str) -> set[str]:
        rows = self._read_new_table("SELECT DISTINCT unit FROM attachments WHERE sha256 = ?", (sha256,))
        return {r[0] for r in rows}

    def _read_new_table(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """A read of a table added after the first release: a file of an earlier huizong opened read-only
        (nothing may add the table) has none of it, which is the same as having nothing in it."""
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise

    # -- ordered peer index (issue 13 §1, next slice) ----------------------------------------------
    # The entries above still return every unit's figures, and a median over them is O(campaign) in
    # Python for each submission. These tables keep the same figures one value per row, with the
    # unit's type from the roster, behind indexes ordered by value: a median is then a count and an
    # OFFSET walked in SQLite's C code. The roster can change, so the types are synced from it (a
    # fingerprint in meta); the values are kept by _put_peer in the same transaction as the entries.

    @_translated
    def peer_index_sync(self, fingerprint: str, types: dict[str, str]) -> None:
        """Build or re-type the index unless it was built for this roster (`fingerprint`)."""
        if self.get_meta(_PEER_INDEX_MARK) == fingerprint:
            return
        with self._immediate() as conn:
            for statement in _PEER_INDEX_SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            for table in ("peer_types", "peer_values", "peer_units", "peer_buckets", "peer_counts"):
                conn.execute(f"DELETE FROM {table}")
            conn.execute("DELETE FROM meta WHERE key = ?", (_PEER_INDEX_NAN,))
            conn.executemany("INSERT INTO peer_types (unit, type) VALUES (?, ?)", types.items())
            prefix = _peer_key("", "")[:-1]  # every group: "\x1fpeers\x1f" + group + "\x1f" + unit
            upper = _prefix_upper_bound(prefix)
            rows = conn.execute("SELECT key, value FROM meta WHERE key >= ? AND key < ?", (prefix, upper))
            for key, value in rows.fetchall():
                group, _, unit = key[len(prefix) :].partition("\x1f")
                _index_peer(conn, group, unit, store_codec.loads_plain(value)["entry"])
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_PEER_INDEX_MARK, fingerprint),
            )

    @_translated
    def peer_index_groups(self, kind: str) -> list[str]:
        """The groups holding figures of `kind` ("activity" or "session")."""
        # From the kept counts (a row per type and group), not peer_units (a row per unit): asked on
        # every session median, a walk over every unit's row grew with the campaign.
        rows = self._conn().execute(
            "SELECT grp FROM peer_counts WHERE kind = ? GROUP BY grp HAVING SUM(n) > 0", (kind,)
        )
        return sorted(r[0] for r in rows)

    @_translated
    def peer_index_median(
        self, groups: list[str], kind: str, unit: str, unit_type: str | None, min_peers: int
    ) -> tuple[float, int, str | None] | None:
        """(median, peers, type) over the other units of `unit_type`, else of all units, else None.

        The same choice as functions/validate/peer_median.py: a unit is never its own peer, and a type
        with fewer than `min_peers` units falls back to all units. The cost does not grow with the
        campaign: the counts per value bucket (peer_buckets, a few hundred rows) locate the middle
        rank, then only that bucket's values are read; the unit's own values are subtracted.
        """
        conn = self._conn()
        marks = ", ".join("?" * len(groups))
        in_groups = f"grp IN ({marks})"
        own = conn.execute(
            f"SELECT type, bucket, value FROM peer_values WHERE unit = ? AND kind = ? AND {in_groups}",
            [unit, kind, *groups],
        ).fetchall()
        stored_type = unit_type if unit_type is not None else _NO_TYPE
        chosen: str | None = None
        if unit_type is not None:
            peers = self._peer_units(conn, kind, unit, groups, unit_type)
            if peers >= min_peers:
                chosen = unit_type
        if chosen is None:
            peers = self._peer_units(conn, kind, unit, groups, None)
            if peers < min_peers:
                return None
        typed = chosen is not None
        mine = [(b, v) for t, b, v in own if not typed or t == stored_type]
        type_clause = "type = ? AND " if typed else ""
        type_args: list[Any] = [chosen] if typed else []
        buckets = conn.execute(
            f"SELECT bucket, SUM(n) FROM peer_buckets WHERE kind = ? AND {type_clause}{in_groups} "
            "GROUP BY bucket ORDER BY bucket",
            [kind, *type_args, *groups],
        ).fetchall()
        own_per_bucket: dict[int, int] = {}
        for b, _ in mine:
            own_per_bucket[b] = own_per_bucket.get(b, 0) + 1
        counts = [(b, n - own_per_bucket.get(b, 0)) for b, n in buckets]
        total = sum(n for _, n in counts)
        if total == 0:
            return None  # no peers at all (min_peers 0): nothing to compare with

        def nth(rank: int) -> float:
            """The value of the given 0-based rank among the other units' values."""
            for b, n in counts:
                if rank < n:
                    where = f"kind = ? AND {type_clause}bucket = ?"
                    args = [kind, *type_args, b]
                    low, high = conn.execute(
                        f"SELECT MIN(value), MAX(value) FROM peer_values WHERE {where}", args
                    ).fetchone()
                    if low == high:
                        return float(low)  # one value in the bucket (whole numbers): no walk
                    row = conn.execute(
                        f"SELECT value FROM peer_values WHERE {where} AND unit <> ? AND {in_groups} "
                        "ORDER BY value LIMIT 1 OFFSET ?",
                        [*args, unit, *groups, rank],
                    ).fetchone()
                    return float(row[0])
                rank -= n
            raise AssertionError("rank beyond the counted values")  # counts and rows disagree

        # statistics.median: the middle value, or the mean of the two middle values.
        if total % 2:
            median = nth(total // 2)
        else:
            median = (nth(total // 2 - 1) + nth(total // 2)) / 2
        return median, peers, chosen

    def _peer_units(
        self, conn: sqlite3.Connection, kind: str, unit: str, groups: list[str], unit_type: str | None
    ) -> int:
        """Other units with figures of `kind` (of `unit_type`, or of any type)."""
        marks = ", ".join("?" * len(groups))
        type_clause, args = ("type = ? AND ", [unit_type]) if unit_type is not None else ("", [])
        per_group = conn.execute(
            f"SELECT grp, SUM(n) FROM peer_counts WHERE kind = ? AND {type_clause}grp IN ({marks}) "
            "GROUP BY grp HAVING SUM(n) > 0",
            [kind, *args, *groups],
        ).fetchall()
        if len(per_group) <= 1:
            # Figures of this kind in one deliverable only (the usual layout): the kept count, less the
            # unit itself, instead of counting distinct units over the index.
            total = int(per_group[0][1]) if per_group else 0
            own = conn.execute(
                f"SELECT 1 FROM peer_units WHERE kind = ? AND {type_clause}unit = ? AND grp IN ({marks}) LIMIT 1",
                [kind, *args, unit, *groups],
            ).fetchone()
            return total - (1 if own is not None else 0)
        # In several deliverables a unit may count in more than one: count distinct units.
        return int(
            conn.execute(
                f"SELECT COUNT(DISTINCT unit) FROM peer_units WHERE kind = ? AND {type_clause}"
                f"unit <> ? AND grp IN ({marks})",
                [kind, *args, unit, *groups],
            ).fetchone()[0]
        )

    def peer_index_built_for(self, fingerprint: str) -> bool:
        """Whether the index is there and typed for this roster (a read-only store cannot build it)."""
        return self.get_meta(_PEER_INDEX_MARK) == fingerprint

    def peer_index_exact(self) -> bool:
        """False once a NaN figure was stored: the index leaves it out, the Python median does not."""
        return self.get_meta(_PEER_INDEX_NAN) is None

    @_translated
    def peer_entries_of(self, unit: str, groups: list[str]) -> dict[str, dict[str, Any]]:
        """One unit's own entries, by group (a key lookup each)."""
        found: dict[str, dict[str, Any]] = {}
        conn = self._conn()
        for group in groups:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (_peer_key(group, unit),)).fetchone()
            if row is not None:
                found[group] = store_codec.loads_plain(row[0])["entry"]
        return found


def _put_attachments(conn: sqlite3.Connection, version: Version, submission: ParsedSubmission) -> None:
    """Inside add_version's write transaction, so a version never exists without its refs."""
    conn.executemany(
        "INSERT INTO attachments (version_id, position, unit, sha256, ref_json) VALUES (?, ?, ?, ?, ?)",
        [
            (version.id, i, version.unit, ref.sha256, ref.model_dump_json())
            for i, ref in enumerate(submission.attachments)
        ],
    )


def _put_peer(conn: sqlite3.Connection, group: str, unit: str, seq: int, entry: dict[str, Any]) -> None:
    """Inside a write transaction (the caller holds the lock)."""
    value = store_codec.dumps_plain({"seq": seq, "entry": entry})
    key = _peer_key(group, unit)
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is not None and store_codec.loads_plain(row[0]).get("seq", 0) > seq:
        return  # a later version of this unit is already counted
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
    _index_peer(conn, group, unit, entry)


def _peer_key(group: str, unit: str) -> str:
    # U+001F cannot occur in a unit code or a group name typed by anyone, so prefixes never overlap.
    return f"\x1fpeers\x1f{group}\x1f{unit}"


def _row_from_version(v: Version) -> tuple[Any, ...]:
    return (
        v.id,
        v.unit,
        v.deliverable,
        v.seq,
        store_codec.dumps_datetime(v.received_at),
        v.source_kind,
        v.source,
        v.content_hash,
        v.status,
        int(v.late),
        store_codec.dumps_tables(v.tables),
        store_codec.dumps_report(v.report),
    )


def _version_from_row(row: tuple[Any, ...]) -> Version:
    (
        vid,
        unit,
        deliverable,
        seq,
        received_at,
        source_kind,
        source,
        content_hash,
        status,
        late,
        tables,
        report,
    ) = row
    # Rows this store wrote from validated models: decoded in one pass, not validated again (issue 13 §4).
    return store_codec.version_trusted(
        id=vid,
        unit=unit,
        deliverable=deliverable,
        seq=seq,
        received_at=store_codec.loads_datetime(received_at),
        source_kind=source_kind,
        source=source,
        content_hash=content_hash,
        status=status,
        late=bool(late),
        tables=store_codec.loads_trusted(tables),
        report=store_codec.loads_report_trusted(report),
    )


def _summary_version_from_row(row: tuple[Any, ...]) -> Version:
    """`_version_from_row` for a summaries read: the tables column is the summary, followed by a flag
    saying it is the full tables of a version stored before summaries existed (trimmed here). The
    Version is assembled from its fields in place (one per unit and deliverable for every status read)."""
    (vid, unit, deliverable, seq, received_at, source_kind, source, content_hash, status, late, tables,
     untrimmed, report) = row  # fmt: skip
    decoded = store_codec.loads_trusted(tables)
    return store_codec.model_trusted(Version, {
        "id": vid, "unit": unit, "deliverable": deliverable, "seq": seq,
        "received_at": store_codec.loads_datetime(received_at), "source_kind": source_kind, "source": source,
        "content_hash": content_hash, "status": status, "late": bool(late),
        "tables": store_codec.summary_tables(decoded) if untrimmed else decoded,
        "report": store_codec.loads_report_trusted(report),
    })  # fmt: skip


def _prefix_upper_bound(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (None: no such bound).

    SQLite compares TEXT as UTF-8 bytes, which orders like code points, so bumping the last code point
    gives the end of the range.
    """
    chars = list(prefix)
    while chars:
        last = ord(chars.pop())
        if last < sys.maxunicode:
            bumped = last + 1
            # Surrogates cannot be encoded; the next encodable code point is U+E000.
            if 0xD800 <= bumped <= 0xDFFF:
                bumped = 0xE000
            return "".join(chars) + chr(bumped)
    return None


_PEER_INDEX_MARK = "peers:index:roster"
_PEER_INDEX_NAN = "peers:index:nan"
# Created when the index is first built (peer_index_sync), not in _SCHEMA: a file without them is simply
# a store whose index was never built, and a read-only store never needs them.
_PEER_INDEX_SCHEMA = """
CREATE TABLE IF NOT EXISTS peer_types (
    unit TEXT NOT NULL PRIMARY KEY,
    type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS peer_values (
    grp    TEXT    NOT NULL,
    kind   TEXT    NOT NULL,
    unit   TEXT    NOT NULL,
    type   TEXT    NOT NULL,
    bucket INTEGER NOT NULL,
    value  REAL    NOT NULL
);
-- Covering (unit and grp in the index): reading a bucket never touches the table.
CREATE INDEX IF NOT EXISTS peer_values_by_type ON peer_values (kind, type, bucket, value, unit, grp);
CREATE INDEX IF NOT EXISTS peer_values_by_bucket ON peer_values (kind, bucket, value, unit, grp);
-- Covering too: otherwise SQLite prefers a covering index on kind alone and scans the campaign.
CREATE INDEX IF NOT EXISTS peer_values_by_unit_covering ON peer_values (unit, kind, grp, type, bucket, value);
CREATE TABLE IF NOT EXISTS peer_buckets (
    grp    TEXT    NOT NULL,
    kind   TEXT    NOT NULL,
    type   TEXT    NOT NULL,
    bucket INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (kind, type, bucket, grp)
);
CREATE TABLE IF NOT EXISTS peer_units (
    grp  TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit TEXT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (kind, grp, unit)
);
CREATE INDEX IF NOT EXISTS peer_units_by_type ON peer_units (kind, type, unit, grp);
-- Units per (kind, type, group), kept with peer_units: counting peers reads a few rows, not the units.
CREATE TABLE IF NOT EXISTS peer_counts (
    grp  TEXT    NOT NULL,
    kind TEXT    NOT NULL,
    type TEXT    NOT NULL,
    n    INTEGER NOT NULL,
    PRIMARY KEY (kind, type, grp)
);
CREATE INDEX IF NOT EXISTS peer_units_by_unit ON peer_units (grp, unit);
"""
# The type of a unit the roster does not know (a NULL would defeat the primary key of peer_buckets).
_NO_TYPE = "\x1f"


def _bucket(value: float) -> int:
    """A monotonic bucket: whole numbers below 1024 get one each (participants: equal values share it,
    so no walk is needed), larger and negative values share logarithmic buckets (about 1 % wide), so a
    group has at most a few thousand buckets whatever the campaign's size."""
    if math.isinf(value):
        return 10**9 if value > 0 else -(10**9)
    if 0 <= value < 1024:
        return math.floor(value)
    if value >= 1024:
        return 1024 + math.floor(math.log2(value / 1024) * 64)
    return -1 - math.floor(math.log2(1 - value) * 64)


def _index_peer(conn: sqlite3.Connection, group: str, unit: str, entry: dict[str, Any]) -> None:
    """Replace one unit's rows of the ordered index, if it was built (inside the caller's transaction)."""
    if (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'peer_values'").fetchone()
        is None
    ):
        return
    old = conn.execute(
        "SELECT kind, type, bucket, COUNT(*) FROM peer_values WHERE unit = ? AND grp = ? GROUP BY kind, type, bucket",
        (unit, group),
    ).fetchall()
    conn.executemany(
        "UPDATE peer_buckets SET n = n - ? WHERE kind = ? AND type = ? AND bucket = ? AND grp = ?",
        [(n, kind, unit_type, bucket, group) for kind, unit_type, bucket, n in old],
    )
    conn.execute("DELETE FROM peer_values WHERE unit = ? AND grp = ?", (unit, group))
    gone = conn.execute(
        "SELECT kind, type FROM peer_units WHERE grp = ? AND unit = ?", (group, unit)
    ).fetchall()
    conn.executemany(
        "UPDATE peer_counts SET n = n - 1 WHERE kind = ? AND type = ? AND grp = ?",
        [(kind, unit_type, group) for kind, unit_type in gone],
    )
    conn.execute("DELETE FROM peer_units WHERE grp = ? AND unit = ?", (group, unit))
    row = conn.execute("SELECT type FROM peer_types WHERE unit = ?", (unit,)).fetchone()
    unit_type = row[0] if row is not None else _NO_TYPE
    kinds = {"activity": entry.get("per_activity") or [], "session": [entry.get("per_session")]}
    for kind, found in kinds.items():
        values = [float(v) for v in found if v is not None]
        if any(math.isnan(v) for v in values):
            # SQLite stores NaN as NULL, and statistics.median's answer with a NaN depends on its
            # position: the index cannot reproduce it, so it says so and PeerStats computes as before.
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO NOTHING",
                (_PEER_INDEX_NAN,),
            )
            values = [v for v in values if not math.isnan(v)]
        if not values:
            continue
        conn.execute(
            "INSERT INTO peer_units (grp, kind, unit, type) VALUES (?, ?, ?, ?)",
            (group, kind, unit, unit_type),
        )
        conn.execute(
            "INSERT INTO peer_counts (grp, kind, type, n) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (kind, type, grp) DO UPDATE SET n = n + 1",
            (group, kind, unit_type),
        )
        rows = [(group, kind, unit, unit_type, _bucket(v), v) for v in values]
        conn.executemany(
            "INSERT INTO peer_values (grp, kind, unit, type, bucket, value) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
        per_bucket: dict[int, int] = {}
        for r in rows:
            per_bucket[r[4]] = per_bucket.get(r[4], 0) + 1
        conn.executemany(
            "INSERT INTO peer_buckets (grp, kind, type, bucket, n) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, type, bucket, grp) DO UPDATE SET n = n + excluded.n",
            [(group, kind, unit_type, b, n) for b, n in per_bucket.items()],
        )
