"""The connection to the Redis server of Redis mode: a client checked with a ping, its
replies read as bytes or text, and its URL said without the password."""

from __future__ import annotations

import redis


def connect(url: str) -> redis.Redis:
    """A client of the Redis server at ``url`` (bytes in and out), checked with a ping;
    ``redis.RedisError`` when it cannot be reached."""
    client = redis.Redis.from_url(
        url, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30
    )
    client.ping()
    return client


def as_bytes(value: bytes | str) -> bytes:
    """A Redis reply as bytes (the client returns bytes; its type hints say either)."""
    return value if isinstance(value, bytes) else value.encode()


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def safe_url(url: str) -> str:
    """The URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"
