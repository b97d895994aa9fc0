"""Lossless JSON for what stores keep: versions, tables and claim payloads.

Plain JSON turns a `datetime.date` into a string, and a table cell that was the date 2022-12-03 must not
come back as the text "2022-12-03" (the validator and the master workbook treat them differently). Dates
and datetimes are therefore written as one-key objects {"$date": ...} / {"$datetime": ...}. A real dict
that happens to have a single "$"-key is wrapped in {"$dict": ...} so it can never be mistaken for a tag.
Every store (SQLite, S3, the in-memory fake) uses these helpers so they agree on the format.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from schemas.attachments import AttachmentRef
from schemas.report import Issue, ValidationReport
from schemas.submission import ParsedSubmission, TableData, Version, version_id

_DATE = "$date"
_DATETIME = "$datetime"
_DICT = "$dict"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def encode_value(value: Any) -> Any:
    """A JSON-ready copy of `value` with dates and datetimes tagged."""
    # datetime is a subclass of date, so it must be tested first.
    if isinstance(value, dt.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, dt.date):
        return {_DATE: value.isoformat()}
    if isinstance(value, dict):
        encoded = {str(k): encode_value(v) for k, v in value.items()}
        if len(encoded) == 1 and next(iter(encoded)).startswith("$"):
            return {_DICT: encoded}
        return encoded
    if isinstance(value, list | tuple):
        return [encode_value(v) for v in value]
    return value


def decode_value(value: Any) -> Any:
    """The inverse of `encode_value`, applied to parsed JSON."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == _DATE:
                return dt.date.fromisoformat(inner)
            if tag == _DATETIME:
                return dt.datetime.fromisoformat(inner)
            if tag == _DICT:
                return {k: decode_value(v) for k, v in inner.items()}
        return {k: decode_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_value(v) for v in value]
    return value


def dumps(value: Any) -> str:
    """Compact tagged JSON text; Chinese kept readable rather than \\u-escaped."""
    return json.dumps(encode_value(value), ensure_ascii=False, separators=(",", ":"), allow_nan=True)


def loads(text: str) -> Any:
    return decode_value(json.loads(text))


def dumps_tables(tables: TableData) -> str:
    return dumps(tables)


def loads_tables(text: str) -> TableData:
    return loads(text)


def dumps_report(report: ValidationReport) -> str:
    # A report has no free-form values, so pydantic's own JSON round-trips it exactly.
    return report.model_dump_json()


def loads_report(text: str) -> ValidationReport:
    return ValidationReport.model_validate_json(text)


def dumps_datetime(value: dt.datetime) -> str:
    """ISO 8601 with its offset, so the timezone survives the round trip."""
    return value.isoformat()


