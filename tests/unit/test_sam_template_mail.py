"""infra/template.yaml, email intake (issue 16): SES stores raw mail in the bucket, S3 → EventBridge →
MailFunction, and only this account's receipt rule may write there."""

from __future__ import annotations

from tests.helpers.sam import template


def test_ses_may_write_incoming_mail_only_from_this_accounts_rule() -> None:
    res = template()["Resources"]
    [ses] = [
        s
        for s in res["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        if s["Sid"] == "SesStoresIncomingMail"
    ]
    assert ses["Principal"] == {"Service": "ses.amazonaws.com"} and ses["Action"] == "s3:PutObject"
    assert ses["Resource"] == {"Sub": "${DataBucket.Arn}/${CampaignId}/mail/incoming/*"}
    assert ses["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert "receipt-rule-set/huizong-${CampaignId}" in ses["Condition"]["ArnLike"]["aws:SourceArn"]["Sub"]


def test_the_receipt_rule_stores_mail_where_the_function_listens() -> None:
    res = template()["Resources"]
    rule = res["IncomingMailRule"]
    assert rule["DependsOn"] == "DataBucketPolicy" and rule["Condition"] == "ReceivesMail"
    [action] = rule["Properties"]["Rule"]["Actions"]
    prefix = action["S3Action"]["ObjectKeyPrefix"]
    assert action["S3Action"]["BucketName"] == {"Ref": "DataBucket"}
    assert prefix == {"Sub": "${CampaignId}/mail/incoming/"}
    assert rule["Properties"]["RuleSetName"] == {"Ref": "IncomingMailRuleSet"}

    function = res["MailFunction"]["Properties"]
    pattern = function["Events"]["IncomingMail"]["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": prefix}]
    bucket = res["DataBucket"]["Properties"]["NotificationConfiguration"]
    assert bucket["If"][1] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    reads = [s for s in function["Policies"][0]["Statement"] if s["Sid"] == "ReadIncomingMail"]
    assert reads[0]["Resource"] == {"Sub": "${DataBucket.Arn}/${CampaignId}/mail/incoming/*"}


def test_raw_incoming_mail_expires_after_a_parameterised_number_of_days() -> None:
    doc = template()
    days = doc["Parameters"]["IncomingMailRetentionDays"]
    assert days["Type"] == "Number" and days["Default"] == 90 and days["MinValue"] >= 1
    rules = doc["Resources"]["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [rule] = [r for r in rules if r["Id"] == "expire-incoming-mail"]
    assert rule["Status"] == "Enabled"
    # The same prefix SES writes to, and nothing wider: versions and the master are not touched.
    rule_action = doc["Resources"]["IncomingMailRule"]["Properties"]["Rule"]["Actions"][0]["S3Action"]
    assert rule["Prefix"] == rule_action["ObjectKeyPrefix"] == {"Sub": "${CampaignId}/mail/incoming/"}
    assert rule["ExpirationInDays"] == {"Ref": "IncomingMailRetentionDays"}
    # Versioned bucket: without expiring the noncurrent copy, the mail's bytes would stay.
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 1
