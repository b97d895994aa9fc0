"""Edit the XML parts of a real xlsx package: what Excel, WPS or LibreOffice would have saved (cached
formula values, error values) and what a hostile file holds, without binary fixtures."""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path

_ELEMENT = r"<{}\b([^>]*)>"
_ATTR = re.compile(r'([\w:]+)="([^"]*)"')


def _elements(xml: str, tag: str) -> list[dict[str, str]]:
    """The attributes of every <tag> element, in whatever order the producer wrote them."""
    return [dict(_ATTR.findall(attrs)) for attrs in re.findall(_ELEMENT.format(tag), xml)]


def read_part(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)


def sheet_part(path: Path, title: str) -> str:
    """The part name of the sheet called `title` (via workbook.xml and its relationships)."""
    workbook = read_part(path, "xl/workbook.xml").decode()
    rels = {
        r["Id"]: r["Target"]
        for r in _elements(read_part(path, "xl/_rels/workbook.xml.rels").decode(), "Relationship")
    }
    for sheet in _elements(workbook, "sheet"):
        if sheet.get("name") == title:
            target = rels[sheet["r:id"]]
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    raise KeyError(title)


def replace_parts(src: Path, dst: Path, parts: dict[str, bytes], *, stored: bool = False) -> Path:
    """Copy the package with `parts` replaced or added (deflated, or stored when asked)."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(src) as zin:
        items = [(info.filename, zin.read(info)) for info in zin.infolist()]
    names = {name for name, _ in items}
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dst, "w", method) as zout:
        for name, data in items:
            zout.writestr(name, parts.get(name, data))
        for name, data in parts.items():
            if name not in names:
                zout.writestr(name, data)
    return dst


def _cell_pattern(ref: str) -> re.Pattern[str]:
    return re.compile(rf'<c r="{ref}"(?:\s[^>]*?)?(?:/>|>.*?</c>)', re.S)


def set_cell(src: Path, dst: Path, title: str, ref: str, cell_xml: str) -> Path:
    """Replace the cell `ref` of sheet `title` by `cell_xml` (a whole <c r="ref" …> element)."""
    part = sheet_part(src, title)
    xml = read_part(src, part).decode()
    new, n = _cell_pattern(ref).subn(lambda _: cell_xml, xml, count=1)
    if n == 0:
        row = int(re.sub(r"^[A-Z]+", "", ref))
        new = xml.replace("</sheetData>", f'<row r="{row}">{cell_xml}</row></sheetData>', 1)
        if "<sheetData/>" in xml:
            new = xml.replace("<sheetData/>", f'<sheetData><row r="{row}">{cell_xml}</row></sheetData>', 1)
    return replace_parts(src, dst, {part: new.encode()})


def edit_sheet(src: Path, dst: Path, title: str, old: str, new: str, *, count: int = 1) -> Path:
    """Replace text in a sheet's XML (the caller checks it was there)."""
    part = sheet_part(src, title)
    xml = read_part(src, part).decode()
    assert old in xml, f"{old!r} not in {part}"
    return replace_parts(src, dst, {part: xml.replace(old, new, count).encode()})


def formula(ref: str, text: str, *, cached: str | None = None, kind: str | None = None) -> str:
    """A formula cell as a spreadsheet program saves it: <f> and, when calculated, the cached <v>."""
    t = f' t="{kind}"' if kind else ""
    v = f"<v>{cached}</v>" if cached is not None else ""
    return f'<c r="{ref}"{t}><f>{text}</f>{v}</c>'


def zip_needing_version(data: bytes, version: int = 190) -> bytes:
    """The same zip with every central-directory entry claiming it needs `version` to extract (19.0 by
    default): what a damaged or exotic file looks like to Python's zipfile, which refuses to open it with
    NotImplementedError rather than BadZipFile."""
    out = bytearray(data)
    at = out.find(b"PK\x01\x02")
    while at != -1:
        out[at + 6 : at + 8] = version.to_bytes(2, "little")  # "version needed to extract"
        at = out.find(b"PK\x01\x02", at + 4)
    return bytes(out)
