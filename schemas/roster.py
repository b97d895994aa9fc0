"""The roster: every unit expected to report (units.csv / units.xlsx)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

ROSTER_HEADERS: tuple[str, ...] = ("单位编码", "单位名称", "单位类型", "所属镇街", "联系人", "邮箱", "电话")
# The area column (4th) as notices name it: a district's towns, a city's districts, a province's
# counties, a city's zones. Any of them is read as Unit.area; outputs use the campaign's area_label.
AREA_HEADERS: tuple[str, ...] = ("所属镇街", "所属区", "所属县（市、区）", "所属片区")
AREA_COLUMN = ROSTER_HEADERS.index("所属镇街")


def roster_header_ok(header: tuple[str, ...]) -> bool:
    """The roster's header row, with any of AREA_HEADERS in the area column (a half-width （） too)."""
    if len(header) != len(ROSTER_HEADERS):
        return False
    area = header[AREA_COLUMN].replace("(", "（").replace(")", "）").replace(",", "、").replace("，", "、")
    rest_ok = all(
        h == w for i, (h, w) in enumerate(zip(header, ROSTER_HEADERS, strict=True)) if i != AREA_COLUMN
    )
    return rest_ok and area in AREA_HEADERS


# A unit code names files (out/reports/<code>-<deliverable>.txt, templates), S3 keys and store records
# (`file-seen` keeps `<code>/<deliverable>`), so it is limited to characters that are safe in all of
# them: letters (Chinese included), digits, `-`, `_` and `.` inside; it cannot start with `.` or `-`
# (no `..`, no hidden files, no option-like names) nor end with `.` (Windows drops a trailing dot).
UNIT_CODE_MAX = 40
_CODE_CHAR = r"0-9A-Za-z\u4e00-\u9fff"
UNIT_CODE_PATTERN = rf"^[{_CODE_CHAR}](?:[{_CODE_CHAR}._-]{{0,{UNIT_CODE_MAX - 2}}}[{_CODE_CHAR}_-])?\Z"


def normalise_text(text: str) -> str:
    """One line of plain text: control characters (CR, LF, tab, zero-width…) become spaces and runs of
    spaces one. A roster cell ends up in mail headers and one-line outputs, where a line break either
    raises (after a receipt was claimed) or fakes a line."""
    spaced = "".join(" " if ch.isspace() or unicodedata.category(ch).startswith("C") else ch for ch in text)
    return " ".join(spaced.split())


class Unit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: str
    area: str = ""
    contact: str = ""
    emails: tuple[str, ...] = ()
    phone: str = ""


class RosterProblem(BaseModel):
    line: int
    code: str
    message: str


_T = TypeVar("_T")


class Roster(BaseModel):
    units: list[Unit]
    _by_code: dict[str, Unit] = PrivateAttr(default_factory=dict)
    _by_name: dict[str, Unit] = PrivateAttr(default_factory=dict)
    # Lower-cased address -> the first unit listing it: a form response's respondent is looked up, not
    # searched for among every unit.
    _by_email: dict[str, Unit] = PrivateAttr(default_factory=dict)
    # What other layers work out once per roster (the identity check's index of names and phones, the
    # peer statistics' type fingerprint): kept with the roster it came from, by `derived`.
    _derived: dict[str, tuple[list[Unit], int, Any]] = PrivateAttr(default_factory=dict)

    def model_post_init(self, _context: object) -> None:
        self._by_code = {u.code: u for u in self.units}
        self._by_name = {u.name: u for u in self.units}
        for u in self.units:
            for e in u.emails:
                self._by_email.setdefault(e.lower(), u)

    def derived(self, key: str, build: Callable[[], _T]) -> _T:
        """`build()` once per roster and kept with it; built again should its units list be replaced or
        grown (rosters are built once per campaign load, but nothing stops a caller)."""
        held = self._derived.get(key)
        if held is None or held[0] is not self.units or held[1] != len(self.units):
            held = (self.units, len(self.units), build())
            self._derived[key] = held
        value: _T = held[2]
        return value

    def by_code(self) -> dict[str, Unit]:
        return self._by_code

    def get(self, code: str) -> Unit | None:
        return self._by_code.get(code)

    def find_by_name(self, name: str) -> Unit | None:
        return self._by_name.get(normalise_text(name))

    def find_by_email(self, email: str) -> Unit | None:
        return self._by_email.get(email.strip().lower())
