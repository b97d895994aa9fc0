"""A real Dovecot IMAP server on 127.0.0.1 for one test: throwaway configuration, passwd-file login,
maildir under a temp folder, a free port, no TLS (loopback only). Skips with the reason when Dovecot is
not installed (.ci/run installs it best effort).
"""

from __future__ import annotations

import contextlib
import getpass
import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.net import free_port

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "wjsqjy@example.org", "imapauthcode1234"  # qq/163 give a 16-letter 授权码 for IMAP


@dataclass
class RunningDovecot:
    host: str
    port: int
    root: Path

    def configure(self, folder: Path, monkeypatch: pytest.MonkeyPatch, **extra: object) -> None:
        """Point the campaign in `folder` at this server (plain IMAP on loopback, the password through
        TEST_IMAP_PASSWORD); `extra` adds mail_intake settings (e.g. timeout=10, reply=False)."""
        from tests.helpers.campaigns import customise

        settings: dict[str, object] = {
            "host": self.host, "port": self.port, "security": "none", "user": USER,
            "password_env": "TEST_IMAP_PASSWORD", **extra,
        }  # fmt: skip
        lines = "".join(
            f"  {key}: {str(v).lower() if isinstance(v, bool) else v}\n" for key, v in settings.items()
        )
        customise(folder, "\nmail_intake:\n" + lines)
        monkeypatch.setenv("TEST_IMAP_PASSWORD", PASSWORD)

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver a message as a mail server would (APPEND keeps its bytes exactly)."""
        imap = self.client()
        try:
            status, data = imap.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", data
        finally:
            imap.logout()

    def folder(self, name: str) -> list[tuple[bytes, bytes]]:
        """(flags, bytes) of every message of a folder, its name already in modified UTF-7."""
        imap = self.client()
        try:
            status, _ = imap.select(f'"{name}"', readonly=True)
            if status != "OK":
                return []
            _, data = imap.uid("SEARCH", "ALL")
            out = []
            for uid in data[0].split():
                _, got = imap.uid("FETCH", uid.decode(), "(FLAGS BODY.PEEK[])")
                head, body = got[0]  # type: ignore[misc]
                out.append((head, body))
            return out
        finally:
            imap.logout()


def _user_names() -> tuple[str, str]:
    """Our own user and group, for Dovecot's internal users where the package did not create them."""
    user = getpass.getuser()
    group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    return user, group


@contextlib.contextmanager
def running_dovecot(imap_capability: str = "+MOVE") -> Iterator[RunningDovecot]:
    """`imap_capability`: Dovecot's setting, e.g. a full list without MOVE and UIDPLUS for old servers."""
    if shutil.which(DOVECOT) is None:
        pytest.skip(f"Dovecot is not installed ({DOVECOT}); .ci/run installs dovecot-imapd best effort")
    # Not under pytest's tmp_path: its parents are private to the user running the tests (root in CI),
    # and Dovecot's own users must reach the sockets and the maildir.
    root = Path(tempfile.mkdtemp(prefix="huizong-dovecot-"))
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    user, group = _user_names()
    uid, gid = os.getuid(), os.getgid()
    if uid == 0:
        # Dovecot never stores mail as root (userdb uid 0 is refused): as root (CI), the mail belongs to
        # the system's `mail` user (or nobody), and the maildir is handed to it.
        owner = pwd.getpwnam("mail" if _exists("mail") else "nobody")
        uid, gid = owner.pw_uid, owner.pw_gid
        os.chown(root / "mail", uid, gid)
    # Dovecot's own unprivileged users exist where the package is installed; otherwise run as ourselves.
    internal = "dovecot" if _exists("dovecot") else user
    login = "dovenull" if _exists("dovenull") else user
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root / 'mail'}/%u\n")
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root / "run"}
state_dir = {root / "state"}
log_path = {root / "dovecot.log"}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
first_valid_gid = 0
default_internal_user = {internal}
default_internal_group = {internal if internal != user else group}
default_login_user = {login}
mail_location = maildir:{root / "mail"}/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root / "passwd"}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root / "mail"}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
protocol imap {{
  imap_capability = {imap_capability}
}}
"""
    )
    # The folders must be readable by Dovecot's own users (a tmp_path is private to root in CI).
    for path in (root, root / "run", root / "mail"):
        path.chmod(0o755)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        server = RunningDovecot("127.0.0.1", port, root)
        _wait_ready(server, process, root)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def _exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def _wait_ready(server: RunningDovecot, process: subprocess.Popen[bytes], root: Path) -> None:
    for _ in range(100):
        if process.poll() is not None:
            out = process.stdout.read().decode(errors="replace") if process.stdout else ""
            log = (
                (root / "dovecot.log").read_text(errors="replace") if (root / "dovecot.log").exists() else ""
            )
            pytest.fail(f"Dovecot did not start: {out}\n{log}")
        try:
            probe = imaplib.IMAP4(server.host, server.port, timeout=1)
            probe.logout()
            return
        except (OSError, imaplib.IMAP4.error):
            time.sleep(0.1)
    pytest.fail("Dovecot did not answer on 127.0.0.1 within 10 s")
