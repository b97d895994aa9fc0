"""Every validation code, defined once: its severity, level, message templates and description.

As frictionless-py does with its error classes, a code has one home. Whatever emits an issue names one
of the constants below (or one of their variants) and takes severity and wording from it; the table in
docs/validation.md is generated from this module (``python -m functions.validate.codes_doc``), and a
test fails when the two differ or when a code's name is spelt out anywhere else.

Codes are stable: reports, the JSON output and the store carry them. Texts may improve.

A code's message is a template in each language; placeholders are filled from the issue's place
(``sheet``, ``column``, ``value``) and its params, and an unknown one prints empty. A *variant* is the
same code said differently for one situation (an issue found by the form channel, a date within the
grace days): it may replace the whole message, fill some of the code's placeholders with fixed
*fragments* (themselves templates), or change the severity. The code, level and description stay the
code's own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from functions.sheet_model import display_width
from schemas.i18n import Language, Text, t
from schemas.report import Severity

Level = Literal["file", "table", "cell", "row", "cross-table", "unit-type", "peers"]

_NO_FRAGMENTS: Mapping[str, Text] = MappingProxyType({})


@dataclass(frozen=True)
class IssueKind:
    """One way an issue is reported: a code with its severity and message (a variant differs there)."""

    code: str
    severity: Severity
    level: Level
    message: Text
    about: Text  # one line for docs/validation.md: when the code is given
    variant: str = ""  # "" for the code's own message
    # Placeholder -> template, filled from the params first and then put into the message.
    fragments: Mapping[str, Text] = field(default_factory=lambda: _NO_FRAGMENTS, hash=False)


# code -> the code's own kind; VARIANTS holds the others. Filled by _code and _variant, in the order the
# documentation lists them.
CODES: dict[str, IssueKind] = {}
VARIANTS: list[IssueKind] = []


def _code(code: str, severity: Severity, level: Level, message: Text, about: Text) -> IssueKind:
    if code in CODES:
        raise ValueError(f"validation code {code} defined twice")
    kind = IssueKind(code=code, severity=severity, level=level, message=message, about=about)
    CODES[code] = kind
    return kind


def _variant(
    base: IssueKind,
    name: str,
    *,
    message: Text | None = None,
    severity: Severity | None = None,
    **fragments: Text,
) -> IssueKind:
    if any(v.code == base.code and v.variant == name for v in VARIANTS):
        raise ValueError(f"variant {base.code}/{name} defined twice")
    kind = dataclasses.replace(
        base,
        variant=name,
        message=message or base.message,
        severity=severity or base.severity,
        fragments=MappingProxyType(dict(fragments)),
    )
    VARIANTS.append(kind)
    return kind


def kinds_of(code: str) -> list[IssueKind]:
    """The code's own kind and its variants."""
    return [CODES[code], *(v for v in VARIANTS if v.code == code)]


# ---- file level ------------------------------------------------------------------------------------

