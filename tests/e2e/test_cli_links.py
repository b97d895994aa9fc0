"""`huizong links` on the wujin-2022 example: JSON, out/links.csv, a QR code per link, --rotate."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

from click.testing import CliRunner

from functions.bootstrap import open_app
from functions.cli.main import cli
from functions.services.web.links import LinkRefused, campaign_secret, verify

NOW = dt.datetime(2022, 11, 20, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _links(folder: Path, *extra: str) -> list[dict[str, str]]:
    got = CliRunner().invoke(cli, ["links", str(folder), "--json", *extra])
    assert got.exit_code == 0, got.output
    return json.loads(got.stdout)


def test_links_json_lists_every_unit_and_writes_csv_and_qr_codes(wujin_dir: Path) -> None:
    found = _links(wujin_dir, "--base-url", "https://form.example.org/")
    app = open_app(wujin_dir)
    assert len(found) == len(app.roster.units) * len(app.campaign.deliverables)
    assert set(found[0]) == {"unit", "name", "deliverable", "url"}
    assert found[0]["unit"] == "WJ001" and found[0]["name"] == "区委宣传部"
    assert all(link["url"].startswith("https://form.example.org/u/") for link in found)
    # each link opens its own unit's form: the token names the unit of its line
    secret = campaign_secret(app.store, now=NOW)
    for link in found:
        claims = verify(secret, link["url"].rsplit("/", 1)[1], campaign_id=app.campaign.id, now=NOW)
        assert (claims.u, claims.d) == (link["unit"], link["deliverable"])
    rows = list(csv.reader(io.StringIO((wujin_dir / "out" / "links.csv").read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["单位编码", "单位名称", "报送项目", "填报链接"]
    assert len(rows) == len(found) + 1
    assert rows[1][3] == found[0]["url"]
    png = (wujin_dir / "out" / rows[1][4]).read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(list((wujin_dir / "out" / "links").glob("*.png"))) == len(found)


def test_links_are_stable_until_rotated_and_rotation_revokes_them(wujin_dir: Path) -> None:
    first = _links(wujin_dir)
    assert _links(wujin_dir) == first
    rotated = _links(wujin_dir, "--rotate")
    assert rotated[0]["url"] != first[0]["url"]
    app = open_app(wujin_dir)
    secret = campaign_secret(app.store, now=NOW)
    old_token = first[0]["url"].rsplit("/", 1)[1]
    try:
        verify(secret, old_token, campaign_id=app.campaign.id, now=NOW)
    except LinkRefused as exc:
        assert exc.reason == "rotated"
    else:
        raise AssertionError("a link from before the rotation still opens")


def test_a_bad_base_url_is_a_clear_message(wujin_dir: Path) -> None:
    got = CliRunner().invoke(cli, ["links", str(wujin_dir), "--base-url", "form.example.org"])
    assert got.exit_code == 2
    assert "http://" in got.output and "Traceback" not in got.output


def test_links_text_output_names_the_files(wujin_dir: Path) -> None:
    got = CliRunner().invoke(cli, ["links", str(wujin_dir)])
    assert got.exit_code == 0, got.output
    assert "out/links.csv" in got.stdout and "http://127.0.0.1:8750/u/" in got.stdout
    # the 2022 example's links are past their expiry today: the organiser is told, on stderr
    assert "已于 2023-01-08 过期" in got.stderr
