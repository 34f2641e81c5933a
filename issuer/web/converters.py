"""URL converters: a number in a path names a row, so it is bounded as row ids are."""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter, IntegerConverter, Map, ValidationError

#: The largest id an ``INTEGER`` column holds on PostgreSQL (SQLite's hold more).
ROW_ID_MAX = 2**31 - 1
_MAX_DIGITS = len(str(ROW_ID_MAX))


class RowIdConverter(IntegerConverter):
    """``<int:…>`` that does not match past :data:`ROW_ID_MAX`: such a path names nothing
    stored, so it is a 404 like any unknown id. Left to Werkzeug's converter, a number too
    large for the database's integers failed inside the query (a 500), and one of over
    4,300 digits inside ``int()``."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=ROW_ID_MAX if max is None else max, signed=signed)

    def to_python(self, value: str) -> Any:
        if len(value.lstrip("-0")) > _MAX_DIGITS:
            raise ValidationError()
        return super().to_python(value)


class CredentialPathConverter(BaseConverter):
    """The ``<credential_id>`` of ``/credentials/<credential_id>``, which is never one of
    the VC API's own addresses beside it: ``GET /credentials/issue`` is then a 405 naming
    POST, not "no such credential"."""

    regex = r"(?!(?:issue|verify)$)[^/]+"
