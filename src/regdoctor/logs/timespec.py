"""``--since`` / ``--until`` values: ISO 8601 instants, or spans back from now like KQL's ``ago()``.

All instants are returned as naive UTC ``datetime`` values, the type of the normalised view's
``time`` column. A value without an offset is read as UTC (Log Analytics exports are UTC).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_REL_RE = re.compile(r"^\s*(\d{1,9}(?:\.\d{1,6})?)\s*(s|sec|m|min|h|hr|d|day|days|w|wk)\s*$", re.IGNORECASE)
_ISO_DUR_RE = re.compile(r"^P(?:(\d{1,6})W)?(?:(\d{1,6})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,6})M)?(?:(\d{1,6})S)?)?$",
                         re.IGNORECASE)
_FRACTION_RE = re.compile(r"(\.\d{6})\d+")
_UNIT = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400, "days": 86400,
         "w": 604800, "wk": 604800}


class BadTime(ValueError):
    """The value is neither an ISO 8601 instant nor a relative span."""


def span(value: str) -> timedelta | None:
    """The span of a relative value (``24h``, ``7d``, ``PT6H``), ``None`` for anything else.

    >>> span("90m"), span("2024-05-06")
    (datetime.timedelta(seconds=5400), None)
    """
    m = _REL_RE.match(value)
    if m:
        return timedelta(seconds=float(m.group(1)) * _UNIT[m.group(2).lower()])
    m = _ISO_DUR_RE.match(value.strip())
    if m and any(m.groups()):
        w, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        return timedelta(weeks=w, days=d, hours=h, minutes=mi, seconds=s)
    return None


def parse_instant(value: str, now: datetime) -> datetime:
    """An instant from ``2024-05-06``, ``2024-05-06T12:00:00.1234567Z``, ``+02:00`` offsets, ``now``,
    or a span back from ``now`` (``90m``, ``24h``, ``7d``, ``2w``, ``PT6H``).

    >>> now = datetime(2024, 5, 10, 12, 0)
    >>> parse_instant("24h", now), parse_instant("2024-05-06T14:00:00+02:00", now)
    (datetime.datetime(2024, 5, 9, 12, 0), datetime.datetime(2024, 5, 6, 12, 0))
    >>> parse_instant("P1DT6H", now)
    datetime.datetime(2024, 5, 9, 6, 0)
    """
    text = value.strip()
    if text.lower() == "now":
        return now
    back = span(text)
    if back is not None:
        return now - back
    iso = _FRACTION_RE.sub(r"\1", text)
    if iso[-1:] in ("Z", "z"):
        iso = iso[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        raise BadTime(f"{value!r} is not an ISO 8601 time (2024-05-06T12:00:00Z) "
                      "or a span like 24h, 7d, PT6H") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def window(since: str | None, until: str | None, now: datetime | None = None
           ) -> tuple[datetime | None, datetime | None]:
    """Both bounds, checked: ``since`` must come before ``until``.

    >>> window("2024-05-02", "2024-05-01")
    Traceback (most recent call last):
    ...
    regdoctor.logs.timespec.BadTime: --since 2024-05-02 00:00:00 is not before --until 2024-05-01 00:00:00
    """
    now = now or datetime.now(UTC).replace(tzinfo=None)
    lo = parse_instant(since, now) if since else None
    hi = parse_instant(until, now) if until else None
    if lo is not None and hi is not None and lo >= hi:
        raise BadTime(f"--since {lo} is not before --until {hi}")
    return lo, hi


__all__ = ["BadTime", "parse_instant", "span", "window"]
