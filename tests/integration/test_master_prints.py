"""The master prints: LibreOffice turns the demo's master.xlsx into A4 pages an organiser can read.

Each sheet is printed alone (a workbook of that one tab, written by the same writer), so a page count
belongs to one sheet. Skipped where LibreOffice (libreoffice-calc, `soffice`) is not installed.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from functions.adapters.xlsx.master_writer import write_master_xlsx
from functions.app import App
from functions.bootstrap import open_app
from functions.services.master.master_sheets import master_sheets
from functions.services.setup.demo import run_demo

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (libreoffice-calc) not installed"
)

A4_LONG, A4_SHORT = 842.0, 595.0  # points


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> App:
    return run_demo(tmp_path_factory.mktemp("print") / "demo", open_app).app


def _pdf(xlsx: Path, out: Path) -> PdfReader:
    profile = (out / "lo-profile").as_uri()
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(out), str(xlsx)],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return PdfReader(out / (xlsx.stem + ".pdf"))


def _one_sheet(app: App, key: str, folder: Path) -> Path:
    now = dt.datetime(2022, 12, 10, 9, tzinfo=app.campaign.tz)
    sheet = next(s for s in master_sheets(app.campaign, app.roster, app.store, now=now) if s.key == key)
    path = folder / f"{key}.xlsx"
    write_master_xlsx([sheet], path, title=key, max_rows_per_sheet=1_048_576)
    return path


def _text(page: object) -> str:
    return re.sub(r"\s+", "", page.extract_text() or "")  # type: ignore[attr-defined]


def test_every_page_of_the_master_is_a4_and_landscape_where_wide(demo_app: App, tmp_path: Path) -> None:
    reader = _pdf(demo_app.paths.master, tmp_path)
    assert len(reader.pages) <= 12  # 26 portrait strips before page setups existed
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert sorted((round(width), round(height))) == [round(A4_SHORT), round(A4_LONG)]


def test_the_overview_fits_two_pages_with_its_paragraph_whole(demo_app: App, tmp_path: Path) -> None:
    reader = _pdf(_one_sheet(demo_app, "overview", tmp_path), tmp_path)
    assert len(reader.pages) <= 2
    text = "".join(_text(p) for p in reader.pages)
    # The paragraph wraps in its merged cell instead of running off the page: its end is printed.
    assert "活动周期间" in text and "品牌项目" in text


def test_every_activity_column_is_on_the_first_page(demo_app: App, tmp_path: Path) -> None:
    reader = _pdf(_one_sheet(demo_app, "activities", tmp_path), tmp_path)
    first = _text(reader.pages[0])
    headers = [f.label_zh for f in demo_app.campaign.form_spec.table("activities").fields]
    missing = [h for h in headers if re.sub(r"\s+", "", h) not in first]
    assert missing == []


def test_each_chart_names_a_fill_for_every_series(demo_app: App) -> None:
    with zipfile.ZipFile(demo_app.paths.master) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 2
        for name in charts:
            xml = z.read(name).decode()
            series = xml.count("<c:ser>")
            assert series >= 1 and xml.count("<a:solidFill>") >= series, name
