"""What a Lambda handler's cold start imports, in a fresh interpreter (issue 13 §5, docs/cold-start.md).

With every pydantic plugin off (the handlers' default), pydantic's plugin loader, which imports
importlib.metadata (with email, zipfile, csv) only to scan entry points, is replaced by a stand-in
(functions/handlers/__init__.py). These tests fail if pydantic reaches its plugins another way (the
scan's modules would be loaded), if models stop validating, or if a deployment that names a plugin
no longer gets pydantic's own loader.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers.paths import ROOT

_LOADED = """
import sys
import functions.handlers.form_url
from schemas.report import Issue
issue = Issue.model_validate({"code": "bad-number", "severity": "error", "message": "x"})
print(issue.code, "importlib.metadata" in sys.modules, "pydantic.plugin._loader" in sys.modules)
"""


def _fresh(code: str, disable: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    if disable is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = disable
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("disable", [None, "__all__", "1", "true"])
def test_with_every_plugin_off_the_webhook_never_imports_pydantics_entry_point_scan(
    disable: str | None,
) -> None:
    assert _fresh(_LOADED, disable) == "bad-number False True"


def test_a_deployment_that_names_a_plugin_gets_pydantics_own_loader() -> None:
    assert _fresh(_LOADED, "logfire") == "bad-number True True"


def test_the_stand_in_hands_over_to_pydantics_loader_when_plugins_are_turned_on_later() -> None:
    code = """
import os, sys
import functions.handlers
loader = sys.modules["pydantic.plugin._loader"]
os.environ["PYDANTIC_DISABLE_PLUGINS"] = "logfire"
print(list(loader.get_plugins()), "importlib.metadata" in sys.modules)
"""
    assert _fresh(code, "__all__") == "[] True"


def test_the_webhook_loads_no_file_channel_service() -> None:
    # A form response carries no workbook and no photos: the folder channel, the evidence files and the
    # kept workbooks are imported by the channels that use them, not by the webhook's cold start.
    code = """
import sys
import functions.handlers.form_url
print(sorted(m for m in sys.modules if m.startswith("functions.services")))
"""
    loaded = _fresh(code, None)
    assert "functions.services.intake.ingest'" in loaded
    for absent in ("ingest_folder", "intake.attachments", "kept_workbook", "intake.unread", "unit_states"):
        assert absent not in loaded
