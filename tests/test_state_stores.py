"""The crawl state's backend chosen by ``STATE_STORES`` (:mod:`pipelines.state`): opened once per
crawler, shared by every component that keeps state, closed when the engine stops; and the
settings of the shared one (``REDIS_URL``, ``REDIS_KEY_PREFIX``)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self

import pytest
from scrapy import signals
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from dataset.state.base import StateOptions, StateStores
from dataset.state.embedded import EmbeddedStores
from dataset.state.redis import RedisStores
from pipelines.dedupe import DedupePipeline
from pipelines.setting import SettingError
from pipelines.site_boilerplate import SiteBoilerplatePipeline
from pipelines.state import (
    EMBEDDED_STORES,
    REDIS_KEY_PREFIX,
    REDIS_STORES,
    REDIS_URL,
    STATE_STORES,
    StateUnreachable,
    open_state_stores,
    state_problem,
    state_stores,
)
from tests.redis_server import free_port

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from tests.redis_server import RedisTarget


class CountingStores(StateStores):
    """A backend that counts how often it is opened and closed (no store of its own)."""

    opened: ClassVar[list[StateOptions]] = []
    closed: ClassVar[int] = 0

    @classmethod
    def open(cls, options: StateOptions) -> Self:
        cls.opened.append(options)
        return cls()

    def crawl_state(self) -> Any:
        raise NotImplementedError

    def near_index(self, *, threshold: float) -> Any:
        raise NotImplementedError

    def claims(self) -> Any:
        raise NotImplementedError

    def copies(self) -> Any:
        raise NotImplementedError

    def site_boilerplate(self) -> Any:
        raise NotImplementedError

    def lock(self, name: str) -> AbstractContextManager[None]:
        return nullcontext()

    def close(self) -> None:
        type(self).closed += 1


COUNTING_STORES = f"{__name__}.CountingStores"


@pytest.fixture
def counting() -> type[CountingStores]:
    CountingStores.opened = []
    CountingStores.closed = 0
    return CountingStores


def test_the_embedded_backend_is_the_default(tmp_path: Path) -> None:
    assert STATE_STORES.default == EMBEDDED_STORES
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path)})
    stores = state_stores(crawler)
    assert isinstance(stores, EmbeddedStores)
    assert stores.folder == tmp_path / "state"


def test_one_backend_per_crawler_shared_by_its_components(
    tmp_path: Path, counting: type[CountingStores]
) -> None:
    settings = {"OUTPUT_DIR": str(tmp_path), "STATE_STORES": COUNTING_STORES, "STATE_DIR": "st"}
    crawler = get_crawler(settings_dict=settings)
    dedupe = build_from_crawler(DedupePipeline, crawler)
    boilerplate = build_from_crawler(SiteBoilerplatePipeline, crawler)
    assert isinstance(dedupe.stores, CountingStores)
    assert boilerplate.stores is dedupe.stores
    assert state_stores(crawler) is dedupe.stores
    [options] = counting.opened
    assert options.state_dir.as_posix() == "st"
    # another crawler (another crawl) opens its own
    other = get_crawler(settings_dict=settings)
    assert state_stores(other) is not dedupe.stores
    assert len(counting.opened) == 2
    # closed when the engine stops, not before
    assert counting.closed == 0
    crawler.signals.send_catch_log(signal=signals.engine_stopped)
    assert counting.closed == 1


def test_the_setting_chooses_the_backend(tmp_path: Path, shared_redis: RedisTarget) -> None:
    settings = {
        "OUTPUT_DIR": str(tmp_path),
        "STATE_STORES": REDIS_STORES,  # the Redis add-on sets it with REDIS_URL
        "REDIS_URL": shared_redis.url,
        "REDIS_KEY_PREFIX": shared_redis.prefix,
        "REDIS_WORKER_TIMEOUT": "5",
    }
    crawler = get_crawler(settings_dict=settings)
    stores = state_stores(crawler)
    assert isinstance(stores, RedisStores)
    assert stores.prefix == shared_redis.prefix
    assert stores.registry.timeout == 5.0
    crawler.signals.send_catch_log(signal=signals.engine_stopped)
    # commands open the backend themselves, and close it
    opened = open_state_stores(Settings(settings))
    assert isinstance(opened, RedisStores)
    assert opened is not stores
    opened.close()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("pipelines.state.StateUnreachable", "not a dataset.state.base.StateStores"),
        ("dataset.state.base.StateOptions", "not a dataset.state.base.StateStores"),
        ("dataset.state.base.key_digest", "not a dataset.state.base.StateStores"),
        ("dataset.state.base.StateStores", "an abstract class, not a backend"),
        ("dataset.state.nosuch.Stores", "cannot load it"),
        ("NoDots", "cannot load it"),
    ],
)
def test_a_setting_naming_no_backend_is_not_configured(
    tmp_path: Path, path: str, message: str
) -> None:
    settings = {"OUTPUT_DIR": str(tmp_path), "STATE_STORES": path}
    crawler = get_crawler(settings_dict=settings)
    with pytest.raises(SettingError, match=f"^STATE_STORES='{path}': {message}"):
        state_stores(crawler)
    with pytest.raises(SettingError, match=message):
        build_from_crawler(DedupePipeline, crawler)
    problem = state_problem(Settings(settings))
    assert problem is not None
    assert problem.startswith(f"STATE_STORES='{path}': {message}")


def test_state_problem_says_why_the_state_cannot_be_used(tmp_path: Path) -> None:
    assert state_problem(Settings({"OUTPUT_DIR": str(tmp_path)})) is None  # embedded
    # the embedded backend needs no server, whatever REDIS_URL says
    unreachable = f"redis://user:secret@127.0.0.1:{free_port()}/0"
    settings = {"OUTPUT_DIR": str(tmp_path), "REDIS_URL": unreachable}
    assert state_problem(Settings(settings)) is None
    settings["STATE_STORES"] = REDIS_STORES
    problem = state_problem(Settings(settings))
    assert problem is not None
    assert problem.startswith("cannot reach Redis at redis://***@127.0.0.1:")
    assert "secret" not in problem
    # a crawler's components cannot start without it
    with pytest.raises(StateUnreachable, match="cannot reach Redis"):
        state_stores(get_crawler(settings_dict=settings))
    # nor without a state folder
    remote = {"OUTPUT_DIR": "s3://bucket/news?region=us-east-1"}
    assert state_problem(Settings(remote)) == (
        "STATE_DIR must be set when OUTPUT_DIR is an object store (s3://bucket/news):"
        " a local folder for the crawl state, e.g. -s STATE_DIR=/var/lib/news-crawler/state"
    )


def test_settings_and_an_unreachable_server() -> None:
    settings = Settings({"REDIS_URL": " "})
    assert REDIS_URL.read(settings) == ""
    assert state_problem(settings) is None  # embedded mode needs no server
    assert REDIS_KEY_PREFIX.read(settings) == "news"
    settings = Settings(
        {
            "REDIS_URL": f"redis://user:secret@127.0.0.1:{free_port()}/0",
            "STATE_STORES": REDIS_STORES,
        }
    )
    problem = state_problem(settings)
    assert problem is not None
    assert "cannot reach Redis at redis://***@127.0.0.1:" in problem
    assert "secret" not in problem
    with pytest.raises(SettingError, match="one word"):
        REDIS_KEY_PREFIX.read(Settings({"REDIS_KEY_PREFIX": "two words"}))


def _record_one_file(stores: StateStores) -> None:
    state = stores.crawl_state()
    try:
        state.record_file(
            "fetch_date=2026-12-01/part-a.parquet", [("https://a.test/1", None, "h1")]
        )
    finally:
        state.close()


def _foreign_state_cases(settings: dict[str, Any], dataset: Path) -> None:
    """The settings' state records a file: refused with a dataset no crawl wrote to, accepted
    with one that holds a run history or a data file."""
    problem = state_problem(Settings(settings))
    assert problem is not None
    assert "records 1 data file, and OUTPUT_DIR" in problem
    assert f"{dataset} holds none" in problem
    (dataset / "runs").mkdir(parents=True)
    assert state_problem(Settings(settings)) is None
    (dataset / "runs").rmdir()
    part = dataset / "articles" / "fetch_date=2026-12-01"
    part.mkdir(parents=True)
    (part / "part-b.parquet").write_bytes(b"")
    assert state_problem(Settings(settings)) is None


def test_a_state_reused_for_a_new_dataset_is_refused(tmp_path: Path) -> None:
    # STATE_DIR of a dataset given with a new OUTPUT_DIR: its articles would count as stored,
    # and the crawl would store none of them (it exited 0)
    state_dir = tmp_path / "state"
    settings: dict[str, Any] = {"OUTPUT_DIR": str(tmp_path / "new"), "STATE_DIR": str(state_dir)}
    assert state_problem(Settings(settings)) is None  # a state never used: nothing made
    assert not state_dir.exists()
    stores = open_state_stores(Settings(settings))
    try:
        _record_one_file(stores)
    finally:
        stores.close()
    _foreign_state_cases(settings, tmp_path / "new")
    assert EmbeddedStores.place(StateOptions(state_dir=state_dir)).startswith(
        f"the crawl state in {state_dir} (STATE_DIR)"
    )


def test_a_redis_prefix_reused_for_a_new_dataset_is_refused(
    tmp_path: Path, shared_redis: RedisTarget
) -> None:
    settings: dict[str, Any] = {
        "OUTPUT_DIR": str(tmp_path / "new"),
        "STATE_STORES": REDIS_STORES,
        "REDIS_URL": shared_redis.url,
        "REDIS_KEY_PREFIX": shared_redis.prefix,
    }
    assert state_problem(Settings(settings)) is None
    stores = open_state_stores(Settings(settings))
    try:
        _record_one_file(stores)
    finally:
        stores.close()
    problem = state_problem(Settings(settings))
    assert problem is not None
    assert problem.startswith(
        f"the crawl state in Redis under the keys {shared_redis.prefix}:* (REDIS_KEY_PREFIX)"
    )
    _foreign_state_cases(settings, tmp_path / "new")
    other = {**settings, "REDIS_KEY_PREFIX": f"{shared_redis.prefix}x"}
    assert state_problem(Settings(other)) is None


def test_a_relative_output_dir_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the state's file count was asked of SQLite by a file: URI, which a relative path has
    # none of: every crawl after the first (and scrapy compact, a second make demo) failed
    # with a ValueError traceback in the default OUTPUT_DIR, "output"
    monkeypatch.chdir(tmp_path)
    settings: dict[str, Any] = {"OUTPUT_DIR": "output"}
    stores = open_state_stores(Settings(settings))
    try:
        _record_one_file(stores)
    finally:
        stores.close()
    assert EmbeddedStores.recorded_file_count(StateOptions(state_dir=Path("output/state"))) == 1
    problem = state_problem(Settings(settings))
    assert problem is not None  # a state recording a file, and a dataset holding none
    assert "records 1 data file" in problem
    (tmp_path / "output" / "runs").mkdir()
    assert state_problem(Settings(settings)) is None


def test_a_state_folder_that_cannot_be_written_is_not_called_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # on a filesystem remounted read-only, SQLite cannot open the healthy files: the crawl
    # said they were damaged and advised moving them away
    from dataset.state import embedded  # noqa: PLC0415

    settings: dict[str, Any] = {"OUTPUT_DIR": str(tmp_path / "out")}
    stores = open_state_stores(Settings(settings))
    try:
        _record_one_file(stores)
    finally:
        stores.close()
    (tmp_path / "out" / "runs").mkdir()
    assert state_problem(Settings(settings)) is None
    state = tmp_path / "out" / "state"
    monkeypatch.setattr(embedded.os, "access", lambda path, mode: Path(path) != state)
    assert state_problem(Settings(settings)) == (
        f"the crawl state folder {state} cannot be written (a read-only filesystem, or its"
        " permissions)"
    )