NOT_XLSX = _code(
    "not-xlsx",
    "error",
    "file",
    Text(
        "文件不是 Excel 工作簿（.xlsx），无法读取。请用下发的模板填写，并保存为 .xlsx 格式后重新报送。",
        "This file is not an Excel workbook (.xlsx). Fill in the template and save it as .xlsx.",
    ),
    Text(
        "不是 .xlsx 工作簿（文本、Word 文档、损坏的压缩包）",
        "not an .xlsx workbook (text, Word, damaged zip)",
    ),
)
LEGACY_XLS = _code(
    "legacy-xls",
    "error",
    "file",
    Text(
        "这是旧版 .xls 文件，无法读取。请在 Excel 或 WPS 中选择“另存为”→“Excel 工作簿（*.xlsx）”后重新报送。",
        "This is an old .xls file. Use Save As → Excel Workbook (*.xlsx) and send it again.",
    ),
    Text("旧版二进制 .xls 文件：须另存为 .xlsx", "an old binary .xls: save as .xlsx"),
)
ENCRYPTED = _code(
    "encrypted",
    "error",
    "file",
    Text(
        "文件设置了打开密码，系统无法读取。请取消密码（文件→信息→保护工作簿）后重新报送。",
        "The file is password-protected. Remove the password and send it again.",
    ),
    Text("设置了打开密码的工作簿", "password-protected workbook"),
)
TOO_LARGE = _code(
    "too-large",
    "error",
    "file",
    Text(
        "文件大小 {size_mb} MB，超过上限 {limit_mb} MB。请删除表格中插入的图片（照片请通过链接提供）后重新报送。",
        "The file is {size_mb} MB, over the {limit_mb} MB limit. Remove embedded pictures (give photo links).",
    ),
    Text(
        "超过 `submission.max_file_mb`（默认 10 MB）",
        "larger than `submission.max_file_mb` (default 10 MB)",
    ),
)
# ---- task "reader" (issue 10 item 1, issue 11 §2 items 1-4, 10): unreadable parts, limits, formulas ----
# Limits are checked while a workbook is read (functions/adapters/xlsx/zip_guard.py); each has its own
# code so the unit is told which one, and any workbook is answered within seconds.
UNREADABLE_SHEET = _code(
    "unreadable-sheet",
    "error",
    "file",
    Text(
        "工作簿的一部分（{part}）无法读取：{reason}。请在 Excel 或 WPS 中打开此文件，"
        "“另存为”Excel 工作簿（*.xlsx）后重新报送。",
        "Part of the workbook ({part}) cannot be read: {reason}. Open the file in Excel or WPS, "
        "save it as an Excel Workbook (*.xlsx) and send it again.",
    ),
    Text(
        "工作表或其他部件的 XML 损坏（格式错误、实体声明、控制字符、字符串索引越界）",
        "a sheet or another part is damaged XML (malformed, an entity declaration, control characters, "
        "a bad string index)",
    ),
)
READ_FAILED = _code(
    "read-failed",
    "error",
    "file",
    Text(
        "系统读取此文件时出错（{error}），未能校验。请另存为 Excel 工作簿（*.xlsx）后重新报送；"
        "如仍出错，请联系组织方。",
        "The file could not be read ({error}) and was not checked. Save it as an Excel Workbook (*.xlsx) "
        "and send it again; if this happens again, contact the organiser.",
    ),
    Text(
        "读取时出现任何其他故障（内存不足、文件名无效）：只影响这一个文件，其余文件照常处理",
        "any other failure while reading (out of memory, an unusable file name): only this file is "
        "affected, the others are processed",
    ),
)
TOO_LARGE_UNPACKED = _code(
    "too-large-unpacked",
    "error",
    "file",
    Text(
        "工作簿解压后有 {size_mb} MB，超过上限 {limit_mb} MB。请删除多余的工作表、图片和空行后重新报送。",
        "The workbook unpacks to {size_mb} MB, over the {limit_mb} MB limit. Remove extra sheets, "
        "pictures and empty rows and send it again.",
    ),
    Text("解压后的总大小超过上限（默认 64 MB）", "total unpacked size over the limit (default 64 MB)"),
)
TOO_LARGE_PART = _code(
    "too-large-part",
    "error",
    "file",
    Text(
        "工作簿中的部件 {part} 解压后超过上限 {limit_mb} MB。请删除多余的内容（超长文字、大量空行）后重新报送。",
        "The workbook part {part} unpacks to more than {limit_mb} MB. Remove extra content (very long "
        "texts, masses of empty rows) and send it again.",
    ),
    Text(
        "单个部件（工作表、共享字符串）解压后超过上限（默认 32 MB）",
        "one part (a sheet, the shared strings) over the limit (default 32 MB)",
    ),
)
TOO_COMPRESSED = _code(
    "too-compressed",
    "error",
    "file",
    Text(
        "工作簿中的部件 {part} 压缩比为 {ratio}，超过上限 {limit}，不像正常填写的表格。请用下发的模板重新填写后报送。",
        "The workbook part {part} is compressed {ratio} to 1, over the limit of {limit}; this is not a "
        "normally filled workbook. Fill in the template again and send it.",
    ),
    Text(
        "部件的压缩比异常（默认超过 200 倍）：疑似压缩炸弹",
        "a part's compression ratio is abnormal (default over 200): a zip bomb",
    ),
)
TOO_MANY_ROWS = _code(
    "too-many-rows",
    "error",
    "file",
    Text(
        "工作表“{sheet}”第 {at_row} 行有内容，超过上限 {limit} 行。请删除表格下方多余的内容后重新报送。",
        "Sheet '{sheet}' has content in row {at_row}, beyond the limit of {limit} rows. Delete what is "
        "below the table and send it again.",
    ),
    Text(
        "工作表有内容的行超过上限（默认 10000 行）",
        "a sheet has content beyond the row limit (default 10,000)",
    ),
)
TOO_MANY_COLUMNS = _code(
    "too-many-columns",
    "error",
    "file",
    Text(
        "工作表“{sheet}”第 {col} 列有内容，超过上限 {limit} 列。请删除表格右侧多余的内容后重新报送。",
        "Sheet '{sheet}' has content in column {col}, beyond the limit of {limit} columns. Delete what "
        "is right of the table and send it again.",
    ),
    Text(
        "工作表有内容的列超过上限（默认 200 列）", "a sheet has content beyond the column limit (default 200)"
    ),
)
TOO_MANY_CELLS = _code(
    "too-many-cells",
    "error",
    "file",
    Text(
        "工作簿中有内容的单元格超过 {limit} 个。请只保留模板中的工作表和数据后重新报送。",
        "The workbook has more than {limit} filled cells. Keep only the template's sheets and data and "
        "send it again.",
    ),
    Text("有内容的单元格总数超过上限（默认 50 万）", "filled cells over the limit (default 500,000)"),
)
TOO_SLOW_TO_READ = _code(
    "too-slow-to-read",
    "error",
    "file",
    Text(
        "读取此工作簿超过 {seconds} 秒仍未完成，已停止。请删除多余的工作表、空行和图片后重新报送。",
        "Reading this workbook took more than {seconds} seconds and was stopped. Remove extra sheets, "
        "empty rows and pictures and send it again.",
    ),
    Text("读取超过时间预算（默认 10 秒）", "reading took longer than the time budget (default 10 s)"),
)
ERROR_VALUE = _code(
    "error-value",
    "error",
    "cell",
    Text(
        "“{column}”显示的是错误值 {value}，未计入。请修正公式，或直接填写实际内容。",
        "'{column}' shows the error value {value}; nothing was counted. Fix the formula or type the "
        "actual value.",
    ),
    Text(
        "单元格是公式的错误结果（#NAME?、#VALUE!、#REF!、#DIV/0!、#N/A、#NUM!、#NULL!）",
        "the cell holds a formula's error value (#NAME?, #VALUE!, #REF!, #DIV/0!, #N/A, #NUM!, #NULL!)",
    ),
)
# Text typed after "=" (=百姓学习之星评选) is saved by Excel, WPS and LibreOffice as a formula whose
# cached value is #NAME?: the clerk did type something, so the message says how to keep it as text.
ERROR_VALUE_TYPED_TEXT = _variant(
    ERROR_VALUE,
    "typed-text",
    message=Text(
        "“{column}”填写的“={formula}”以等号开头，被当成了公式，显示为错误值 {value}。"
        "请删去开头的“=”，或在等号前加英文单引号（'={formula}）后重新填写。",
        "'{column}' holds '={formula}', which starts with '=' and was taken for a formula (error value "
        "{value}). Remove the leading '=' or start the cell with an apostrophe ('={formula}).",
    ),
)
FORMULA_NO_VALUE = _code(
    "formula-no-value",
    "error",
    "cell",
    Text(
        "“{column}”是公式“={formula}”，但文件中没有计算结果。请直接填写数值（或在 Excel/WPS 中打开并保存后重新报送）。",
        "'{column}' holds the formula '={formula}', which the file has not calculated. Type the value "
        "(or open and save the file in Excel/WPS and send it again).",
    ),
    Text("公式没有缓存的计算结果", "a formula with no calculated value in the file"),
)
FORMULA_USED = _code(
    "formula-used",
    "warning",
    "cell",
    Text(
        "“{column}”是公式“={formula}”，已按计算结果 {value} 计入。请核对结果是否正确。",
        "'{column}' holds the formula '={formula}'; its calculated value {value} was used. Please check it.",
    ),
    Text("公式单元格：按文件中的计算结果计入", "a formula cell: its calculated value is used"),
)
# A workbook refused by the reader for one of these has no tables to check and nothing to store.
READER_REFUSALS: tuple[IssueKind, ...] = (
    UNREADABLE_SHEET,
    READ_FAILED,
    TOO_LARGE_UNPACKED,
    TOO_LARGE_PART,
    TOO_COMPRESSED,
    TOO_MANY_ROWS,
    TOO_MANY_COLUMNS,
    TOO_MANY_CELLS,
    TOO_SLOW_TO_READ,
)
# ---- end of task "reader" codes -----------------------------------------------------------------------
UNKNOWN_TEMPLATE = _code(
    "unknown-template",
    "error",
    "file",
    Text(
        "不是本次活动的报送模板：{missing}。请使用组织方下发的模板填写，不要删除或改名工作表和表头。",
        "Not this campaign's template: {missing}. Use the template you were sent; keep its sheets and headers.",
    ),
    Text(
        "其他活动的模板，或缺少工作表、必需的表头（消息中写明）",
        "another campaign's template, or a sheet / required header missing (named in the message)",
    ),
)
# What is missing, one variant per way a template can be wrong.
UNKNOWN_TEMPLATE_NO_KNOWN_SHEET = _variant(
    UNKNOWN_TEMPLATE,
    "no-known-sheet",
    missing=Text("找不到工作表（应有：{expected}）", "no known sheet (expected: {expected})"),
)
UNKNOWN_TEMPLATE_OTHER_CAMPAIGN = _variant(
    UNKNOWN_TEMPLATE,
    "other-campaign",
    missing=Text(
        "这是活动“{found}”的模板，不是“{campaign}”的", "a template of campaign {found}, not {campaign}"
    ),
)
UNKNOWN_TEMPLATE_SHEET_MISSING = _variant(
    UNKNOWN_TEMPLATE,
    "sheet-missing",
    missing=Text("缺少工作表“{table}”", "sheet '{table}' is missing"),
)
UNKNOWN_TEMPLATE_SHEET_EMPTY = _variant(
    UNKNOWN_TEMPLATE,
    "sheet-empty",
    missing=Text("“{sheet}”是空的（表头被删除）", "'{sheet}' is empty"),
)
UNKNOWN_TEMPLATE_NO_HEADER = _variant(
    UNKNOWN_TEMPLATE,
    "no-header",
    missing=Text("“{sheet}”找不到表头行", "no header row on '{sheet}'"),
)
UNKNOWN_TEMPLATE_LACKS_COLUMNS = _variant(
    UNKNOWN_TEMPLATE,
    "lacks-columns",
    missing=Text("“{sheet}”缺少列：{labels}", "'{sheet}' lacks columns: {labels}"),
)
UNKNOWN_TEMPLATE_LACKS_ITEMS = _variant(
    UNKNOWN_TEMPLATE,
    "lacks-items",
    missing=Text("“{sheet}”缺少项目：{labels}", "'{sheet}' lacks items: {labels}"),
)
UNKNOWN_UNIT = _code(
    "unknown-unit",
    "error",
    "file",
    Text(
        "单位编码“{value}”不在本次活动的单位名单中。请核对“填写说明”页的单位编码，或联系组织方。",
        "Unit code '{value}' is not in the roster. Check the code on the Instructions sheet or ask the organiser.",
    ),
    Text("单位编码（或名称）不在单位名单中", "the unit code (or name) is not in the roster"),
)
UNKNOWN_UNIT_NO_IDENTITY = _variant(
    UNKNOWN_UNIT,
    "no-identity",
    message=Text(
        "工作簿中找不到单位编码和单位名称。请在“{sheet}”页填写本单位的编码和名称。",
        "No unit code or unit name found. Fill them in on the '{sheet}' sheet.",
    ),
)
# The form channel: nothing is recorded, so the message says so and whom to ask.
UNKNOWN_UNIT_FORM_CODE = _variant(
    UNKNOWN_UNIT,
    "form-code",
    message=Text(
        "单位编码“{value}”不在本次活动的单位名单中，本次提交未计入任何单位。"
        "请核对组织方下发的单位编码后重新提交表单；如有疑问请联系：{contact}",
        "Unit code '{value}' is not in the roster, so nothing was recorded. "
        "Check the code the organiser gave you and submit the form again. Contact: {contact}",
    ),
)
UNKNOWN_UNIT_FORM_CODE_EMAIL_KNOWN = _variant(
    UNKNOWN_UNIT,
    "form-code-email-known",
    message=Text(
        "单位编码“{value}”不在本次活动的单位名单中，本次提交未计入任何单位。"
        "您的邮箱登记在 {email_unit_name}（{email_unit}）名下。"
        "请核对组织方下发的单位编码后重新提交表单；如有疑问请联系：{contact}",
        "Unit code '{value}' is not in the roster, so nothing was recorded. "
        "Your email belongs to {email_unit_name} ({email_unit}). "
        "Check the code the organiser gave you and submit the form again. Contact: {contact}",
    ),
)
UNKNOWN_UNIT_FORM_MISMATCH = _variant(
    UNKNOWN_UNIT,
    "form-mismatch",
    message=Text(
        "单位编码“{value}”是 {code_unit_name}（{code_unit}），但提交人邮箱 {email} 登记在 "
        "{email_unit_name}（{email_unit}）名下，本次提交未计入任何单位。请用本单位的编码重新提交；"
        "如代其他单位填报，请联系组织方：{contact}",
        "Unit code '{value}' is {code_unit_name} ({code_unit}), but {email} belongs to "
        "{email_unit_name} ({email_unit}), so nothing was recorded. Submit again with your own "
        "unit's code, or contact the organiser if you report for another unit: {contact}",
    ),
)
UNKNOWN_UNIT_FORM_NO_CODE = _variant(
    UNKNOWN_UNIT,
    "form-no-code",
    message=Text(
        "没有填写单位编码，提交人邮箱 {email} 也不在单位名单中，无法确定报送单位，本次提交未计入任何单位。"
        "请填写组织方下发的单位编码后重新提交表单；如有疑问请联系：{contact}",
        "No unit code was given and the email {email} is not in the roster, so the unit is unknown and "
        "nothing was recorded. Submit the form again with your unit code. Contact: {contact}",
    ),
)
UNKNOWN_UNIT_FORM_NO_CODE_NO_EMAIL = _variant(
    UNKNOWN_UNIT,
    "form-no-code-no-email",
    message=Text(
        "没有填写单位编码，提交人邮箱 （未收集） 也不在单位名单中，无法确定报送单位，本次提交未计入任何单位。"
        "请填写组织方下发的单位编码后重新提交表单；如有疑问请联系：{contact}",
        "No unit code was given and the email (not collected) is not in the roster, so the unit is unknown "
        "and nothing was recorded. Submit the form again with your unit code. Contact: {contact}",
    ),
)
UNIT_BY_NAME = _code(
    "unit-by-name",
    "warning",
    "file",
    Text(
        "工作簿中没有单位编码，已按单位名称“{value}”识别为 {unit_code}。请使用本单位的专属模板。",
        "No unit code in the workbook; identified as {unit_code} by the unit name '{value}'. Use your own template.",
    ),
    Text(
        "工作簿中没有单位编码，已按单位名称识别", "no unit code in the workbook; identified by the unit name"
    ),
)
# ---- email intake (issue 16): a workbook without identity, tied to its unit by the mail -------------
UNIT_BY_SENDER = _code(
    "unit-by-sender",
    "warning",
    "file",
    Text(
        "工作簿中没有单位编码，已按发件邮箱 {value} 识别为 {unit_code}。请使用本单位的专属模板。",
        "No unit code in the workbook; identified as {unit_code} by the sender's address {value}. "
        "Use your own template.",
    ),
    Text(
        "邮件报送：工作簿中没有单位编码，已按发件邮箱（单位名单中的邮箱）识别",
        "by mail: no unit code in the workbook; identified by the sender's address (the roster's 邮箱)",
    ),
)
UNIT_BY_MAIL_TEXT = _code(
    "unit-by-mail-text",
    "warning",
    "file",
    Text(
        "工作簿中没有单位编码，已按邮件主题或文件名中的“{value}”识别为 {unit_code}。请使用本单位的专属模板。",
        "No unit code in the workbook; identified as {unit_code} by '{value}' in the mail's subject or "
        "file name. Use your own template.",
    ),
    Text(
        "邮件报送：工作簿中没有单位编码，已按邮件主题或文件名中的单位名称或编码识别",
        "by mail: no unit code in the workbook; identified by a unit name or code in the subject or file name",
    ),
)
# ---- end of email intake (issue 16) ------------------------------------------------------------------
WRONG_DELIVERABLE = _code(
    "wrong-deliverable",
    "error",
    "file",
    Text("这份表格是“{found}”，{reason}", "This workbook is '{found}': {reason}"),
    Text(
        "不是本次活动的报送材料、不是该类单位须报送的材料，或不是期望的材料（`validate --deliverable`）",
        "not a deliverable of this campaign, not one required of this unit type, or not the one expected "
        "(`validate --deliverable`)",
    ),
)
WRONG_DELIVERABLE_NOT_IN_CAMPAIGN = _variant(
    WRONG_DELIVERABLE,
    "not-in-campaign",
    reason=Text("不是本次活动要求报送的材料。", "not a deliverable of this campaign."),
)
WRONG_DELIVERABLE_NOT_REQUIRED = _variant(
    WRONG_DELIVERABLE,
    "not-required",
    reason=Text("{unit_type}不需要报送这项材料。", "not required of {unit_type}."),
)
WRONG_DELIVERABLE_NOT_EXPECTED = _variant(
    WRONG_DELIVERABLE,
    "not-expected",
    reason=Text("不是要求的“{wanted}”。", "not the expected '{wanted}'."),
)
# ---- identity task (issue 10.2, issue 11 §2.5): who sent what ----------------------------------------
# A workbook whose visible identity disagrees with the roster entry of the code it carries is stored with
# this error and does not replace the unit's valid version in the master until the organiser decides.
UNIT_NAME_MISMATCH = _code(
    "unit-name-mismatch",
    "error",
    "file",
    Text(
        "“{sheet}”页的单位名称“{value}”与单位编码 {unit_code} 在名单中的单位“{roster_name}”不符{other}。"
        "本次报送已记录，但在组织方确认前不会替换 {roster_name} 的数据。"
        "如是 {roster_name} 的报送，请把单位名称改为“{roster_name}”后重新报送；"
        "如是其他单位的报送，请使用该单位自己的模板重新报送。",
        "The unit name '{value}' on the '{sheet}' sheet does not match '{roster_name}', the roster unit of "
        "code {unit_code}{other}. The submission is recorded but will not replace {roster_name}'s data until "
        "the organiser decides. If it is {roster_name}'s, change the name to '{roster_name}' and send it "
        "again; if it is another unit's, send it in that unit's own template.",
    ),
    Text(
        "工作簿中的单位名称或联系人与其单位编码在名单中的单位不符（已记录，不替换该单位的有效数据）",
        "the unit name or contact in the workbook disagrees with the roster unit of its code (recorded, "
        "does not replace that unit's valid data)",
    ),
)
UNIT_NAME_MISMATCH_OTHER_UNIT = _variant(
    UNIT_NAME_MISMATCH,
    "other-unit",
    other=Text(
        "，而“{value}”是名单中的另一个单位（{other_code}）",
        "; '{value}' is another roster unit ({other_code})",
    ),
)
UNIT_NAME_MISMATCH_CONTACT = _variant(
    UNIT_NAME_MISMATCH,
    "contact",
    message=Text(
        "“{sheet}”页的{column}“{value}”是名单中 {other_name}（{other_code}）的联系方式，"
        "而工作簿的单位编码 {unit_code} 是 {roster_name}。本次报送已记录，但在组织方确认前不会替换 "
        "{roster_name} 的数据。请使用本单位自己的模板重新报送；如确为代填，请联系组织方。",
        "{column} '{value}' on the '{sheet}' sheet is the roster contact of {other_name} ({other_code}), "
        "but the workbook's unit code {unit_code} is {roster_name}. The submission is recorded but will not "
        "replace {roster_name}'s data until the organiser decides. Send it in your own unit's template, or "
        "ask the organiser if you filled it in for another unit.",
    ),
)
UNIT_CODE_MISMATCH = _code(
    "unit-code-mismatch",
    "error",
    "file",
    Text(
        "工作簿内置的单位编码 {hidden}（{hidden_name}）与“{sheet}”页填写的单位编码 {visible}"
        "（{visible_name}）不一致。本次报送已记录，但在组织方确认前不会替换任何单位的数据。"
        "请下载本单位自己的模板重新填写后报送，不要改用其他单位的工作簿。",
        "The workbook's built-in unit code {hidden} ({hidden_name}) differs from the unit code {visible} "
        "({visible_name}) typed on the '{sheet}' sheet. The submission is recorded but replaces no unit's "
        "data until the organiser decides. Fill in your own unit's template and send that instead of "
        "another unit's workbook.",
    ),
    Text(
        "工作簿隐藏的单位编码与可见的单位编码不一致（已记录，不替换任何单位的有效数据）",
        "the workbook's hidden unit code differs from the visible one (recorded, replaces no valid data)",
    ),
)
# ---- /identity task -------------------------------------------------------------------------------
UNKNOWN_COLUMN = _code(
    "unknown-column",
    "warning",
    "file",
    Text(
        "表头“{value}”不是模板中的列，其内容已忽略。",
        "Header '{value}' is not a template column; its content was ignored.",
    ),
    Text(
        "表头不是模板中的列：该列内容被忽略", "a header that is not a template column: its content is ignored"
    ),
)
UNKNOWN_COLUMN_FORM_QUESTION = _variant(
    UNKNOWN_COLUMN,
    "form-question",
    message=Text(
        "问题“{value}”不是报送表单中的问题，其回答已忽略。",
        "Question '{value}' is not in the reporting form; its answer was ignored.",
    ),
)
EMPTY_TABLE = _code(
    "empty-table",
    "error",
    "table",
    Text(
        "“{sheet}”没有填写任何内容。请至少填写一行。",
        "Nothing has been filled in on '{sheet}'. Fill in at least one row.",
    ),
    Text("多行表格一行也没有填写", "a table of rows with no row filled in"),
)

