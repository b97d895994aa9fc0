"""infra/template.yaml, direct uploads (issue 14 §5, cloud): one prefix for units' browsers to post
evidence files to, named alike by the web form's environment, its role, the lifecycle rule and CORS."""

from __future__ import annotations

from typing import Any

from tests.helpers.sam import template

UPLOADS = {"Sub": "${CampaignId}/uploads/"}


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [st for policy in resource["Properties"].get("Policies", []) for st in policy.get("Statement", [])]


def test_only_the_web_form_may_touch_uploads_and_only_there() -> None:
    res = template()["Resources"]
    web = res["WebFormFunction"]
    assert web["Properties"]["Environment"]["Variables"]["HUIZONG_UPLOAD_PREFIX"] == UPLOADS
    [direct] = [st for st in _statements(web) if st.get("Sid") == "DirectUploads"]
    # PutObject: the browser's POST is signed with this role; Get/Delete: a save takes the object
    assert sorted(direct["Action"]) == ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]
    assert direct["Resource"] == {"Sub": "${DataBucket.Arn}/${CampaignId}/uploads/*"}
    for name, resource in res.items():
        if resource["Type"] != "AWS::Serverless::Function" or name == "WebFormFunction":
            continue
        assert "uploads" not in str(_statements(resource)), name
        assert "HUIZONG_UPLOAD_PREFIX" not in str(resource["Properties"].get("Environment")), name


def test_abandoned_uploads_expire_after_a_day_with_their_old_copies() -> None:
    rules = template()["Resources"]["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    [expire] = [r for r in rules if r["Id"] == "expire-abandoned-uploads"]
    assert expire["Status"] == "Enabled" and expire["Prefix"] == UPLOADS
    assert expire["ExpirationInDays"] == 1 and expire["NoncurrentVersionExpiration"]["NoncurrentDays"] == 1
    [markers] = [r for r in rules if r["Id"] == "remove-upload-delete-markers"]
    assert markers["Prefix"] == UPLOADS and markers["ExpiredObjectDeleteMarker"] is True


def test_the_bucket_answers_cors_for_posts_from_the_forms_origin_only() -> None:
    [rule] = template()["Resources"]["DataBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedMethods"] == ["POST"]
    origins = rule["AllowedOrigins"]
    assert origins[0] == {"Sub": "https://*.lambda-url.${AWS::Region}.on.aws"}
    custom = origins[1]["If"]
    assert custom[0] == "HasWebFormBaseUrl" and custom[2] == {"Ref": "AWS::NoValue"}
    assert "*" not in [str(o) for o in origins]
