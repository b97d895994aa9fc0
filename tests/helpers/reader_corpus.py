"""The workbook corpus of the reader equivalence test (issue 13 §3): every kind of workbook the tests and
the demo build, and a seeded, bounded fuzzed corpus of well-formed variants of filled workbooks.

Each sample is a real file on disk with the campaign and roster it is read against.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.cell.cell import MergedCell

from functions.config.loading import load_campaign, load_roster
from functions.services.setup import demo
from functions.services.setup.demo_data import demo_files
from functions.services.setup.examples import example_names, write_example
from functions.services.setup.workbook_fill import fill_workbook
from schemas.campaign import Campaign
from schemas.roster import Roster
from sheets_templates.xlsx_unit_workbook import build_unit_workbook, save_workbook_atomically
from tests.helpers.hostile_xlsx import CORPUS as HOSTILE
from tests.helpers.workbooks import school_plan, summary_entries, unit_of_type, write_workbook
from tests.helpers.xlsx_parts import formula, replace_parts, set_cell, sheet_part


@dataclass(frozen=True)
class Sample:
    name: str
    path: Path
    campaign: Campaign
    roster: Roster


def _example(folder: Path, name: str) -> tuple[Campaign, Roster]:
    write_example(folder / name, name)
    campaign = load_campaign(folder / name)
    roster, _problems = load_roster(folder / name, campaign)
    return campaign, roster


def _templates(out: Path, campaign: Campaign, roster: Roster) -> list[Path]:
    """Each deliverable's template: blank with each unit type's identity, and without any identity."""
    paths: list[Path] = []
    types = sorted({u.type for u in roster.units})
    for d in campaign.deliverables:
        for i, unit_type in enumerate([None, *types]):
            unit = None if unit_type is None else unit_of_type(roster, unit_type)
            if unit is not None and not d.applies_to(unit.type):
                continue
            path = out / f"{campaign.id}-{d.key}-{i}.xlsx"
            save_workbook_atomically(build_unit_workbook(campaign, d.key, unit), path)
            paths.append(path)
    return paths


def _demo_inbox(out: Path, campaign: Campaign, roster: Roster) -> list[Path]:
    """The files `huizong demo` puts in its inbox (same builder calls as functions/services/setup/demo)."""
    paths: list[Path] = []
    for i, f in enumerate(demo_files(campaign, roster)):
        path = out / f"demo-{i:03d}-{f.name}"
        if f.raw_bytes is not None:
            path.write_bytes(f.raw_bytes)
        else:
            wb = build_unit_workbook(campaign, f.deliverable, None if f.blank_template else f.unit)
            if f.blank_template and f.unit is not None:
                demo._type_identity_by_hand(wb, campaign.language, f.unit.name)
            fill_workbook(wb, campaign, f.deliverable, f.entries)
            save_workbook_atomically(wb, path)
        paths.append(path)
    return paths


def _styles_of(path: Path, title: str) -> dict[str, str]:
    """The style index (s="…") of each cell of a sheet, to write new cells in the template's own styles."""
    return dict(re.findall(r'<c r="([A-Z]+\d+)"[^>]*?\bs="(\d+)"', sheet_part(path, title)))


def _formula_variants(out: Path, base: Path, campaign: Campaign) -> list[Path]:
    """Formulas with cached numbers, texts, errors and none; a date typed as its serial number."""
    title = campaign.tables_of("plan")[0].title(campaign.language)
    style = _styles_of(base, title)
    cells = {
        "formula-number": ("I5", formula("I5", "SUM(1,2)*40", cached="120")),
        "formula-text": ("B6", formula("B6", 'CONCAT("讲座","一")', cached="讲座一", kind="str")),
        "formula-error": ("I6", formula("I6", "百姓学习之星", cached="#NAME?", kind="e")),
        "formula-uncached": ("I7", formula("I7", "A1/0")),
        "formula-empty-text": ("N5", formula("N5", 'IF(A1="","",1)', cached="", kind="str")),
        "date-as-number": ("D5", f'<c r="D5" s="{style.get("D5", "0")}"><v>44900</v></c>'),
        "date-as-text": ("D6", '<c r="D6" t="inlineStr"><is><t>2022-12-05</t></is></c>'),
        "bool-cell": ("J5", '<c r="J5" t="b"><v>1</v></c>'),
        "float-cell": ("I8", '<c r="I8"><v>120.5</v></c>'),
    }
    return [set_cell(base, out / f"{name}.xlsx", title, ref, xml) for name, (ref, xml) in cells.items()]


# ---- the fuzzed corpus: well-formed variants, so that both readers have something to compare ---------

