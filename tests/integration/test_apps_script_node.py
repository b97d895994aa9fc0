"""infra/apps_script/Code.gs under node (test_apps_script_signing.js beside it), checked against the Python side.

The script builds a form from the real `huizong google form-spec` output, submits a response through its
onFormSubmit trigger and prints what it sent; here the signatures are verified with
functions/services/intake/signature.py, the bodies parsed as FormResponsePayload and ingested as a version.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from functions.bootstrap import open_app
from functions.services.google.form_spec import form_spec_command_output
from functions.services.intake.form_responses import ingest_form_response
from functions.services.intake.signature import verify
from schemas.webhook import FormResponsePayload
from tests.helpers.campaigns import EXTRA_FIELDS_YAML, GOOGLE_YAML, customise
from tests.helpers.paths import DATA, ROOT

CODE_GS = ROOT / "infra" / "apps_script" / "Code.gs"
SCRIPT = Path(__file__).resolve().parent / "test_apps_script_signing.js"
VECTOR_PATH = DATA / "signature_vector.json"
VECTOR = json.loads(VECTOR_PATH.read_text(encoding="utf-8"))
NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed")

VALUES: dict[str, str | list[str]] = {
    "total_sessions": "12",
    "total_participants": "3000",
    "filled_by": "李老师",
    "phone": "0519-86311234",
    "summary_url": "https://example.org/总结.docx",
    "photo_count": "8",
    "activity_forms": ["线下", "线上线下结合"],
    "report_date": "2022-12-08",
}
# What each validation kind must become in the form (TextValidationBuilder method and arguments).
RULES = {
    "whole_number": lambda v: ("requireWholeNumber", []),
    "regex": lambda v: ("requireTextMatchesPattern", [v["pattern"]]),
    "url": lambda v: ("requireTextMatchesPattern", [v["pattern"]]),
    "max_length": lambda v: ("requireTextLengthLessThanOrEqualTo", [v["max_length"]]),
}


@pytest.fixture
def run_script(wujin_dir: Path, tmp_path: Path) -> dict[str, Any]:
    assert NODE is not None
    folder = customise(wujin_dir, GOOGLE_YAML, EXTRA_FIELDS_YAML)
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(form_spec_command_output(folder, None), encoding="utf-8")
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    app = open_app(folder)
    unit = next(u for u in app.roster.units if u.type == "镇（街道）社区教育中心")
    answers: dict[str, Any] = {}
    for q in spec["questions"]:
        if q["role"] == "unit_code":
            answers[q["title"]] = unit.code
        elif q["field"] in VALUES:
            answers[q["title"]] = VALUES[q["field"]]
    response_path = tmp_path / "response.json"
    response = {"respondent_email": unit.emails[0], "answers": answers}
    response_path.write_text(json.dumps(response, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run(
        [NODE, str(SCRIPT), str(CODE_GS), str(VECTOR_PATH), str(spec_path), str(response_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return {"out": json.loads(out.stdout), "spec": spec, "app": app, "unit": unit, "answers": answers}


def test_signing_matches_the_shared_vector(run_script: dict[str, Any]) -> None:
    out = run_script["out"]
    assert out["vector_header"] == VECTOR["header"]
    t = verify(
        VECTOR["secret"].encode(), VECTOR["body"].encode(), out["vector_header"], now=VECTOR["timestamp"]
    )
    assert t == VECTOR["timestamp"]
    # Non-ASCII is sent as \u escapes, so the signed bytes do not depend on UrlFetchApp's charset.
    assert out["ascii"].isascii() and json.loads(out["ascii"]) == {"name": "武进", "n": 1, "emoji": "😀"}


def test_the_form_is_built_from_the_form_spec_output(run_script: dict[str, Any]) -> None:
    spec, items = run_script["spec"], run_script["out"]["form_items"]
    assert [i["title"] for i in items] == [q["title"] for q in spec["questions"]]
    for item, q in zip(items, spec["questions"], strict=True):
        assert (item["type"], item["required"], item["help_text"]) == (
            q["type"],
            q["required"],
            q["help_text"],
        )
        assert item["choices"] == (q["choices"] or None)
        if q["validation"] is None:
            assert item["validation"] is None, q["title"]
            continue
        rule, args = RULES[q["validation"]["kind"]](q["validation"])
        assert (item["validation"]["rule"], item["validation"]["args"]) == (rule, args), q["title"]
        assert item["validation"]["help_text"] == q["validation"]["help_text"]


def test_every_delivery_is_signed_and_becomes_one_version(run_script: dict[str, Any]) -> None:
    out, app, unit = run_script["out"], run_script["app"], run_script["unit"]
    secret = VECTOR["secret"].encode()
    deliveries = out["deliveries"]
    # R-OK: 503, network error, 429, 200; R-401: refused; R-SLOW: four 503s, then 200 from retryFailed();
    # R-401 once more after requeueFailed().
    assert out["statuses"] == ["503", "network-error", "429", "200", "401", *["503"] * 4, "200", "200"]
    assert len(deliveries) == len(out["statuses"])
    payloads = []
    for d in deliveries:
        body = d["body"].encode("ascii")
        assert verify(secret, body, d["signature"], now=d["at"]) == d["at"]
        payloads.append(FormResponsePayload.model_validate_json(body))
    assert [p.response_id for p in payloads] == ["R-OK"] * 4 + ["R-401"] + ["R-SLOW"] * 5 + ["R-401"]

    first = payloads[0]
    assert (first.campaign_id, first.deliverable, first.respondent_email) == (
        "wujin-2022",
        "summary",
        unit.emails[0],
    )
    assert {a.title: a.value for a in first.answers} == run_script["answers"]

    for p, d in zip(payloads[:4], deliveries[:4], strict=True):
        now = dt.datetime.fromtimestamp(d["at"], dt.UTC)
        result = ingest_form_response(app, p, now=now)
        assert result.unit == unit.code and result.stored
    [version] = app.store.history(unit.code, "summary")
    materials = version.tables["summary_materials"][0]
    assert materials["activity_forms"] == ["线下", "线上线下结合"]
    assert materials["report_date"] == dt.date(2022, 12, 8)
    assert version.tables["statistics"][0]["phone"] == "0519-86311234"
    assert version.report.valid, version.report.errors
