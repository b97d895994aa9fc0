"""What a use case is given: the campaign, its roster and the adapters wired for this profile.

Plain data typed by ports. functions/bootstrap.py (the composition root) builds it for the local folder,
`huizong serve` and the Lambda functions; services read what they need from it and never build an adapter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from functions.ports import (
    ArtifactStore,
    GoogleConnector,
    Intake,
    Mailbox,
    Mailer,
    MasterWriter,
    Store,
    UploadTarget,
    WorkbookReader,
)
from schemas.campaign import Campaign
from schemas.roster import Roster, RosterProblem


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
    intake: Intake
    read_workbook: WorkbookReader
    write_master: MasterWriter
    artifacts: ArtifactStore
    # The transport is built on first use, by the factory the composition root chose: a command that
    # sends nothing (validate, status) must not fail on a mail setting it does not need.
    mailer_factory: Callable[[], Mailer]
    # None when the campaign has no google section.
    google: GoogleConnector | None = None
    # The units' mailbox (issue 16), opened on use; None when campaign.yaml has no mail_intake host.
    mailbox_factory: Callable[[], Mailbox] | None = None
    # The web form links' secret when the deployment keeps it outside the store (SSM on AWS); None:
    # the store's meta (functions/services/web/links.campaign_secret).
    link_secret: Callable[[], bytes] | None = None
    # The master's key in `artifacts`: out/master.xlsx locally; on AWS <campaign>/out/master.xlsx or
    # HUIZONG_MASTER_KEY (Settings.master_key_for). The consolidation puts it there, the console reads it.
    master_key: str = "master.xlsx"
    # Where a browser uploads evidence files itself (presigned S3 POST; issue 14 §5). Only the cloud
    # profile has one: a Lambda request is capped at 6 MB. None: the web form's own multipart post.
    uploads: UploadTarget | None = None
    paths: Paths = field(init=False)
    _mailer: Mailer | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.paths = Paths(self.folder)

    @property
    def mailer(self) -> Mailer:
        if self._mailer is None:
            self._mailer = self.mailer_factory()
        return self._mailer

    def use_mailer(self, mailer: Mailer) -> None:
        self._mailer = mailer
