"""One command at a time per campaign folder: `ingest`, `run`, `consolidate`, `remind` and the jobs of
`huizong serve` take an exclusive lock on DIR/.huizong.lock for their whole run.

The store alone is safe to share, but a command is more than store writes: it lists the inbox, writes
reports and the master, then mails on what it read. Two cron runs, or a manual `ingest` during `serve`,
would interleave those steps (issue 11 §2.6). The lock is an advisory `flock`: the kernel drops it when
its process dies, so a killed run never leaves the folder locked. Where `flock` does not exist
(Windows) or the folder cannot hold the lock file (read-only), the command runs unlocked, as before.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = ".huizong.lock"
DEFAULT_WAIT_SECONDS = 600.0
WAIT_ENV = "HUIZONG_LOCK_WAIT"
_POLL_SECONDS = 0.2


class FolderBusy(Exception):
    """Another process kept the folder locked for longer than this one was willing to wait."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path}: held by {holder or 'another process'}")
        self.path = path
        self.holder = holder


def wait_seconds(env: dict[str, str] | None = None) -> float:
    """HUIZONG_LOCK_WAIT (seconds) or the default; a value that is not a number means the default."""
    raw = (os.environ if env is None else env).get(WAIT_ENV, "").strip()
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_WAIT_SECONDS
    except ValueError:
        return DEFAULT_WAIT_SECONDS


@contextlib.contextmanager
def folder_lock(
    folder: Path,
    *,
    what: str,
    wait: float = DEFAULT_WAIT_SECONDS,
    on_wait: Callable[[str], object] | None = None,
) -> Iterator[None]:
    """Hold DIR/.huizong.lock for the block; `on_wait(holder)` is called once if another process has it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no advisory locks, run as before
        yield
        return
    path = Path(folder) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        # A folder without write access: the command fails later with its own, clearer message, or
        # only reads; a missing lock must not be the error the person sees.
        yield
        return
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fd)
                if not told and on_wait is not None:
                    on_wait(holder)
                    told = True
                if time.monotonic() >= deadline:
                    raise FolderBusy(path, holder) from None
                time.sleep(_POLL_SECONDS)
        # Who holds it, for the message a waiting process shows (the lock is the flock, not this text).
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({what})".encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""
