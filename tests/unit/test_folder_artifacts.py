"""The local artifact store: files under out/, written whole, never outside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.adapters.folder.artifacts import FolderArtifacts


def test_put_get_and_link_stay_under_the_root(tmp_path: Path) -> None:
    artifacts = FolderArtifacts(tmp_path / "out")
    where = artifacts.put("reports/U001-plan.txt", "报告".encode(), content_type="text/plain")
    assert Path(where) == tmp_path / "out" / "reports" / "U001-plan.txt"
    assert artifacts.get("reports/U001-plan.txt") == "报告".encode()
    assert artifacts.get("reports/none.txt") is None
    assert artifacts.link("reports/U001-plan.txt", expires_s=60) == str(Path(where).resolve())
    assert [p.name for p in (tmp_path / "out" / "reports").iterdir()] == ["U001-plan.txt"]  # no temp left


@pytest.mark.parametrize("bad", ["", "/etc/passwd", "../x", "reports/../../x", "a\\..\\b"])
def test_names_that_would_leave_the_folder_are_refused(tmp_path: Path, bad: str) -> None:
    artifacts = FolderArtifacts(tmp_path / "out")
    with pytest.raises(ValueError):
        artifacts.put(bad, b"x", content_type="text/plain")
    assert not (tmp_path / "x").exists()
