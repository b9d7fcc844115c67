"""The layout of an output directory, shared by the writer, the state and commands.

::

    OUTPUT_DIR/
      articles/fetch_date=YYYY-MM-DD/part-<UTC time>-<run id>-<seq>.parquet   the dataset
      html/fetch_date=YYYY-MM-DD/part-<same name>.parquet          raw HTML (when archived)
      runs/run_date=YYYY-MM-DD/run-<UTC time>-<host>-<pid>.parquet   the run history
      runs/run_date=YYYY-MM-DD/run-<UTC time>-c<id>-<seq>.parquet    ... a day's, merged
      state/                        crawl state (STATE_DIR, when not set elsewhere)
      state/tmp/                    files being written, scratch files
      state/crawls/                 one report per crawl
      state/httpcache/              feeds and sitemaps
      _tmp/                         files being written when STATE_DIR is on another filesystem
      articles/_tmp/, html/_tmp/, runs/_tmp/   ... when that folder is a filesystem of its own

Files appear under ``articles/`` only complete (written in ``state/tmp/``, then renamed), so a
reader never sees a partial file, and every crawl adds files with names of its own.
``OUTPUT_DIR`` may also name an object store (``s3://bucket/prefix``): see
:mod:`dataset.storage`; the crawl state then lives in ``STATE_DIR``, a local folder.
Temporary names carry their writer's host and pid (``<name>.<host>-<pid>.tmp``): on a folder
shared by several machines (NFS) each removes only what its own dead processes left
(:func:`abandoned`). Where a lock says that no other process writes, its holder removes what
any host left (``any_host``): :mod:`dataset.leftovers` says which rule holds where.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import secrets
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pyarrow.parquet as pq

if TYPE_CHECKING:
    from datetime import date, datetime

    from pyarrow.fs import FileSystem

ARTICLES = "articles"
HTML = "html"
RUNS = "runs"
"""The folder of ``OUTPUT_DIR`` holding the run history."""
STATE = "state"
TMP = "tmp"
CRAWLS = "crawls"
HTTPCACHE = "httpcache"
PARTITION_KEY = "fetch_date"
RUN_PARTITION_KEY = "run_date"
DATA_SUFFIX = ".parquet"
TMP_SUFFIX = ".tmp"
STAGING = "_tmp"
"""Folder of ``OUTPUT_DIR`` where files are written when ``STATE_DIR/tmp`` cannot rename there."""

KEY_COLUMNS = ("url", "canonical_url", "content_hash", "fetched_at")

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# <host>-<pid>, or a pid alone (names written before host names were kept)
_OWNER = re.compile(r"(?:(?P<host>[A-Za-z0-9_-]+)-)?(?P<pid>[0-9]+)")


def uri_scheme(value: str) -> str | None:
    """The scheme of ``value`` when it is a URI (``s3``, ``gs``, ``file`` ...), else ``None``."""
    match = _URI.match(value)
    return match.group(1).lower() if match else None


def redacted(value: str) -> str:
    """``value`` fit for messages: a URI without its query (which may hold credentials) and
    without user information."""
    if uri_scheme(value) is None:
        return value
    scheme, rest = value.split("://", 1)
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    authority, slash, path = rest.partition("/")
    return f"{scheme}://{authority.rsplit('@', 1)[-1]}{slash}{path}"


def local_output_dir(value: str) -> Path | None:
    """The local folder ``value`` (an ``OUTPUT_DIR``) names: a path, or a ``file://`` URI;
    ``None`` for any other URI (an object store)."""
    scheme = uri_scheme(value)
    if scheme is None:
        return Path(value)
    if scheme == "file":
        return Path(unquote(urlsplit(value).path))
    return None


class LocationError(ValueError):
    """An ``OUTPUT_DIR`` or ``STATE_DIR`` that cannot be used, and why (one line)."""


def state_dir_for(output_dir: str, state_dir: str = "") -> Path:
    """The local folder of the crawl's working state: ``state_dir`` when given, else
    ``output_dir/state`` for a local ``output_dir``. An ``output_dir`` in an object store
    needs a ``state_dir`` (:class:`LocationError` without it): the state holds the
    deduplication index and the manifests of unfinished compactions, which a folder picked for
    the user (relative to wherever cron or Scrapyd happens to start the crawl) would scatter."""
    if state_dir:
        if uri_scheme(state_dir) not in (None, "file"):
            raise LocationError(f"STATE_DIR must be a local folder, not {redacted(state_dir)}")
        folder = local_output_dir(state_dir)
        assert folder is not None
        return folder
    if not output_dir:
        raise LocationError("OUTPUT_DIR is empty")
    local = local_output_dir(output_dir)
    if local is None:
        raise LocationError(
            f"STATE_DIR must be set when OUTPUT_DIR is an object store ({redacted(output_dir)}):"
            " a local folder for the crawl state, e.g. -s STATE_DIR=/var/lib/news-crawler/state"
        )
    return local / STATE


def articles_dir(output_dir: Path) -> Path:
    return output_dir / ARTICLES


def state_dir(output_dir: Path) -> Path:
    return output_dir / STATE


def tmp_dir(output_dir: Path) -> Path:
    return output_dir / STATE / TMP


def crawls_dir(output_dir: Path) -> Path:
    return output_dir / STATE / CRAWLS


def partition_key(folder: str) -> str:
    """The partition key of a folder of the dataset (``run_date`` for the run history)."""
    return RUN_PARTITION_KEY if folder == RUNS else PARTITION_KEY


def is_partition(name: str, key: str = PARTITION_KEY) -> bool:
    """Whether ``name`` is a partition folder's: ``<key>=YYYY-MM-DD`` with a real day
    (``fetch_date=2026-12-01 copy``, ``date=2026-12-01`` and ``fetch_date=2026-13-01`` are not:
    a reader that scans the folder would take them for partitions all the same)."""
    prefix = f"{key}="
    if not name.startswith(prefix) or not _DAY.fullmatch(day := name[len(prefix) :]):
        return False
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        return False
    return True


def in_partition(relative: str, key: str = PARTITION_KEY) -> bool:
    """Whether a data file's path relative to its folder is a committed file's place: right
    in a partition folder (:func:`is_partition`)."""
    parts = relative.split("/")
    return len(parts) == 2 and is_partition(parts[0], key)


def partition_name(day: date) -> str:
    """The hive-style folder name of the partition of rows fetched on ``day`` (UTC)."""
    return f"{PARTITION_KEY}={day.isoformat()}"


def data_file_name(started: datetime, run_id: str, sequence: int, prefix: str = "part") -> str:
    """A data file name unique to one writer: start time (UTC), run id and a counter (``run``
    as ``prefix`` for the run history's files that ``scrapy compact`` writes)."""
    return f"{prefix}-{started:%Y%m%dT%H%M%SZ}-{run_id}-{sequence:05d}{DATA_SUFFIX}"


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's (its entries') changes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def host_name() -> str:
    """This machine's name as temporary names carry it (letters, digits, ``-`` and ``_``)."""
    return re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname()) or "localhost"


