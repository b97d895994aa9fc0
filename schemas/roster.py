"""The roster: every unit expected to report (units.csv / units.xlsx)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

ROSTER_HEADERS: tuple[str, ...] = ("单位编码", "单位名称", "单位类型", "所属镇街", "联系人", "邮箱", "电话")


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


class Roster(BaseModel):
    units: list[Unit]
    _by_code: dict[str, Unit] = PrivateAttr(default_factory=dict)
    _by_name: dict[str, Unit] = PrivateAttr(default_factory=dict)

    def model_post_init(self, _context: object) -> None:
        self._by_code = {u.code: u for u in self.units}
        self._by_name = {u.name: u for u in self.units}

    def by_code(self) -> dict[str, Unit]:
        return self._by_code

    def get(self, code: str) -> Unit | None:
        return self._by_code.get(code)

    def find_by_name(self, name: str) -> Unit | None:
        return self._by_name.get(name.strip())

    def find_by_email(self, email: str) -> Unit | None:
        email = email.strip().lower()
        for u in self.units:
            if email in (e.lower() for e in u.emails):
                return u
        return None
