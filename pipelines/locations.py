"""Where the crawl writes: the ``OUTPUT_DIR`` and ``STATE_DIR`` settings, read for the
components that write there (the Parquet stage, the crawl state, the report, the queues)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from dataset.layout import (
    STATE,
    TMP,
    LocationError,
    local_output_dir,
    state_dir_for,
    unwritable_folder,
)
from dataset.storage import DatasetLocation, location_of, unwritable_at
from pipelines.setting import SettingError, seconds, text

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.settings import BaseSettings


def named_alike(value: str) -> str:
    """``value`` (an ``OUTPUT_DIR`` or ``STATE_DIR``), when it names one folder for this
    process and for pyarrow; else ``ValueError``. pyarrow, which writes the data files and the
    run history, names a local file in UTF-8, this process (the crawl state, the checks) in the
    locale's encoding: under a Latin-1 locale (``LANG=en_US`` on glibc) a folder named
    ``/data/nachrichtenä`` was two folders, and the crawl accepted its articles and stored none.
    """
    local = local_output_dir(value)
    if local is None:  # an object store: pyarrow alone reads and writes it
        return value
    try:
        alike = os.fsencode(local) == str(local).encode("utf-8")
    except UnicodeError:
        alike = False
    if not alike:
        raise ValueError(
            f"names another folder in the locale's encoding ({sys.getfilesystemencoding()})"
            " than in UTF-8, which pyarrow writes the dataset with: run with a UTF-8 locale"
            " (LANG=C.UTF-8) or PYTHONUTF8=1"
        )
    return value


OUTPUT_DIR = text(
    "OUTPUT_DIR",
    "output",
    "dataset root: `articles/` (and `html/`) live here; a local folder (NFS too) or an "
    "object store URI such as `s3://bucket/prefix` (see docs/operations.md)",
    allowed="a folder or an object store URI",
    check=named_alike,
)
STATE_DIR = text(
    "STATE_DIR",
    "",
    "the local folder of the crawl's working state: deduplication state, site boilerplate, "
    "crawl reports, HTTP cache, files being written, scratch queues, compaction manifests and "
    "lock",
    allowed="a local folder, or empty",
    check=named_alike,
    shown_default=f"`OUTPUT_DIR/{STATE}`; required when `OUTPUT_DIR` is an object store",
)
RUN_LOCK_WAIT = seconds(
    "RUN_LOCK_WAIT",
    0.0,
    "seconds a crawl waits for another crawl into the same `STATE_DIR` to end; past it, or at "
    "once with 0, it gives up with exit status 3 (Redis mode takes no lock)",
    minimum=0,
)
SETTINGS = (OUTPUT_DIR, STATE_DIR, RUN_LOCK_WAIT)


def dataset_location(settings: BaseSettings) -> DatasetLocation:
    """The location of the ``OUTPUT_DIR`` setting; :class:`SettingError` when it is empty or
    unusable."""
    value = OUTPUT_DIR.read(settings)
    if not value:
        raise SettingError("OUTPUT_DIR='': a folder or an object store URI is needed")
    try:
        return location_of(value)
    except LocationError as exc:
        raise SettingError(str(exc)) from None


def state_dir_setting(settings: BaseSettings) -> Path:
    """The local folder of the crawl's working state (``STATE_DIR``, else
    ``OUTPUT_DIR/state``); :class:`SettingError` when there is none (see
    :func:`dataset.layout.state_dir_for`)."""
    try:
        return state_dir_for(OUTPUT_DIR.read(settings), STATE_DIR.read(settings))
    except LocationError as exc:
        raise SettingError(str(exc)) from None


def output_problem(settings: BaseSettings, made: list[Path]) -> str | None:
    """Why a crawl cannot write where the settings say (``OUTPUT_DIR`` unusable or not
    writable, ``STATE_DIR`` missing or not writable), as one line; ``None`` when it can, or
    when ``OUTPUT_DIR`` is empty (the Parquet stage is then off). The folders the checks make
    are added to ``made``, for the caller to take back (:func:`dataset.layout.remove_made`)
    when the start is refused (an ``OUTPUT_DIR/articles`` made for a ``STATE_DIR`` that is not
    writable)."""
    try:
        if not OUTPUT_DIR.read(settings):
            return None
        location = dataset_location(settings)
        state = state_dir_setting(settings)
    except SettingError as exc:
        return str(exc)
    problem = unwritable_at(location, made)
    if problem is not None:
        return f"OUTPUT_DIR {location.display} is not writable: {problem}"
    problem = unwritable_folder(state / TMP, made)
    if problem is not None:
        return f"STATE_DIR {state} is not writable: {problem}"
    return None
