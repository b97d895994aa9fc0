"""The fixed style sheet of the streaming xlsx writer: the Style list, styles.xml and the cell-xf lookup.

Every Style exists in four variants so that a fill or font style still shows a date as a date and still
protects a formula-like text: plain, date, datetime and quote-prefixed text. The xf index of
(style, variant) is ``style_position * 4 + variant``; index 0 is the default look, so it needs no
``s`` attribute at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from xml.sax.saxutils import quoteattr

from functions.sheet_model import Style


class Variant(IntEnum):
    PLAIN = 0
    DATE = 1
    DATETIME = 2
    QUOTE = 3


# Custom number formats start at 164; lower ids are Excel's built-ins ("0" is 1, "0.00" is 2, "@" is 49).
_NUM_FMTS: dict[int, str] = {164: "0.0%", 165: "yyyy-mm-dd", 166: "yyyy-mm-dd hh:mm"}
_GENERAL, _INT, _TWO_DECIMALS, _TEXT = 0, 1, 2, 49
_PERCENT, _DATE, _DATETIME = 164, 165, 166

# 宋体 is on every Chinese Windows and in WPS, so Excel, WPS and LibreOffice lay Chinese out alike; charset
# 134 (GB2312) tells Excel the script, and family 2 lets an office suite without the font fall back to a
# sans serif that has both Latin and CJK glyphs (LibreOffice with Noto CJK does).
_FONT_NAME = '<name val="宋体"/><family val="2"/><charset val="134"/>'
_FONTS: list[str] = [
    f'<font><sz val="11"/>{_FONT_NAME}</font>',
    f'<font><b/><sz val="11"/>{_FONT_NAME}</font>',
    f'<font><b/><sz val="14"/>{_FONT_NAME}</font>',
    f'<font><i/><sz val="10"/><color rgb="FF595959"/>{_FONT_NAME}</font>',
    f'<font><sz val="11"/><color rgb="FFC65911"/>{_FONT_NAME}</font>',
]
_F_NORMAL, _F_BOLD, _F_TITLE, _F_NOTE, _F_LATE = range(5)


def _solid(rgb: str) -> str:
    return f'<fill><patternFill patternType="solid"><fgColor rgb="FF{rgb}"/><bgColor indexed="64"/></patternFill></fill>'


# Fills 0 and 1 are reserved by Excel (none, gray125) and must come first.
_FILLS: list[str] = [
    '<fill><patternFill patternType="none"/></fill>',
    '<fill><patternFill patternType="gray125"/></fill>',
    _solid("DDEBF7"),
    _solid("C6EFCE"),
    _solid("FFC7CE"),
    _solid("FFEB9C"),
    _solid("D9D9D9"),
]
_FILL_HEADER, _FILL_VALID, _FILL_ERRORS, _FILL_DRAFT, _FILL_MISSING = range(2, 7)

_THIN = '<{0} style="thin"><color rgb="FF8EA9DB"/></{0}>'
_BORDERS: list[str] = [
    "<border><left/><right/><top/><bottom/><diagonal/></border>",
    "<border>"
    + "".join(_THIN.format(side) for side in ("left", "right", "top", "bottom"))
    + "<diagonal/></border>",
    '<border><left/><right/><top style="thin"><color auto="1"/></top><bottom/><diagonal/></border>',
]
_B_NONE, _B_BOX, _B_TOP = range(3)


@dataclass(frozen=True)
class _Look:
    num_fmt: int | None = None  # None: the value decides (General, date or datetime)
    font: int = _F_NORMAL
    fill: int = 0
    border: int = _B_NONE
    wrap: bool = False
    vertical: str | None = None


_LOOKS: dict[Style, _Look] = {
    Style.DEFAULT: _Look(),
    Style.TEXT: _Look(num_fmt=_TEXT),
    Style.HEADER: _Look(font=_F_BOLD, fill=_FILL_HEADER, border=_B_BOX, wrap=True, vertical="center"),
    Style.INT: _Look(num_fmt=_INT),
    Style.NUMBER: _Look(num_fmt=_TWO_DECIMALS),
    Style.PERCENT: _Look(num_fmt=_PERCENT),
    Style.DATE: _Look(num_fmt=_DATE),
    Style.DATETIME: _Look(num_fmt=_DATETIME),
    Style.TITLE: _Look(font=_F_TITLE),
    Style.NOTE: _Look(font=_F_NOTE, wrap=True, vertical="top"),
    Style.TOTAL: _Look(font=_F_BOLD, border=_B_TOP),
    Style.STATE_VALID: _Look(fill=_FILL_VALID),
    Style.STATE_ERRORS: _Look(fill=_FILL_ERRORS),
    Style.STATE_DRAFT: _Look(fill=_FILL_DRAFT),
    Style.STATE_MISSING: _Look(fill=_FILL_MISSING),
    Style.LATE: _Look(font=_F_LATE),
    Style.WRAP: _Look(wrap=True, vertical="top"),
}
assert set(_LOOKS) == set(Style)

_VARIANT_FMT = {
    Variant.PLAIN: _GENERAL,
    Variant.DATE: _DATE,
    Variant.DATETIME: _DATETIME,
    Variant.QUOTE: _GENERAL,
}


def _xf(look: _Look, variant: Variant) -> str:
    fmt = look.num_fmt if look.num_fmt is not None else _VARIANT_FMT[variant]
    if variant in (Variant.DATE, Variant.DATETIME) and fmt not in (_DATE, _DATETIME):
        # A date under a number or text style would show as a bare serial such as 44854.
        fmt = _VARIANT_FMT[variant]
    attrs = [
        f'numFmtId="{fmt}" fontId="{look.font}" fillId="{look.fill}" borderId="{look.border}" xfId="0"',
        ' applyNumberFormat="1"' if fmt else "",
        ' applyFont="1"' if look.font else "",
        ' applyFill="1"' if look.fill else "",
        ' applyBorder="1"' if look.border else "",
        ' quotePrefix="1"' if variant is Variant.QUOTE else "",
    ]
    if not (look.wrap or look.vertical):
        return f"<xf {''.join(attrs)}/>"
    align = (' wrapText="1"' if look.wrap else "") + (f' vertical="{look.vertical}"' if look.vertical else "")
    return f'<xf {"".join(attrs)} applyAlignment="1"><alignment{align}/></xf>'


def _attr(index: int) -> str:
    return f' s="{index}"' if index else ""


# (style or None) -> the ` s="n"` attribute for each Variant; a plain str equal to a Style value works too.
XF_ATTRS: dict[Style | str | None, tuple[str, str, str, str]] = {
    style: (_attr(i * 4), _attr(i * 4 + 1), _attr(i * 4 + 2), _attr(i * 4 + 3))
    for i, style in enumerate(Style)
}
XF_ATTRS[None] = XF_ATTRS[Style.DEFAULT]


def styles_xml() -> str:
    fmts = "".join(
        f"<numFmt numFmtId={quoteattr(str(k))} formatCode={quoteattr(v)}/>" for k, v in _NUM_FMTS.items()
    )
    xfs = [_xf(_LOOKS[style], variant) for style in Style for variant in Variant]
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<numFmts count="{len(_NUM_FMTS)}">{fmts}</numFmts>'
        f'<fonts count="{len(_FONTS)}">{"".join(_FONTS)}</fonts>'
        f'<fills count="{len(_FILLS)}">{"".join(_FILLS)}</fills>'
        f'<borders count="{len(_BORDERS)}">{"".join(_BORDERS)}</borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9"'
        ' defaultPivotStyle="PivotStyleLight16"/>'
        "</styleSheet>"
    )


# The styles whose text wraps: the writer gives their rows a height that shows every line.
WRAPPING_STYLES: frozenset[Style] = frozenset(style for style, look in _LOOKS.items() if look.wrap)
