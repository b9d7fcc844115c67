"""The crawl state's backend, chosen once per crawl by class path (``STATE_STORES``), as Scrapy
chooses its scheduler: the embedded one (SQLite files in ``STATE_DIR``) by default; the Redis
add-on (``crawler/redis_mode.py``) chooses the shared one when ``REDIS_URL`` is set. Every
component that keeps state (dedupe, site boilerplate, the incremental middleware, the shared
frontier) asks :func:`state_stores` and uses the stores it opens, never knowing which backend it
is."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.utils.misc import load_object

from dataset.state.base import (
    DEFAULT_KEY_PREFIX,
    DEFAULT_WORKER_TIMEOUT,
    StateError,
    StateOptions,
    StateStores,
)
from dataset.storage import StoreUnreachable, ever_written
from pipelines.locations import OUTPUT_DIR, dataset_location, state_dir_setting
from pipelines.setting import SettingError, seconds, text

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

EMBEDDED_STORES = "dataset.state.embedded.EmbeddedStores"
REDIS_STORES = "dataset.state.redis.RedisStores"


def _one_word(value: str) -> str:
    if not value or any(ch.isspace() for ch in value):
        raise ValueError("must be one word")
    return value


STATE_STORES = text(
    "STATE_STORES",
    EMBEDDED_STORES,
    "class path of the crawl state's backend; the Redis add-on sets "
    f"`{REDIS_STORES}` when `REDIS_URL` is set",
    allowed="a class path",
)
REDIS_URL = text(
    "REDIS_URL",
    "",
    "e.g. `redis://host:6379/0`: several crawler processes share the work and the state "
    "through this Redis server (see docs/operations.md); a server that cannot be reached stops "
    "the crawl at start (exit status 2)",
    allowed="a redis:// URL, or empty",
    shown_default="empty (embedded mode)",
)
REDIS_KEY_PREFIX = text(
    "REDIS_KEY_PREFIX",
    DEFAULT_KEY_PREFIX,
    "the start of every Redis key: one prefix per dataset",
    check=_one_word,
    allowed="one word",
)
REDIS_WORKER_TIMEOUT = seconds(
    "REDIS_WORKER_TIMEOUT",
    DEFAULT_WORKER_TIMEOUT,
    "seconds without a heartbeat after which a worker is taken for dead and its unfinished "
    "requests are put back into the queue (a worker paused for longer stops when it runs "
    "again, exit status 1)",
    minimum=1,
)
SETTINGS = (STATE_STORES, REDIS_URL, REDIS_KEY_PREFIX, REDIS_WORKER_TIMEOUT)
_CRAWLER_ATTRIBUTE = "news_state_stores"


def _backend(settings: BaseSettings) -> tuple[type[StateStores], StateOptions]:
    path = STATE_STORES.read(settings)
    try:
        backend: Any = load_object(path)
    except (ImportError, AttributeError, ValueError, NameError) as exc:
        raise SettingError(f"STATE_STORES={path!r}: cannot load it ({exc})") from None
    if not (isinstance(backend, type) and issubclass(backend, StateStores)):
        raise SettingError(f"STATE_STORES={path!r}: not a dataset.state.base.StateStores")
    if inspect.isabstract(backend):
        raise SettingError(f"STATE_STORES={path!r}: an abstract class, not a backend")
    options = StateOptions(
        state_dir=state_dir_setting(settings),
        redis_url=REDIS_URL.read(settings),
        redis_key_prefix=REDIS_KEY_PREFIX.read(settings),
        redis_worker_timeout=REDIS_WORKER_TIMEOUT.read(settings),
    )
    return backend, options


def open_state_stores(settings: BaseSettings) -> StateStores:
    """The crawl state's backend the settings choose, opened (for a command outside a crawl:
    close it when done). ``SettingError`` for bad settings, :class:`StateError` when it cannot
    be reached."""
    backend, options = _backend(settings)
    return backend.open(options)


def state_problem(settings: BaseSettings) -> str | None:
    """Why the crawl state cannot be used with these settings (one line), or ``None``: its
    backend cannot be reached, or it is another dataset's (:func:`foreign_state`)."""
    try:
        backend, options = _backend(settings)
    except SettingError as exc:
        return str(exc)
    return backend.unreachable(options) or foreign_state(backend, options, settings)


def foreign_state(
    backend: type[StateStores], options: StateOptions, settings: BaseSettings
) -> str | None:
    """A state that records data files, used with an ``OUTPUT_DIR`` no crawl ever wrote to:
    the state of another dataset (a ``REDIS_KEY_PREFIX`` or ``STATE_DIR`` reused for a new
    dataset), or a dataset deleted without its state. Its articles would count as stored, and
    the crawl would store none of them; the crawl does not start. ``None`` when the state and
    the dataset may belong together."""
    if not OUTPUT_DIR.read(settings):
        return None
    try:
        location = dataset_location(settings)
    except SettingError:
        return None  # said by the output check
    unreadable: tuple[type[Exception], ...] = (StateError, OSError, *backend.errors)
    try:
        recorded = backend.recorded_file_count(options)
        if not recorded or ever_written(location):
            return None
    except StoreUnreachable as exc:
        return str(exc)
    except unreadable as exc:
        return f"cannot read {backend.place(options)}: {exc}"
    files = "data file" if recorded == 1 else "data files"
    return (
        f"{backend.place(options)} records {recorded} {files}, and OUTPUT_DIR"
        f" {location.display} holds none: a state belongs to one dataset (give a new dataset"
        " a state of its own); if the dataset was deleted on purpose, delete its state as well"
    )


def state_stores(crawler: Crawler) -> StateStores:
    """The crawler's backend of the crawl state: opened by the first component that asks,
    closed when the engine stops."""
    found: StateStores | None = getattr(crawler, _CRAWLER_ATTRIBUTE, None)
    if found is not None:
        return found
    try:
        stores = open_state_stores(crawler.settings)
    except StateError as exc:
        raise StateUnreachable(str(exc)) from None
    setattr(crawler, _CRAWLER_ATTRIBUTE, stores)
    crawler.signals.connect(stores.close, signal=signals.engine_stopped)
    return stores


class StateUnreachable(RuntimeError):
    """The crawl state's backend cannot be reached: the crawl must not go on without it."""
