"""The Lambda runtime's own pieces, no AWS needed: botocore models as plain dicts, the extension switch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from functions.adapters.aws import clients as aws_clients
from functions.handlers import runtime


def test_botocore_models_load_as_plain_dicts_with_the_same_content_and_order() -> None:
    import botocore
    from botocore.loaders import JSONFileLoader

    data = Path(botocore.__file__).parent / "data"
    ours, botocores = runtime.PlainJsonFileLoader(), JSONFileLoader()
    names = ["endpoints", "partitions", "sdk-default-configuration", "s3/2006-03-01/service-2",
             "s3/2006-03-01/endpoint-rule-set-1", "sqs/2012-11-05/service-2", "s3/2006-03-01/missing"]  # fmt: skip
    for name in names:
        path = str(data / name)
        assert ours.exists(path) == botocores.exists(path), name
        mine, theirs = ours.load_file(path), botocores.load_file(path)
        assert json.dumps(mine) == json.dumps(theirs), name  # same keys in the same order
        assert mine is None if name.endswith("missing") else type(mine) is dict
    assert isinstance(
        aws_clients._session().get_component("data_loader").file_loader, runtime.PlainJsonFileLoader
    )


def test_the_switch_decides_and_the_port_defaults_to_the_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runtime.EXTENSION_PORT_ENV, raising=False)
    for off in ("", "0", "no"):
        monkeypatch.setenv(runtime.SECRETS_EXTENSION_ENV, off)
        assert runtime.secrets_extension_port() is None
    monkeypatch.setenv(runtime.SECRETS_EXTENSION_ENV, "1")
    assert runtime.secrets_extension_port() == runtime.DEFAULT_EXTENSION_PORT == 2773
