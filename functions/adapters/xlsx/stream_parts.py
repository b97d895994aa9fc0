"""The small XML parts of an xlsx package around the streamed sheets: workbook, rels, content types,
document properties, and bar charts with their drawings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from functions.adapters.xlsx.stream_cells import COLUMN_LETTERS, clean_text

XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_CT = "application/vnd.openxmlformats-officedocument."
_EMU_PER_CM = 360_000


def xml_text(text: str) -> str:
    return escape(clean_text(text))


def sheet_ref(sheet: str, first_col: int, first_row: int, last_col: int, last_row: int) -> str:
    """An absolute reference; the sheet name is always quoted, which Excel accepts for every name."""
    quoted = "'" + sheet.replace("'", "''") + "'"
    first = f"${COLUMN_LETTERS[first_col - 1]}${first_row}"
    last = f"${COLUMN_LETTERS[last_col - 1]}${last_row}"
    return f"{quoted}!{first}:{last}" if first != last else f"{quoted}!{first}"


@dataclass(frozen=True)
class SheetEntry:
    """What the workbook must know about one finished sheet part."""

    name: str
    number: int  # 1-based: xl/worksheets/sheet{number}.xml
    filter_ref: str | None  # the autoFilter range on this sheet, for _xlnm._FilterDatabase
    header: bool  # repeat row 1 on printed pages
    drawing: int | None  # xl/drawings/drawing{n}.xml


@dataclass(frozen=True)
class Series:
    name: str
    first_row: int
    last_row: int
    col: int


@dataclass(frozen=True)
class BarChart:
    """A clustered column chart whose categories and values are ranges of one sheet."""

    sheet: str
    title: str
    cat_first_row: int
    cat_last_row: int
    cat_col: int
    series: tuple[Series, ...]
    anchor_col: int  # 0-based, as drawings count
    anchor_row: int  # 0-based
    width_cm: float
    height_cm: float
    percent_axis: bool


DEFAULT_COLUMN_WIDTH = 8.43  # Excel's, in character units
# Landscape A4 holds about 130 character units at 100 %; wider sheets are scaled down to fit the width.
_PORTRAIT_MAX_WIDTH = 95.0


def page_setup_xml(width_chars: float, *, charts: bool = False) -> str:
    """Margins and page setup: A4, landscape when the columns (or a chart beside them) are wide, one page
    wide and as many down as the rows need (the sheet's fitToPage flag makes fitToHeight 0 mean that)."""
    landscape = charts or width_chars > _PORTRAIT_MAX_WIDTH
    orientation = "landscape" if landscape else "portrait"
    return (
        '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
        f'<pageSetup paperSize="9" orientation="{orientation}" fitToWidth="1" fitToHeight="0"/>'
    )


def _rels(items: list[tuple[str, str]]) -> str:
    body = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL}{kind}" Target={quoteattr(target)}/>'
        for i, (kind, target) in enumerate(items, start=1)
    )
    return f'{XML_HEAD}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>'


