"""`huizong serve`: signed form responses over loopback HTTP become versions and rebuild the master."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from functions.bootstrap import open_app
from functions.serve.local_server import LocalServer
from functions.services.intake.signature import HEADER, sign
from tests.helpers.forms import NOW, payload
from tests.helpers.net import free_port
from tests.helpers.paths import ROOT

SECRET = b"a-shared-secret-of-enough-length"


@pytest.fixture
def served(wujin_dir: Path) -> Iterator[LocalServer]:
    app = open_app(wujin_dir)
    server = LocalServer(app, secret=SECRET, port=0, clock=lambda: NOW)
    server.start(scheduler=False)
    try:
        yield server
    finally:
        server.stop()


def post(server: LocalServer, body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
    host, port = server.address
    assert host == "127.0.0.1"
    request = urllib.request.Request(f"http://{host}:{port}/webhook/form", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    if signature is not None:
        request.add_header(HEADER, signature)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def signed(body: bytes, when: dt.datetime = NOW) -> str:
    return sign(SECRET, body, timestamp=int(when.timestamp()))


def test_signed_response_becomes_a_version_and_the_master(served: LocalServer) -> None:
    app = served.app
    unit = next(u for u in app.roster.units if u.type == "镇（街道）社区教育中心")
    body = json.dumps(payload(app, unit.code, "R1"), ensure_ascii=False).encode()
    status, reply = post(served, body, signed(body))
    assert status == 200, reply
    assert reply["unit"] == unit.code and reply["stored"] is True
    assert any("3000余" in w or "约" in w or "3000" in w for w in reply["warnings"])
    [version] = app.store.history(unit.code, "summary")
    assert version.source_kind == "form" and version.tables["statistics"][0]["total_participants"] == 3000

    # The same delivery again (the Apps Script retries): the same answer, no new version.
    status, again = post(served, body, signed(body))
    assert status == 200 and again["duplicate"] is True and again["stored"] is True
    assert len(app.store.history(unit.code, "summary")) == 1

    assert served.worker.wait_idle(60)
    wb = load_workbook(app.paths.master, read_only=True)
    codes = [r[0] for r in wb["统计"].iter_rows(min_row=2, values_only=True)]
    assert unit.code in codes


def test_forged_stale_oversized_and_malformed_requests_are_refused(served: LocalServer) -> None:
    app = served.app
    body = json.dumps(payload(app, app.roster.units[0].code, "R2")).encode()
    assert post(served, body, None)[0] == 401
    assert (
        post(served, body, sign(b"another-secret-of-enough-length", body, timestamp=int(NOW.timestamp())))[0]
        == 401
    )
    assert post(served, body, signed(body, NOW - dt.timedelta(minutes=6)))[0] == 401
    tampered = body.replace(b"R2", b"R3")
    assert post(served, tampered, signed(body))[0] == 401
    big = b"{" + b" " * (1_048_576 + 10) + b"}"
    assert post(served, big, signed(big))[0] == 413
    junk = b'{"kind": "form_response"}'
    status, reply = post(served, junk, signed(junk))
    assert status == 400 and reply["details"]
    assert app.store.latest_versions() == []
    assert served.stats.refused == 6


def test_fifty_concurrent_responses_all_reach_the_master(served: LocalServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    app = served.app
    units = app.roster.units[:40]
    bodies = [json.dumps(payload(app, u.code, f"C{i}")).encode() for i, u in enumerate(units)]
    bodies += bodies[:10]  # ten deliveries repeated while the first are in flight
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda b: post(served, b, signed(b)), bodies))
    assert all(status == 200 for status, _ in results)
    assert len(app.store.latest_versions()) == 40
    assert served.worker.wait_idle(60)
    wb = load_workbook(app.paths.master, read_only=True)
    codes = {r[0] for r in wb["统计"].iter_rows(min_row=2, values_only=True)}
    assert {u.code for u in units} <= codes


def test_serve_command_answers_on_loopback(wujin_dir: Path, tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET.decode(), encoding="utf-8")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "functions.cli", "serve", str(wujin_dir), "--port", str(port),
           "--web-port", "0", "--secret-file", str(secret_file), "--no-scheduler"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert f"127.0.0.1:{port}" in line, line + (proc.stderr.read() if proc.poll() is not None else "")
        app = open_app(wujin_dir)
        body = json.dumps(payload(app, app.roster.units[0].code, "S1")).encode()
        now = dt.datetime.now(dt.UTC)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=body, method="POST")
        request.add_header(HEADER, sign(SECRET, body, timestamp=int(now.timestamp())))
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.status == 200
        forged = urllib.request.Request(f"http://127.0.0.1:{port}/webhook", data=body, method="POST")
        forged.add_header(HEADER, "t=1,v1=00")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=30)
        assert refused.value.code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    time.sleep(0)