# ---- cell level ------------------------------------------------------------------------------------

MISSING_VALUE = _code(
    "missing-value",
    "error",
    "cell",
    Text("“{column}”为必填项，请填写。", "'{column}' is required."),
    Text("必填项为空", "a required field is empty"),
)
BAD_NUMBER = _code(
    "bad-number",
    "error",
    "cell",
    Text(
        "“{column}”应填数字，现为“{value}”。请只填阿拉伯数字，如 120。",
        "'{column}' must be a number, found '{value}'. Type digits only, e.g. 120.",
    ),
    Text(
        "不是数字（若干、很多、范围 200-300、整数项填了 12.5）",
        "not a number (若干, 很多, a range 200-300, 12.5 for a whole number)",
    ),
)
APPROXIMATE_NUMBER = _code(
    "approximate-number",
    "warning",
    "cell",
    Text(
        "“{column}”填的是约数“{value}”，已按 {number} 计入。如有准确数字，请改为准确数字。",
        "'{column}' is approximate ('{value}'); counted as {number}. Give the exact figure if you have it.",
    ),
    Text(
        "3000余、3000多、1.2万、近两万、约300：按该数计入",
        "3000余, 3000多, 1.2万, 近两万, 约300: accepted as the number",
    ),
)
BAD_DATE = _code(
    "bad-date",
    "error",
    "cell",
    Text(
        "“{column}”不是有效日期：“{value}”。请按 {example} 的格式填写。",
        "'{column}' is not a valid date: '{value}'. Use the form {example}.",
    ),
    Text(
        "不是日期（待定、2022-02-30）。可接受：Excel 日期及序列号、2022-12-03、2022/12/3、2022年12月3日、"
        "12月3日（活动年份）",
        "not a date (待定, 2022-02-30). Accepted: Excel dates and serials, 2022-12-03, 2022/12/3, 2022年12月3日, "
        "12月3日 (campaign year)",
    ),
)
BAD_CHOICE = _code(
    "bad-choice",
    "error",
    "cell",
    Text(
        "“{column}”的“{value}”不在可选项中。可选：{choices}。",
        "'{value}' is not allowed in '{column}'. Allowed: {choices}.",
    ),
    Text(
        "不是可选项之一（消息中列出）；参与对象按 、 , ， ; 分开的每一项分别检查",
        "not one of the choices (listed in the message); for 参与对象 each part separated by 、 , ， ; is checked",
    ),
)
BAD_PHONE = _code(
    "bad-phone",
    "error",
    "cell",
    Text(
        "“{column}”的“{value}”不是有效的电话号码。请填写11位手机号，或带区号的座机号，如 {example}。",
        "'{value}' in '{column}' is not a valid phone number. Give an 11-digit mobile or a landline with area "
        "code, e.g. {example}.",
    ),
    Text("不是大陆手机号或带区号的座机号", "not a mainland mobile or a landline with area code"),
)
BAD_URL = _code(
    "bad-url",
    "error",
    "cell",
    Text(
        "“{column}”应为网址链接（以 http:// 或 https:// 开头），现为“{value}”。请把文件上传到网盘后填写分享链接。",
        "'{column}' must be a link starting with http:// or https://, found '{value}'.",
    ),
    Text("不是 http(s) 链接（见附件、文件名）", "not an http(s) link (见附件, a file name)"),
)
TOO_LONG = _code(
    "too-long",
    "error",
    "cell",
    Text(
        "“{column}”超过 {max} 个字（现为 {length} 个字），请精简。",
        "'{column}' is longer than {max} characters ({length}). Please shorten it.",
    ),
    Text("超过该项的字数上限", "longer than the field's limit"),
)
OUT_OF_RANGE = _code(
    "out-of-range",
    "error",
    "cell",
    Text(
        "“{column}”的值 {value} 超出允许范围（{min}～{max}）。",
        "'{column}' = {value} is outside the allowed range ({min}–{max}).",
    ),
    Text("超出该项的取值范围（负数等）", "outside the field's bounds (negative counts…)"),
)

