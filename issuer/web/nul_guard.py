"""Text with a NUL character is refused at the edge, before anything reads it.

PostgreSQL cannot hold U+0000 in text ("A string literal cannot contain NUL (0x00)
characters"), so a NUL in a path, a query, a form field or a JSON string made every
statement that carried it fail: a 500 on PostgreSQL where SQLite answered. No field of
this service has a use for it, so on both databases an address holding one is a 404 (no
name or id can contain it) and any other text holding one a 400. A query string that is
not UTF-8 (raw bytes, or %FF) is a 400 too: decoding it later failed with a 500.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from flask import Flask, request
from werkzeug.datastructures import MultiDict

from issuer.core.errors import InputError
from issuer.services.errors import NotFound

_ESCAPED_NUL = b"\\u0000"
_BACKSLASH = 0x5C
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

MESSAGE = "the request contains a NUL character (U+0000), which no field accepts"
NOT_UTF8 = "the query string is not UTF-8 text (RFC 3986 §2.5: percent-encoded UTF-8)"


def _has_nul(fields: MultiDict[str, str]) -> bool:
    # Every value of a repeated field: views read some of them as lists (getlist). A multipart
    # part whose Content-Disposition carries no readable name comes out with the name None.
    return any(_holds_nul(name) or _holds_nul(value) for name, value in fields.items(multi=True))


def _utf8(query: bytes) -> bool:
    try:
        unquote_to_bytes(query.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _json_nul(data: bytes) -> bool:
    """Whether JSON text ``data`` escapes a NUL: a ``\\u0000`` whose backslash is not itself
    escaped, that is one preceded by an even number of backslashes (RFC 8259 §7).

    Linear in ``data``, and nearly free when no ``\\u0000`` occurs: each occurrence looks back
    over the backslashes just before it only. (A regular expression with a look-behind,
    used before, tried every position of the body: 0.3 ms for a 4 KB credential.)"""
    found = data.find(_ESCAPED_NUL)
    while found != -1:
        start = found
        while start > 0 and data[start - 1] == _BACKSLASH:
            start -= 1
        if (found - start) % 2 == 0:
            return True
        found = data.find(_ESCAPED_NUL, found + 1)
    return False


def _holds_nul(text: str | None) -> bool:
    return text is not None and "\x00" in text


def _json_type(mimetype: str) -> bool:
    return mimetype == "application/json" or mimetype.endswith("+json")


def init_app(app: Flask) -> None:
    @app.before_request
    def _refuse_nul() -> None:
        if "\x00" in request.path:
            # No name or id here holds one, so there is nothing at such an address.
            raise NotFound("there is nothing at this address")
        if not _utf8(request.query_string):
            # Werkzeug would fail decoding it deep inside a view: one clear 400 here instead.
            raise InputError(NOT_UTF8)
        if _has_nul(request.args):
            raise InputError(MESSAGE)
        mimetype = request.mimetype
        if _json_type(mimetype):
            data = request.get_data(cache=True)
            if b"\x00" in data or _json_nul(data):
                raise InputError(MESSAGE)
        elif mimetype in _FORM_TYPES:
            if _has_nul(request.form):
                raise InputError(MESSAGE)
