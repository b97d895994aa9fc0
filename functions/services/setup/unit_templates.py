"""`huizong templates`: one workbook per unit and deliverable that applies to it, plus a blank one each."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

from schemas.campaign import Campaign
from schemas.i18n import t
from schemas.roster import Roster, Unit
from sheets_templates.xlsx_unit_workbook import build_unit_workbook, save_workbook_atomically

# Characters Windows, macOS or a mail client will not keep in a file name.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def safe_file_part(text: str) -> str:
    return _UNSAFE.sub("_", text).strip(" .") or "_"


def blank_template_name(campaign: Campaign, deliverable_key: str) -> str:
    prefix = t(campaign.language, "空白模板", "blank-template")
    return f"{prefix}-{deliverable_key}.xlsx"


def unit_template_name(unit: Unit) -> str:
    return f"{safe_file_part(unit.code)}-{safe_file_part(unit.name)}.xlsx"


def unit_template_bytes(
    campaign: Campaign, deliverable_key: str, unit: Unit, *, form_link: str | None
) -> bytes:
    """One unit's workbook as `write_templates` writes it, in memory (the web form offers it for download)."""
    buffer = io.BytesIO()
    build_unit_workbook(campaign, deliverable_key, unit, form_link=form_link).save(buffer)
    return buffer.getvalue()


def write_templates(
    folder: Path,
    campaign: Campaign,
    roster: Roster,
    *,
    link_of: Callable[[str, str], str | None] | None = None,
) -> list[Path]:
    """`link_of(unit, deliverable)` gives a unit's web form link for its 填写说明 (None: not printed)."""
    written: list[Path] = []
    for deliverable in campaign.deliverables:
        target = folder / "templates" / deliverable.key
        for unit in roster.units:
            if not deliverable.applies_to(unit.type):
                continue
            path = target / unit_template_name(unit)
            link = link_of(unit.code, deliverable.key) if link_of is not None else None
            save_workbook_atomically(
                build_unit_workbook(campaign, deliverable.key, unit, form_link=link), path
            )
            written.append(path)
        blank = target / blank_template_name(campaign, deliverable.key)
        save_workbook_atomically(build_unit_workbook(campaign, deliverable.key, None), blank)
        written.append(blank)
    return written
