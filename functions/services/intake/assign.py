"""`huizong assign FILE UNIT`: the organiser says whose a file is.

For a file the intake could not tie to a unit (no code, an unknown code, a name nobody has) or one held
back because its identity disagreed with the roster. A readable workbook is then validated and stored
as the unit's version like any submission (the organiser's word replaces what the workbook said about
its identity); an unreadable one is recorded as that unit's file, so the unit is told "收到您的文件，但无法
读取" and the master lists it under the unit.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from functions.app import App
from functions.services.intake.ingest import IngestOutcome, file_digest, ingest_raw
from functions.services.intake.unread import get_unread, mark_assigned, record_unread
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
    digest = file_digest(path)
    received_at = min(dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC), now)
    raw = app.read_workbook(path, app.campaign, app.roster)
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
    outcome = ingest_raw(app, raw, received_at=received_at, now=now)
    if outcome.seq is not None:
        seen = {"unit": unit.code, "deliverable": chosen, "seq": outcome.seq}
        app.store.set_meta(f"file-seen/{digest}", json.dumps(seen, ensure_ascii=False))
    if previous is not None:
        # The version this file made before is decided: given to another unit, or (the same version,
        # since the content is the same) confirmed as this unit's own. It no longer waits.
        app.store.claim(DECIDED_PREFIX + previous, {"assigned_to": unit.code, "file": str(path)}, at=now)
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