def owner_tag() -> str:
    """``<host>-<pid>``: the process writing a temporary file, as its name carries it."""
    return f"{host_name()}-{os.getpid()}"


def scratch_name(prefix: str) -> str:
    """A unique name for a scratch file or folder of this process in ``state/tmp/``, named
    like the writer's temporary files (``<name>.<host>-<pid>.tmp``): removed by the next crawl
    if this process dies (:mod:`dataset.leftovers`)."""
    return f"{prefix}-{secrets.token_hex(4)}.{owner_tag()}{TMP_SUFFIX}"


def abandoned(tag: str, *, any_host: bool = False) -> bool:
    """Whether the owner tag of a temporary name (``<host>-<pid>``) names a process of this
    machine that no longer runs. Another machine's tag never is: its pid means nothing here,
    and on a shared (NFS) folder its crawl may still be running. A pid alone (a name written
    before host names were kept) counts as this machine's; a tag that names no process at all
    is abandoned.

    ``any_host``: the caller holds the lock that every process writing such names into the
    folder holds while it runs, and has written nothing there yet. Then another machine's tag
    is abandoned too (in containers every run has a host name of its own), and so is this
    process's own (an earlier container with the same host name whose process had the same pid,
    the container's PID 1); only another live process of this machine is not (a program
    writing there without the lock)."""
    match = _OWNER.fullmatch(tag)
    if match is None:
        return True
    host, pid = match.group("host"), match.group("pid")
    if host is not None and host != host_name():
        return any_host
    if any_host and int(pid) == os.getpid():
        return True
    return not process_running(pid)


ABANDONED_AFTER = 3600.0
"""Seconds after which a temporary file or folder that is written and renamed at once (a crawl
report, an HTTP cache entry, ``scrapy report``'s page: well under a second) is a dead
process's, whatever host or pid its name gives (:func:`left_behind`)."""


def left_behind(path: Path, now: float) -> bool:
    """Whether the temporary file or folder ``path``, named ``<name>.<host>-<pid>.<suffix>``
    and written and renamed at once, was left by a process that no longer writes it: one of
    this machine that no longer runs, or any left unchanged for :data:`ABANDONED_AFTER`
    seconds at ``now`` (a :func:`time.time`), whoever wrote it: another machine sharing the
    folder, an earlier container, a name without a readable owner (an older version's). An
    entry of a live process of this machine, or a recent one of another machine's, is not."""
    parts = path.name.rsplit(".", 2)
    match = _OWNER.fullmatch(parts[-2]) if len(parts) == 3 else None
    if (
        match is not None
        and match.group("host") in (None, host_name())
        and not process_running(match.group("pid"))
    ):
        return True
    try:
        changed = path.lstat().st_mtime
    except OSError:  # gone meanwhile
        return False
    return now - changed > ABANDONED_AFTER


