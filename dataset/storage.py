"""Where the dataset lives: a local folder or an object store, reached through ``pyarrow.fs``.

``OUTPUT_DIR`` is a local path (or a ``file://`` URI), or any URI
:meth:`pyarrow.fs.FileSystem.from_uri` understands: ``s3://bucket/prefix``,
``gs://bucket/prefix``, ``abfs://container@account.dfs.core.windows.net/prefix``, with the
options pyarrow reads from the query (``?region=...&endpoint_override=...&scheme=http``).
Credentials come from the usual places (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``,
``~/.aws``, instance roles; ``GOOGLE_APPLICATION_CREDENTIALS``); messages never show the query.

The layout is the same everywhere (``articles/fetch_date=.../part-....parquet``, ``html/``);
only how a file becomes visible differs: renamed into place locally, written straight to its
final key in an object store (an upload is visible only once complete). The working state
(``STATE_DIR``) is always a local folder.
"""

from __future__ import annotations

import logging
import posixpath
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from dataset.layout import (
    ARTICLES,
    DATA_SUFFIX,
    KEY_COLUMNS,
    RUNS,
    TMP_SUFFIX,
    LocationError,
    data_files,
    in_partition,
    is_partition,
    local_output_dir,
    owner_tag,
    partition_key,
    redacted,
    unwritable_folder,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

logger = logging.getLogger(__name__)

_SKIPPED = (".", "_")
"""Entries whose name starts so are not data: readers (pyarrow, Spark) skip them too."""


@dataclass(frozen=True)
class DatasetLocation:
    """The dataset root: a pyarrow filesystem and the root's path in it."""

    filesystem: pafs.FileSystem
    root: str
    """``bucket/prefix`` in an object store; the folder (as given) on the local disk."""
    display: str
    """``OUTPUT_DIR`` without its query, for messages and logs."""

    @property
    def is_local(self) -> bool:
        return isinstance(self.filesystem, pafs.LocalFileSystem)

    def path(self, *parts: str) -> str:
        """The filesystem path of ``parts`` (``"articles"``, ``"fetch_date=..."``, a file name)
        below the root."""
        return "/".join([self.root.rstrip("/"), *parts])

    def local_dir(self) -> Path:
        """The root as a local path; ``ValueError`` for an object store."""
        if not self.is_local:
            raise ValueError(f"{self.display} is not a local folder")
        return Path(self.root)


def location_of(output_dir: str | Path) -> DatasetLocation:
    """The location an ``OUTPUT_DIR`` value names; :class:`~dataset.layout.LocationError` when
    pyarrow cannot make a filesystem of it (an unknown scheme, an unknown option in the query).
    """
    value = str(output_dir)
    local = output_dir if isinstance(output_dir, Path) else local_output_dir(value)
    if local is not None:
        return DatasetLocation(pafs.LocalFileSystem(), str(local), str(local))
    try:
        filesystem, root = pafs.FileSystem.from_uri(value)
    except (ValueError, OSError) as exc:  # pyarrow.ArrowInvalid is a ValueError
        reason = str(exc).replace(value, redacted(value))
        raise LocationError(f"OUTPUT_DIR {redacted(value)}: {reason}") from None
    # the display joined with "/articles" in messages: no trailing slash ("prefix//articles")
    display = redacted(value)
    return DatasetLocation(filesystem, root.rstrip("/"), display.rstrip("/") or display)


@dataclass(frozen=True)
class DataFile:
    """A committed data file."""

    name: str
    """Path relative to its folder (``fetch_date=.../part-....parquet``): the crawl state's
    name for it."""
    path: str
    """Path in the location's filesystem."""
    size: int


def _is_data(relative: str) -> bool:
    parts = relative.split("/")
    return relative.endswith(DATA_SUFFIX) and not any(p.startswith(_SKIPPED) for p in parts)


def list_data_files(
    location: DatasetLocation,
    folder: str = ARTICLES,
    partition: str | None = None,
    *,
    strays: Callable[[str], None] | None = None,
) -> list[DataFile]:
    """The committed data files under ``folder`` (``articles``, ``html`` or ``runs``), or only
    those of one ``partition`` (``fetch_date=...``), sorted by name; hidden (``.``) and private
    (``_``) entries skipped, as :func:`dataset.layout.data_files` and the readers do.

    Only files right in a partition folder (:func:`dataset.layout.in_partition`) are the
    dataset's; each other data file (a copied folder, ``fetch_date=2026-12-01 copy``, a file
    dropped at the top) is left out and given to ``strays`` by its path relative to ``folder``.
    """
    below = [partition] if partition else []
    key = partition_key(folder)
    listed: list[tuple[str, str, int]] = []
    if location.is_local:
        local = location.local_dir() / folder
        listed = [
            (path.relative_to(local).as_posix(), str(path), path.stat().st_size)
            for path in data_files(local.joinpath(*below))
        ]
    else:
        base = location.path(folder)
        selector = pafs.FileSelector(
            location.path(folder, *below), recursive=True, allow_not_found=True
        )
        for info in location.filesystem.get_file_info(selector):
            relative = info.path[len(base) :].lstrip("/")
            if info.type == pafs.FileType.File and _is_data(relative):
                listed.append((relative, info.path, info.size or 0))
    found = []
    for relative, path, size in sorted(listed):
        if in_partition(relative, key):
            found.append(DataFile(name=relative, path=path, size=size))
        elif strays is not None:
            strays(relative)
    return found


def data_files_at(
    location: DatasetLocation,
    folder: str = ARTICLES,
    *,
    strays: Callable[[str], None] | None = None,
) -> list[str]:
    """The names (``fetch_date=.../part-....parquet``) of the committed data files under
    ``folder``, sorted: what the crawl state records (``strays``: see
    :func:`list_data_files`)."""
    return [file.name for file in list_data_files(location, folder, strays=strays)]


def stray_lines(folder: str, strays: Iterable[str]) -> list[str]:
    """One line for each folder holding data files outside the partitions of ``folder``
    (``strays``: their paths relative to it, as :func:`list_data_files` gives them)."""
    counts = Counter(posixpath.dirname(name) for name in strays)
    key = partition_key(folder)
    lines = []
    for below, count in sorted(counts.items()):
        files = f"{count} data file{'s' if count != 1 else ''}"
        lines.append(
            f"{folder}/{below + '/' if below else ''} holds {files} outside the dataset's"
            f" partitions ({key}=YYYY-MM-DD folders), left out; readers that scan {folder}/"
            f" (pandas, DuckDB, Spark) read {'them' if count != 1 else 'it'} all the same:"
            f" move {'the folder' if below else 'them' if count != 1 else 'it'} out"
        )
    return lines


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (Arrow's go on with a file's whole schema, a line
    a column, or with the store's response), or its name when it has none."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class StoreUnreachable(OSError):
    """The dataset's object store cannot be reached, or refuses the credentials; the message
    is one line."""


def folder_exists(location: DatasetLocation, folder: str = ARTICLES) -> bool:
    """Whether ``folder`` exists (in an object store: holds at least one object). An object
    store that cannot be reached or refuses the credentials raises :class:`StoreUnreachable`."""
    if location.is_local:
        return (location.local_dir() / folder).is_dir()
    try:
        info = location.filesystem.get_file_info(location.path(folder))
    except OSError as exc:
        raise StoreUnreachable(f"cannot read {location.display}: {first_line(exc)}") from None
    return bool(info.type == pafs.FileType.Directory)


def ever_written(location: DatasetLocation) -> bool:
    """Whether a crawl ever wrote to the dataset at ``location``: it holds a run history or a
    data file (a new ``OUTPUT_DIR`` holds neither). An object store that cannot be reached
    raises :class:`StoreUnreachable`."""
    if folder_exists(location, RUNS):
        return True
    try:
        return bool(list_data_files(location, ARTICLES))
    except OSError as exc:
        raise StoreUnreachable(f"cannot read {location.display}: {first_line(exc)}") from None


def partitions_at(location: DatasetLocation, folder: str = ARTICLES) -> list[str]:
    """The partition folders (``fetch_date=YYYY-MM-DD``, ``run_date=`` for the run history)
    under ``folder``, sorted; folders named otherwise are not
    (:func:`dataset.layout.is_partition`)."""
    key = partition_key(folder)
    if location.is_local:
        base = location.local_dir() / folder
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if p.is_dir() and is_partition(p.name, key))
    selector = pafs.FileSelector(location.path(folder), recursive=False, allow_not_found=True)
    return sorted(
        info.base_name
        for info in location.filesystem.get_file_info(selector)
        if info.type == pafs.FileType.Directory and is_partition(info.base_name, key)
    )


def read_table_at(
    location: DatasetLocation,
    name: str,
    *,
    columns: list[str] | None = None,
    folder: str = ARTICLES,
) -> pa.Table:
    """One data file (``name`` as :func:`data_files_at` gives it), or some of its columns."""
    return pq.read_table(location.path(folder, name), columns=columns, filesystem=_fs(location))


UNREADABLE_FILE_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    ValueError,
    KeyError,
    pa.ArrowException,
)
"""What reading a data file that is not one of the dataset's raises: cut short or empty
(``ArrowInvalid``, a ``ValueError``), damaged pages (``OSError``), another table's columns
(``ArrowInvalid``, ``KeyError``)."""


