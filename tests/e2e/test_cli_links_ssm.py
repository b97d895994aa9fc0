"""`huizong links` for a deployment whose link secret is in SSM (HUIZONG_LINK_SECRET_PARAM): the links are
signed with that secret, the one the Lambda web form checks, and --rotate says how to rotate it there."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from functions.adapters.aws import clients as aws_clients
from functions.adapters.aws import secrets as aws_secrets
from functions.cli.main import cli
from functions.config.loading import load_campaign
from functions.services.web.links import LinkRefused, verify
from tests.helpers.aws import REGION, fake_aws_env

PARAM = "/huizong/link-secret"
SECRET = "a-link-secret-from-ssm-0123456789abcdef"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fake_aws_env(monkeypatch)
    monkeypatch.setenv("HUIZONG_LINK_SECRET_PARAM", PARAM)
    with mock_aws():
        boto3.client("ssm", region_name=REGION).put_parameter(Name=PARAM, Value=SECRET, Type="SecureString")
        aws_secrets.reset()
        try:
            yield
        finally:
            aws_secrets.reset()
            aws_clients.reset()  # the SSM client was made under this mock


def test_links_are_signed_with_the_secret_in_ssm(ssm: None, wujin_dir: Path) -> None:
    got = CliRunner().invoke(
        cli, ["links", str(wujin_dir), "--json", "--base-url", "https://form.example.org"]
    )
    assert got.exit_code == 0, got.output
    first = json.loads(got.stdout)[0]
    token = first["url"].rsplit("/u/", 1)[1]
    campaign = load_campaign(wujin_dir)
    when = dt.datetime(2022, 11, 20, tzinfo=campaign.tz)
    claims = verify(SECRET.encode(), token, campaign_id=campaign.id, now=when)
    assert claims.u == first["unit"]
    with pytest.raises(LinkRefused):  # not the store's own secret
        verify(b"x" * 32, token, campaign_id=campaign.id, now=when)


def test_rotate_with_the_secret_in_ssm_says_how_to_rotate_it(ssm: None, wujin_dir: Path) -> None:
    got = CliRunner().invoke(cli, ["links", str(wujin_dir), "--rotate"])
    assert got.exit_code != 0
    assert "SSM" in got.output and "HUIZONG_LINK_SECRET_PARAM" in got.output and "Traceback" not in got.output
