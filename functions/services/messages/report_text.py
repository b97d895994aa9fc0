"""A validation report as a person reads it: grouped by sheet, cells named, errors before warnings."""

from __future__ import annotations

from itertools import groupby

from schemas.i18n import Language, t
from schemas.report import Issue, ValidationReport
from schemas.roster import normalise_text


def render_report(report: ValidationReport, lang: Language, *, unit_name: str | None = None) -> str:
    lines: list[str] = []
    who = report.unit or "?"
    name = unit_name or report.unit_name
    if name:
        who = f"{who} {name}"
    # The name a unit gave its file: one line, so a newline in it cannot fake a line of the report.
    file = normalise_text(report.file)
    lines.append(t(lang, f"文件：{file}", f"File: {file}"))
    lines.append(t(lang, f"单位：{who}", f"Unit: {who}"))
    if report.deliverable:
        lines.append(t(lang, f"材料：{report.deliverable}", f"Deliverable: {report.deliverable}"))
    if report.valid and not report.warnings:
        lines.append(t(lang, "结果：通过，没有发现问题。", "Result: valid, no problems found."))
        return "\n".join(lines) + "\n"
    if report.valid:
        verdict = t(
            lang,
            f"结果：通过（有 {len(report.warnings)} 条提醒，请核实）",
            f"Result: valid ({len(report.warnings)} warnings)",
        )
    else:
        verdict = t(
            lang,
            f"结果：未通过，{len(report.errors)} 个错误须修改，{len(report.warnings)} 条提醒",
            f"Result: NOT valid — {len(report.errors)} errors to fix, {len(report.warnings)} warnings",
        )
    lines.append(verdict)

    def sheet_key(i: Issue) -> str:
        return i.sheet or ""

    ordered = sorted(
        report.issues, key=lambda i: (sheet_key(i), i.severity != "error", i.row or 0, i.cell or "")
    )
    for sheet, group in groupby(ordered, key=sheet_key):
        lines.append("")
        lines.append(f"【{sheet}】" if sheet else t(lang, "【整个文件】", "[Whole file]"))
        for issue in group:
            mark = t(lang, "错误", "ERROR") if issue.severity == "error" else t(lang, "提醒", "warning")
            where = issue.cell or (t(lang, f"第{issue.row}行", f"row {issue.row}") if issue.row else "")
            prefix = f"  {mark} {where} " if where else f"  {mark} "
            lines.append(f"{prefix}{issue.message}  [{issue.code}]")
    return "\n".join(lines) + "\n"