def process_running(pid_text: str) -> bool:
    """Whether ``pid_text`` (a pid taken from a file name) names a running process."""
    return pid_text.isdigit() and pid_alive(int(pid_text))


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def unwritable_folder(folder: Path, made: list[Path] | None = None) -> str | None:
    """Why ``folder`` cannot be made or written in, or ``None`` when it can (a hidden probe
    file is written and removed). The folders it makes are added to ``made``, outermost first,
    for a caller whose later check fails to take them back (:func:`remove_made`); when the
    check fails it takes back its own: a start refused leaves no folder behind."""
    probe = folder / f".write-probe.{owner_tag()}{TMP_SUFFIX}"
    new = missing_folders(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"probe")
        probe.unlink()
    except OSError as exc:
        remove_made(new)
        return _why_not(exc, folder)
    if made is not None:
        made.extend(new)
    return None


def _why_not(exc: OSError, folder: Path) -> str:
    """The reason a folder could not be made or written in, as a user reads it: a symbolic
    link to nowhere (a disk not mounted, a folder moved) is said so, where ``mkdir`` said
    "File exists"."""
    where = Path(exc.filename or folder)
    if exc.errno == errno.EEXIST and where.is_symlink() and not where.exists():
        return f"a symbolic link to {where.readlink()}, which does not exist ({where})"
    return f"{exc.strerror or exc} ({where})"


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist, outermost first: what a
    ``mkdir(parents=True)`` of it makes."""
    missing: list[Path] = []
    while not os.path.lexists(folder) and folder.parent != folder:
        missing.append(folder)
        folder = folder.parent
    return missing[::-1]


def remove_made(folders: list[Path]) -> None:
    """Remove ``folders`` (outermost first, as :func:`missing_folders` lists them), innermost
    first, as long as they are empty: one that holds something (another process's) stays, and
    so do its parents."""
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


def staging_dir(output_dir: Path, state: Path, folder: str = ARTICLES) -> Path:
    """Where the writer and the compaction prepare files before renaming them into
    ``output_dir/folder`` (creating the folders): the first of these that a rename from into
    that folder works from, as renames cannot cross filesystems and a copy would not be atomic:

    - ``state/tmp/``, as with the default ``STATE_DIR`` inside ``output_dir``;
    - ``OUTPUT_DIR/_tmp/``, with a ``STATE_DIR`` on another filesystem than the dataset (a
      local disk beside an NFS dataset);
    - ``OUTPUT_DIR/<folder>/_tmp/``, with ``<folder>`` on a filesystem of its own (a mount, a
      symbolic link to another disk). Readers skip a folder named with ``_``.
    """
    target = output_dir / folder
    target.mkdir(parents=True, exist_ok=True)
    candidates = (state / TMP, output_dir / STAGING, target / STAGING)
    for staging in candidates:
        made = not staging.exists()
        staging.mkdir(parents=True, exist_ok=True)
        if staging == candidates[-1] or _renames_into(staging, target):
            return staging
        if made and staging != candidates[0]:
            staging.rmdir()
    raise AssertionError("unreachable")  # the last candidate is returned


def _renames_into(staging: Path, target: Path) -> bool:
    """Whether a file of ``staging`` can be renamed into ``target``; ``False`` on ``EXDEV``
    (another filesystem), other errors raised."""
    probe = staging / f".rename-probe.{owner_tag()}{TMP_SUFFIX}"
    moved = target / probe.name
    probe.touch()
    try:
        probe.rename(moved)
    except OSError as exc:
        probe.unlink(missing_ok=True)
        if exc.errno != errno.EXDEV:
            raise
        return False
    moved.unlink()
    return True


def data_files(articles: Path) -> list[Path]:
    """The committed data files, sorted; hidden (``.``) and private (``_``) entries skipped."""
    if not articles.is_dir():
        return []
    found: list[Path] = []
    for root, dirs, files in os.walk(articles):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        found.extend(
            Path(root) / name
            for name in sorted(files)
            if name.endswith(DATA_SUFFIX) and not name.startswith((".", "_"))
        )
    return found


def read_keys(path: Path | str, filesystem: FileSystem | None = None) -> list[tuple[Any, ...]]:
    """The ``(url, canonical_url, content_hash, fetched_at)`` of every row of one data file
    (``path`` in ``filesystem``, a local path by default)."""
    table = pq.read_table(path, columns=list(KEY_COLUMNS), filesystem=filesystem)
    columns = [table.column(name).to_pylist() for name in KEY_COLUMNS]
    return list(zip(*columns, strict=True))