def root_rels() -> str:
    return (
        f"{XML_HEAD}"
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{_REL}officeDocument" Target="xl/workbook.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/'
        'metadata/core-properties" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{_REL}extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )


def workbook_rels(sheets: list[SheetEntry]) -> str:
    items = [("worksheet", f"worksheets/sheet{s.number}.xml") for s in sheets]
    return _rels([*items, ("styles", "styles.xml")])


def sheet_rels(drawing: int) -> str:
    return _rels([("drawing", f"../drawings/drawing{drawing}.xml")])


def drawing_rels(charts: list[int]) -> str:
    return _rels([("chart", f"../charts/chart{n}.xml") for n in charts])


def content_types(sheets: list[SheetEntry], drawings: int, charts: int) -> str:
    overrides = [
        ("/xl/workbook.xml", f"{_CT}spreadsheetml.sheet.main+xml"),
        ("/xl/styles.xml", f"{_CT}spreadsheetml.styles+xml"),
        ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("/docProps/app.xml", f"{_CT}extended-properties+xml"),
    ]
    overrides += [
        (f"/xl/worksheets/sheet{s.number}.xml", f"{_CT}spreadsheetml.worksheet+xml") for s in sheets
    ]
    overrides += [(f"/xl/drawings/drawing{n}.xml", f"{_CT}drawing+xml") for n in range(1, drawings + 1)]
    overrides += [(f"/xl/charts/chart{n}.xml", f"{_CT}drawingml.chart+xml") for n in range(1, charts + 1)]
    body = "".join(f'<Override PartName="{part}" ContentType="{kind}"/>' for part, kind in overrides)
    return (
        f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{body}</Types>"
    )


def workbook_xml(sheets: list[SheetEntry]) -> str:
    listed = "".join(
        f'<sheet name={quoteattr(s.name)} sheetId="{s.number}" r:id="rId{i}"/>'
        for i, s in enumerate(sheets, start=1)
    )
    names: list[str] = []
    for index, s in enumerate(sheets):
        if s.filter_ref is not None:
            names.append(
                f'<definedName name="_xlnm._FilterDatabase" localSheetId="{index}" hidden="1">'
                f"{escape(s.filter_ref)}</definedName>"
            )
        if s.header:
            quoted = "'" + s.name.replace("'", "''") + "'"
            names.append(
                f'<definedName name="_xlnm.Print_Titles" localSheetId="{index}">{escape(quoted)}!$1:$1</definedName>'
            )
    defined = f"<definedNames>{''.join(names)}</definedNames>" if names else ""
    return (
        f'{XML_HEAD}<workbook xmlns="{NS_MAIN}" xmlns:r="{NS_R}">'
        '<workbookPr/><bookViews><workbookView activeTab="0"/></bookViews>'
        f"<sheets>{listed}</sheets>{defined}</workbook>"
    )


def core_xml(title: str, creator: str, when: datetime | None = None) -> str:
    stamp = (when or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    title_xml = f"<dc:title>{xml_text(title)}</dc:title>" if title else ""
    return (
        f"{XML_HEAD}"
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"'
        ' xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"{title_xml}<dc:creator>{xml_text(creator)}</dc:creator>"
        f"<cp:lastModifiedBy>{xml_text(creator)}</cp:lastModifiedBy>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def app_xml(sheet_names: list[str]) -> str:
    titles = "".join(f"<vt:lpstr>{xml_text(n)}</vt:lpstr>" for n in sheet_names)
    return (
        f"{XML_HEAD}"
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"'
        ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        "<Application>huizong</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
        '<HeadingPairs><vt:vector size="2" baseType="variant"><vt:variant><vt:lpstr>Worksheets</vt:lpstr>'
        f"</vt:variant><vt:variant><vt:i4>{len(sheet_names)}</vt:i4></vt:variant></vt:vector></HeadingPairs>"
        f'<TitlesOfParts><vt:vector size="{len(sheet_names)}" baseType="lpstr">{titles}</vt:vector></TitlesOfParts>'
        "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
        "<HyperlinksChanged>false</HyperlinksChanged><AppVersion>16.0300</AppVersion>"
        "</Properties>"
    )


def drawing_xml(charts: list[tuple[int, BarChart]]) -> str:
    """One drawing per sheet; ``charts`` pairs each chart's relationship number with its spec."""
    anchors = []
    for shape_id, (rel, chart) in enumerate(charts, start=2):
        cx, cy = round(chart.width_cm * _EMU_PER_CM), round(chart.height_cm * _EMU_PER_CM)
        anchors.append(
            "<xdr:oneCellAnchor>"
            f"<xdr:from><xdr:col>{chart.anchor_col}</xdr:col><xdr:colOff>0</xdr:colOff>"
            f"<xdr:row>{chart.anchor_row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
            f'<xdr:ext cx="{cx}" cy="{cy}"/>'
            f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{shape_id}"'
            f" name={quoteattr(f'Chart {shape_id - 1}')}/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>"
            '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm>'
            '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/chart">'
            f'<c:chart xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" r:id="rId{rel}"/>'
            "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:oneCellAnchor>"
        )
    return (
        f"{XML_HEAD}"
        '<xdr:wsDr xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"'
        f' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="{NS_R}">'
        f"{''.join(anchors)}</xdr:wsDr>"
    )


def _rich(text: str, size: int) -> str:
    return (
        "<c:rich><a:bodyPr/><a:lstStyle/>"
        f'<a:p><a:pPr><a:defRPr sz="{size}" b="1"/></a:pPr>'
        f'<a:r><a:rPr lang="zh-CN" sz="{size}" b="1"/><a:t>{xml_text(text)}</a:t></a:r></a:p></c:rich>'
    )


# Explicit fills: without them LibreOffice and WPS draw the series with no colour (seen as empty charts).
_SERIES_COLOURS = ("4472C4", "ED7D31", "A5A5A5", "70AD47", "5B9BD5", "FFC000")


def chart_xml(chart: BarChart) -> str:
    cats = sheet_ref(chart.sheet, chart.cat_col, chart.cat_first_row, chart.cat_col, chart.cat_last_row)
    series = []
    for i, s in enumerate(chart.series):
        values = sheet_ref(chart.sheet, s.col, s.first_row, s.col, s.last_row)
        series.append(
            f'<c:ser><c:idx val="{i}"/><c:order val="{i}"/><c:tx><c:v>{xml_text(s.name)}</c:v></c:tx>'
            f'<c:spPr><a:solidFill><a:srgbClr val="{_SERIES_COLOURS[i % len(_SERIES_COLOURS)]}"/>'
            "</a:solidFill></c:spPr>"
            '<c:invertIfNegative val="0"/>'
            f"<c:cat><c:strRef><c:f>{escape(cats)}</c:f></c:strRef></c:cat>"
            f"<c:val><c:numRef><c:f>{escape(values)}</c:f></c:numRef></c:val></c:ser>"
        )
    title = (
        f'<c:title><c:tx>{_rich(chart.title, 1400)}</c:tx><c:overlay val="0"/></c:title>'
        if chart.title
        else ""
    )
    value_fmt = "0%" if chart.percent_axis else "General"
    linked = "0" if chart.percent_axis else "1"
    return (
        f"{XML_HEAD}"
        '<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart"'
        f' xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="{NS_R}">'
        '<c:roundedCorners val="0"/><c:chart>'
        f'{title}<c:autoTitleDeleted val="{0 if chart.title else 1}"/>'
        '<c:plotArea><c:layout/><c:barChart><c:barDir val="col"/><c:grouping val="clustered"/>'
        f'<c:varyColors val="0"/>{"".join(series)}'
        '<c:gapWidth val="150"/><c:axId val="500000001"/><c:axId val="500000002"/></c:barChart>'
        '<c:catAx><c:axId val="500000001"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="b"/><c:numFmt formatCode="General" sourceLinked="1"/>'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="500000002"/><c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        '<c:valAx><c:axId val="500000002"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="l"/><c:majorGridlines/>'
        f'<c:numFmt formatCode="{value_fmt}" sourceLinked="{linked}"/>'
        '<c:majorTickMark val="out"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="500000001"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
        "</c:plotArea>"
        f'<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend>'
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
    )
