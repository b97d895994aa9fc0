"""Direct uploads (issue 14 §5, cloud) without a browser or a bucket: the session's key prefix, what a
presign request is refused for, which keys a save may name, and taking the objects into the one evidence
entry — on the wujin-2022 example with the issue's attachment rules, an in-memory UploadTarget
(tests/fakes/uploads.py) and the SQLite store in tmp_path.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from functions.bootstrap import App, open_app
from functions.services.intake.attachments import incoming
from functions.services.web.direct_upload import (
    PendingUpload,
    UploadRefused,
    UploadRequest,
    check_upload_keys,
    pending_uploads,
    presign_upload,
    session_prefix,
    take_uploads,
)
from functions.services.web.form_files import files_for_save
from functions.services.web.form_intake import save_form
from functions.services.web.links import TokenClaims
from functions.validate import codes
from functions.web.app import CSP, csp_with_uploads
from functions.web.page_files import limits_words
from tests.fakes.uploads import FakeUploadTarget
from tests.helpers.evidence import docx, jpeg, with_issue_rules

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 12, 9, 10, 0, tzinfo=TZ)
IN_WEEK = dt.datetime(2022, 12, 3, 9, 30)
SECRET = b"s" * 32
UNIT = "WJ015"


def claims(n: str = "session-one", unit: str = UNIT, deliverable: str = "summary") -> TokenClaims:
    return TokenClaims(c="wujin-2022", u=unit, d=deliverable, e=2_000_000_000, k="kid", n=n)


@pytest.fixture
def app(wujin_dir: Path) -> App:
    with_issue_rules(wujin_dir)
    return open_app(wujin_dir)


def ask(
    rule: str = "photos", size: int = 1000, pending: int = 0, name: str = "IMG_0001.jpg"
) -> UploadRequest:
    return UploadRequest(csrf="x", rule=rule, name=name, size=size, type="image/jpeg", pending=pending)


# -- the session's prefix ------------------------------------------------------------------------------


def test_each_session_unit_and_deliverable_has_its_own_unguessable_prefix() -> None:
    mine = session_prefix(SECRET, claims())
    assert re.fullmatch(r"[0-9a-f]{24}/", mine) and mine == session_prefix(SECRET, claims())
    others = {
        session_prefix(SECRET, claims(n="session-two")),
        session_prefix(SECRET, claims(unit="WJ009")),
        session_prefix(SECRET, claims(deliverable="plan")),
        session_prefix(b"t" * 32, claims()),  # a rotated secret
    }
    assert mine not in others and len(others) == 4
    # nothing of the session in clear: the random id does not appear in the key
    assert "session-one" not in mine and UNIT not in mine


# -- asking for a presigned POST ---------------------------------------------------------------------------


def test_a_presign_is_signed_under_the_session_prefix_with_the_rules_size(app: App) -> None:
    target = FakeUploadTarget()
    prefix = session_prefix(SECRET, claims())
    signed = presign_upload(app, target, unit=UNIT, deliverable="summary", prefix=prefix, request=ask())
    assert signed.key.startswith(prefix) and signed.key != prefix
    rule = next(r for r in app.campaign.deliverable("summary").attachments if r.key == "photos")
    assert [(s.key, s.max_bytes, s.content_type) for s in target.signed] == [
        (signed.key, rule.max_bytes, "image/jpeg")
    ]
    # two presigns never share a key
    again = presign_upload(app, target, unit=UNIT, deliverable="summary", prefix=prefix, request=ask())
    assert again.key != signed.key


@pytest.mark.parametrize(
    ("request_", "status", "words"),
    [
        (ask(rule="no_such_rule"), 400, "没有这个上传项"),
        (ask(size=0), 400, "是空的"),
        (ask(size=21 * 1024 * 1024), 413, "超过“活动照片”的上限 20 MB"),
        (ask(pending=5), 409, "“活动照片”最多 5 个文件"),
        (ask(rule="plan_doc", name="方案.docx", pending=1), 409, "“工作方案”最多 1 个文件"),
    ],
)
def test_a_presign_the_rules_would_refuse_is_refused_in_the_units_words(
    app: App, request_: UploadRequest, status: int, words: str
) -> None:
    target = FakeUploadTarget()
    with pytest.raises(UploadRefused) as refused:
        presign_upload(
            app, target, unit=UNIT, deliverable="summary", prefix="wujin-2022/p/", request=request_
        )
    assert refused.value.status == status and words in refused.value.message
    assert target.signed == []  # nothing signed, so nothing can be uploaded


def test_files_already_kept_count_against_the_rule(app: App) -> None:
    unit = app.roster.get(UNIT)
    assert unit is not None
    photos = [(f"IMG_{n}.jpg", jpeg(f"kept {n}", IN_WEEK)) for n in range(4)]
    files = files_for_save(app, UNIT, "summary", [], set())
    save_form(app, unit, "summary", {}, submit=False, now=NOW, link="x", files=[*files, *incoming(photos)])
    target = FakeUploadTarget()
    # four kept + this one = five: allowed; four kept + one unsaved + this one: refused
    presign_upload(app, target, unit=UNIT, deliverable="summary", prefix="wujin-2022/p/", request=ask())
    with pytest.raises(UploadRefused, match="本表已有 5 个"):
        presign_upload(
            app, target, unit=UNIT, deliverable="summary", prefix="wujin-2022/p/", request=ask(pending=1)
        )


# -- what a save may name --------------------------------------------------------------------------------


def test_a_save_names_uploads_by_rule_with_their_names_and_ignores_other_fields() -> None:
    items = [
        ("upload.photos", "wujin-2022/aaaa/key-one"),
        ("upload-name.wujin-2022/aaaa/key-one", "IMG_0001.jpg"),
        ("upload.photos", "wujin-2022/aaaa/key-one"),  # the same key twice is one upload
        ("upload.not_a_rule", "wujin-2022/aaaa/key-two"),
        ("upload.plan_doc", "wujin-2022/aaaa/key-three"),
        ("upload.photos", ""),
        ("statistics.total_sessions", "12"),
    ]
    assert pending_uploads(items, {"photos", "plan_doc"}) == [
        PendingUpload("photos", "wujin-2022/aaaa/key-one", "IMG_0001.jpg"),
        PendingUpload("plan_doc", "wujin-2022/aaaa/key-three", ""),
    ]


@pytest.mark.parametrize(
    "key",
    [
        "OTHER_SESSION",  # replaced below by a real key of another session
        "OTHER_UNIT",
        "../../wujin-2022/store/versions.json",
        "/etc/passwd",
        "PREFIX../x",
        "PREFIXabc/../../other",
        "PREFIX" + "a" * 10,  # too short to be a key the target made
    ],
)
def test_a_key_not_of_this_session_refuses_the_save(key: str) -> None:
    prefix = session_prefix(SECRET, claims())
    key = (
        key.replace("OTHER_SESSION", session_prefix(SECRET, claims(n="another")) + "A" * 22)
        .replace("OTHER_UNIT", session_prefix(SECRET, claims(unit="WJ009")) + "A" * 22)
        .replace("PREFIX", prefix)
    )
    with pytest.raises(UploadRefused) as refused:
        check_upload_keys([PendingUpload("photos", key, "x.jpg")], prefix, "zh")
    assert refused.value.status == 400 and "不属于本次打开的表单" in refused.value.message
    assert key not in refused.value.message  # never reflected


def test_keys_of_this_session_pass() -> None:
    prefix = session_prefix(SECRET, claims())
    check_upload_keys([PendingUpload("photos", prefix + "B" * 22, "x.jpg")], prefix, "zh")


# -- taking them ---------------------------------------------------------------------------------------


def test_a_save_takes_its_uploads_into_the_evidence_entry_and_the_objects_are_gone(app: App) -> None:
    unit = app.roster.get(UNIT)
    assert unit is not None
    target = FakeUploadTarget()
    prefix = session_prefix(SECRET, claims())
    pending: list[PendingUpload] = []
    for n in range(4):
        signed = presign_upload(
            app, target, unit=UNIT, deliverable="summary", prefix=prefix, request=ask(pending=n)
        )
        assert target.post(signed, jpeg(f"photo {n}", IN_WEEK)) == 204
        pending.append(PendingUpload("photos", signed.key, f"../IMG_{n}.jpg"))
    plan = presign_upload(
        app,
        target,
        unit=UNIT,
        deliverable="summary",
        prefix=prefix,
        request=ask(rule="plan_doc", name="方案.docx"),
    )
    assert target.post(plan, docx("工作方案")) == 204
    pending.append(PendingUpload("plan_doc", plan.key, "方案.docx"))

    check_upload_keys(pending, prefix, "zh")
    taken = take_uploads(target, pending, max_bytes=500 * 1024 * 1024, lang="zh")
    assert taken.issues == [] and target.objects == {}
    assert taken.where["IMG_0.jpg"] == "photos" and taken.where["方案.docx"] == "plan_doc"
    files = files_for_save(app, UNIT, "summary", taken.files, set())
    result = save_form(app, unit, "summary", {}, submit=False, now=NOW, link="x", files=files)

    refs = app.store.attachments(result.version.id) if result.version else []
    # the names are the units' own, made safe (no path); the rule is the evidence entry's classification
    assert sorted((r.rule, r.name) for r in refs) == [("photos", f"IMG_{n}.jpg") for n in range(4)] + [
        ("plan_doc", "方案.docx")
    ]
    assert app.store.get_blob(next(r.sha256 for r in refs if r.rule == "plan_doc")) == docx("工作方案")
    assert not [i for i in result.report.issues if i.code == "missing-attachment"]


def test_an_upload_that_is_not_there_is_reported_next_to_its_file(app: App) -> None:
    unit = app.roster.get(UNIT)
    assert unit is not None
    target = FakeUploadTarget()
    prefix = session_prefix(SECRET, claims())
    gone = PendingUpload("photos", prefix + "C" * 22, "IMG_0009.jpg")
    taken = take_uploads(target, [gone], max_bytes=1024, lang="zh")
    assert taken.files == [] and [i.code for i in taken.issues] == [codes.UPLOAD_NOT_RECEIVED.code]
    assert "IMG_0009.jpg" in taken.issues[0].message and "重新选择" in taken.issues[0].message
    result = save_form(
        app, unit, "summary", {}, submit=False, now=NOW, link="x", files=[], issues=taken.issues
    )
    assert codes.UPLOAD_NOT_RECEIVED.code in {i.code for i in result.report.errors}


def test_an_object_over_every_rules_size_reaches_the_check_by_its_size_only(app: App) -> None:
    """A store that does not enforce the policy (moto) or a policy got wrong: the bytes are not read, and
    the evidence entry reports the file as too large, not kept."""
    unit = app.roster.get(UNIT)
    assert unit is not None
    target = FakeUploadTarget()
    prefix = session_prefix(SECRET, claims())
    key = prefix + "D" * 22
    target.objects[key] = jpeg("big", IN_WEEK, extra=b"\0" * 4096)
    taken = take_uploads(target, [PendingUpload("photos", key, "big.jpg")], max_bytes=1024, lang="zh")
    assert [(f.name, f.data) for f in taken.files] == [("big.jpg", None)] and target.objects == {}
    result = save_form(app, unit, "summary", {}, submit=False, now=NOW, link="x", files=taken.files)
    assert "attachment-too-large" in {i.code for i in result.report.errors}
    assert result.version is not None and app.store.attachments(result.version.id) == []


# -- the page's words and headers --------------------------------------------------------------------------


def test_with_direct_uploads_the_page_states_only_the_per_file_size(app: App) -> None:
    rule = next(r for r in app.campaign.deliverable("summary").attachments if r.key == "photos")
    assert limits_words("zh", rule, None) == "jpg、png、heic；需 4–5 个，每个不超过 20 MB"
    assert "每次保存" in limits_words("zh", rule, 4 * 1024 * 1024)


def test_the_csp_lets_the_page_connect_to_the_upload_origin_only() -> None:
    csp = csp_with_uploads("https://bucket.s3.ap-southeast-1.amazonaws.com")
    assert "connect-src 'self' https://bucket.s3.ap-southeast-1.amazonaws.com;" in csp
    assert "form-action 'self'" in csp and "script-src 'self'" in csp
    assert "connect-src" not in CSP