# ---- row level -------------------------------------------------------------------------------------

END_BEFORE_START = _code(
    "end-before-start",
    "error",
    "row",
    Text(
        "结束日期 {end} 早于开始日期 {start}。请检查两个日期。",
        "End date {end} is before start date {start}.",
    ),
    Text("结束日期早于开始日期", "结束日期 before 开始日期"),
)
OUT_OF_WEEK = _code(
    "out-of-week",
    "error",
    "row",
    Text(
        "活动日期 {date} 不在活动周（{week_start} 至 {week_end}）内{grace_note}。",
        "Activity date {date} is outside the week ({week_start} to {week_end}){grace_note}.",
    ),
    Text(
        "日期不在活动周内：在 `rules.grace_days` 之内为提醒，之外为错误",
        "a date outside the week: a warning within `rules.grace_days`, an error beyond",
    ),
)
OUT_OF_WEEK_WITHIN_GRACE = _variant(
    OUT_OF_WEEK,
    "within-grace",
    severity="warning",
    grace_note=Text("（在允许的前后几天内，请确认）", " (within the grace days; please confirm)"),
)
DUPLICATE_ACTIVITY = _code(
    "duplicate-activity",
    "warning",
    "row",
    Text(
        "与第 {other_row} 行的活动名称和开始日期相同，是否重复填写？",
        "Same name and start date as row {other_row}: entered twice?",
    ),
    Text("活动名称和开始日期与前面某行相同", "same 活动名称 and 开始日期 as an earlier row"),
)

