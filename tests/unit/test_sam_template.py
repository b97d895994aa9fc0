"""infra/template.yaml: the properties the issue asks for, read from the template (cfn-lint: integration tier)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers.sam import template

DATA_SERVICES = ("s3:", "sqs:", "ssm:", "ses:", "kms:", "dynamodb:", "secretsmanager:")
HANDLERS = {
    "WebhookFunction": "functions.handlers.form_url.handler",
    "ConsolidateFunction": "functions.handlers.consolidate_queue.handler",
    "RemindFunction": "functions.handlers.remind_schedule.handler",
    "PollFunction": "functions.handlers.poll_schedule.handler",
    "MailFunction": "functions.handlers.mail_s3.handler",
    "WebFormFunction": "functions.handlers.web_url.handler",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(resources: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for name, res in resources.items():
        props = res.get("Properties", {})
        policies = props.get("Policies", [])
        for policy in policies if isinstance(policies, list) else [policies]:
            doc = policy.get("PolicyDocument", policy) if isinstance(policy, dict) else {}
            out.extend((name, st) for st in doc.get("Statement", []))
        if res["Type"] in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"):
            out.extend((name, st) for st in props["PolicyDocument"]["Statement"])
    return out


def test_no_wildcard_resource_on_data_actions() -> None:
    statements = _statements(template()["Resources"])
    assert len(statements) > 10
    for name, st in statements:
        if st.get("Effect") == "Deny":
            continue
        actions = _as_list(st["Action"])
        resources = _as_list(st["Resource"])
        if any(str(a).startswith(DATA_SERVICES) for a in actions):
            assert "*" not in resources, f"{name}: {actions} on *"
            assert all(not str(r).endswith(":*") for r in resources), f"{name}: {actions} on {resources}"


def test_data_permissions_name_their_resources() -> None:
    res = template()["Resources"]
    for function in HANDLERS:
        statements = [st for name, st in _statements(res) if name == function]
        by_sid = {st.get("Sid"): st for st in statements}
        # Objects only under the campaign's own prefixes; listing the campaign's own bucket.
        for st in statements:
            for action in _as_list(st["Action"]):
                if action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                    resource = st["Resource"]["Sub"]
                    assert resource.startswith("${DataBucket.Arn}/${"), (function, resource)
        assert by_sid["ListBucket"]["Resource"] == {"GetAtt": "DataBucket.Arn"}
        assert "ses:SendEmail" not in str(by_sid.get("Store"))
    webhook = {st.get("Sid"): st for name, st in _statements(res) if name == "WebhookFunction"}
    assert webhook["QueueConsolidation"]["Resource"] == {"GetAtt": "ConsolidateQueue.Arn"}
    assert "${WebhookSecretParameter}" in webhook["WebhookSecret"]["Resource"]["Sub"]
    assert not any("ses:" in str(st["Action"]) for st in webhook.values()), "the webhook sends no mail"
    remind = {st.get("Sid"): st for name, st in _statements(res) if name == "RemindFunction"}
    assert remind["SendMail"]["Condition"]["StringEquals"]["ses:FromAddress"] == {"Ref": "SenderAddress"}
    assert "identity/${Identity}" in str(remind["SendMail"]["Resource"])


def test_functions_queue_schedules_bucket_logs_and_alarm() -> None:
    t = template()
    res, params = t["Resources"], t["Parameters"]
    assert t["Globals"]["Function"]["Runtime"] == "python3.11"
    for name, handler in HANDLERS.items():
        props = res[name]["Properties"]
        assert props["Handler"] == handler
        assert props["LoggingConfig"]["LogGroup"]["Ref"] in res
        timeout = props.get("Timeout", t["Globals"]["Function"]["Timeout"])
        assert 3 <= timeout <= 900

    url = res["WebhookFunction"]["Properties"]["FunctionUrlConfig"]
    assert url["AuthType"] == "NONE"
    assert res["WebhookUrlInvokePermission"]["Properties"]["InvokedViaFunctionUrl"] is True
    # the web form: a public URL too (its links are signed), reading only its own secret
    web = res["WebFormFunction"]["Properties"]
    assert web["FunctionUrlConfig"]["AuthType"] == "NONE"
    assert res["WebFormUrlInvokePermission"]["Properties"]["InvokedViaFunctionUrl"] is True
    assert web["Environment"]["Variables"]["HUIZONG_LINK_SECRET_PARAM"] == {"Ref": "LinkSecretParameter"}
    web_sids = {st.get("Sid"): st for name, st in _statements(res) if name == "WebFormFunction"}
    assert web_sids["LinkSecret"]["Action"] == "ssm:GetParameter"
    assert "${LinkSecretParameter}" in web_sids["LinkSecret"]["Resource"]["Sub"]
    assert t["Outputs"]["WebFormUrl"]["Value"] == {"GetAtt": "WebFormFunctionUrl.FunctionUrl"}

    queue = res["ConsolidateQueue"]["Properties"]
    dlq = res["ConsolidateDeadLetterQueue"]["Properties"]
    assert queue["FifoQueue"] is True and dlq["FifoQueue"] is True
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"GetAtt": "ConsolidateDeadLetterQueue.Arn"}
    assert 1 <= queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert queue["VisibilityTimeout"] >= 6 * res["ConsolidateFunction"]["Properties"]["Timeout"]
    source = res["ConsolidateFunction"]["Properties"]["Events"]["Queue"]["Properties"]
    assert source["Queue"] == {"GetAtt": "ConsolidateQueue.Arn"}
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    schedules = {n: r["Properties"] for n, r in res.items() if r["Type"] == "AWS::Scheduler::Schedule"}
    assert set(schedules) == {"RemindScheduleRule", "PollScheduleRule"}
    for schedule in schedules.values():
        assert schedule["ScheduleExpressionTimezone"] == {"Ref": "ScheduleTimezone"}
        assert schedule["Target"]["RoleArn"] == {"GetAtt": "SchedulerRole.Arn"}
        assert "<aws.scheduler.scheduled-time>" in schedule["Target"]["Input"]
    assert params["ScheduleTimezone"]["Default"] == "Asia/Shanghai"
    assert params["RemindSchedule"]["Default"] == "cron(0 9 * * ? *)"
    assert params["PollSchedule"]["Default"] == "rate(5 minutes)"
    assert {"CampaignBucket", "ConfigKey", "SenderAddress", "WebhookSecretParameter",
            "GoogleCredentialsParameter"} <= set(params)  # fmt: skip

    bucket = res["DataBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    # TlsOnly, and (issue 16) SES writing incoming mail: tests/unit/test_sam_template_mail.py.
    [tls] = [
        s
        for s in res["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s["Sid"] == "TlsOnly"
    ]
    assert tls["Effect"] == "Deny" and tls["Condition"]["Bool"]["aws:SecureTransport"] == "false"

    groups = [r["Properties"] for r in res.values() if r["Type"] == "AWS::Logs::LogGroup"]
    functions = [r for r in res.values() if r["Type"] == "AWS::Serverless::Function"]
    # One log group per function, each with the retention: none logs forever.
    assert len(groups) == len(functions) == 6 and all(
        g["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups
    )
    alarm = res["DeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"GetAtt": "ConsolidateDeadLetterQueue.QueueName"}
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"


@pytest.mark.parametrize("name", sorted(HANDLERS.values()))
def test_every_handler_named_in_the_template_exists(name: str) -> None:
    import importlib

    module, _, function = name.rpartition(".")
    assert callable(getattr(importlib.import_module(module), function))


def test_secrets_extension_layer_is_optional_and_only_on_the_webhook() -> None:
    import re

    t = template()
    param = t["Parameters"]["SecretsExtensionLayerArn"]
    assert param["Type"] == "String" and param["Default"] == ""
    pattern = re.compile(param["AllowedPattern"])
    layer = "arn:aws:lambda:ap-southeast-1:044395824272:layer:AWS-Parameters-and-Secrets-Lambda-Extension:17"
    assert pattern.fullmatch("") and pattern.fullmatch(layer)
    assert pattern.fullmatch(layer.replace("arn:aws:", "arn:aws-cn:"))
    for wrong in ("arn:aws:lambda:ap-southeast-1:044395824272:layer:SomethingElse:1", layer + " ", "2773"):
        assert not pattern.fullmatch(wrong), wrong
    condition = t["Conditions"]["UseSecretsExtension"]
    assert condition == {"Not": [{"Equals": [{"Ref": "SecretsExtensionLayerArn"}, ""]}]}

    res = t["Resources"]
    webhook = res["WebhookFunction"]["Properties"]
    when = {"If": ["UseSecretsExtension", {"Ref": "SecretsExtensionLayerArn"}, {"Ref": "AWS::NoValue"}]}
    assert webhook["Layers"] == [when]
    switch = webhook["Environment"]["Variables"]["HUIZONG_SECRETS_EXTENSION"]
    # The values functions/handlers/runtime.py reads as on and off.
    assert switch == {"If": ["UseSecretsExtension", "1", "0"]}
    # The extension reads with the function's role: the same one permission on the same parameter.
    secret = {st.get("Sid"): st for name, st in _statements(res) if name == "WebhookFunction"}[
        "WebhookSecret"
    ]
    assert secret["Action"] == "ssm:GetParameter"
    for name in HANDLERS:
        if name != "WebhookFunction":
            assert "Layers" not in res[name]["Properties"], name
    # The function-level variables add to the Globals ones (SAM merges them); none is shadowed.
    assert not set(webhook["Environment"]["Variables"]) & set(
        t["Globals"]["Function"]["Environment"]["Variables"]
    )


def test_runtime_reads_the_switch_the_template_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    from functions.handlers import runtime

    switch = template()["Resources"]["WebhookFunction"]["Properties"]["Environment"]["Variables"]
    assert runtime.SECRETS_EXTENSION_ENV in switch
    on, off = switch[runtime.SECRETS_EXTENSION_ENV]["If"][1:]
    monkeypatch.delenv(runtime.EXTENSION_PORT_ENV, raising=False)
    monkeypatch.setenv(runtime.SECRETS_EXTENSION_ENV, on)
    assert runtime.secrets_extension_port() == 2773
    monkeypatch.setenv(runtime.SECRETS_EXTENSION_ENV, off)
    assert runtime.secrets_extension_port() is None


# ---- issue 11, section 1: what the real AWS would refuse or do differently -------------------------------


def _sendmail(res: dict[str, Any], function: str) -> dict[str, Any]:
    return {st.get("Sid"): st for name, st in _statements(res) if name == function}["SendMail"]


def test_ses_permissions_and_the_code_use_one_region() -> None:
    t = template()
    param = t["Parameters"]["SesRegion"]
    assert param["Type"] == "String" and param["Default"] == ""  # empty: the stack's own region
    import re

    pattern = re.compile(param["AllowedPattern"])
    for good in ("", "ap-southeast-1", "us-east-1", "eu-central-1"):
        assert pattern.fullmatch(good), good
    for bad in ("ap-southeast", "AP-SOUTHEAST-1", "ap-southeast-1 ", "*"):
        assert not pattern.fullmatch(bad), bad
    assert t["Conditions"]["NamedSesRegion"] == {"Not": [{"Equals": [{"Ref": "SesRegion"}, ""]}]}
    region = {"If": ["NamedSesRegion", {"Ref": "SesRegion"}, {"Ref": "AWS::Region"}]}
    # The code reads HUIZONG_SES_REGION (functions/settings.py), which wins over campaign.yaml.
    from functions.settings import SES_REGION_ENV

    assert t["Globals"]["Function"]["Environment"]["Variables"][SES_REGION_ENV] == region
    res = t["Resources"]
    for function in ("RemindFunction", "PollFunction"):
        send = _sendmail(res, function)
        identity, config_set = send["Resource"]
        template_text, values = identity["Sub"]
        assert template_text.startswith("arn:${AWS::Partition}:ses:${Region}:"), template_text
        assert "${AWS::Region}" not in template_text
        assert values["Region"] == region
        text, values = config_set["If"][1]["Sub"]
        assert text.startswith("arn:${AWS::Partition}:ses:${Region}:") and values["Region"] == region


def test_least_privilege_ses_sqs_and_listing() -> None:
    res = template()["Resources"]
    for name, st in _statements(res):
        actions = [str(a) for a in _as_list(st["Action"])]
        # SES v2 SendEmail (raw content included) needs ses:SendEmail only.
        assert "ses:SendRawEmail" not in actions, name
        if any(a.startswith("sqs:") for a in actions):
            assert _as_list(st["Resource"]) == [{"GetAtt": "ConsolidateQueue.Arn"}], (name, st)
        if "s3:ListBucket" in actions:
            # With an s3:prefix condition a GetObject of a missing key is AccessDenied instead of 404
            # (the request carries no prefix), and the S3 store reads "missing" as 404.
            assert "Condition" not in st, (name, st)
            assert st["Resource"] == {"GetAtt": "DataBucket.Arn"}
    for function in ("RemindFunction", "PollFunction"):
        assert _sendmail(res, function)["Action"] == "ses:SendEmail"


def test_scheduled_functions_are_not_retried_asynchronously_and_their_failures_alarm() -> None:
    res = template()["Resources"]
    for function in ("RemindFunction", "PollFunction"):
        config = res[function]["Properties"]["EventInvokeConfig"]
        # Lambda retries a failed asynchronous call twice by default; a retried poll overlaps the next.
        assert config["MaximumRetryAttempts"] == 0, function
    poll = res["PollFunction"]["Properties"]
    assert poll["ReservedConcurrentExecutions"] == 1
    assert poll["Timeout"] < 300  # shorter than the poll interval, rate(5 minutes)
    alarms = {
        r["Properties"]["Dimensions"][0]["Value"]["Ref"]: r["Properties"]
        for r in res.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("Namespace") == "AWS/Lambda"
    }
    assert set(alarms) == {"RemindFunction", "PollFunction"}
    for alarm in alarms.values():
        assert alarm["MetricName"] == "Errors" and alarm["Dimensions"][0]["Name"] == "FunctionName"
        assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_public_webhook_has_a_concurrency_cap() -> None:
    t = template()
    webhook = t["Resources"]["WebhookFunction"]["Properties"]
    assert webhook["FunctionUrlConfig"]["AuthType"] == "NONE"
    assert webhook["ReservedConcurrentExecutions"] == {"Ref": "WebhookConcurrency"}
    param = t["Parameters"]["WebhookConcurrency"]
    assert param["Type"] == "Number" and 1 <= param["Default"] <= param["MaxValue"] <= 100
    assert param["MinValue"] == 1


def test_consolidation_queue_visibility_is_six_times_the_function_timeout() -> None:
    res = template()["Resources"]
    timeout = res["ConsolidateFunction"]["Properties"]["Timeout"]
    assert res["ConsolidateQueue"]["Properties"]["VisibilityTimeout"] >= 6 * timeout
    assert res["ConsolidateQueue"]["Properties"]["VisibilityTimeout"] <= 43200  # SQS's maximum


def test_deploy_doc_states_the_ses_region_retries_and_the_post_deploy_check() -> None:
    from tests.helpers.paths import ROOT

    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for needed in ("SesRegion", "HUIZONG_SES_REGION", "MaximumRetryAttempts", "ReservedConcurrentExecutions",
                   "WebhookConcurrency", "Post-deploy check", "s3:ListBucket", "ses:SendEmail"):  # fmt: skip
        assert needed in doc, needed
