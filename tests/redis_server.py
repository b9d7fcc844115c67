"""A Redis server for the Redis-mode tests: Debian's ``redis-server``, started on 127.0.0.1.

``.ci/run`` installs the package; when it is missing here and this runs as root with apt, the
fixture installs it. Without it, the Redis tests are skipped with a message saying so.

Besides, what the tests of the Redis stores share: a client of the server, a joined worker.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import redis

from dataset.state.redis_registry import WorkerRegistry

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

APT_PACKAGE = "redis-server"


def find_redis_server() -> str | None:
    """The ``redis-server`` binary, installed with apt first when missing and allowed."""
    found = shutil.which("redis-server")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", APT_PACKAGE],
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", APT_PACKAGE],
    ):
        subprocess.run(command, env=environment, capture_output=True, timeout=600, check=False)
        if shutil.which("redis-server"):
            break
    return shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start a throwaway server (no persistence) with its files in ``folder``."""
    binary = find_redis_server()
    if binary is None:
        pytest.skip(
            "redis-server is not installed (Debian package redis-server; .ci/run installs it)"
        )
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")]
    process = subprocess.Popen(command)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis.from_url(url).ping()
            return process, url
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise
            time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Redis server for the whole session; tests keep apart by key prefix."""
    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class RedisTarget:
    url: str
    prefix: str
    """A key prefix of the test's own (tests keep apart by prefix)."""


@pytest.fixture
def shared_redis(redis_url: str) -> RedisTarget:
    """The session's Redis server, with a key prefix of the test's own."""
    return RedisTarget(redis_url, f"t{secrets.token_hex(4)}")


@pytest.fixture
def client(shared_redis: RedisTarget) -> Iterator[redis.Redis]:
    """A client of the session's Redis server."""
    connection = redis.Redis.from_url(shared_redis.url)
    yield connection
    connection.close()


def registry(client: redis.Redis, prefix: str, *, timeout: float = 30.0) -> WorkerRegistry:
    """A worker of the shared crawl under ``prefix``, joined."""
    worker = WorkerRegistry(client, prefix, timeout=timeout)
    worker.join(run_keys=[])
    return worker


def stop_answering(worker: WorkerRegistry) -> None:
    """What the other workers see of a worker that died: its heartbeat stops and is gone at
    once (not after the timeout); it stays in the registry."""
    worker.stop_heartbeat()
    worker.client.delete(worker.heartbeat_key(worker.worker_id))
