"""One crawl at a time per dataset: an exclusive lock on a file of the crawl's state folder.

Two crawls into one dataset in embedded mode would be safe for the data (each commits its own
files) but would fetch everything twice: the second one waits for the first, or gives up at
once. The lock is ``fcntl.flock`` on ``STATE_DIR/crawl.lock``; the kernel releases it when its
holder dies, however it dies, and the file names the holder (host, pid, start time) for the
message of the crawl that finds it held and for the log line of the crawl that takes over from
a dead one.

``scrapy compact`` holds another lock, ``STATE_DIR/compact.lock``, while it runs (it runs
beside crawls): a crawl that finds it free may finish the compactions that died
(:mod:`dataset.leftovers`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

from dataset.layout import host_name

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from types import TracebackType

LOCK_FILE = "crawl.lock"
COMPACT_LOCK_FILE = "compact.lock"
"""The lock of the compactions of a state folder (``scrapy compact`` holds it while it runs)."""
POLL_SECONDS = 1.0
"""How often a crawl that waits for the lock tries again."""


@dataclass(frozen=True)
class Holder:
    """Who holds (or held) the lock."""

    host: str
    pid: int
    started_at: str
    """ISO 8601, UTC."""

    def __str__(self) -> str:
        return f"host {self.host}, pid {self.pid}, since {self.started_at}"


class LockBusy(RuntimeError):
    """Another live crawl holds the lock (``holder``, when its file says who)."""

    def __init__(self, folder: Path, holder: Holder | None) -> None:
        who = f" ({holder})" if holder else ""
        super().__init__(f"another crawl holds the dataset of {folder}{who}")
        self.holder = holder


class RunLock:
    """The lock of one state folder; a context manager (``with RunLock(folder).held(...)``)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self._fd: int | None = None
        self.taken_over: Holder | None = None
        """The dead crawl whose lock this one took over, if any (for the log)."""

    def holder(self) -> Holder | None:
        """Who the lock file names (the holder, or the last one), or ``None``."""
        try:
            return Holder(**json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def acquire(self, *, wait: float = 0.0) -> None:
        """Take the lock, waiting up to ``wait`` seconds for its holder to end; raises
        :class:`LockBusy` when it is still held then."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)  # as the umask says
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockBusy(self.path.parent, self.holder()) from None
                time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))
        previous = self.holder()
        if previous is not None and previous.pid != os.getpid():
            self.taken_over = previous  # its process ended without releasing: it died
        me = Holder(host=host_name(), pid=os.getpid(), started_at=datetime.now(UTC).isoformat())
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(me)).encode(), 0)
        self._fd = fd

    @property
    def held(self) -> bool:
        """Whether this process holds the lock (taken, and not released)."""
        return self._fd is not None

    def release(self) -> None:
        """Release the lock (the file stays, emptied: no holder)."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


@contextlib.contextmanager
def taken_if_free(path: Path) -> Iterator[bool]:
    """Hold the exclusive ``flock`` of the file ``path`` (made if missing) while inside, when
    no other holds it; yields whether it was taken (``False``: held by another, which is not
    waited for). ``OSError`` when the file cannot be opened."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # as the umask says
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock


@contextmanager
def run_lock_held(folder: Path) -> Iterator[bool]:
    """Whether this process holds the run lock of ``folder`` for the block: ``True`` when its
    crawl command took it (the lock file names this process), or when it was free and is taken
    here until the block ends (a crawl started from Python, a Redis-mode worker, which takes no
    lock otherwise); ``False`` when another process holds it. For work on what every crawl of
    the folder uses, which no other crawl may use meanwhile."""
    lock = RunLock(folder)
    holder = lock.holder()
    if holder is not None and (holder.host, holder.pid) == (host_name(), os.getpid()):
        yield True  # taken by this process (a second flock of it would wait for itself)
        return
    try:
        lock.acquire()
    except LockBusy:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()