def unreadable_reason(exc: BaseException) -> str:
    """Why a data file could not be read, in one line: the error's name and the first line of
    its message."""
    return f"{type(exc).__name__}: {first_line(exc)}" if str(exc).strip() else type(exc).__name__


def read_keys_at(
    location: DatasetLocation, name: str, folder: str = ARTICLES
) -> list[tuple[Any, ...]]:
    """The ``(url, canonical_url, content_hash, fetched_at)`` of every row of one data file."""
    table = read_table_at(location, name, columns=list(KEY_COLUMNS), folder=folder)
    columns = [table.column(key).to_pylist() for key in KEY_COLUMNS]
    return list(zip(*columns, strict=True))


def file_rows_at(location: DatasetLocation, name: str, folder: str = ARTICLES) -> int:
    """The number of rows of one data file, from its footer."""
    return int(pq.read_metadata(location.path(folder, name), filesystem=_fs(location)).num_rows)


def _fs(location: DatasetLocation) -> pafs.FileSystem | None:
    # local files are read as before (plain paths, relative ones included)
    return None if location.is_local else location.filesystem


def delete_quietly(location: DatasetLocation, path: str) -> bool:
    """Delete one object or file if it is there; ``False`` when it could not be deleted
    (logged). A missing file counts as deleted."""
    try:
        location.filesystem.delete_file(path)
    except FileNotFoundError:
        return True
    except OSError as exc:
        where = path.removeprefix(location.root.rstrip("/") + "/")
        logger.error("Cannot delete %s/%s: %s", location.display.rstrip("/"), where, exc)
        return False
    return True


def unwritable_at(location: DatasetLocation, made: list[Path] | None = None) -> str | None:
    """Why a crawl cannot write the dataset at ``location``, or ``None`` when it can. In an
    object store a small object is written under the root and deleted, so that a wrong
    bucket, endpoint or credentials show at start, not after the first fetches. The local
    folders made are added to ``made`` (see :func:`dataset.layout.unwritable_folder`)."""
    if location.is_local:
        return unwritable_folder(location.local_dir() / ARTICLES, made)
    probe = location.path(f"_write-probe.{owner_tag()}{TMP_SUFFIX}")
    try:
        with location.filesystem.open_output_stream(probe) as stream:
            stream.write(b"probe")
        location.filesystem.delete_file(probe)
    except (OSError, ValueError) as exc:
        return str(exc)
    return None
