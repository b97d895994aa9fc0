"""Files the intake could not turn into a unit's version: recorded, so none is left unseen.

A file that cannot be read (an old .xls calamine cannot open, a Word document, a text file, a damaged
workbook) or whose unit cannot be told (a workbook of no known unit) is recorded once per content hash,
with where it came from, why, and the unit if a clue identifies it (a sub-folder or the file name that
matches a roster code or name). `huizong status`, the digest and the master's 问题清单 list them; a unit
whose only file was unreadable is told "收到您的文件，但无法读取：…" instead of "尚未收到"; and
`huizong assign` attaches one to a unit.

The records are claims under `unread-file/<sha256>`: a claim is exactly a create-once record with a
payload, listable by prefix, in every store adapter; so no store method and no schema change is needed
and existing SQLite stores stay readable.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from functions.ports import Store
from functions.validate.lazy_re import LazyPattern
from schemas.i18n import Language, t
from schemas.report import ValidationReport
from schemas.roster import Roster, Unit

PREFIX = "unread-file/"

# Separators people put between a code and a name in a file or folder name: WJ01-武进区图书馆.xls.
_TOKEN_SPLIT = LazyPattern(r"[\s\u3000_\-—.·,，、()（）\[\]【】]+")


class UnreadFile(BaseModel):
    """One file the intake could not store as a unit's version."""

    model_config = ConfigDict(extra="forbid")

    source: str  # the path (or source id) as found
    name: str  # the file name, for people
    sha256: str
    reason: str  # "unreadable" (nothing could be read) or "unidentified" (read, but whose is unknown)
    codes: list[str]  # the validation codes of the file's errors (legacy-xls, not-xlsx, unknown-unit…)
    message: str  # the first error's message, in the campaign's language
    unit: str | None = None  # the unit a clue points to, or the one the organiser assigned
    unit_by: str = ""  # what identified the unit: "folder", "file-name", "workbook", "assign"
    deliverable: str | None = None
    received_at: dt.datetime
    assigned: bool = False  # the organiser attached it to a unit (`huizong assign`)


def shown(text: str) -> str:
    """A file name as printed: a name is untrusted, and a newline in it must not fake a line of output."""
    return "".join("?" if unicodedata.category(ch).startswith("C") else ch for ch in text)


def key_of(sha256: str) -> str:
    return f"{PREFIX}{sha256}"


def _norm(text: str) -> str:
    return re.sub(r"[\s\u3000]+", "", text).casefold()


def guess_unit(path: Path, inbox: Path | None, roster: Roster) -> tuple[Unit | None, str]:
    """The unit a sub-folder or the file name points to, and which of the two did; (None, "") if none
    or if the clues disagree (a wrong guess would tell the wrong unit its file was received)."""
    try:
        parts = list(path.relative_to(inbox).parts) if inbox is not None else [path.name]
    except ValueError:
        parts = [path.name]
    if not parts:
        return None, ""
    folders, name = parts[:-1], Path(parts[-1]).stem
    found: dict[str, tuple[Unit, str]] = {}
    for text, where in [(name, "file-name"), *((f, "folder") for f in folders)]:
        unit = _match(text, roster)
        if unit is not None:
            found.setdefault(unit.code, (unit, where))
    if len(found) != 1:
        return None, ""
    return next(iter(found.values()))


def _match(text: str, roster: Roster) -> Unit | None:
    tokens = [tok for tok in _TOKEN_SPLIT.split(text) if tok]
    codes = {u.code.upper(): u for u in roster.units}
    by_code = {codes[tok.upper()].code: codes[tok.upper()] for tok in tokens if tok.upper() in codes}
    if len(by_code) == 1:
        return next(iter(by_code.values()))
    if by_code:
        return None
    whole = _norm(text)
    # The longest roster name inside the text: 武进区图书馆 must not match 武进区图书馆湖塘分馆's file as
    # 武进区图书馆 when the longer one is on the roster too.
    names = sorted(
        (u for u in roster.units if _norm(u.name) and _norm(u.name) in whole), key=lambda u: -len(u.name)
    )
    if not names:
        return None
    if len(names) > 1 and len(_norm(names[0].name)) == len(_norm(names[1].name)):
        return None
    return names[0]


def record_unread(
    store: Store,
    *,
    path: Path,
    sha256: str,
    report: ValidationReport,
    note: str,
    inbox: Path | None,
    roster: Roster,
    received_at: dt.datetime,
    now: dt.datetime,
) -> UnreadFile:
    """Record a file once per content hash (a second run, or the same file under another name, adds nothing)."""
    unit: Unit | None = None
    unit_by = ""
    if report.unit and roster.get(report.unit):
        unit, unit_by = roster.get(report.unit), "workbook"
    else:
        unit, unit_by = guess_unit(path, inbox, roster)
    record = UnreadFile(
        source=str(path),
        name=path.name,
        sha256=sha256,
        reason=note,
        codes=[e.code for e in report.errors],
        message=report.errors[0].message if report.errors else "",
        unit=unit.code if unit else None,
        unit_by=unit_by,
        deliverable=report.deliverable,
        received_at=received_at,
    )
    if not store.claim(key_of(sha256), record.model_dump(mode="json"), at=now):
        existing = get_unread(store, sha256)
        return existing if existing is not None else record
    return record


def get_unread(store: Store, sha256: str) -> UnreadFile | None:
    for claim in store.claims(key_of(sha256)):
        if claim.key == key_of(sha256):
            return _parse(claim.payload)
    return None


def mark_assigned(store: Store, record: UnreadFile, unit: str, deliverable: str | None) -> UnreadFile:
    updated = record.model_copy(
        update={"unit": unit, "unit_by": "assign", "assigned": True, "deliverable": deliverable}
    )
    store.update_claim(key_of(record.sha256), updated.model_dump(mode="json"))
    return updated


def unread_files(store: Store) -> list[UnreadFile]:
    """Every recorded file, oldest first; a record that no longer parses is skipped, never fatal."""
    out = [r for c in store.claims(PREFIX) if (r := _parse(c.payload)) is not None]
    return sorted(out, key=lambda r: (r.received_at, r.name))


def _parse(payload: dict[str, object]) -> UnreadFile | None:
    try:
        return UnreadFile.model_validate(payload)
    except ValidationError:
        return None


_BY: dict[str, tuple[str, str]] = {
    "folder": ("按所在文件夹识别为该单位", "unit told by the folder"),
    "file-name": ("按文件名识别为该单位", "unit told by the file name"),
    "workbook": ("按工作簿中的单位编码识别", "unit told by the workbook"),
    "assign": ("组织方已指派给该单位", "assigned by the organiser"),
}


def unread_note(lang: Language, record: UnreadFile) -> str:
    """One line for the organiser: why, where the file is, how its unit was told and what to do."""
    by = _BY.get(record.unit_by)
    how = t(lang, by[0], by[1]) if by else t(lang, "无法确定单位", "unit unknown")
    todo = (
        ""
        if record.assigned
        else t(
            lang,
            f'；如已知是哪个单位的文件，可用 huizong assign "{shown(record.source)}" 单位编码 指派',
            f'; if you know whose it is: huizong assign "{shown(record.source)}" UNIT',
        )
    )
    return t(
        lang,
        f"{record.message}（文件：{shown(record.source)}；{how}{todo}）",
        f"{record.message} (file: {shown(record.source)}; {how}{todo})",
    )
