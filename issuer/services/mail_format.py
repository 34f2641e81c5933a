"""The bytes of an outgoing plain-text message (RFC 5322 headers, RFC 2045 body).

The standard library builds them (``email``'s compat32 API for ASCII addresses, the full
``EmailMessage`` API for internationalised ones). For the common message — ASCII subject
and body, every header short enough to stay on one line — :func:`plain_bytes` writes the
same bytes directly: the library spends most of its time folding headers that need no
folding, which counts when a bulk award sends ten thousand messages. Anything else goes the
library's way, so the output is always the library's.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from functools import lru_cache
from typing import Protocol

#: The legacy (compat32) API with CRLF line ends: for a plain-text message it builds the
#: same headers and body as ``EmailMessage`` in a fifth of the time.
_SMTP_POLICY = compat32.clone(linesep="\r\n")
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP
MAX_LINE = 998  # RFC 5322 §2.1.1: a line is at most 998 characters
#: The length up to which compat32 leaves a header on one line (RFC 5322 §2.1.1's 78).
_FOLD_AT = 78
_LINE_END = re.compile(r"\r\n|\r|\n")  # what the generator turns into CRLF
#: Printable ASCII and space only: a header value the library would write unchanged.
_PLAIN_VALUE = re.compile(r"[ -~]*")
_ASCII_HEAD = (b'Content-Type: text/plain; charset="us-ascii"\r\n'
               b"MIME-Version: 1.0\r\n"
               b"Content-Transfer-Encoding: 7bit\r\n")


class Text(Protocol):
    """What a message says: recipient, subject, body, and when it was written."""

    @property
    def to(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


@lru_cache(maxsize=16)
def sender(mail_from: str) -> tuple[str, str]:
    """``(display name, address)`` of the configured ``From`` (parsed once, not per mail)."""
    return parseaddr(mail_from)


def message_id(address: str) -> str:
    return make_msgid(domain=address.rpartition("@")[2] or None)


def plain_bytes(name: str, address: str, text: Text, msgid: str | None = None) -> bytes:
    """The message from ``name <address>`` as the compat32 API writes it, CRLF line ends."""
    msgid = msgid or message_id(address)
    fast = _direct(name, address, text, msgid)
    return fast if fast is not None else library_bytes(name, address, text, msgid)


def library_bytes(name: str, address: str, text: Text, msgid: str) -> bytes:
    """The same message built by the standard library, whatever it holds."""
    body = text.body
    if body.isascii() and not _has_long_lines(body):
        mime = MIMEText(body, "plain", "us-ascii")
    else:
        mime = MIMEText(body, "plain", _UTF8_QP)  # quoted-printable: lines of 76 at most
    mime["From"] = formataddr((name, address), charset="utf-8")
    mime["To"] = text.to
    mime["Subject"] = text.subject if text.subject.isascii() else Header(text.subject, "utf-8")
    mime["Date"] = format_datetime(text.created_at)
    mime["Message-ID"] = msgid
    mime["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    return mime.as_bytes(policy=_SMTP_POLICY)


def email_message(mail_from: str, text: Text) -> EmailMessage:
    """The full email API's message, for internationalised addresses (SMTPUTF8, RFC 6531)."""
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = text.to
    email["Subject"] = text.subject
    email["Date"] = format_datetime(text.created_at)
    email["Message-ID"] = message_id(sender(mail_from)[1])
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    email.set_content(text.body)
    return email


@lru_cache(maxsize=16)
def _from_line(name: str, address: str) -> str | None:
    value = formataddr((name, address), charset="utf-8")
    return _header("From", value)


def _header(name: str, value: str) -> str | None:
    """``Name: value`` when the library would write it so: printable ASCII on one line."""
    line = f"{name}: {value}"
    if len(line) > _FOLD_AT or not _PLAIN_VALUE.fullmatch(value) or value != value.strip():
        return None
    if "  " in value:  # the library's folding collapses runs of spaces
        return None
    return line


def _has_long_lines(body: str) -> bool:
    return any(len(line) > MAX_LINE for line in body.splitlines())


def _direct(name: str, address: str, text: Text, msgid: str) -> bytes | None:
    """The compat32 bytes written directly, or None when the library has work to do."""
    body = text.body
    if not body.isascii() or _has_long_lines(body):
        return None
    lines = (_from_line(name, address), _header("To", text.to),
             _header("Subject", text.subject),
             _header("Date", format_datetime(text.created_at)),
             _header("Message-ID", msgid), "Auto-Submitted: auto-generated")
    if any(line is None for line in lines):
        return None
    head = "\r\n".join(line for line in lines if line is not None)
    return (_ASCII_HEAD + head.encode("ascii") + b"\r\n\r\n"
            + _LINE_END.sub("\r\n", body).encode("ascii"))
