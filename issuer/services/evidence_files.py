"""Files attached to evidence: the type is decided by the bytes, never by what the browser said.

A learner's file is later downloaded by a reviewer, so it must not be able to act as a web
page or a program in the reviewer's browser. Only four kinds are kept — PDF, PNG, JPEG and
plain text — recognised by their content; the file's name must agree with the content (an
HTML page or a program renamed to ``.pdf`` is refused), and the stored media type is the one
found in the bytes. Downloads are always served as attachments with that type.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from issuer.services.context import ServiceContext
from issuer.services.errors import Invalid

#: Used when the settings have no ``max_evidence_bytes``.
MAX_EVIDENCE_BYTES = 5 * 1024 * 1024

#: Media type → file name extensions that may carry it.
ALLOWED = {
    "application/pdf": (".pdf",),
    "image/png": (".png",),
    "image/jpeg": (".jpg", ".jpeg"),
    "text/plain": (".txt", ".text", ".md", ".markdown", ".csv", ".log"),
}
ALLOWED_WORDS = "PDF, PNG, JPEG or plain text"

#: Text that a browser could take for a web page or an image with script (SVG).
MARKUP = re.compile(rb"^\s*<(?:!doctype|html|head|body|script|svg|\?xml|iframe|object)",
                    re.IGNORECASE)
UNSAFE_NAME_CHARS = re.compile(r"[^\w .()\-+]")


@dataclass(frozen=True)
class CheckedFile:
    name: str
    media_type: str
    data: bytes
    sha256: str


def max_bytes(ctx: ServiceContext) -> int:
    limit = getattr(ctx.settings, "max_evidence_bytes", None)
    return int(limit) if limit else MAX_EVIDENCE_BYTES


def describe_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    return f"{max(1, round(size / 1024))} KB"


def sniff(data: bytes) -> str | None:
    """The media type the bytes really are, among the allowed ones; None otherwise."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if MARKUP.match(data.removeprefix(b"\xef\xbb\xbf")):
        return None
    # Control characters other than tab, line feed, form feed and carriage return mean binary.
    if any(ord(ch) < 32 and ch not in "\t\n\r\f" for ch in text):
        return None
    return "text/plain"


def safe_name(name: str | None, media_type: str) -> str:
    """A file name fit for a download header: no path, no control or odd characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    base = UNSAFE_NAME_CHARS.sub("_", base).strip(" ._")
    base = re.sub(r"_{2,}", "_", base)
    if not base:
        base = "evidence"
    if "." not in base:
        base += ALLOWED[media_type][0]
    if len(base) > 120:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: 120 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:120]
    return base


def check_file(ctx: ServiceContext, name: str | None, data: bytes) -> CheckedFile:
    """Accept a file only if it is small enough and really one of the allowed types."""
    limit = max_bytes(ctx)
    if len(data) > limit:
        raise Invalid(
            f"The file is {describe_size(len(data))}; files may be at most "
            f"{describe_size(limit)}.", {"file": f"at most {describe_size(limit)}"})
    if not data:
        raise Invalid("The file is empty.", {"file": "the file is empty"})
    media_type = sniff(data)
    if media_type is None:
        raise Invalid(f"This kind of file cannot be attached. Attach a {ALLOWED_WORDS} file.",
                      {"file": f"use a {ALLOWED_WORDS} file"})
    lowered = (name or "").lower()
    extension = "." + lowered.rpartition(".")[2] if "." in lowered else ""
    if extension and extension not in ALLOWED[media_type]:
        raise Invalid(
            f"The file is called {extension!r} but its content is not that kind of file. "
            f"Attach a {ALLOWED_WORDS} file with the matching name.",
            {"file": "the file's name and content do not match"})
    return CheckedFile(name=safe_name(name, media_type), media_type=media_type, data=data,
                       sha256=hashlib.sha256(data).hexdigest())
