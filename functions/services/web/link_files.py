"""The files `huizong links` leaves for the organiser: out/links.csv and a QR code PNG per link.

Written through the artifact store (out/ locally, the data bucket in the cloud), so the organiser finds
them where the master is. A QR code is what gets pasted into a unit's WeChat group.
"""

from __future__ import annotations

import csv
import io
import re

import segno

from functions.app import App
from functions.services.web.links import UnitLink
from schemas.i18n import t

CSV_KEY = "links.csv"
QR_FOLDER = "links"
# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def qr_key(link: UnitLink) -> str:
    # Codes come from the organiser's roster, but a file name is still made safe rather than trusted.
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{link.unit}-{link.deliverable}")
    return f"{QR_FOLDER}/{safe}.png"


def links_csv(app: App, links: list[UnitLink]) -> bytes:
    lang = app.campaign.language
    titles = {d.key: d.title(lang) for d in app.campaign.deliverables}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            t(lang, "单位编码", "Unit code"),
            t(lang, "单位名称", "Unit"),
            t(lang, "报送项目", "Deliverable"),
            t(lang, "填报链接", "Link"),
            t(lang, "二维码文件", "QR code file"),
        ]
    )
    for link in links:
        writer.writerow(
            [_cell(link.unit), _cell(link.name), _cell(titles[link.deliverable]), link.url, qr_key(link)]
        )
    # With a BOM so Excel opens the Chinese text as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def qr_png(url: str) -> bytes:
    buf = io.BytesIO()
    # Error correction M and a generous scale: still readable after WeChat recompresses the image.
    segno.make_qr(url, error="m").save(buf, kind="png", scale=6, border=4)
    return buf.getvalue()


def write_link_files(app: App, links: list[UnitLink]) -> list[str]:
    """links.csv and one PNG per link; returns where each went."""
    written = [app.artifacts.put(CSV_KEY, links_csv(app, links), content_type="text/csv; charset=utf-8")]
    for link in links:
        written.append(app.artifacts.put(qr_key(link), qr_png(link.url), content_type="image/png"))
    return written
