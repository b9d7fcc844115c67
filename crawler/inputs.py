"""Spider arguments: URL lists given inline (comma-separated) or as ``@file``."""

from __future__ import annotations

from pathlib import Path

from extraction.urls import url_problem


class InputError(ValueError):
    """A spider argument that cannot be used; the message says which and why."""


def validate_url(url: str, *, argument: str) -> str:
    """``url`` stripped, if it is an absolute http(s) URL that can be fetched
    (:func:`url_problem`); else :class:`InputError`."""
    url = url.strip()
    problem = "contains white space" if any(ch.isspace() for ch in url) else url_problem(url)
    if problem is not None:
        raise InputError(f"{argument}: {url!r} {problem}")
    return url


def read_url_list(value: str | None, *, argument: str) -> list[str]:
    """The URLs of a spider argument, validated, in order, without repeats.

    ``value`` is either a comma-separated list of URLs or ``@path`` naming a UTF-8 text file
    with one URL per line (blank lines and lines starting with ``#`` are skipped). Use a file
    for URLs that contain commas.
    """
    if value is None or not value.strip():
        return []
    value = value.strip()
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{argument}: cannot read URL file {str(path)!r}: {exc}") from None
        candidates = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    else:
        candidates = [part for part in value.split(",") if part.strip()]
    urls = [validate_url(candidate, argument=argument) for candidate in candidates]
    return list(dict.fromkeys(urls))
