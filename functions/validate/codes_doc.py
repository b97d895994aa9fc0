"""The table of codes in docs/validation.md, generated from the registry (functions/validate/codes.py).

``python -m functions.validate.codes_doc`` rewrites the table between its markers;
``python -m functions.validate.codes_doc --check`` exits 1 when the document is stale (a test does the
same, so a code added without documentation fails CI).
"""

from __future__ import annotations

import sys
from pathlib import Path

from functions.validate.codes import CODES, kinds_of
from schemas.report import Severity

DOC = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
BEGIN = "<!-- codes: generated from functions/validate/codes.py by python -m functions.validate.codes_doc -->"
END = "<!-- /codes -->"
_SEVERITY_ORDER: tuple[Severity, ...] = ("warning", "error")


def _cell(text: str) -> str:
    # A pipe would end the markdown cell early.
    return text.replace("|", "\\|")


def severities(code: str) -> str:
    """The severities the code is given with: "warning / error" when a variant differs from the code."""
    found = {kind.severity for kind in kinds_of(code)}
    return " / ".join(s for s in _SEVERITY_ORDER if s in found)


def table() -> str:
    lines = ["| code | level | severity | when | 说明 |", "|---|---|---|---|---|"]
    for code, kind in CODES.items():
        lines.append(
            f"| `{code}` | {kind.level} | {severities(code)} | {_cell(kind.about.en)} | {_cell(kind.about.zh)} |"
        )
    return "\n".join(lines)


def updated(doc: str) -> str:
    """`doc` with the generated table between the markers (which must be there, once each)."""
    head, begin, rest = doc.partition(BEGIN)
    _, end, tail = rest.partition(END)
    if not begin or not end:
        raise ValueError(f"{DOC.name} lacks the markers {BEGIN!r} and {END!r}")
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


def main(argv: list[str]) -> int:
    current = DOC.read_text(encoding="utf-8")
    wanted = updated(current)
    if "--check" in argv:
        if current != wanted:
            print(f"{DOC} is stale: run python -m functions.validate.codes_doc", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        DOC.write_text(wanted, encoding="utf-8")
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
