"""The form page's upload section (issue 14 §5): a filled workbook instead of typing, and the unit's template.

Kept apart from page.py (the tables) and page_files.py (evidence files): its own form, its own button, its
own result (what was refused and why, or which file was read). The page shows it whatever the campaign
asks for: every deliverable has a workbook template.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.services.setup.unit_templates import safe_file_part, unit_template_name
from functions.services.web.form_upload import WORKBOOK_ACCEPT, UploadResult
from schemas.campaign import Campaign
from schemas.i18n import t
from schemas.report import Issue
from schemas.roster import Unit

UPLOAD_FIELD = "workbook"


@dataclass
class UploadSection:
    action: str  # where the section's form posts
    template_url: str
    template_name: str
    accept: str
    limits: str
    file_name: str = ""  # the file just uploaded (its shown name)
    refused: str = ""
    problems: list[Issue] = field(default_factory=list)
    read: str = ""  # "已读取上传的工作簿……" after a stored upload


def upload_path(deliverable: str) -> str:
    return f"/form/{deliverable}/upload"


def template_path(deliverable: str) -> str:
    return f"/form/{deliverable}/template"


def template_download_name(campaign: Campaign, deliverable: str, unit: Unit) -> str:
    """The unit's own workbook, named as `huizong templates` names it, with the deliverable in front: a
    unit with two deliverables downloads two files that must not overwrite each other."""
    title = campaign.deliverable(deliverable).title(campaign.language)
    return f"{safe_file_part(title)}-{unit_template_name(unit)}"


def upload_section(
    campaign: Campaign,
    unit: Unit,
    deliverable: str,
    *,
    max_upload: int,
    result: UploadResult | None = None,
) -> UploadSection:
    lang = campaign.language
    # The smaller of the workbook channel's own limit and what one request may carry.
    limit_mb = min(campaign.submission.max_file_mb, max_upload / 1024 / 1024)
    section = UploadSection(
        action=upload_path(deliverable),
        template_url=template_path(deliverable),
        template_name=template_download_name(campaign, deliverable, unit),
        accept=WORKBOOK_ACCEPT,
        limits=t(
            lang,
            f"Excel 工作簿（.xlsx、.xlsm、.xls），不超过 {limit_mb:g} MB。",
            f"An Excel workbook (.xlsx, .xlsm, .xls), at most {limit_mb:g} MB.",
        ),
    )
    if result is None:
        return section
    section.file_name = result.file_name
    section.refused = result.refused
    section.problems = list(result.problems)
    if not result.refused:
        section.read = t(
            lang,
            f"已读取上传的工作簿“{result.file_name}”并提交，检查结果见上方；下方表单已按工作簿内容填好，"
            "也可以直接在线修改后再提交。",
            f"The uploaded workbook '{result.file_name}' was read and submitted; the check is shown above. "
            "The form below now holds its content: you may also fix it online and submit again.",
        )
    return section
