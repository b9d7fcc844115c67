"""Settings declared once: each with its name, default, type, allowed values and meaning.

A component declares the settings it owns as module constants (``EXTRACT_WORKERS =
integer(...)``) and reads them with :meth:`Setting.read`, which converts the value Scrapy holds
(a string from ``-s``, or a Python value from a settings file) and checks it. The project's
add-on (``crawler/addon.py``) gathers every declaration, sets each default at ``addon`` priority
(so ``scrapy settings --get NAME`` shows it) and makes the settings reference of
``docs/settings.md``. No default is written anywhere else.

A value a setting cannot take is never a reason to run on without a component (Scrapy's
``NotConfigured`` would do that, with one warning): every command checks every setting before
it does anything (``crawler/settings_check.py``) and stops with one line and status 2, and a
component that meets one anyway (a crawl started from Python) raises :class:`SettingError`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from scrapy.settings import BaseSettings

T = TypeVar("T")


class SettingError(ValueError):
    """A setting holds a value it cannot take, or one that does not fit another setting's; the
    message is ``NAME=value: why``, one line."""


@dataclass(frozen=True, kw_only=True)
class Setting(Generic[T]):
    """One setting: how it is read, and what the docs say of it."""

    name: str
    default: T
    doc: str
    """What it does, in one line (the settings reference shows it)."""
    allowed: str
    """The values it takes, in words (``an integer >= 1``, ``drop or flag``)."""
    parse: Callable[[Any], T]
    """The value Scrapy holds (not ``None``) to the setting's value; ``ValueError`` (saying
    why) when it cannot be one."""
    shown_default: str | None = None
    """The default as the docs show it, when ``repr(default)`` does not say it well."""

    def read(self, settings: BaseSettings) -> T:
        """The setting's value in ``settings`` (its default when it is not set); raises
        :class:`SettingError`."""
        raw = settings.get(self.name)
        if raw is None:
            return self.default
        try:
            return self.parse(raw)
        except (ValueError, TypeError) as exc:
            raise SettingError(f"{self.name}={raw!r}: {exc}") from None

    def default_text(self) -> str:
        """The default as the docs show it."""
        if self.shown_default is not None:
            return self.shown_default
        if isinstance(self.default, timedelta):
            return f"`{format_duration(self.default)}`"
        if self.default is None or self.default == "":
            return "empty"
        if isinstance(self.default, tuple | list):
            return ", ".join(f"`{value}`" for value in self.default)
        return f"`{self.default}`"


def _bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw in (0, 1, "0", "1"):
        return bool(int(raw))
    if raw in ("True", "true"):
        return True
    if raw in ("False", "false"):
        return False
    raise ValueError("must be True or False (or 1 or 0)")


def flag(name: str, default: bool, doc: str) -> Setting[bool]:
    """A boolean setting (``True``/``False``, ``true``/``false``, ``1``/``0``)."""
    return Setting(name=name, default=default, doc=doc, allowed="True or False", parse=_bool)


def _range_text(minimum: float | None, maximum: float | None, *, above: bool = False) -> str:
    low = "" if minimum is None else f"{'>' if above else '>='} {minimum:g}"
    high = "" if maximum is None else f"<= {maximum:g}"
    return " and ".join(filter(None, (low, high)))


def _in_range(
    value: float, minimum: float | None, maximum: float | None, *, above: bool = False
) -> None:
    too_low = minimum is not None and (value <= minimum if above else value < minimum)
    if too_low or (maximum is not None and value > maximum):
        raise ValueError(f"must be {_range_text(minimum, maximum, above=above)}")


def integer(
    name: str,
    default: int,
    doc: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> Setting[int]:
    """A whole number, within ``minimum`` and ``maximum`` when given."""

    def parse(raw: Any) -> int:
        value = _whole_number(raw)
        _in_range(value, minimum, maximum)
        return value

    kind = "an integer"
    limits = _range_text(minimum, maximum)
    return Setting(
        name=name,
        default=default,
        doc=doc,
        allowed=f"{kind} {limits}".strip(),
        parse=parse,
    )


def optional_integer(
    name: str,
    doc: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    unset: str,
) -> Setting[int | None]:
    """A whole number, or nothing (``None`` or an empty string): ``unset`` says what nothing
    means (``one per usable core``)."""

    def parse(raw: Any) -> int | None:
        if raw == "":
            return None
        value = _whole_number(raw)
        _in_range(value, minimum, maximum)
        return value

    limits = _range_text(minimum, maximum)
    return Setting(
        name=name,
        default=None,
        doc=doc,
        allowed=f"{f'an integer {limits}'.strip()}, or empty",
        parse=parse,
        shown_default=unset,
    )


def _whole_number(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("must be a whole number")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError("must be a whole number") from None


def number(
    name: str,
    default: float,
    doc: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: bool = False,
) -> Setting[float]:
    """A number, within ``minimum`` (excluded when ``above``) and ``maximum`` when given."""

    def parse(raw: Any) -> float:
        if isinstance(raw, bool):
            raise ValueError("must be a number")
        try:
            value = float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        _in_range(value, minimum, maximum, above=above)
        return value

    limits = _range_text(minimum, maximum, above=above)
    return Setting(
        name=name,
        default=default,
        doc=doc,
        allowed=f"a number {limits}".strip(),
        parse=parse,
    )


LONGEST_WAIT = 86_400.0
"""The longest time a setting in seconds takes: a day. A longer delay, timeout or wait is a
mistake (a crawl that waits for ever), and some waits cannot hold one: an ``EXTRACT_TIMEOUT`` of
1e308 overflowed a thread's wait at the crawl's end and hung it."""


def seconds(
    name: str, default: float, doc: str, *, minimum: float = 0, above: bool = False
) -> Setting[float]:
    """A time in seconds: a number from ``minimum`` (excluded when ``above``) to
    :data:`LONGEST_WAIT`."""
    return number(name, default, doc, minimum=minimum, maximum=LONGEST_WAIT, above=above)


# "90m", "12h", "3d", "1w", "30s", or several: "1d12h".
_DURATION = re.compile(r"(?:\d+[smhdw])+", re.ASCII)
_DURATION_PART = re.compile(r"(\d+)([smhdw])", re.ASCII)
_SECONDS = re.compile(r"\d+", re.ASCII)
_UNIT_SECONDS = MappingProxyType({"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800})
_DURATION_FORMS = "`90m`, `12h`, `3d`, `1w`, or seconds"


def parse_duration(text: str | int) -> timedelta:
    """A duration written as ``"90m"``, ``"12h"``, ``"3d"``, ``"1w"``, ``"30s"``, a sum of
    those (``"1d12h"``) or a whole number of seconds (``3600`` or ``"3600"``).

    Raises ``ValueError`` for anything else, negative numbers included.
    """
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError(f"{text!r} is not a duration; use e.g. '90m', '12h', '3d' or '1w'")
    value = str(text).strip().lower()
    if _SECONDS.fullmatch(value):
        total = int(value)
    elif _DURATION.fullmatch(value):
        total = sum(
            int(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART.findall(value)
        )
    elif value.startswith("-"):
        raise ValueError(f"{text!r} is negative; durations cannot be negative")
    else:
        raise ValueError(
            f"{text!r} is not a duration; use e.g. '90m', '12h', '3d', '1w' or seconds"
        )
    try:
        return timedelta(seconds=total)
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration") from None


def format_duration(value: timedelta) -> str:
    """``value`` as :func:`parse_duration` reads it back, in days, hours, minutes and seconds
    (``30s``, ``7d``, ``1d12h``, ``0s``). Raises ``ValueError`` for a negative duration or one
    that is no whole number of seconds, which no setting can hold."""
    if value < timedelta(0) or value.microseconds:
        raise ValueError(f"{value} is no whole, non-negative number of seconds")
    left = value.days * _UNIT_SECONDS["d"] + value.seconds
    parts = []
    for unit in "dhms":
        amount, left = divmod(left, _UNIT_SECONDS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"


def _duration(raw: Any) -> timedelta:
    return raw if isinstance(raw, timedelta) else parse_duration(raw)


def duration_setting(
    name: str, default: timedelta, doc: str, *, positive: bool = False
) -> Setting[timedelta]:
    """A setting holding a duration (:func:`parse_duration`; ``0`` is zero, refused when
    ``positive``); the docs show its default as :func:`format_duration` writes it."""

    def parse(raw: Any) -> timedelta:
        value = _duration(raw)
        if positive and value <= timedelta(0):
            raise ValueError("must be more than 0")
        return value

    above = " above 0" if positive else ""
    return Setting(
        name=name,
        default=default,
        doc=doc,
        allowed=f"a duration{above} ({_DURATION_FORMS})",
        parse=parse,
    )


def optional_duration(name: str, doc: str, *, unset: str) -> Setting[timedelta | None]:
    """A duration (:func:`parse_duration`), or nothing (``None`` or an empty string): ``unset``
    says what nothing means (``no limit``)."""

    def parse(raw: Any) -> timedelta | None:
        return None if raw == "" else _duration(raw)

    return Setting(
        name=name,
        default=None,
        doc=doc,
        allowed=f"a duration ({_DURATION_FORMS}), or empty",
        parse=parse,
        shown_default=unset,
    )


def choice(name: str, default: str, choices: Iterable[str], doc: str) -> Setting[str]:
    """One of ``choices`` (case does not matter; the value is lower-cased)."""
    options = tuple(choices)

    def parse(raw: Any) -> str:
        value = str(raw).strip().lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return Setting(
        name=name,
        default=default,
        doc=doc,
        allowed=" or ".join(f"`{option}`" for option in options),
        parse=parse,
    )


def text(
    name: str,
    default: str,
    doc: str,
    *,
    check: Callable[[str], str] | None = None,
    allowed: str = "a string",
    shown_default: str | None = None,
) -> Setting[str]:
    """A string (white space around it removed), checked by ``check`` when given: it returns
    the value to use, or raises ``ValueError`` saying why. Bytes that are not UTF-8 (a path a
    shell passed as the file system wrote it) are refused: nothing could write them (a crawl
    into such an ``OUTPUT_DIR`` accepted its articles and stored none)."""

    def parse(raw: Any) -> str:
        value = str(raw).strip()
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("is not UTF-8 text") from None
        return check(value) if check is not None else value

    return Setting(
        name=name,
        default=default,
        doc=doc,
        allowed=allowed,
        parse=parse,
        shown_default=shown_default,
    )


def text_list(
    name: str, default: tuple[str, ...], doc: str, *, shown_default: str | None = None
) -> Setting[tuple[str, ...]]:
    """A list of non-empty strings (a Python list, or a comma-separated string)."""

    def parse(raw: Any) -> tuple[str, ...]:
        values = raw.split(",") if isinstance(raw, str) else list(raw)
        items = tuple(str(value).strip() for value in values)
        if raw != "" and any(not item for item in items):
            raise ValueError("contains an empty entry")
        return tuple(item for item in items if item)

    return Setting(
        name=name,
        default=default,
        doc=doc,
        allowed="a list of strings (comma-separated)",
        parse=parse,
        shown_default=shown_default,
    )