# ---- table and cross-table -------------------------------------------------------------------------

PARTS_EXCEED_TOTAL = _code(
    "parts-exceed-total",
    "error",
    "table",
    Text(
        "{parts_label}（{parts}）超过活动总场次（{total}）。请核对各分项场次与总场次。",
        "{parts_label} ({parts}) exceed the total sessions ({total}).",
    ),
    Text(
        "讲座+培训+展览展示+读书活动 场次 > 活动总场次，或 线上活动场次 > 活动总场次",
        "讲座+培训+展览展示+读书活动 场次 > 活动总场次, or 线上活动场次 > 活动总场次",
    ),
)
PARTS_EXCEED_TOTAL_SUM = _variant(
    PARTS_EXCEED_TOTAL, "sum", parts_label=Text("{labels}之和", "The sum of {labels}")
)
PARTS_EXCEED_TOTAL_ONLINE = _variant(PARTS_EXCEED_TOTAL, "online", parts_label=Text("{column}", "{column}"))
ONLINE_EXCEEDS_TOTAL = _code(
    "online-exceeds-total",
    "error",
    "table",
    Text(
        "线上参与人次（{online}）超过参与总人次（{total}）。参与总人次应包含线上人次。",
        "Online participant visits ({online}) exceed the total ({total}); the total includes online.",
    ),
    Text("线上参与人次 > 参与总人次", "线上参与人次 > 参与总人次"),
)
FREE_CLASS_MISMATCH = _code(
    "free-class-mismatch",
    "error",
    "table",
    Text("{detail}", "{detail}"),
    Text(
        "免费惠民培训人次 > 0 而期数为 0，或有期数而培训人次为 0",
        "免费惠民培训人次 > 0 with 0 classes, or classes with 0 trainees",
    ),
)
FREE_CLASS_MISMATCH_NO_CLASSES = _variant(
    FREE_CLASS_MISMATCH,
    "no-classes",
    detail=Text(
        "免费惠民培训人次为 {trainees}，但免费惠民培训班期数为 0。请补填期数。",
        "{trainees} free-class trainees but 0 free classes.",
    ),
)
FREE_CLASS_MISMATCH_NO_TRAINEES = _variant(
    FREE_CLASS_MISMATCH,
    "no-trainees",
    detail=Text(
        "免费惠民培训班期数为 {classes}，但培训人次为 0。请补填培训人次。",
        "{classes} free classes but 0 trainees.",
    ),
)
FEWER_THAN_PLANNED = _code(
    "fewer-than-planned",
    "warning",
    "cross-table",
    Text(
        "统计表的活动总场次（{total}）远少于本单位活动安排表中计划的 {planned} 项活动，请核实。",
        "Total sessions ({total}) are far fewer than the {planned} activities in your plan. Please check.",
    ),
    Text(
        "活动总场次低于 `rules.fewer_than_planned_ratio` × 本单位已入库活动安排表中的活动数",
        "活动总场次 below `rules.fewer_than_planned_ratio` × the activities in the unit's stored plan",
    ),
)
TOO_FEW_PHOTOS = _code(
    "too-few-photos",
    "error",
    "table",
    Text(
        "照片张数为 {count}，少于要求的 {minimum} 张，且未提供视频链接。请补充照片或填写视频链接。",
        "{count} photos, fewer than the {minimum} required, and no video link.",
    ),
    Text(
        "照片张数少于 `rules.photo_minimum` 且没有视频链接",
        "照片张数 below `rules.photo_minimum` and no 视频链接",
    ),
)

