"""The SQLite store in a folder nobody may write (issue 11 §2.12), made with `chattr +i` so that it holds
even for root (file permissions do not): reading commands still read, writing ones are told which file
and what to do. Skipped where `chattr` is missing or refused (not ext2/3/4, no CAP_LINUX_IMMUTABLE)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.adapters.store.sqlite import SqliteStore
from functions.bootstrap import SQLITE_NAME, open_app
from functions.config.loading import ConfigError
from tests.helpers.store import add, submission


def _chattr(flag: str, path: Path) -> bool:
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", flag, str(path)], capture_output=True, timeout=30).returncode == 0


@pytest.fixture
def frozen_campaign(wujin_dir: Path) -> Iterator[Path]:
    with SqliteStore(wujin_dir / SQLITE_NAME) as store:
        add(store, submission(unit="WJ001", n=1))
        add(store, submission(unit="WJ001", n=2), minutes=5)
    if not _chattr("+i", wujin_dir):
        pytest.skip("chattr +i is not available here")
    try:
        probe = wujin_dir / "probe"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip("chattr +i did not stop writes here")
        yield wujin_dir
    finally:
        _chattr("-i", wujin_dir)


def test_reading_works_in_a_folder_nobody_may_write(frozen_campaign: Path) -> None:
    app = open_app(frozen_campaign, read_only=True)
    latest = app.store.latest("WJ001", "plan")
    assert latest is not None and latest.seq == 2
    assert [v.seq for v in app.store.history("WJ001", "plan")] == [1, 2]


def test_a_writing_command_names_the_file_and_what_to_do(frozen_campaign: Path) -> None:
    with pytest.raises(ConfigError) as info:
        open_app(frozen_campaign)
    text = str(info.value)
    assert text.startswith(str(frozen_campaign / SQLITE_NAME) + ": ")
    assert "无法打开数据库文件" in text and "读写" in text
