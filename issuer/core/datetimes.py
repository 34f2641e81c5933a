"""Date-times as credentials and proofs write them, and as they are read back.

* VC Data Model 2.0 §4.9 (``validFrom``, ``validUntil``) and VC Data Integrity 1.0 §2.1
  (``created``, ``expires``) take an XML Schema 1.1 ``dateTimeStamp`` (Part 2 §3.4.28): a
  ``dateTime`` (§3.3.7) whose time zone is mandatory; its year has at least four digits.
* OB 3.0 §B.7 DateTimeZ is the same with the time zone written ``Z``.

This service writes every date-time in UTC, to the second, ending in ``Z``: the form of the
specifications' examples, which every verifier reads. Fractions of a second are dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from issuer.core.errors import InputError

__all__ = ["format_datetime", "parse_datetime"]

#: XML Schema 1.1 ``dateTimeStamp`` (Part 2 §3.4.28): the time zone is required.
_DATE_TIME_STAMP = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"
)


def format_datetime(value: datetime, what: str = "date") -> str:
    """``value`` as a DateTimeZ (OB 3.0 §B.7) in UTC: ``YYYY-MM-DDTHH:MM:SSZ``.

    Only a timezone-aware datetime is taken: a naive one would be read as local time by
    some and as UTC by others. ``what`` names the value in the error message.
    """
    if not isinstance(value, datetime):
        raise InputError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            f"{what} must be timezone-aware: a DateTimeZ needs a time zone, and guessing one "
            "would shift the date"
        )
    v = value.astimezone(UTC)
    # strftime("%Y") does not zero-pad years below 1000 on every platform, and a
    # dateTime's year needs four digits.
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"


def parse_datetime(value: str) -> datetime:
    """A ``dateTimeStamp`` read into a timezone-aware datetime; InputError when it is not one."""
    if not isinstance(value, str) or not _DATE_TIME_STAMP.fullmatch(value):
        raise InputError(f"{value!r} is not a date-time with a time zone")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{value!r} is not a valid date-time") from None
