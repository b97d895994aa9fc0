"""infra/template.yaml: cfn-lint clean, and the security properties the issue asks for."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "infra" / "template.yaml"
DATA_SERVICES = ("s3:", "sqs:", "ssm:", "ses:", "dynamodb:", "secretsmanager:")


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation short forms (!Ref, !GetAtt, !Sub) as plain tagged values."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _tag)


def _template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)


def test_cfn_lint_is_clean() -> None:
    exe = shutil.which("cfn-lint", path=str(Path(sys.executable).parent)) or shutil.which("cfn-lint")
    if exe is None:
        pytest.fail("cfn-lint is a pinned dev dependency and must be installed")
    done = subprocess.run([exe, str(TEMPLATE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, res in resources.items():
        props = res.get("Properties", {})
        for policy in props.get("Policies", []):
            doc = policy.get("PolicyDocument", policy) if isinstance(policy, dict) else {}
            for st in doc.get("Statement", []):
                out.append((name, st))
    return out


def test_no_wildcard_resource_on_data_actions() -> None:
    statements = _statements(_template()["Resources"])
    assert statements
    for name, st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        if any(a.startswith(DATA_SERVICES) for a in actions):
            assert "*" not in resources, f"{name}: {actions} on *"


def test_queue_schedules_bucket_and_alarm() -> None:
    res = _template()["Resources"]
    queue = res["ConsolidateQueue"]["Properties"]
    assert queue["FifoQueue"] is True and queue["RedrivePolicy"]["deadLetterTargetArn"]
    events = res["ConsolidateFunction"]["Properties"]["Events"]["Queue"]["Properties"]
    assert events["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    schedules = [r["Properties"] for r in res.values() if r["Type"] == "AWS::Scheduler::Schedule"]
    assert len(schedules) == 2 and all(s["ScheduleExpressionTimezone"] for s in schedules)
    params = _template()["Parameters"]
    assert params["RemindSchedule"]["Default"] == "cron(0 9 * * ? *)"
    assert params["ScheduleTimezone"]["Default"] == "Asia/Shanghai"
    bucket = res["DataBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled" and bucket["BucketEncryption"]
    assert res["WebhookFunction"]["Properties"]["FunctionUrlConfig"]["AuthType"] == "NONE"
    assert res["DeadLetterAlarm"]["Properties"]["Threshold"] == 0
    assert all(r["Properties"]["RetentionInDays"] for r in res.values() if r["Type"] == "AWS::Logs::LogGroup")
