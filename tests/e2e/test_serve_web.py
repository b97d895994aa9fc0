"""`huizong serve` runs the web form next to the webhook: a unit's link opens its form over loopback."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from functions.cli.main import cli
from tests.helpers.net import free_port
from tests.helpers.paths import ROOT

SECRET = "a-shared-secret-of-enough-length"


@pytest.fixture
def serving(wujin_dir: Path, tmp_path: Path) -> Iterator[tuple[str, int]]:
    # The server runs on the real clock, and the 2022 example's links expired 30 days after its last due
    # date: its due dates are moved to the future so the links are current.
    yaml_path = wujin_dir / "campaign.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    yaml_path.write_text(
        text.replace("due: 2022-11-24", "due: 2099-11-24").replace("due: 2022-12-09", "due: 2099-12-09"),
        encoding="utf-8",
    )
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HUIZONG_BASE_URL", None)
    cmd = [sys.executable, "-m", "functions.cli", "serve", str(wujin_dir), "--port", str(port),
           "--web-port", "0", "--secret-file", str(secret_file), "--no-scheduler"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert f"127.0.0.1:{port}/webhook" in first, first + (
            proc.stderr.read() if proc.poll() is not None else ""
        )
        second = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)/u/", second)
        assert m, second
        yield m.group(1), port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _get(opener: urllib.request.OpenerDirector, url: str) -> tuple[int, str]:
    try:
        with opener.open(url, timeout=30) as reply:
            return reply.status, reply.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_links_open_their_units_form_and_a_forged_one_is_refused(
    serving: tuple[str, int], wujin_dir: Path
) -> None:
    base, webhook_port = serving
    got = CliRunner().invoke(cli, ["links", str(wujin_dir), "--json", "--base-url", base])
    assert got.exit_code == 0, got.output
    links = json.loads(got.stdout)
    for link in (links[0], links[-1]):
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, page = _get(opener, link["url"])
        assert status == 200
        assert link["name"] in page and link["unit"] in page and 'name="csrf"' in page
    forged = links[0]["url"][:-3] + "abc"
    status, page = _get(urllib.request.build_opener(), forged)
    assert status == 403 and "Traceback" not in page
    # the webhook still answers on its own port
    status, body = _get(urllib.request.build_opener(), f"http://127.0.0.1:{webhook_port}/healthz")
    assert status == 200 and json.loads(body)["ok"] is True


def test_a_web_port_in_use_is_a_clear_message(wujin_dir: Path, tmp_path: Path) -> None:
    import socket

    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET, encoding="utf-8")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        taken = busy.getsockname()[1]
        got = CliRunner().invoke(
            cli,
            [
                "serve",
                str(wujin_dir),
                "--port",
                str(free_port()),
                "--web-port",
                str(taken),
                "--secret-file",
                str(secret_file),
                "--no-scheduler",
            ],
        )
    assert got.exit_code == 2
    assert f"端口 {taken}" in got.output and "--web-port" in got.output