def loads_datetime(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def instant_key(value: dt.datetime) -> int:
    """Microseconds since the epoch, for ordering moments written in different timezones.

    A naive datetime is read as UTC: an arbitrary but stable choice, and the same in every store.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return (value - _EPOCH) // dt.timedelta(microseconds=1)


def build_version(
    submission: ParsedSubmission,
    report: ValidationReport,
    *,
    seq: int,
    content_hash: str,
    received_at: dt.datetime,
    late: bool,
) -> Version:
    """The version every store creates for a new submission, so they all name and fill it alike."""
    return Version(
        id=version_id(submission.unit, submission.deliverable, seq, content_hash),
        unit=submission.unit,
        deliverable=submission.deliverable,
        seq=seq,
        received_at=received_at,
        source_kind=submission.source_kind,
        source=submission.source,
        content_hash=content_hash,
        status=submission.status,
        late=late,
        # Nothing shared with the caller, who may keep mutating its submission and report: validation
        # rebuilds the tables' dicts and lists, but keeps a model instance as it is, hence the dump.
        tables=submission.tables,
        report=report.model_dump(),
    )


def version_to_document(version: Version) -> dict[str, Any]:
    """A JSON-ready dict of a whole version (for stores that keep one object per version)."""
    doc = version.model_dump(mode="json", exclude={"tables"})
    doc["received_at"] = dumps_datetime(version.received_at)
    doc["tables"] = encode_value(version.tables)
    return doc


def version_from_document(doc: dict[str, Any]) -> Version:
    data = dict(doc)
    data["tables"] = decode_value(doc["tables"])
    data["received_at"] = loads_datetime(doc["received_at"])
    return Version.model_validate(data)


def version_to_json(version: Version) -> str:
    return json.dumps(version_to_document(version), ensure_ascii=False, separators=(",", ":"))


def version_from_json(text: str) -> Version:
    return version_from_document(json.loads(text))


def summary_tables(tables: TableData) -> TableData:
    """The small tables of a version: those of at most one row (record tables: totals, materials).

    Statuses, reminders, digests and 总览 need these and the report, never the activity rows, so each
    store keeps them beside the full tables and decodes only them for statuses (issue 13 §2).
    """
    return {key: rows for key, rows in tables.items() if len(rows) <= 1}


def dumps_plain(value: Any) -> str:
    """Untagged JSON for the store's own documents of plain numbers (peer entries): read per
    submission for every unit, they skip decode_value's walk, which cost more than json itself."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=True)


def loads_plain(text: str) -> Any:
    return json.loads(text)


def blob_digest(data: bytes) -> str:
    """The SHA-256 (hex) every store keys a blob by; put_blob refuses data that does not match its key."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def check_blob(sha256: str, data: bytes) -> None:
    """ValueError unless `sha256` is the lower-case hex digest of `data` (so a key can never be a path)."""
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256[:80]!r}")
    if blob_digest(data) != sha256:
        raise ValueError(f"data does not match its SHA-256 {sha256}")


def dumps_attachments(refs: list[AttachmentRef]) -> str:
    return json.dumps([r.model_dump(mode="json") for r in refs], ensure_ascii=False, separators=(",", ":"))


def loads_attachments(text: str) -> list[AttachmentRef]:
    return [AttachmentRef.model_validate(r) for r in json.loads(text)]


# -- reading back what a store wrote itself (issue 13 §4) ------------------------------------------
# A store decodes only text it encoded, from models that were validated before they were written, so
# validating them again cell by cell (pydantic) and walking the parsed JSON a second time
# (decode_value) is pure cost: it was most of consolidation and of the unit statuses. These readers
# decode the tags in json.loads' own object hook and build the models with model_construct.


def _tag_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((tag, inner),) = obj.items()
        if tag == _DATE:
            return dt.date.fromisoformat(inner)
        if tag == _DATETIME:
            return dt.datetime.fromisoformat(inner)
    return obj


# One decoder: json.loads with an object_hook builds a new JSONDecoder on every call.
_TRUSTED_DECODER = json.JSONDecoder(object_hook=_tag_hook)
_PLAIN_DECODER = json.JSONDecoder()


def _scanner(decoder: json.JSONDecoder) -> Callable[[str], Any]:
    """`decoder.decode` for compact text this store wrote, through the C scanner itself.

    JSONDecoder.decode wraps the scanner in two Python calls and two whitespace regex matches, which
    cost about as much as scanning a small report; statuses decode two texts per unit. Text the scanner
    does not consume whole (whitespace, damage) goes through `decode`, which says what is wrong.
    """
    scan = decoder.scan_once

    def decode(text: str) -> Any:
        try:
            value, end = scan(text, 0)
        except StopIteration:
            return decoder.decode(text)
        return value if end == len(text) else decoder.decode(text)

    return decode


_decode_tagged = _scanner(_TRUSTED_DECODER)
_decode_plain = _scanner(_PLAIN_DECODER)


def loads_trusted(text: str) -> Any:
    """`loads` in one pass: the tags are decoded by json.loads' object hook.

    The hook works bottom-up, so inside a {"$dict": ...} wrapper (a real dict with one "$"-key) it would
    turn the wrapped dict into a date too early; such text is rare (no form field starts with "$") and
    goes through the two-pass `loads`, which knows the wrapper. A string value that merely contains
    `"$dict"` is escaped as `\\"$dict\\"`, so it never matches.
    """
    if '"$dict"' in text:
        return loads(text)
    return _decode_tagged(text)


_FIELD_NAMES: dict[type, set[str]] = {}
_Model = TypeVar("_Model", bound=BaseModel)


def _constructed(cls: Any, fields: dict[str, Any]) -> Any:
    """`cls.model_construct(**fields)` for a dict holding every field, without its per-field loop.

    model_construct looks up each field's default and alias in Python (most of a status read); a dict
    from the model's own dump has every field, so the instance is assembled directly, as
    model_construct itself does at its end. Anything else goes through model_construct.
    """
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = set(cls.model_fields)  # a pydantic property: slow to ask per row
    if len(fields) != len(names):
        return cls.model_construct(**fields)
    obj = cls.__new__(cls)
    _set_dict(obj, fields)
    # Every field is set, so every instance may share one set: pydantic only ever adds a field name
    # to it (on assignment), which is already there, and copies it for model_copy.
    _set_fields_set(obj, names)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


# BaseModel's slots, set through their descriptors: what object.__setattr__ ends up calling, without
# its attribute lookup each time (four per model, one model per issue, report and version read).
_set_dict = vars(BaseModel)["__dict__"].__set__
_set_fields_set = vars(BaseModel)["__pydantic_fields_set__"].__set__
_set_extra = vars(BaseModel)["__pydantic_extra__"].__set__
_set_private = vars(BaseModel)["__pydantic_private__"].__set__


def model_trusted(cls: type[_Model], fields: dict[str, Any]) -> _Model:
    """An instance of a pydantic model from every one of its fields, as a store wrote them: not
    validated again (see `_constructed`)."""
    return _constructed(cls, fields)


def _issue_trusted(data: dict[str, Any]) -> Any:
    return _constructed(Issue, data)


def report_from_dict_trusted(data: dict[str, Any]) -> ValidationReport:
    """A report from the dict of its own model_dump (JSON mode or not), without re-validation."""
    fields = dict(data)
    fields["errors"] = [_issue_trusted(e) for e in data.get("errors", ())]
    fields["warnings"] = [_issue_trusted(w) for w in data.get("warnings", ())]
    checked = fields.get("checked_at")
    if isinstance(checked, str):
        fields["checked_at"] = dt.datetime.fromisoformat(checked)
    return _constructed(ValidationReport, fields)


def loads_report_trusted(text: str) -> ValidationReport:
    """`loads_report` for text this store wrote with `dumps_report`."""
    return _report_from_owned_dict(_decode_plain(text))


def _report_from_owned_dict(fields: dict[str, Any]) -> ValidationReport:
    """`report_from_dict_trusted` for a dict fresh from json.loads that nobody else holds: filled in
    place instead of copied, and an empty issue list (most reports) is kept as decoded. Statuses decode
    one report per unit, so these copies were a measurable part of them (issue 13 §2)."""
    for key in ("errors", "warnings"):
        issues = fields.get(key)
        if issues:
            fields[key] = [_constructed(Issue, e) for e in issues]
        elif issues is None:
            fields[key] = []
    checked = fields.get("checked_at")
    if isinstance(checked, str):
        fields["checked_at"] = dt.datetime.fromisoformat(checked)
    return _constructed(ValidationReport, fields)


def version_trusted(
    *,
    id: str,
    unit: str,
    deliverable: str,
    seq: int,
    received_at: dt.datetime,
    source_kind: str,
    source: str,
    content_hash: str,
    status: str,
    late: bool,
    tables: TableData,
    report: ValidationReport,
) -> Version:
    """A Version from fields a store wrote itself: every field given, nothing validated again."""
    return _constructed(Version, {
        "id": id, "unit": unit, "deliverable": deliverable, "seq": seq, "received_at": received_at,
        "source_kind": source_kind, "source": source, "content_hash": content_hash, "status": status,
        "late": late, "tables": tables, "report": report,
    })  # fmt: skip


def document_from_json_trusted(text: str) -> dict[str, Any]:
    """A version document (`version_to_json`) with its tables' tags decoded, in one json.loads."""
    if '"$dict"' in text:
        doc = json.loads(text)
        doc["tables"] = decode_value(doc["tables"])
        return doc
    # The report's fields are plain strings and numbers, so the hook only ever meets the tables' tags.
    return _decode_tagged(text)


def version_from_document_trusted(doc: dict[str, Any], *, tables_decoded: bool = False) -> Version:
    """`version_from_document` for a document this store wrote (`version_to_document`); with
    `tables_decoded`, one read by `document_from_json_trusted`."""
    return version_trusted(
        id=doc["id"], unit=doc["unit"], deliverable=doc["deliverable"], seq=doc["seq"],
        received_at=loads_datetime(doc["received_at"]), source_kind=doc["source_kind"],
        source=doc["source"], content_hash=doc["content_hash"], status=doc.get("status", "submitted"),
        late=bool(doc.get("late", False)),
        tables=doc["tables"] if tables_decoded else decode_value(doc["tables"]),
        report=report_from_dict_trusted(doc["report"]),
    )  # fmt: skip


def version_from_json_trusted(text: str) -> Version:
    return version_from_document_trusted(document_from_json_trusted(text), tables_decoded=True)


_Row = TypeVar("_Row")
_Decoded = TypeVar("_Decoded")


def decode_batch(decode: Callable[[_Row], _Decoded], rows: Sequence[_Row]) -> list[_Decoded]:
    """`[decode(r) for r in rows]` with the cyclic garbage collector paused.

    Decoding thousands of versions allocates only acyclic objects (dicts, lists, strings, models), yet
    each allocation burst triggers collections that walk every live object: a quarter of reading 10,000
    statuses. The pause covers one batch of decoding and nothing else (no caller code runs inside).
    """
    if not gc.isenabled():
        return [decode(r) for r in rows]
    gc.disable()
    try:
        return [decode(r) for r in rows]
    finally:
        gc.enable()
