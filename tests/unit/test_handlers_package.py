"""The Lambda handlers' package turns pydantic's plugin scan off unless the deployment set it."""

from __future__ import annotations

import importlib
import os

import pytest

import functions.handlers


def test_the_plugin_scan_is_off_for_the_handlers_unless_the_deployment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PYDANTIC_DISABLE_PLUGINS", raising=False)
    importlib.reload(functions.handlers)
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == "__all__"
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "logfire")
    importlib.reload(functions.handlers)
    assert os.environ["PYDANTIC_DISABLE_PLUGINS"] == "logfire"
