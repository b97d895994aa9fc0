"""The form page's file fields (functions/web/page_files.py): accept=, limits in words, issue placement."""

from __future__ import annotations

from functions.validate import codes
from functions.validate.messages import make_issue
from functions.web.page_files import accept_of, file_fields, limits_words, size_words
from schemas.attachments import AttachmentRef, AttachmentRule
from schemas.campaign import Campaign
from schemas.report import ValidationReport
from schemas.roster import Roster

MB = 1024 * 1024


def test_accept_lists_extensions_and_the_mime_types_phones_use_for_the_camera() -> None:
    photos = AttachmentRule(key="photos", types=["jpeg", "jpg", "HEIC"])
    assert accept_of(photos) == ".jpg,.jpeg,.heic,.heif,image/jpeg,image/heic"
    docs = AttachmentRule(key="doc", types=["docx", "wps"])
    assert accept_of(docs) == ".docx,.wps"


def test_limits_in_words_in_both_languages() -> None:
    rule = AttachmentRule(key="photos", types=["jpg"], min=4, max=5, max_mb=20)
    assert (
        limits_words("zh", rule, 4 * MB) == "jpg；需 4–5 个，每个不超过 20 MB（每次保存上传合计不超过 4 MB）"
    )
    assert (
        limits_words("en", rule, 4 * MB)
        == "jpg; 4–5 files, each at most 20 MB (at most 4 MB uploaded per save)"
    )
    optional = AttachmentRule(key="case", types=["pdf"], max=3)
    assert "选填，最多 3 个" in limits_words("zh", optional, 64 * MB)
    assert size_words(1536 * 1024) == "1.5 MB" and size_words(10) == "1 KB"


def test_issues_go_to_the_field_of_their_file_or_rule(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    sha = "a" * 64
    kept = [AttachmentRef(rule="photos", sha256=sha, size=2048, kind="jpg", name="IMG_1.jpg")]
    bad_doc = make_issue(codes.BAD_ATTACHMENT_TYPE, "zh", value="evil.docx", found="jpg", allowed="docx")
    dup = make_issue(codes.DUPLICATE_PHOTO, "zh", value="IMG_1.jpg")
    typo = make_issue(
        codes.BAD_NUMBER, "zh", sheet="统计", column="参与总人次", value="很多", label="参与总人次"
    )
    missing = make_issue(codes.MISSING_ATTACHMENT, "zh", label="典型案例", minimum=1, count=0, types="pdf")
    report = ValidationReport(file="x", valid=False, errors=[bad_doc, typo, missing], warnings=[dup])
    fields = {
        f.key: f
        for f in file_fields(campaign, "summary", kept, report, {"evil.docx": "case_doc"}, max_upload=MB)
    }
    assert list(fields) == ["summary_doc", "case_doc", "photos", "video"]
    assert fields["photos"].multiple and not fields["summary_doc"].multiple
    assert [(k.name, k.size) for k in fields["photos"].kept] == [("IMG_1.jpg", "2 KB")]
    assert fields["photos"].issues == [dup]  # by the kept file's name
    assert fields["case_doc"].issues == [bad_doc, missing]  # by its upload field; by the rule's label
    assert not fields["summary_doc"].issues and not fields["video"].issues  # a table's issue is not here
    assert file_fields(campaign, "plan", [], None, {}, max_upload=MB)[0].key == "plan_doc"
