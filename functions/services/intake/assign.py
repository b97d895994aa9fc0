"""`huizong assign FILE UNIT`: the organiser says whose a file is.

For a file the intake could not tie to a unit (no code, an unknown code, a name nobody has) or one held
back because its identity disagreed with the roster. A readable workbook is then validated and stored
as the unit's version like any submission (the organiser's word replaces what the workbook said about
its identity); an unreadable one is recorded as that unit's file, so the unit is told "收到您的文件，但无法
读取" and the master lists it under the unit.

A file that came by mail has no place on disk: the mail intake keeps the bytes of a workbook it records
as unidentified or unreadable as a content-addressed blob (Store.put_blob), and `assign_recorded` reads
it from there (`huizong assign 方案.xlsx WJ001`, or the digest when several kept files share the name).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from functions.app import App
from functions.services.intake.attachments import IncomingFile, incoming
from functions.services.intake.ingest import IngestOutcome, ingest_raw
from functions.services.intake.ingest_folder import file_digest
from functions.services.intake.kept_workbook import ReceivedWorkbook
from functions.services.intake.unread import (
    UnreadFile,
    get_unread,
    mark_assigned,
    record_unread,
    shown,
    unread_files,
)
from functions.services.mail_intake.evidence import files_of_workbook
from functions.services.status.unit_states import DECIDED_PREFIX
from functions.validate import codes
from functions.validate.identity import IDENTITY_CODES
from functions.validate.validator import validate_submission
from schemas.i18n import t
from schemas.raw import ClaimedIdentity

# Reader issues the organiser's decision answers: who the workbook is, not what it says.
_IDENTITY_ISSUES = {codes.UNKNOWN_UNIT.code, codes.UNIT_BY_NAME.code, *IDENTITY_CODES}
_FATAL = {k.code for k in (codes.NOT_XLSX, codes.LEGACY_XLS, codes.ENCRYPTED, codes.TOO_LARGE)}


class AssignError(Exception):
    """The request cannot be done as asked; the message (in the campaign's language) says why and how."""


@dataclass(frozen=True)
class AssignResult:
    unit: str
    deliverable: str | None
    outcome: IngestOutcome | None  # None when the file could not be read (recorded only)
    recorded_unreadable: bool


def assign_file(
    app: App, path: Path, unit_code: str, *, deliverable: str | None, now: dt.datetime
) -> AssignResult:
    received_at = min(dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC), now)
    return _assign(app, path, file_digest(path), unit_code, deliverable=deliverable, now=now,
                   received_at=received_at, source=None)  # fmt: skip


def find_recorded(app: App, text: str) -> UnreadFile:
    """The recorded file (kept as a blob) that `text` names: its SHA-256 or a prefix of at least 8 hex
    digits, or its recorded name or source when only one kept file has it (every unit calls its plan
    方案.xlsx, so a name is often not enough: the message lists the candidates' digests)."""
    lang = app.campaign.language
    wanted = text.strip()
    records = [r for r in unread_files(app.store) if app.store.get_blob(r.sha256) is not None]
    if re.fullmatch(r"[0-9a-fA-F]{8,64}", wanted):
        found = [r for r in records if r.sha256.startswith(wanted.lower())]
    else:
        found = [r for r in records if wanted in (r.name, r.source)]
    if len(found) == 1:
        return found[0]
    if not found:
        raise AssignError(
            t(
                lang,
                f"找不到文件“{shown(wanted)}”，也没有这个名称或编号的已保存的未识别文件。"
                "请给出文件的路径，或 huizong status 列出的文件名。",
                f"No file '{shown(wanted)}', and no kept unidentified file of that name or digest. Give the "
                "file's path, or a name huizong status lists.",
            )
        )
    listed = "\n".join(
        f"  {r.sha256[:12]}  {r.received_at.astimezone(app.campaign.tz):%Y-%m-%d %H:%M}  {shown(r.source)}"
        for r in found
    )
    raise AssignError(
        t(
            lang,
            f"有 {len(found)} 个未识别文件都叫“{shown(wanted)}”。请用编号（前 12 位即可）代替文件名：\n{listed}",
            f"{len(found)} unidentified files are called '{shown(wanted)}'. Give the digest (12 characters "
            f"are enough) instead of the name:\n{listed}",
        )
    )


def assign_recorded(
    app: App, record: UnreadFile, unit_code: str, *, deliverable: str | None, now: dt.datetime
) -> AssignResult:
    """Assign a file the intake kept as a blob (a mailed workbook of no known unit): no file on disk."""
    data = app.store.get_blob(record.sha256)
    if data is None:
        raise AssignError(
            t(
                app.campaign.language,
                f"文件“{shown(record.name)}”的内容没有保存，无法指派。请找到该文件，用它的路径指派。",
                f"The content of '{shown(record.name)}' was not kept. Find the file and assign it by its path.",
            )
        )
    suffix = record.name.rsplit(".", 1)[-1].lower() if "." in record.name else ""
    with tempfile.TemporaryDirectory(prefix="huizong-assign-") as tmp:
        # Our own name for the bytes, never the sender's (which is only shown).
        path = Path(tmp) / f"kept.{suffix if suffix in ('xlsx', 'xlsm', 'xls') else 'xlsx'}"
        path.write_bytes(data)
        # The photos and documents that came in the same mail were kept with it: they go with the version.
        kept = files_of_workbook(app.store, record.sha256)
        return _assign(app, path, record.sha256, unit_code, deliverable=deliverable, now=now,
                       received_at=record.received_at, source=f"kept:{record.sha256[:16]} {record.name}",
                       files=incoming(kept) if kept else None, record_name=record.name)  # fmt: skip