_VALUES: list[Any] = [
    0,
    -3,
    7.25,
    1e15,
    True,
    False,
    "讲座",
    "  前后空格  ",
    "=SUM(A1)",
    "12",
    "1.2万",
    "是",
    "",
    "a\tb",
    "第一行\n第二行",
    dt.date(2022, 12, 5),
    dt.datetime(2022, 12, 6, 9, 30),
    dt.time(14, 0),
    "学校报告厅" * 30,
]
_FORMATS = ["General", "0", "0.00", "@", "yyyy-mm-dd", "yyyy/m/d h:mm", "mm-dd-yy", "0%", "h:mm"]


def _fuzz_one(base: Path, dst: Path, rng: random.Random) -> Path:
    wb = load_workbook(base)
    names = wb.sheetnames  # the hidden identity sheet too: its values are read like any other
    for _ in range(rng.randint(1, 6)):
        ws = wb[rng.choice(names)]
        action = rng.random()
        row = rng.randint(1, max(ws.max_row, 2) + 3)
        col = rng.randint(1, max(ws.max_column, 2) + 1)
        cell = ws.cell(row=row, column=col)
        if isinstance(cell, MergedCell):
            continue  # inside a merged range (the instructions' paragraphs): no value of its own
        if action < 0.55:
            value = rng.choice(_VALUES)
            cell.value = value
            if isinstance(value, (int, float)) and rng.random() < 0.5:
                cell.number_format = rng.choice(_FORMATS)
        elif action < 0.7:
            cell.number_format = rng.choice(_FORMATS)
        elif action < 0.8:
            ws.insert_rows(rng.randint(1, max(ws.max_row, 1)), rng.randint(1, 3))
        elif action < 0.9:
            cell.value = None
        else:
            extra = wb.create_sheet(f"附表{rng.randint(1, 99)}")
            extra["A1"] = rng.choice(_VALUES)
    save_workbook_atomically(wb, dst)
    if rng.random() < 0.4:
        _to_shared_strings(dst, rng)
    return dst


def _to_shared_strings(path: Path, rng: random.Random) -> None:
    """Some inline-string cells (what the template writer saves) moved to a shared string table instead,
    as Excel and WPS save them: the two ways of storing a text must read the same."""
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n).decode() for n in zf.namelist()}
    strings: list[str] = []

    def shared(m: re.Match[str]) -> str:
        if rng.random() < 0.5:
            return m.group(0)
        strings.append(m.group(3))
        return f'<c r="{m.group(1)}"{m.group(2)} t="s"><v>{len(strings) - 1}</v></c>'

    cell = re.compile(r'<c r="([A-Z]+\d+)"((?: s="\d+")?) t="inlineStr"><is>(.*?)</is></c>', re.S)
    sheets = {n: cell.sub(shared, xml) for n, xml in parts.items() if n.startswith("xl/worksheets/sheet")}
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    table = (
        f'<sst xmlns="{main}" count="{len(strings)}">' + "".join(f"<si>{s}</si>" for s in strings) + "</sst>"
    )
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    new = {n: xml.encode() for n, xml in sheets.items()}
    new["xl/sharedStrings.xml"] = table.encode()
    new["[Content_Types].xml"] = (
        parts["[Content_Types].xml"]
        .replace(
            "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{content_type}"/></Types>'
        )
        .encode()
    )
    new["xl/_rels/workbook.xml.rels"] = (
        parts["xl/_rels/workbook.xml.rels"]
        .replace(
            "</Relationships>",
            f'<Relationship Id="rIdSst" Type="{rel}" Target="sharedStrings.xml"/></Relationships>',
        )
        .encode()
    )
    replace_parts(path, path, new)


def build_corpus(out: Path, *, fuzzed: int, seed: int) -> list[Sample]:
    out.mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []
    for name in example_names():
        campaign, roster = _example(out / "examples", name)
        folder = out / name
        folder.mkdir()
        paths = _templates(folder, campaign, roster)
        if name == "wujin-2022":
            school = unit_of_type(roster, "中小学")
            plan = write_workbook(
                folder / "plan.xlsx", campaign, "plan", school, school_plan(campaign, school)
            )
            summary = write_workbook(folder / "summary.xlsx", campaign, "summary", school, summary_entries())
            paths += [plan, summary, *_demo_inbox(folder, campaign, roster)]
            paths += _formula_variants(folder, plan, campaign)
            hostile = folder / "hostile"
            hostile.mkdir()
            title = campaign.tables_of("plan")[0].title(campaign.language)
            paths += [h.make(plan, hostile / h.name, title) for h in HOSTILE if not h.heavy]
            rng = random.Random(seed)
            bases = [plan, summary]
            paths += [_fuzz_one(rng.choice(bases), folder / f"fuzz-{n:03d}.xlsx", rng) for n in range(fuzzed)]
        samples += [Sample(p.name, p, campaign, roster) for p in paths]
    return samples
