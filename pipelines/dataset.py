"""The on-disk layout of an output directory, shared by the writer, the state and commands.

::

    OUTPUT_DIR/
      articles/fetch_date=YYYY-MM-DD/part-<UTC time>-<run id>-<seq>.parquet   the dataset
      html/fetch_date=YYYY-MM-DD/part-<same name>.parquet          raw HTML (when archived)
      state/                                                                   crawl state
      state/tmp/                                                               files being written
      state/crawls/                                                            one report per crawl
      state/httpcache/                                                         feeds and sitemaps

Files appear under ``articles/`` only complete (written in ``state/tmp/``, then renamed), so a
reader never sees a partial file, and every crawl adds files with names of its own.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from datetime import date, datetime

    from scrapy.settings import BaseSettings

ARTICLES = "articles"
HTML = "html"
STATE = "state"
TMP = "tmp"
CRAWLS = "crawls"
HTTPCACHE = "httpcache"
PARTITION_KEY = "fetch_date"
DATA_SUFFIX = ".parquet"
TMP_SUFFIX = ".tmp"

KEY_COLUMNS = ("url", "canonical_url", "content_hash", "fetched_at")


def output_dir_setting(settings: BaseSettings) -> Path:
    """The ``OUTPUT_DIR`` setting as a path; ``NotConfigured`` when it is empty."""
    value = settings.get("OUTPUT_DIR")
    if not value:
        raise NotConfigured("OUTPUT_DIR is empty")
    return Path(value)


def articles_dir(output_dir: Path) -> Path:
    return output_dir / ARTICLES


def html_dir(output_dir: Path) -> Path:
    """The raw HTML archive, partitioned and named like the article files."""
    return output_dir / HTML


def state_dir(output_dir: Path) -> Path:
    return output_dir / STATE


def tmp_dir(output_dir: Path) -> Path:
    return output_dir / STATE / TMP


def crawls_dir(output_dir: Path) -> Path:
    return output_dir / STATE / CRAWLS


def partition_name(day: date) -> str:
    """The hive-style folder name of the partition of rows fetched on ``day`` (UTC)."""
    return f"{PARTITION_KEY}={day.isoformat()}"


def data_file_name(started: datetime, run_id: str, sequence: int) -> str:
    """A data file name unique to one writer: start time (UTC), run id and a counter."""
    return f"part-{started:%Y%m%dT%H%M%SZ}-{run_id}-{sequence:05d}{DATA_SUFFIX}"


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's (its entries') changes to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def scratch_name(prefix: str) -> str:
    """A unique name for a scratch file or folder of this process in ``state/tmp/``, named
    like the writer's temporary files (``<name>.<pid>.tmp``): removed by the next crawl if this
    process dies (:func:`pipelines.parquet.remove_stale_tmp_files`)."""
    return f"{prefix}-{secrets.token_hex(4)}.{os.getpid()}{TMP_SUFFIX}"


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


def unwritable(output_dir: Path) -> str | None:
    """Why the crawl cannot write under ``output_dir`` (its folders cannot be made, or a file
    cannot be written in them), or ``None`` when it can."""
    probe = tmp_dir(output_dir) / f".write-probe.{os.getpid()}{TMP_SUFFIX}"
    try:
        for folder in (articles_dir(output_dir), tmp_dir(output_dir)):
            folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"probe")
        probe.unlink()
    except OSError as exc:
        return f"{exc.strerror or exc} ({exc.filename or output_dir})"
    return None


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


def read_keys(path: Path) -> list[tuple[Any, ...]]:
    """The ``(url, canonical_url, content_hash, fetched_at)`` of every row of one data file."""
    table = pq.read_table(path, columns=list(KEY_COLUMNS))
    columns = [table.column(name).to_pylist() for name in KEY_COLUMNS]
    return list(zip(*columns, strict=True))
