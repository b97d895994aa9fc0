"""Evidence files through the folder intake (issue 12 §4): a unit's sub-folder, hostile names, idempotence,
files that arrive before their workbook."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

from functions.app import App
from functions.bootstrap import open_app
from functions.services.intake.attachments import incoming
from functions.services.intake.ingest import ingest_raw
from functions.services.intake.ingest_folder import ingest_all
from functions.services.intake.unread import unread_files
from tests.helpers.evidence import docx, jpeg, with_issue_rules
from tests.helpers.workbooks import school_plan, summary_entries, unit_of_type, write_workbook


def _now(app: App) -> dt.datetime:
    return dt.datetime.combine(app.campaign.deliverable("summary").due, dt.time(12), tzinfo=app.campaign.tz)


def _in_week(app: App, hour: int) -> dt.datetime:
    return dt.datetime.combine(app.campaign.week.start, dt.time(hour))


def test_a_unit_folder_becomes_one_submission_with_its_files(wujin_dir: Path) -> None:
    app = open_app(with_issue_rules(wujin_dir))
    school = unit_of_type(app.roster, "中小学")
    folder = app.paths.inbox / "第二批" / school.code
    write_workbook(folder / "总结.xlsx", app.campaign, "summary", school, summary_entries())
    (folder / "活动方案.docx").write_bytes(docx("工作方案"))
    photos = [jpeg(f"p{i}", _in_week(app, 9 + i)) for i in range(5)]
    # Names no path may ever be made of: control characters, a newline, dots, 250 bytes of name.
    names = ["a\x01b.jpg", "换\n行.jpg", "..jpg", "长" * 80 + ".jpg", "普通.JPG"]
    for name, data in zip(names, photos, strict=True):
        (folder / name).write_bytes(data)

    (outcome,) = ingest_all(app, now=_now(app))
    assert outcome.stored and outcome.unit == school.code and outcome.deliverable == "summary"
    version = app.store.latest(school.code, "summary")
    assert version is not None
    refs = app.store.attachments(version.id)
    assert sorted(r.rule for r in refs) == ["photos"] * 5 + ["plan_doc"]
    for ref in refs:
        assert "/" not in ref.name and "\n" not in ref.name and "\x01" not in ref.name
        assert len(ref.name) <= 120 and not ref.name.startswith(".")
        assert hashlib.sha256(app.store.get_blob(ref.sha256) or b"").hexdigest() == ref.sha256
    # 照片张数 typed 6, five photos came: the counted figure is stored, the difference a warning.
    assert version.tables["summary_materials"][0]["photo_count"] == 5
    assert [w.code for w in version.report.warnings] == ["photo-count-differs"]
    assert version.report.valid

    # Seen twice changes nothing; a new process sees the same.
    again = ingest_all(open_app(wujin_dir), now=_now(app))
    assert [(o.stored, o.note) for o in again] == [(False, "unchanged")]
    assert [v.seq for v in app.store.history(school.code, "summary")] == [1]


def test_files_before_their_workbook_wait_and_then_come_with_it(wujin_dir: Path) -> None:
    app = open_app(with_issue_rules(wujin_dir))
    school = unit_of_type(app.roster, "中小学", 1)
    folder = app.paths.inbox / school.name  # by name this time
    folder.mkdir(parents=True)
    (folder / "方案.docx").write_bytes(docx("方案"))
    for i in range(4):
        (folder / f"{i}.jpg").write_bytes(jpeg(f"q{i}", _in_week(app, 8 + i)))

    (waiting,) = ingest_all(app, now=_now(app))
    assert waiting.note == "no-workbook" and waiting.unit == school.code and not waiting.stored
    assert waiting.report is not None and waiting.report.errors[0].code == "attachments-without-workbook"
    recorded = unread_files(app.store)
    assert len(recorded) == 5 and {r.unit for r in recorded} == {school.code}
    assert app.store.latest(school.code, "summary") is None

    write_workbook(
        folder / "总结.xlsx",
        app.campaign,
        "summary",
        school,
        summary_entries(),
    )
    (outcome,) = ingest_all(app, now=_now(app))
    assert outcome.stored
    version = app.store.latest(school.code, "summary")
    assert version is not None and len(app.store.attachments(version.id)) == 5
    assert unread_files(app.store) == []  # attached now, no longer waiting


def test_a_new_photo_next_to_a_stored_workbook_makes_a_new_version(wujin_dir: Path) -> None:
    app = open_app(with_issue_rules(wujin_dir))
    school = unit_of_type(app.roster, "中小学", 2)
    folder = app.paths.inbox / school.code
    write_workbook(folder / "总结.xlsx", app.campaign, "summary", school, summary_entries())
    (first,) = ingest_all(app, now=_now(app))
    assert first.stored  # the workbook alone: missing-attachment errors, but stored
    version = app.store.latest(school.code, "summary")
    assert version is not None and {e.code for e in version.report.errors} == {"missing-attachment"}

    (folder / "方案.docx").write_bytes(docx("方案"))
    for i in range(5):  # five: the example's photo_minimum, which the counted photos now meet
        (folder / f"{i}.jpg").write_bytes(jpeg(f"r{i}", _in_week(app, 8 + i)))
    (second,) = ingest_all(app, now=_now(app))
    assert second.stored and second.seq == 2 and second.valid


def test_links_and_other_folders_are_not_read_as_evidence(wujin_dir: Path, tmp_path: Path) -> None:
    app = open_app(with_issue_rules(wujin_dir))
    school = unit_of_type(app.roster, "中小学")
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(jpeg("outside the inbox", _in_week(app, 9)))
    folder = app.paths.inbox / school.code
    write_workbook(folder / "总结.xlsx", app.campaign, "summary", school, summary_entries())
    (folder / "link.jpg").symlink_to(secret)
    (outcome,) = ingest_all(app, now=_now(app))
    version = app.store.latest(school.code, "summary")
    assert outcome.stored and version is not None and app.store.attachments(version.id) == []
    assert app.store.units_with_blob(hashlib.sha256(secret.read_bytes()).hexdigest()) == set()


def test_one_folder_with_both_workbooks_gives_each_its_own_files(wujin_dir: Path) -> None:
    # The example's own rules: plan takes a 工作方案; summary a 工作总结, cases, photos, a video.
    app = open_app(wujin_dir)
    school = unit_of_type(app.roster, "中小学", 3)
    folder = app.paths.inbox / school.code
    write_workbook(folder / "方案.xlsx", app.campaign, "plan", school, school_plan(app.campaign, school))
    summary = summary_entries()
    summary["summary_materials"][0]["photo_count"] = 5
    write_workbook(folder / "总结.xlsx", app.campaign, "summary", school, summary)
    (folder / "活动周工作方案.docx").write_bytes(docx("方案"))
    (folder / "活动周工作总结.docx").write_bytes(docx("总结"))
    for i in range(5):
        (folder / f"IMG_{i}.jpg").write_bytes(jpeg(f"s{i}", _in_week(app, 8 + i)))

    outcomes = ingest_all(app, now=_now(app))
    assert sorted((o.deliverable, o.stored) for o in outcomes) == [("plan", True), ("summary", True)]
    refs = {}
    for deliverable in ("plan", "summary"):
        version = app.store.latest(school.code, deliverable)
        assert version is not None
        assert not [i for i in version.report.issues if "attachment" in i.code], version.report.issues
        refs[deliverable] = sorted((r.rule, r.name) for r in app.store.attachments(version.id))
    assert refs["plan"] == [("plan_doc", "活动周工作方案.docx")]
    assert refs["summary"] == [("photos", f"IMG_{i}.jpg") for i in range(5)] + [
        ("summary_doc", "活动周工作总结.docx")
    ]


def test_any_channel_hands_files_as_name_and_bytes(wujin_dir: Path, tmp_path: Path) -> None:
    # What the web upload and mail intake will do: the same entry, names from strangers.
    app = open_app(with_issue_rules(wujin_dir))
    school = unit_of_type(app.roster, "中小学", 4)
    book = write_workbook(tmp_path / "总结.xlsx", app.campaign, "summary", school, summary_entries())
    raw = app.read_workbook(book, app.campaign, app.roster)
    files = incoming(
        [("/etc/工作方案.docx", docx("方案"))]
        + [(f"../../../tmp/evil{i}\r\n.jpg", jpeg(f"w{i}", _in_week(app, 9 + i))) for i in range(5)]
    )
    outcome = ingest_raw(app, raw, received_at=_now(app), now=_now(app), files=files)
    assert outcome.stored and outcome.valid
    version = app.store.latest(school.code, "summary")
    assert version is not None
    names = sorted(r.name for r in app.store.attachments(version.id))
    assert names == [f"evil{i} .jpg" for i in range(5)] + ["工作方案.docx"]
    assert not (tmp_path / "evil0 .jpg").exists() and not Path("/tmp/evil0\r\n.jpg").exists()
