"""The Redis-mode benchmark's Redis readings: a throwaway redis-server, what it holds after a few
writes, and the tables; skipped without redis-server (``tests/redis_server.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bench.redis_usage import (
    KEY_PREFIX,
    REDIS_SERVER_ENV,
    Measured,
    commands_line,
    families_table,
    info_cpu,
    key_family,
    redis_server,
    redis_server_binary,
    redis_usage,
    redis_version,
    usage_table,
)
from tests.redis_server import find_redis_server

if TYPE_CHECKING:
    from pathlib import Path


def test_key_families() -> None:
    assert key_family("bench:near:bands:3") == "near:bands:*"
    assert key_family("bench:state:urls") == "state:urls"
    assert key_family("bench:claims") == "claims"


def test_the_binary_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REDIS_SERVER_ENV, str(tmp_path / "none"))
    assert redis_server_binary() is None
    assert redis_version() == "not installed"


def test_a_throwaway_server_and_what_it_holds(tmp_path: Path) -> None:
    binary = find_redis_server()
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    with redis_server(binary, tmp_path / "redis") as server:
        client = server.client
        empty = int(client.info("memory")["used_memory"])
        for n in range(3):
            client.hset(f"{KEY_PREFIX}:near:bands:{n}", "key", "value" * 10)
        client.sadd(f"{KEY_PREFIX}:workers", "a-worker")
        usage = redis_usage(client, empty, info_cpu(client))
    assert server.process.poll() is not None  # stopped after the block
    assert usage.families["near:bands:*"][0] == 3
    assert usage.left["workers"] == 1
    assert usage.left["queued"] == 0
    assert usage.command_calls["hset"] == 3
    assert usage.used_memory > empty
    measured = Measured("Redis, 1 worker", usage, rows=3, responses=3)
    table = usage_table([measured])
    assert table.splitlines()[2].startswith("| Redis, 1 worker | ")
    assert f"| `{KEY_PREFIX}:near:bands:*` | 3 |" in families_table(measured)
    assert "`hset` 1.0" in commands_line(measured)