# ---- unit type -------------------------------------------------------------------------------------

MISSING_REQUIRED_ACTIVITY = _code(
    "missing-required-activity",
    "error",
    "unit-type",
    Text(
        "{unit_type}须开展“{item}”活动，活动安排表中没有找到。请补充一行（活动类别选“{category}”，或活动名称中写明“{item}”）。",
        "{unit_type} must hold '{item}'; none found in the activity table. Add a row (category '{category}' "
        "or '{item}' in the name).",
    ),
    Text(
        "每缺一项四个一活动（`rules.required_activities`）报一条；按活动类别、活动名称或该项结尾的类别"
        "（主题讲座 → 讲座）匹配",
        "one per missing 四个一 item (`rules.required_activities`), matched on 活动类别, in the activity name, "
        "or on the category the item ends with (主题讲座 → 讲座)",
    ),
)
NO_FREE_CLASS = _code(
    "no-free-class",
    "error",
    "unit-type",
    Text(
        "{unit_type}须至少开展一项免费惠民培训，活动安排表中没有“{column}”为“是”的活动。",
        "{unit_type} must hold at least one free public class; no activity has '{column}' = yes.",
    ),
    Text(
        "`rules.free_class` 要求的单位没有 是否免费惠民 = 是 的活动",
        "no activity with 是否免费惠民 = 是 where `rules.free_class` requires one",
    ),
)

