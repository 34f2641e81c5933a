"""Date-times as credentials and proofs write them: one form, in UTC, from aware values only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

import pytest

from issuer.core.datetimes import format_datetime, parse_datetime
from issuer.core.errors import InputError


class NoOffset(tzinfo):
    """A time zone that does not know its offset: Python treats such datetimes as naive."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


def test_written_in_utc_to_the_second() -> None:
    moment = datetime(2026, 3, 1, 14, 30, 5, 999_999, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(moment) == "2026-03-01T12:30:05Z"


def test_a_year_has_four_digits() -> None:
    # XML Schema dateTime: strftime("%Y") writes "999" on some platforms, which no
    # verifier reads as a date.
    assert format_datetime(datetime(999, 1, 2, tzinfo=UTC)) == "0999-01-02T00:00:00Z"
    assert parse_datetime("0999-01-02T00:00:00Z") == datetime(999, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize("moment", [datetime(2026, 1, 1), datetime(2026, 1, 1, tzinfo=NoOffset())])
def test_a_date_time_without_a_known_offset_is_refused(moment: datetime) -> None:
    # Guessing the zone (the machine's local time) would shift the date.
    with pytest.raises(InputError, match="validFrom must be timezone-aware"):
        format_datetime(moment, "validFrom")


def test_only_datetimes_are_written() -> None:
    with pytest.raises(InputError, match="must be a datetime"):
        format_datetime("2026-01-01T00:00:00Z")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.25+02:00", "2026-01-01T00:00:00-05:30"],
)
def test_date_time_stamps_are_read(text: str) -> None:
    moment = parse_datetime(text)
    assert moment.tzinfo is not None
    assert parse_datetime(format_datetime(moment)) == moment.replace(microsecond=0)


@pytest.mark.parametrize(
    "text",
    ["2026-01-01T00:00:00", "2026-01-01", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00Z\n",
     " 2026-01-01T00:00:00Z", 20260101],
)
def test_anything_else_is_refused(text: object) -> None:
    with pytest.raises(InputError):
        parse_datetime(text)  # type: ignore[arg-type]
