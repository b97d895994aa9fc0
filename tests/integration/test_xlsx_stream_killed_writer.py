"""The streaming writer killed mid-write in another process: the old file survives, its leftover is swept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from openpyxl import load_workbook

from functions.adapters.xlsx.stream import STALE_TEMP_SECONDS
from tests.helpers.paths import ROOT
from tests.helpers.xlsx import assert_old_master, old_master, temps, write_rows

_KILLED_WRITER = """
import sys, time
from pathlib import Path
from functions.adapters.xlsx.stream import StreamingWorkbook
book = StreamingWorkbook(Path(sys.argv[1]))
ws = book.sheet("新")
for i in range(30_000):
    ws.append([f"新数据 {i}", i])
print("writing", flush=True)
time.sleep(60)
"""


def test_killed_writer_keeps_the_old_file_and_its_leftover_is_swept(tmp_path: Path) -> None:
    path = tmp_path / "master.xlsx"
    old_master(path)
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert_old_master(path)
    leftovers = temps(tmp_path)
    assert len(leftovers) == 1  # SIGKILL runs no cleanup: the next writer has to
    # A fresh leftover might be a writer that has not locked it yet, so only an old one is swept.
    write_rows(path, [["再写一次"]])
    assert temps(tmp_path) == leftovers
    old = time.time() - STALE_TEMP_SECONDS - 5
    os.utime(leftovers[0], (old, old))
    write_rows(path, [["第三次"]])
    assert temps(tmp_path) == []
    assert load_workbook(path).active["A1"].value == "第三次"
