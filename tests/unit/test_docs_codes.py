"""Every issue code the validator can emit is documented, and every documented code exists."""

from __future__ import annotations

import re

from functions.validate.codes import CODES as MESSAGES
from tests.helpers.paths import ROOT

DOC = ROOT / "docs" / "validation.md"


def test_codes_and_docs_agree() -> None:
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", DOC.read_text(encoding="utf-8"), flags=re.M))
    assert documented == set(MESSAGES)