def _assign(
    app: App,
    path: Path,
    digest: str,
    unit_code: str,
    *,
    deliverable: str | None,
    now: dt.datetime,
    received_at: dt.datetime,
    source: str | None,
    files: list[IncomingFile] | None = None,
    record_name: str | None = None,
) -> AssignResult:
    lang = app.campaign.language
    unit = app.roster.get(unit_code.strip()) or app.roster.get(unit_code.strip().upper())
    if unit is None:
        raise AssignError(
            t(
                lang,
                f"单位编码“{unit_code}”不在单位名单中。请使用 units.csv 中的单位编码。",
                f"Unit code '{unit_code}' is not in the roster. Use a code from units.csv.",
            )
        )
    if deliverable is not None:
        keys = [d.key for d in app.campaign.deliverables]
        if deliverable not in keys:
            raise AssignError(
                t(
                    lang,
                    f"材料“{deliverable}”不是本次活动的材料。可选：{'、'.join(keys)}",
                    f"'{deliverable}' is not a deliverable of this campaign. Choose one of: {', '.join(keys)}",
                )
            )
        if not app.campaign.deliverable(deliverable).applies_to(unit.type):
            raise AssignError(
                t(
                    lang,
                    f"{unit.type}（{unit.name}）不需要报送“{deliverable}”。",
                    f"{unit.type} ({unit.name}) does not report '{deliverable}'.",
                )
            )
    raw = app.read_workbook(path, app.campaign, app.roster)
    if source is not None:
        raw.source = source  # a kept blob's temp file is gone once assigned: name the record instead
    if any(i.code in _FATAL for i in raw.issues):
        # Nothing to store: recorded as this unit's unreadable file, so the unit is told so.
        _, report = validate_submission(raw, app.campaign, app.roster)
        record = get_unread(app.store, digest) or record_unread(
            app.store, path=path, sha256=digest, report=report, note="unreadable",
            inbox=app.paths.inbox, roster=app.roster, received_at=received_at, now=now,
        )  # fmt: skip
        mark_assigned(app.store, record, unit.code, deliverable)
        return AssignResult(unit.code, deliverable, None, True)

    if deliverable is not None and raw.deliverable not in (None, deliverable):
        raise AssignError(
            t(
                lang,
                f"这个工作簿是“{app.campaign.deliverable(raw.deliverable).title(lang)}”，不是“{deliverable}”。"
                "请去掉 --deliverable 或指定正确的材料。",
                f"This workbook is '{app.campaign.deliverable(raw.deliverable).title(lang)}', not "
                f"'{deliverable}'. Drop --deliverable or give the right one.",
            )
        )
    chosen = raw.deliverable or deliverable
    if chosen is None or raw.deliverable is None:
        raise AssignError(
            t(
                lang,
                "无法判断这个工作簿是哪项材料（找不到模板中的工作表），不能作为报送入库。请让单位用下发的模板重新填写。",
                "Cannot tell which deliverable this workbook is (none of the template's sheets were found), "
                "so it cannot be stored. Ask the unit to fill in the template.",
            )
        )
    if not app.campaign.deliverable(chosen).applies_to(unit.type):
        raise AssignError(
            t(
                lang,
                f"{unit.type}（{unit.name}）不需要报送“{chosen}”。",
                f"{unit.type} ({unit.name}) does not report '{chosen}'.",
            )
        )
    # The organiser's decision replaces what the workbook says about whose it is.
    raw.unit_code, raw.unit_name, raw.identity_from_name = unit.code, unit.name, False
    raw.claimed = ClaimedIdentity()
    raw.issues = [i for i in raw.issues if i.code not in _IDENTITY_ISSUES]
    previous = _previous_version_id(app, digest)
    # The file is kept with a new version (a kept blob's name is the record's, not our temp file's).
    name = record_name if record_name is not None else path.name
    workbook = ReceivedWorkbook(name=name, path=path, sha256=digest)
    outcome = ingest_raw(app, raw, received_at=received_at, now=now, files=files, workbook=workbook)
    if outcome.seq is not None:
        seen = {"unit": unit.code, "deliverable": chosen, "seq": outcome.seq}
        app.store.set_meta(f"file-seen/{digest}", json.dumps(seen, ensure_ascii=False))
    if previous is not None:
        # The version this file made before is decided: given to another unit, or (the same version,
        # since the content is the same) confirmed as this unit's own. It no longer waits.
        app.store.claim(
            DECIDED_PREFIX + previous, {"assigned_to": unit.code, "file": source or str(path)}, at=now
        )
    if (record := get_unread(app.store, digest)) is not None:
        mark_assigned(app.store, record, unit.code, chosen)
    return AssignResult(unit.code, chosen, outcome, False)


def _previous_version_id(app: App, digest: str) -> str | None:
    """The version an earlier ingest of this very file made (e.g. one held for its identity)."""
    seen = app.store.get_meta(f"file-seen/{digest}")
    if not seen:
        return None
    try:
        data = json.loads(seen)
        unit, deliverable, seq = str(data["unit"]), str(data["deliverable"]), int(data["seq"])
    except (ValueError, KeyError, TypeError):
        return None
    return next((v.id for v in app.store.history(unit, deliverable) if v.seq == seq), None)
