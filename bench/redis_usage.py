"""A throwaway ``redis-server`` for the Redis-mode benchmark (``bench/workers.py``), and what it
holds and did after a crawl: ``used_memory`` (and an empty server's), ``INFO cpu``, commands
processed and by command (``INFO commandstats``), memory by key family (``MEMORY USAGE``), and the
work the crawl left behind (queued, in-flight and parsed requests, claims, registered workers).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis

from bench.harness.report import MIB, markdown_table

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

KEY_PREFIX = "bench"
SPIDER = "news"
REDIS_SERVER_ENV = "REDIS_SERVER"


def redis_server_binary() -> str | None:
    """``$REDIS_SERVER`` when set, else ``redis-server`` on the ``PATH``."""
    configured = os.environ.get(REDIS_SERVER_ENV)
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RedisHandle:
    url: str
    process: subprocess.Popen[bytes]
    client: redis.Redis


@contextlib.contextmanager
def redis_server(binary: str, folder: Path) -> Iterator[RedisHandle]:
    """A throwaway ``redis-server`` on 127.0.0.1 (no persistence) for the block."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start: see {folder}") from None
                time.sleep(0.05)
        yield RedisHandle(url, process, client)
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def key_family(key: str, prefix: str = KEY_PREFIX) -> str:
    """A key's first two parts after the prefix, ``*`` for the rest (``near:bands:*``)."""
    parts = key.removeprefix(f"{prefix}:").split(":")
    return ":".join(parts[:2]) + (":*" if len(parts) > 2 else "")


@dataclass(frozen=True)
class RedisUsage:
    """The Redis server after the workers exited."""

    used_memory: int
    empty_memory: int
    """``used_memory`` of the server before the crawl."""
    peak_memory: int
    cpu_seconds: float
    commands: int
    command_calls: dict[str, int]
    """Calls by command (``INFO commandstats``; a script's own calls included), most first."""
    families: dict[str, tuple[int, int]]
    """Key family -> (keys, bytes by ``MEMORY USAGE``), largest first."""
    left: dict[str, int]
    """Work left behind: queued requests, in-flight and parsed entries, claims, workers."""


def info_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def redis_usage(client: redis.Redis, empty_memory: int, cpu_seconds: float) -> RedisUsage:
    """What the server holds and did (read before anything else asks it more)."""
    commands = int(client.info("stats")["total_commands_processed"])
    calls = {
        name.removeprefix("cmdstat_"): int(stats["calls"])
        for name, stats in client.info("commandstats").items()
    }
    memory = client.info("memory")
    keys = [key.decode() for key in client.scan_iter(count=1000)]
    sizes: list[int] = []
    for start in range(0, len(keys), 1000):
        with client.pipeline(transaction=False) as pipe:
            for key in keys[start : start + 1000]:
                pipe.memory_usage(key, samples=0)
            sizes += [int(size or 0) for size in pipe.execute()]
    families: dict[str, list[int]] = {}
    for key, size in zip(keys, sizes, strict=True):
        entry = families.setdefault(key_family(key), [0, 0])
        entry[0] += 1
        entry[1] += size
    base = f"{KEY_PREFIX}:{SPIDER}"
    left = {
        "queued": int(client.zcard(f"{base}:requests")),
        "in flight": sum(int(client.hlen(k)) for k in client.scan_iter(f"{base}:in-flight:*")),
        "parsed": sum(int(client.hlen(k)) for k in client.scan_iter(f"{base}:done:*")),
        "claims": int(client.hlen(f"{KEY_PREFIX}:claims")),
        "workers": int(client.scard(f"{KEY_PREFIX}:workers")),
    }
    return RedisUsage(
        used_memory=int(memory["used_memory"]),
        empty_memory=empty_memory,
        peak_memory=int(memory["used_memory_peak"]),
        cpu_seconds=cpu_seconds,
        commands=commands,
        command_calls=dict(sorted(calls.items(), key=lambda kv: -kv[1])),
        families={
            name: (count, size)
            for name, (count, size) in sorted(families.items(), key=lambda kv: -kv[1][1])
        },
        left=left,
    )


@dataclass(frozen=True)
class Measured:
    """A crawl's Redis usage with what it is divided by."""

    label: str
    usage: RedisUsage
    rows: int
    """Articles stored."""
    responses: int
    """Article responses."""


def usage_table(measured: Sequence[Measured]) -> str:
    rows = []
    for m in measured:
        usage, stored = m.usage, max(m.rows, 1)
        rows.append(
            [
                m.label,
                f"{usage.used_memory / MIB:.1f}",
                f"{usage.peak_memory / MIB:.1f}",
                f"{usage.used_memory / stored:,.0f}",
                f"{(usage.used_memory - usage.empty_memory) / stored:,.0f}",
                f"{sum(keys for keys, _ in usage.families.values()):,}",
                f"{usage.commands:,}",
                f"{usage.commands / max(m.responses, 1):.1f}",
            ]
        )
    headers = [
        "measurement",
        "used_memory at the end (MiB)",
        "used_memory_peak (MiB)",
        "bytes per stored article",
        "bytes per stored article over an empty server",
        "keys",
        "commands processed",
        "commands per article response",
    ]
    return markdown_table(headers, rows)


def families_table(m: Measured) -> str:
    stored = max(m.rows, 1)
    rows = [
        [f"`{KEY_PREFIX}:{name}`", f"{keys:,}", f"{size / MIB:.2f}", f"{size / stored:,.0f}"]
        for name, (keys, size) in m.usage.families.items()
    ]
    return markdown_table(["keys", "count", "MiB (MEMORY USAGE)", "bytes per stored article"], rows)


def commands_line(m: Measured, top: int = 12) -> str:
    responses = max(m.responses, 1)
    calls = list(m.usage.command_calls.items())
    shown = ", ".join(f"`{name}` {count / responses:.1f}" for name, count in calls[:top])
    return (
        f"Commands per article response, {m.label} (`INFO commandstats`; the calls "
        f"scripts make are counted too, each `evalsha` besides): {shown}."
    )


def redis_version() -> str:
    binary = redis_server_binary()
    if binary is None:
        return "not installed"
    try:
        output = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return "redis-server"
    match = re.search(r"v=(\S+)", output)
    return f"redis-server {match.group(1)}" if match else "redis-server"
