"""The hostile workbook corpus (issue 11 §2), generated from a valid workbook rather than kept as blobs.

Each entry turns a valid unit workbook into one kind of hostile or odd file and says which code the
reader must answer with ("" when the file must read as valid). The fuzzer (`mutate`) makes seeded random
variants of the same base. Run as a script to write the corpus into a folder for a manual try:

    python -m tests.helpers.hostile_xlsx OUT_DIR
"""

from __future__ import annotations

import random
import re
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.xlsx_parts import read_part, replace_parts, sheet_part

Maker = Callable[[Path, Path, str], Path]  # (valid base workbook, destination, a sheet title) -> file

_BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
)


def _sheet_xml(base: Path, title: str) -> tuple[str, str]:
    part = sheet_part(base, title)
    return part, read_part(base, part).decode()


def _with_sheet(base: Path, dst: Path, title: str, edit: Callable[[str], str]) -> Path:
    part, xml = _sheet_xml(base, title)
    return replace_parts(base, dst, {part: edit(xml).encode("utf-8", "surrogatepass")})


def malformed_sheet(base: Path, dst: Path, title: str) -> Path:
    return _with_sheet(base, dst, title, lambda xml: xml[: len(xml) // 2])


def entity_sheet(base: Path, dst: Path, title: str) -> Path:
    def edit(xml: str) -> str:
        body = re.sub(r"^<\?xml[^>]*\?>", "", xml)
        return _BILLION_LAUGHS + body.replace(
            "</sheetData>",
            '<row r="999"><c r="A999" t="inlineStr"><is><t>&lol3;</t></is></c></row></sheetData>',
            1,
        )

    return _with_sheet(base, dst, title, edit)


def control_chars(base: Path, dst: Path, title: str) -> Path:
    return _with_sheet(base, dst, title, lambda xml: xml.replace("<t>", "<t>\x01\x02", 1))


def bad_style_index(base: Path, dst: Path, title: str) -> Path:
    def edit(xml: str) -> str:
        xml = re.sub(r'(<c r="[A-Z]+2"[^>]*?) s="\d+"', r"\1", xml)
        return re.sub(r'(<c r="[A-Z]+2")', r'\1 s="99999"', xml)

    return _with_sheet(base, dst, title, edit)


def bad_string_index(base: Path, dst: Path, title: str) -> Path:
    return _with_sheet(
        base,
        dst,
        title,
        lambda xml: re.sub(
            r'<c r="B2"[^>]*?(/>|>.*?</c>)', '<c r="B2" t="s"><v>99999</v></c>', xml, count=1, flags=re.S
        ),
    )


def stale_dimension(base: Path, dst: Path, title: str) -> Path:
    """A <dimension> that claims two rows while the sheet holds more (openpyxl read-only stopped there)."""

    def edit(xml: str) -> str:
        if "<dimension" in xml:
            return re.sub(r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:B2"/>', xml)
        return xml.replace("<sheetData", '<dimension ref="A1:B2"/><sheetData', 1)

    return _with_sheet(base, dst, title, edit)


def far_row(base: Path, dst: Path, title: str) -> Path:
    """One value typed in A1048576, the last row Excel has."""
    return _with_sheet(
        base,
        dst,
        title,
        lambda xml: xml.replace(
            "</sheetData>", '<row r="1048576"><c r="A1048576"><v>1</v></c></row></sheetData>', 1
        ),
    )


def far_column(base: Path, dst: Path, title: str) -> Path:
    return _with_sheet(
        base,
        dst,
        title,
        lambda xml: xml.replace("</sheetData>", '<row r="60"><c r="XFD60"><v>1</v></c></row></sheetData>', 1),
    )


def row_bomb(base: Path, dst: Path, title: str) -> Path:
    """300,000 rows holding a value, with no <dimension>: refused at the row limit, not read to the end."""

    def edit(xml: str) -> str:
        xml = re.sub(r"<dimension[^>]*/>", "", xml)
        rows = "".join(f'<row r="{r}"><c r="A{r}"><v>1</v></c></row>' for r in range(100, 300_000))
        return xml.replace("</sheetData>", rows + "</sheetData>", 1)

    return _with_sheet(base, dst, title, edit)


def empty_row_bomb(base: Path, dst: Path, title: str) -> Path:
    """300,000 empty rows and no <dimension>: nothing in them, so the workbook reads as it is."""

    def edit(xml: str) -> str:
        xml = re.sub(r"<dimension[^>]*/>", "", xml)
        return xml.replace(
            "</sheetData>", "".join(f'<row r="{r}"/>' for r in range(100, 300_000)) + "</sheetData>", 1
        )

    return _with_sheet(base, dst, title, edit)


def ratio_bomb(base: Path, dst: Path, title: str) -> Path:
    """5 MB of blanks inside the sheet: a few kilobytes on disk."""
    return _with_sheet(
        base, dst, title, lambda xml: xml.replace("</sheetData>", " " * 5_000_000 + "</sheetData>", 1)
    )


def part_bomb(base: Path, dst: Path, title: str) -> Path:
    """One shared string of 40 MB: a 1 MB-class file that would inflate past every limit."""
    xml = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
        + "A" * 40_000_000
        + "</t></si></sst>"
    )
    return replace_parts(base, dst, {"xl/sharedStrings.xml": xml.encode()})


def missing_sheet_part(base: Path, dst: Path, title: str) -> Path:
    part = sheet_part(base, title)
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != part:
                zout.writestr(info.filename, zin.read(info))
    return dst


def entity_workbook(base: Path, dst: Path, title: str) -> Path:
    xml = read_part(base, "xl/workbook.xml").decode()
    return replace_parts(
        base, dst, {"xl/workbook.xml": (_BILLION_LAUGHS + re.sub(r"^<\?xml[^>]*\?>", "", xml)).encode()}
    )


def not_a_zip(base: Path, dst: Path, title: str) -> Path:
    dst.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    return dst


def bad_crc(base: Path, dst: Path, title: str) -> Path:
    """A stored (uncompressed) sheet whose bytes were altered after the CRC was written."""
    part, xml = _sheet_xml(base, title)
    replace_parts(base, dst, {part: xml.encode()}, stored=True)
    data = bytearray(dst.read_bytes())
    at = data.find(b"<sheetData")
    data[at + 1 : at + 10] = b"sheetDatX"
    dst.write_bytes(bytes(data))
    return dst


@dataclass(frozen=True)
class Hostile:
    name: str  # also the file name in the corpus, so odd names are part of it
    make: Maker
    code: str  # the code the reader answers with; "" when the workbook reads as valid
    heavy: bool = False  # megabytes to build and seconds to read: for the integration tier only


def _copy(base: Path, dst: Path, title: str) -> Path:
    dst.write_bytes(base.read_bytes())
    return dst


CORPUS: list[Hostile] = [
    Hostile("malformed-sheet.xlsx", malformed_sheet, "unreadable-sheet"),
    Hostile("entity-sheet.xlsx", entity_sheet, "unreadable-sheet"),
    Hostile("entity-workbook.xlsx", entity_workbook, "unreadable-sheet"),
    Hostile("control-chars.xlsx", control_chars, "unreadable-sheet"),
    Hostile("bad-string-index.xlsx", bad_string_index, "unreadable-sheet"),
    Hostile("missing-sheet-part.xlsx", missing_sheet_part, "unreadable-sheet"),
    Hostile("bad-crc.xlsx", bad_crc, "unreadable-sheet"),
    Hostile("not-a-zip.xlsx", not_a_zip, "not-xlsx"),
    Hostile("far-row.xlsx", far_row, "too-many-rows"),
    Hostile("far-column.xlsx", far_column, "too-many-columns"),
    Hostile("row-bomb.xlsx", row_bomb, "too-many-rows", heavy=True),
    Hostile("empty-row-bomb.xlsx", empty_row_bomb, "", heavy=True),
    Hostile("ratio-bomb.xlsx", ratio_bomb, "too-compressed", heavy=True),
    Hostile("part-bomb.xlsx", part_bomb, "too-large-part", heavy=True),
    Hostile("bad-style-index.xlsx", bad_style_index, ""),
    Hostile("stale-dimension.xlsx", stale_dimension, ""),
    Hostile("valid-named.xls", _copy, ""),
    Hostile("valid-no-extension", _copy, ""),
    Hostile("valid.xlsx.download", _copy, ""),
]


def write_corpus(base: Path, out: Path, title: str) -> dict[Path, str]:
    """Every hostile file of the corpus in `out`, with the code each must get."""
    out.mkdir(parents=True, exist_ok=True)
    return {h.make(base, out / h.name, title): h.code for h in CORPUS}


# ---- fuzzing ---------------------------------------------------------------------------------------

_MUTATIONS = ("delete", "duplicate", "insert", "flip", "attribute", "swap-tag")
_JUNK = [
    "<",
    ">",
    "&",
    '"',
    "\x00",
    "\x1f",
    "&#0;",
    "<c>",
    "</row>",
    "<!DOCTYPE x>",
    "]]>",
    "\ufffe",
    "-1",
    "99999999999",
    "é",
]


def mutate(base: Path, dst: Path, title: str, rng: random.Random) -> Path:
    """One seeded random variant of the base: the sheet XML, the shared strings or the raw zip bytes."""
    target = rng.random()
    if target < 0.15:
        data = bytearray(base.read_bytes())
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        dst.write_bytes(bytes(data))
        return dst
    part, xml = _sheet_xml(base, title)
    if target < 0.3:
        part, xml = "xl/workbook.xml", read_part(base, "xl/workbook.xml").decode()
    if target < 0.4:
        part, xml = "xl/styles.xml", read_part(base, "xl/styles.xml").decode()
    well_formed = part.startswith("xl/worksheets/") and rng.random() < 0.6
    for _ in range(rng.randint(1, 4)):
        xml = _mutate_cells(xml, rng) if well_formed else _mutate_text(xml, rng)
    return replace_parts(base, dst, {part: xml.encode("utf-8", "surrogatepass")})


# Well-formed changes reach past the XML parser into the cell values: types, styles, places, formulas.
_TYPES = ["s", "str", "e", "b", "n", "d", "inlineStr", "x", ""]
_VALUES = [
    "0",
    "-1",
    "1e308",
    "1e999",
    "NaN",
    "inf",
    "2958466",
    "45000.5",
    "#NAME?",
    "99999",
    "abc",
    "",
    "1.2万",
    "0.75",
]
_REFS = ["A1", "XFD1", "A1048576", "ZZZ9", "B0", "$C$5", "a7", "AAAA1", "B99999999"]


def _mutate_cells(xml: str, rng: random.Random) -> str:
    cells = list(re.finditer(r'<c r="[A-Z]+\d+"[^>]*?(?:/>|>.*?</c>)', xml, re.S))
    if not cells:
        return xml
    m = rng.choice(cells)
    ref = re.match(r'<c r="([^"]+)"', m.group()).group(1)  # type: ignore[union-attr]
    kind = rng.random()
    value = rng.choice(_VALUES)
    if kind < 0.3:
        new = f'<c r="{ref}" t="{rng.choice(_TYPES)}"><v>{value}</v></c>'
    elif kind < 0.5:
        new = f'<c r="{ref}" s="{rng.randrange(-1, 400)}"><v>{value}</v></c>'
    elif kind < 0.65:
        new = f'<c r="{rng.choice(_REFS)}"><v>{value}</v></c>'
    elif kind < 0.85:
        cached = "" if rng.random() < 0.3 else f"<v>{value}</v>"
        t = rng.choice(["", ' t="e"', ' t="str"'])
        new = f'<c r="{ref}"{t}><f>{rng.choice(["SUM(B2:B9)", "百姓学习之星", "", "A1/0"])}</f>{cached}</c>'
    else:
        new = f'<c r="{ref}" t="inlineStr"><is><r><t>{value}</t></r><rPh><t>ピン</t></rPh></is></c>'
    return xml[: m.start()] + new + xml[m.end() :]


def _mutate_text(xml: str, rng: random.Random) -> str:
    kind = rng.choice(_MUTATIONS)
    i = rng.randrange(len(xml))
    j = min(len(xml), i + rng.randint(1, 200))
    if kind == "delete":
        return xml[:i] + xml[j:]
    if kind == "duplicate":
        return xml[:j] + xml[i:j] * rng.randint(2, 50) + xml[j:]
    if kind == "insert":
        return xml[:i] + rng.choice(_JUNK) + xml[i:]
    if kind == "flip":
        return xml[:i] + chr(rng.randrange(32, 0x3000)) + xml[i + 1 :]
    if kind == "attribute":
        return re.sub(
            r'(r|s|t)="[^"]*"', lambda m: f'{m.group(1)}="{rng.choice(_JUNK)}"', xml, count=rng.randint(1, 5)
        )
    return xml.replace("<row", "<rowx", 1) if rng.random() < 0.5 else xml.replace("</c>", "</v>", 1)


def main(argv: list[str]) -> int:
    """Write the corpus next to a valid wujin-2022 plan (made with the shipped example)."""
    import tempfile

    from functions.config.loading import load_campaign, load_roster
    from functions.services.setup.examples import write_example
    from tests.helpers.workbooks import school_plan, unit_of_type, write_workbook

    out = Path(argv[0]) if argv else Path("hostile-corpus")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "c"
        write_example(folder, "wujin-2022")
        campaign = load_campaign(folder)
        roster, _ = load_roster(folder, campaign)
        school = unit_of_type(roster, "中小学")
        base = write_workbook(
            Path(tmp) / "base.xlsx", campaign, "plan", school, school_plan(campaign, school)
        )
        title = campaign.tables_of("plan")[0].title("zh")
        for path, code in write_corpus(base, out, title).items():
            print(f"{path}\t{code or 'valid'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