# ---- peers -----------------------------------------------------------------------------------------

OUTLIER = _code(
    "outlier",
    "warning",
    "peers",
    Text(
        "{what} {figure}{detail} 远高于{group}的中位数 {median}，请核实是否填错。",
        "{what} {figure}{detail} is far above the median of {group}, {median}. Please check.",
    ),
    Text(
        "每项活动（活动安排表）或每场（统计表）参与人数高于同类单位中位数的 `rules.outlier.ratio` 倍；"
        "同类单位不足 `rules.outlier.min_peers` 个时与全区所有单位比较，全区也不足时不检查",
        "participants per activity (plan) or per session (statistics) above `rules.outlier.ratio` × the "
        "median of units of the same type; below `rules.outlier.min_peers` such units, of all units; "
        "not checked with fewer units than that",
    ),
)
OUTLIER_PER_ACTIVITY = _variant(OUTLIER, "per-activity", what=Text("预计参与人数", "Expected participants"))
# The cell holds 参与总人次; the message prints the per-session figure it was judged by and how it
# was computed (a total once printed as an average misled a clerk).
OUTLIER_PER_SESSION = _variant(
    OUTLIER,
    "per-session",
    what=Text("每场平均参与人次", "Participants per session"),
    detail=Text(
        "（参与总人次 {value} ÷ 活动总场次 {total}）", " (participant visits {value} ÷ sessions {total})"
    ),
)


# ---- evidence files (issue 12 §4: attachments) -------------------------------------------------------
# Emitted by functions/services/intake/attachments.py; `value` is the file's name as sent (made safe).

