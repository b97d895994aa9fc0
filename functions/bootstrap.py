"""The composition root: the one place that turns configuration into wired adapters."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from functions.config.loading import ConfigError, load_campaign, load_roster
from functions.ports import Intake, Mailer, Store
from schemas.campaign import Campaign
from schemas.i18n import t
from schemas.roster import Roster, RosterProblem

STORE_ENV = "HUIZONG_STORE"
SQLITE_NAME = "huizong.sqlite3"


@dataclass
class Paths:
    root: Path

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def reports(self) -> Path:
        return self.out / "reports"

    @property
    def master(self) -> Path:
        return self.out / "master.xlsx"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def templates(self) -> Path:
        return self.root / "templates"


@dataclass
class App:
    folder: Path
    campaign: Campaign
    roster: Roster
    roster_problems: list[RosterProblem]
    store: Store
    paths: Paths = field(init=False)
    _mailer: Mailer | None = None

    def __post_init__(self) -> None:
        self.paths = Paths(self.folder)

    @cached_property
    def intake(self) -> Intake:
        from functions.adapters.folder.intake import FolderIntake

        return FolderIntake(self.paths.inbox, self.campaign, self.roster)

    @property
    def mailer(self) -> Mailer:
        if self._mailer is None:
            from functions.adapters.mail.factory import build_mailer

            self._mailer = build_mailer(self.campaign.mail, self.folder, language=self.campaign.language)
        return self._mailer

    def use_mailer(self, mailer: Mailer) -> None:
        self._mailer = mailer


def open_store(folder: Path) -> Store:
    """HUIZONG_STORE chooses the store: unset or sqlite (DIR/huizong.sqlite3), or s3://bucket/prefix."""
    spec = os.environ.get(STORE_ENV, "sqlite")
    if spec == "sqlite":
        from functions.adapters.store.sqlite import SqliteStore

        return SqliteStore(folder / SQLITE_NAME)
    if spec.startswith("s3://"):
        from functions.adapters.store.s3 import S3Store

        bucket, _, prefix = spec.removeprefix("s3://").partition("/")
        return S3Store(bucket=bucket, prefix=prefix)
    raise ConfigError(
        [
            f"{STORE_ENV}={spec!r}: "
            + t(None, "只支持 sqlite 或 s3://bucket/prefix", "only sqlite or s3://bucket/prefix")
        ]
    )


def open_app(folder: Path, *, store: Store | None = None) -> App:
    folder = Path(folder)
    campaign = load_campaign(folder)
    roster, problems = load_roster(folder, campaign)
    return App(
        folder=folder,
        campaign=campaign,
        roster=roster,
        roster_problems=problems,
        store=store if store is not None else open_store(folder),
    )
