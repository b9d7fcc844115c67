"""What killed crawls and compactions leave behind, and who may remove it.

A process gives what it writes under a temporary name its owner tag, ``<host>-<pid>``
(:func:`dataset.layout.owner_tag`): ``<name>.<host>-<pid>.tmp`` for the request queue's and the
request filter's scratch and for files being written, ``commit-<file>.<host>-<pid>.commit`` for
the note of a commit under way, ``compact-<host>-<pid>-<token>`` for a compaction's job folder.
A process killed (the OOM killer, a node drained, a job's deadline) leaves them behind. Who may
remove them depends on who else may be writing in the folder:

- ``STATE_DIR/tmp/``, what crawls leave there: removed by the crawl that takes the run lock
  (:mod:`dataset.run_lock`), as it starts, before it writes anything there
  (:func:`remove_leftovers`), whichever host and pid left it. Only one crawl at a time uses a
  ``STATE_DIR``, so this holds where each run has a host name of its own (a Kubernetes pod,
  ``docker run --rm``), and where every run is PID 1 under the same host name. Left alone: an
  entry of another live process of this machine (a program writing there without the lock),
  and the hidden probes (``.write-probe``, ``.rename-probe``) that any command writes and
  removes at once, lock or not (those keep the rule of this machine's dead processes).
- ``STATE_DIR/tmp/compact-*``: finished or undone by whoever holds ``STATE_DIR/compact.lock``
  (every compaction with that ``STATE_DIR`` holds it while it runs): ``scrapy compact``, and a
  crawl as it takes the run lock when no compaction runs; whichever host and pid left them
  (:func:`dataset.compaction.finish_interrupted` with ``any_host``).
- Redis-mode workers take no run lock (several may share a ``STATE_DIR``): they remove only
  what dead processes of their own machine left (:func:`dataset.layout.abandoned`), as
  :meth:`dataset.writer.DatasetWriter.open` does in every crawl.
- ``OUTPUT_DIR/_tmp/``, ``articles/_tmp/``, ``html/_tmp/``, ``runs/_tmp/`` (files being
  written and compaction jobs, when ``STATE_DIR`` is on another filesystem): the machines
  sharing the dataset write there, each with a ``STATE_DIR`` and locks of its own, so no lock
  says that none of them runs: only what dead processes of this machine left is removed
  (:meth:`dataset.writer.DatasetWriter.open`). Not any host's, as in ``STATE_DIR/tmp``: the
  run lock is one ``STATE_DIR``'s, and says nothing of the other machines' crawls and
  compactions writing there (a lock file in the dataset would not hold over NFS); nor any
  old enough: a live crawl's open file stays unchanged while it stores nothing (it is
  committed when a row comes after ``PARQUET_COMMIT_INTERVAL``, or at the end) or is paused,
  and a compaction's job folder holds rows taken out of the dataset, to be finished, never
  deleted. A new host name (a pod), or a crawl that is PID 1 under the same host name, thus
  leaves them (docs/operations.md, "In a container", says what to do).
- ``runs/.run-*.tmp`` (a run-history file being written, in ``OUTPUT_DIR``, shared too; beside
  the partitions, which ``scrapy compact`` exchanges, and in the newest partitions where earlier
  versions wrote it): what dead processes of this machine left, and any left unchanged for
  :data:`dataset.run_history.STALE_AFTER` seconds, as one is written and renamed at once, by
  every crawl as it starts, lock or not (:func:`dataset.run_history.remove_stale_tmp_files`).
- Other files written aside and renamed at once: an HTTP cache entry being stored or replaced
  (``STATE_DIR/httpcache``, by the crawl pruning the cache: :mod:`crawler.httpcache`), a crawl
  report (``STATE_DIR/crawls``, by the next crawl: :mod:`crawler.report`), ``scrapy report``'s
  page (by the next one writing it): what dead processes of this machine left, and any left
  unchanged for an hour (:func:`dataset.layout.left_behind`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from dataset.compaction import JOB_PREFIX, finish_interrupted
from dataset.layout import TMP
from dataset.run_lock import COMPACT_LOCK_FILE, taken_if_free
from dataset.writer import remove_orphan_archives, remove_stale_tmp_files

if TYPE_CHECKING:
    from pathlib import Path

    from dataset.storage import DatasetLocation

logger = logging.getLogger(__name__)


def remove_leftovers(location: DatasetLocation | None, state: Path) -> list[Path]:
    """Remove what killed crawls left in ``state/tmp`` (the ``STATE_DIR`` of the dataset at
    ``location``; ``None``: a crawl without a dataset, scratch files only), and finish or undo
    the compactions that died there when none runs (its compaction lock is held meanwhile),
    whichever machine or process left them; returns what was removed or finished, each logged
    in one line. Only for the holder of ``state``'s run lock, before it writes anything
    there."""
    tmp = state / TMP
    if not tmp.is_dir():
        return []
    if location is not None:
        remove_orphan_archives(location, state, any_host=True)
    removed = remove_stale_tmp_files(tmp, any_host=True)
    for path in removed:
        logger.warning("Removed the unfinished file of a crashed crawl: %s", path)
    if location is not None and any(tmp.glob(f"{JOB_PREFIX}*")):
        with taken_if_free(state / COMPACT_LOCK_FILE) as free:
            if free:
                removed += finish_interrupted(location, state, any_host=True)
            else:
                logger.info("A compaction runs: its jobs in %s are left to it", tmp)
    return removed
