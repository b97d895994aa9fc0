"""Each validation code has one home (functions/validate/codes.py): the docs are generated from it, and
no other module spells a code out."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from functions.validate import codes
from functions.validate.codes import CODES, VARIANTS, IssueKind
from functions.validate.codes_doc import BEGIN, DOC, END, severities, table, updated
from functions.validate.messages import make_issue

ROOT = Path(__file__).resolve().parents[2]
# Where issues are emitted or their codes compared: the shipped code and the tools around it.
SOURCE_DIRS = ("functions", "schemas", "sheets_templates", "scripts", "bench")
REGISTRY = ROOT / "functions" / "validate" / "codes.py"
# The same word in another vocabulary: the webhook's refusal codes (RefusalCode) are not issue codes.
OTHER_VOCABULARIES = {("functions/services/intake/form_webhook.py", "too-large")}

ALL_KINDS: list[IssueKind] = [*CODES.values(), *VARIANTS]


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _code_literals(source: str) -> list[tuple[int, str]]:
    """Every string constant in `source` that is a registered code, with its line."""
    return [
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in CODES
    ]


def test_the_doc_table_is_the_registry_exactly() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert doc == updated(doc), "docs/validation.md is stale: run python -m functions.validate.codes_doc"
    documented = re.findall(r"^\| `([a-z-]+)` \| ([a-z-]+) \| ([a-z /]+) \|", doc, flags=re.M)
    assert [(c, k.level, severities(c)) for c, k in CODES.items()] == documented


def test_a_code_missing_from_the_doc_is_caught() -> None:
    doc = DOC.read_text(encoding="utf-8")
    without_outlier = "".join(
        line for line in doc.splitlines(keepends=True) if not line.startswith("| `outlier`")
    )
    assert without_outlier != doc and updated(without_outlier) == doc
    with pytest.raises(ValueError, match="markers"):
        updated(doc.replace(END, ""))
    assert doc.count(BEGIN) == 1 and table() in doc


def test_every_code_has_both_languages_and_a_description() -> None:
    for kind in ALL_KINDS:
        assert kind.severity in ("error", "warning")
        assert kind.message.zh and kind.message.en, kind
        assert kind.about.zh and kind.about.en, kind
        assert "\n" not in kind.about.zh + kind.about.en, f"{kind.code}: the description is one line"
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", kind.code)


def test_both_languages_use_the_same_placeholders() -> None:
    for kind in ALL_KINDS:
        name = f"{kind.code}/{kind.variant}"
        assert _placeholders(kind.message.zh) == _placeholders(kind.message.en), name
        for fragment_name, fragment in kind.fragments.items():
            assert _placeholders(fragment.zh) == _placeholders(fragment.en), f"{name}.{fragment_name}"
            assert fragment_name in _placeholders(kind.message.zh), f"{name}: {fragment_name} is never shown"


def test_variants_keep_their_codes_level_and_description() -> None:
    names = [(v.code, v.variant) for v in VARIANTS]
    assert len(names) == len(set(names))
    for variant in VARIANTS:
        own = CODES[variant.code]
        assert variant.variant and (variant.level, variant.about) == (own.level, own.about)


def test_a_variant_fills_the_codes_template_in_the_campaigns_language() -> None:
    zh = make_issue(codes.OUT_OF_WEEK_WITHIN_GRACE, "zh", date="2022-12-01", week_start="a", week_end="b")
    en = make_issue(codes.OUT_OF_WEEK_WITHIN_GRACE, "en", date="2022-12-01", week_start="a", week_end="b")
    beyond = make_issue(codes.OUT_OF_WEEK, "zh", date="2022-12-01", week_start="a", week_end="b")
    assert (zh.code, zh.severity, beyond.severity) == ("out-of-week", "warning", "error")
    assert zh.message == "活动日期 2022-12-01 不在活动周（a 至 b）内（在允许的前后几天内，请确认）。"
    assert (
        en.message
        == "Activity date 2022-12-01 is outside the week (a to b) (within the grace days; please confirm)."
    )
    assert beyond.message == "活动日期 2022-12-01 不在活动周（a 至 b）内。"
    # A value holding braces is shown as typed, not taken for a placeholder.
    odd = make_issue(codes.UNKNOWN_TEMPLATE_LACKS_COLUMNS, "en", sheet="{x}", labels="{missing}")
    assert odd.message.startswith("Not this campaign's template: '{x}' lacks columns: {missing}.")


def test_no_code_is_spelt_out_outside_the_registry() -> None:
    found = []
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == REGISTRY or ".venv" in path.parts:
                continue
            rel = path.relative_to(ROOT).as_posix()
            for line, value in _code_literals(path.read_text(encoding="utf-8")):
                if (rel, value) not in OTHER_VOCABULARIES:
                    found.append(f"{rel}:{line}: {value!r}")
    assert found == [], "use the constant from functions/validate/codes.py instead:\n" + "\n".join(found)


def test_the_literal_check_sees_a_code_in_a_call() -> None:
    assert _code_literals('make_issue("bad-date", lang)\nx = {"outlier"}') == [
        (1, "bad-date"),
        (2, "outlier"),
    ]
    assert _code_literals('"""bad-date in prose"""\nlabel = "bad"') == []


def test_every_kind_is_emitted_somewhere() -> None:
    """A registered code or variant that no module uses is a dead entry (or a check that was lost). A code
    whose variants carry every case (OUTLIER: per activity, per session) is used through them."""
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in SOURCE_DIRS
        for path in (ROOT / folder).rglob("*.py")
        if path != REGISTRY and ".venv" not in path.parts
    )
    constants = {name: value for name, value in vars(codes).items() if isinstance(value, IssueKind)}
    assert len(constants) == len(ALL_KINDS)
    used = {name for name in constants if re.search(rf"\b{name}\b", sources)}
    unused_variants = [name for name in constants if constants[name].variant and name not in used]
    unused_codes = [code for code in CODES if not any(constants[name].code == code for name in used)]
    assert (unused_variants, unused_codes) == ([], [])