MISSING_ATTACHMENT = _code(
    "missing-attachment",
    "error",
    "file",
    Text(
        "缺少附件“{label}”：至少需要 {minimum} 个（{types}），收到 {count} 个。请补齐后重新报送："
        "在线填报的在页面上传，发邮件的随工作簿附上，放文件夹的与工作簿放在本单位文件夹中。",
        "Attachment '{label}' missing: at least {minimum} needed ({types}), {count} received. Send them with "
        "your next submission: upload them on the web form, attach them to the mail with the workbook, or "
        "put them in your unit's folder next to the workbook.",
    ),
    Text(
        "附件少于材料 `attachments` 规则的 min（`required_unless` 的规则没有文件时至少 1 个）",
        "fewer files than an `attachments` rule's min (at least 1 when its `required_unless` rule has none)",
    ),
)
MISSING_ATTACHMENT_UNLESS = _variant(
    MISSING_ATTACHMENT,
    "unless",
    message=Text(
        "缺少附件“{label}”：没有“{other}”时须提供至少 1 个（{types}）。请发送“{label}”或“{other}”。",
        "Attachment '{label}' missing: without '{other}' at least one is needed ({types}). Send '{label}' "
        "or '{other}'.",
    ),
)
TOO_MANY_ATTACHMENTS = _code(
    "too-many-attachments",
    "error",
    "file",
    Text(
        "附件“{label}”最多 {maximum} 个，收到 {count} 个；多出的“{value}”未保存。请只发送要求的数量。",
        "Attachment '{label}' allows at most {maximum} files, {count} received; '{value}' was not kept. "
        "Send only the number asked for.",
    ),
    Text("某条附件规则收到的文件多于其 max", "more files for an attachment rule than its max"),
)
BAD_ATTACHMENT_TYPE = _code(
    "bad-attachment-type",
    "error",
    "file",
    Text(
        "文件“{value}”的实际类型是 {found}，本材料的附件只接受：{allowed}。请另存为其中一种格式后重新发送。",
        "File '{value}' is a {found} file; this deliverable's attachments accept only: {allowed}. Save it in "
        "one of these formats and send it again.",
    ),
    Text(
        "附件的类型（按文件内容识别，不看扩展名）不在任何附件规则的 types 中",
        "a file whose type (sniffed from its bytes, not its extension) no attachment rule's types accept",
    ),
)
BAD_ATTACHMENT_TYPE_UNKNOWN = _variant(
    BAD_ATTACHMENT_TYPE,
    "unknown",
    message=Text(
        "无法识别文件“{value}”的类型，本材料的附件只接受：{allowed}。请另存为其中一种格式后重新发送。",
        "The type of file '{value}' is not recognised; this deliverable's attachments accept only: {allowed}.",
    ),
)
ATTACHMENT_TOO_LARGE = _code(
    "attachment-too-large",
    "error",
    "file",
    Text(
        "文件“{value}”大小 {size_mb} MB，超过“{label}”的上限 {max_mb} MB，未保存。请压缩后重新发送。",
        "File '{value}' is {size_mb} MB, over the {max_mb} MB limit of '{label}'; it was not kept. Compress it "
        "and send it again.",
    ),
    Text("附件大于其规则的 `max_mb`（未保存）", "a file larger than its rule's `max_mb` (not kept)"),
)
PHOTO_OUTSIDE_WEEK = _code(
    "photo-outside-week",
    "warning",
    "file",
    Text(
        "照片“{value}”的拍摄日期 {taken} 不在本单位的活动时间（{start} 至 {end}）内，请确认是否为本次活动的照片。",
        "Photo '{value}' was taken on {taken}, outside your activity dates ({start} to {end}). Please check it "
        "is from this campaign.",
    ),
    Text(
        "照片的 EXIF 拍摄日期（DateTimeOriginal）在单位类型的活动时间（`windows`，否则 `week`）之外",
        "a photo's EXIF date taken (DateTimeOriginal) outside the unit type's window (`windows`, else `week`)",
    ),
)
DUPLICATE_PHOTO = _code(
    "duplicate-photo",
    "warning",
    "file",
    Text(
        "照片“{value}”与其他单位已发送的照片完全相同，请确认是否为本单位活动的照片。",
        "Photo '{value}' is identical to one another unit has sent. Please check it shows your own activity.",
    ),
    Text(
        "同一张照片（内容哈希相同）已由其他单位发送过；同一次发送中重复的照片只计一张",
        "the same photo (same content hash) was already sent by another unit; a photo repeated in one "
        "submission counts once",
    ),
)
DUPLICATE_PHOTO_WITHIN = _variant(
    DUPLICATE_PHOTO,
    "within",
    message=Text(
        "照片“{value}”在本次发送中重复出现（与“{first}”内容相同），只计一张。",
        "Photo '{value}' appears twice in this submission (same content as '{first}'); it counts once.",
    ),
)
PHOTO_COUNT_DIFFERS = _code(
    "photo-count-differs",
    "warning",
    "table",
    Text(
        "照片张数填写为 {typed}，随附照片文件为 {counted} 张；汇总按照片文件计为 {counted} 张。",
        "照片张数 says {typed} but {counted} photo files came with it; totals count {counted}.",
    ),
    Text(
        "随附照片时，照片张数按文件计数；单位填写的数字不同时提示，汇总用计数",
        "with photo files, 照片张数 is counted from them; a different typed figure is flagged, totals use the count",
    ),
)
ATTACHMENTS_WITHOUT_WORKBOOK = _code(
    "attachments-without-workbook",
    "error",
    "file",
    Text(
        "文件夹“{value}”中有 {count} 个附件，但没有工作簿，暂未入库。请把填好的工作簿放进同一文件夹，附件会与它一起入库。",
        "Folder '{value}' holds {count} files but no workbook; nothing was stored. Put the filled workbook in the "
        "same folder and the files are stored with it.",
    ),
    Text(
        "收件箱中单位文件夹里有附件而没有工作簿（附件等工作簿到达后一并入库）",
        "a unit folder in the inbox with files but no workbook (they are stored once the workbook arrives)",
    ),
)

# ---- issue 14 §5 (cloud): evidence files uploaded by the browser straight to S3 (presigned POST) ----
UPLOAD_NOT_RECEIVED = _code(
    "upload-not-received",
    "error",
    "file",
    Text(
        "文件“{value}”没有收到（上传未完成，或超过一天未保存已失效），未保存。请重新选择该文件上传。",
        "File '{value}' was not received (its upload did not finish, or it was not saved within a day); it "
        "was not kept. Choose the file again.",
    ),
    Text(
        "网页表单直传到存储桶的文件在保存时已不在（上传未完成、已被保存过或超过一天被清理）",
        "a file the web form uploaded straight to the bucket is gone when the form is saved (the upload did "
        "not finish, was saved already, or was cleaned up after a day)",
    ),
)

_KIND_MAX = 40  # display units: the master's 问题类型 column


def code_kind(code: str, lang: Language) -> str:
    """A short description of a code in the campaign's language, for organisers who do not read codes
    (the master's 问题清单): the first clause of the code's description, cut to fit one column."""
    kind = CODES.get(code)
    if kind is None:
        return ""
    text = t(lang, kind.about.zh, kind.about.en)
    for stop in ("；", "; "):
        text = text.split(stop, 1)[0]
    text = text.replace("`", "")
    width, out = 0, []
    for ch in text:
        width += display_width(ch)
        if width > _KIND_MAX:
            return "".join(out).rstrip() + "…"
        out.append(ch)
    return text
