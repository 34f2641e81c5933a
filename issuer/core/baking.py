"""Baked badges: a signed credential carried inside its own PNG or SVG image (OB 3.0 §5.3).

* **PNG** (§5.3.1): one ``iTXt`` chunk with the keyword ``openbadgecredential``, not
  compressed, empty language tag and translated keyword; its text is the credential JSON or
  the compact JWS. At most one such chunk; when reading, the first one wins.
* **SVG** (§5.3.2): ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` on the root
  ``<svg>`` and, directly after its start tag, exactly one ``<openbadges:credential>``: the
  JSON in a CDATA section, or ``verify="<compact JWS>"`` for a VC-JWT.

:func:`extract` reads OB 3.0 baking only. The OB 2.0 kind (Open Badges 2.0 "Baking
Specification": an ``iTXt`` chunk with the keyword ``openbadges``, or an
``<openbadges:assertion>`` in the ``http://openbadges.org`` namespace whose ``verify`` holds
the assertion URL or signed JWS) is read by :func:`extract_ob2` alone, so an old assertion
never passes for a new credential. ``tEXt``/``zTXt`` chunks and compressed SVG (``.svgz``)
are not read.

The files come from strangers, so everything is bounded: image size, chunk count, the size
of a decompressed text, and XML with a DOCTYPE (where entity expansion lives) is refused,
but for the standard SVG 1.1 public DOCTYPE (SVG 1.1 §1.3), which declares nothing: it is
accepted without an internal subset, its DTD is never read and entity references stay refused.
"""

from __future__ import annotations

import functools
import re
import struct
import xml.parsers.expat
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from issuer.core.errors import InputError

__all__ = [
    "MAX_CHUNKS",
    "MAX_IMAGE_BYTES",
    "MAX_PAYLOAD_BYTES",
    "OB_NAMESPACE",
    "PNG_KEYWORD",
    "PNG_SIGNATURE",
    "SVG_NAMESPACE",
    "ImageFormat",
    "bake_png",
    "bake_svg",
    "extract",
    "extract_ob2",
    "extract_png",
    "extract_svg",
    "image_format",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = b"openbadgecredential"
OB_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
#: OB 2.0 "Baking Specification": the PNG keyword and the SVG namespace of an assertion.
OB2_PNG_KEYWORD = b"openbadges"
OB2_NAMESPACE = "http://openbadges.org"
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
#: Name, public id and system id of the SVG 1.1 document type declaration (SVG 1.1 §1.3).
_SVG11_DOCTYPE = ("svg", "-//W3C//DTD SVG 1.1//EN",
                  "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd")

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_CHUNKS = 10_000
#: The verifier reads at most 5 MB of credential; a baked text larger than that is refused
#: before it is decompressed further.
MAX_PAYLOAD_BYTES = 5 * 1024 * 1024

#: PNG "Chunk layout": a chunk length is at most 2^31 - 1.
_MAX_CHUNK_LENGTH = 2**31 - 1
_CHUNK_TYPE = re.compile(rb"^[A-Za-z]{4}$")
_SVG_ROOT_HINT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?svg[\s/>]")

ImageFormat = Literal["png", "svg"]


@functools.cache
def _xml_forbidden() -> re.Pattern[str]:
    """XML 1.0 §2.2 Char: what may appear in an XML document at all. Compiled when first
    baking: its class spans all of Unicode, and compiling it costs more than the rest of
    this module's import, which every verification pays."""
    return re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def image_format(data: bytes | str) -> ImageFormat | None:
    """Tell a PNG or an SVG from anything else by its content, never by a file name."""
    if isinstance(data, str):
        head = data[:65536].lstrip("\ufeff \t\r\n").encode("utf-8", "replace")
    else:
        if data.startswith(PNG_SIGNATURE):
            return "png"
        head = bytes(data[:65536]).removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if head.startswith(b"<") and _SVG_ROOT_HINT.search(head):
        return "svg"
    return None


def extract(data: bytes | str, *, max_bytes: int = MAX_IMAGE_BYTES) -> str | None:
    """The credential baked into a PNG or SVG, or None when the image carries none."""
    kind = image_format(data)
    if kind == "png" and isinstance(data, bytes | bytearray):
        return extract_png(bytes(data), max_bytes=max_bytes)
    if kind == "svg":
        return extract_svg(data, max_bytes=max_bytes)
    raise InputError("the file is neither a PNG nor an SVG image")


def extract_ob2(data: bytes | str, *, max_bytes: int = MAX_IMAGE_BYTES) -> str | None:
    """The OB 2.0 assertion baked into a PNG or SVG (its URL, JWS or JSON), or None."""
    kind = image_format(data)
    if kind == "png" and isinstance(data, bytes | bytearray):
        return extract_png(bytes(data), max_bytes=max_bytes, keyword=OB2_PNG_KEYWORD)
    if kind == "svg":
        raw, encoding = _svg_bytes(data, max_bytes)
        return _scan_svg(raw, encoding=encoding,
                         element=f"{OB2_NAMESPACE} assertion").first_value
    raise InputError("the file is neither a PNG nor an SVG image")


# -- PNG (OB 3.0 §5.3.1; PNG Specification, "Chunk layout" and "iTXt") ---------------------


@dataclass(frozen=True)
class _Chunk:
    type: bytes
    data: bytes

    def encode(self) -> bytes:
        crc = zlib.crc32(self.type + self.data)
        return struct.pack(">I", len(self.data)) + self.type + self.data + struct.pack(">I", crc)


def _read_chunks(data: bytes, *, max_bytes: int, max_chunks: int) -> list[_Chunk]:
    """Every chunk from IHDR to IEND, each length and CRC checked (PNG "Chunk layout")."""
    if not isinstance(data, bytes | bytearray):
        raise InputError("a PNG image must be given as bytes")
    if len(data) > max_bytes:
        raise InputError(f"the image is larger than {max_bytes:,} bytes")
    if not data.startswith(PNG_SIGNATURE):
        raise InputError("this is not a PNG image (the PNG signature is missing)")
    chunks: list[_Chunk] = []
    pos = len(PNG_SIGNATURE)
    while True:
        if len(chunks) >= max_chunks:
            raise InputError(f"the PNG has more than {max_chunks:,} chunks")
        if pos + 8 > len(data):
            raise InputError("the PNG is truncated: it ends before its IEND chunk")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        if not _CHUNK_TYPE.match(ctype):
            raise InputError(f"the PNG is damaged: a chunk at byte {pos} has no valid type")
        if length > _MAX_CHUNK_LENGTH or pos + 12 + length > len(data):
            raise InputError(f"the PNG is truncated: the {ctype.decode()} chunk is cut short")
        body = bytes(data[pos + 8:pos + 8 + length])
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if crc != zlib.crc32(ctype + body):
            raise InputError(f"the PNG is damaged: the {ctype.decode()} chunk fails its CRC")
        if not chunks and (ctype != b"IHDR" or length != 13):
            raise InputError("the PNG is damaged: it does not start with an IHDR chunk")
        chunks.append(_Chunk(ctype, body))
        pos += 12 + length
        if ctype == b"IEND":
            break
    if pos != len(data):
        raise InputError("the PNG has unexpected data after its IEND chunk")
    if not any(c.type == b"IDAT" for c in chunks):
        raise InputError("the PNG is damaged: it has no image data (IDAT)")
    return chunks


def _itxt_fields(body: bytes, wanted: bytes = PNG_KEYWORD) -> tuple[bytes, int, int, bytes] | None:
    """(keyword, compression flag, method, text bytes), or None for another kind of text."""
    keyword, sep, rest = body.partition(b"\0")
    if not sep or keyword != wanted:
        return None
    if len(rest) < 2:
        raise InputError(f"the {wanted.decode()} chunk is malformed")
    flag, method = rest[0], rest[1]
    parts = rest[2:].split(b"\0", 2)
    if len(parts) != 3:
        raise InputError(f"the {wanted.decode()} chunk is malformed")
    return keyword, flag, method, parts[2]


def _itxt_text(flag: int, method: int, text: bytes) -> str:
    if flag == 1:
        # §5.3.1 forbids compression, but a compressed chunk is still unambiguous: read it,
        # within the same bound as an uncompressed one.
        if method != 0:
            raise InputError("the openbadgecredential chunk uses an unknown compression")
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(text, MAX_PAYLOAD_BYTES + 1)
        except zlib.error:
            raise InputError("the openbadgecredential chunk cannot be decompressed") from None
        if len(text) > MAX_PAYLOAD_BYTES or inflater.unconsumed_tail:
            raise InputError("the baked credential is larger than 5 MB")
        if not inflater.eof:
            raise InputError("the openbadgecredential chunk is truncated")
    elif flag != 0:
        raise InputError("the openbadgecredential chunk has an invalid compression flag")
    if len(text) > MAX_PAYLOAD_BYTES:
        raise InputError("the baked credential is larger than 5 MB")
    try:
        return text.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("the baked credential is not UTF-8 text") from None


def extract_png(
    data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES, max_chunks: int = MAX_CHUNKS,
    keyword: bytes = PNG_KEYWORD,
) -> str | None:
    """The text of the first ``openbadgecredential`` iTXt chunk (§5.3.1), or None.

    ``keyword`` names another iTXt keyword (OB 2.0 baking uses ``openbadges``).
    """
    for chunk in _read_chunks(data, max_bytes=max_bytes, max_chunks=max_chunks):
        if chunk.type == b"iTXt":
            found = _itxt_fields(chunk.data, keyword)
            if found is not None:
                return _itxt_text(found[1], found[2], found[3])
    return None


def _check_payload(payload: str) -> bytes:
    if not isinstance(payload, str) or not payload.strip():
        raise InputError("there is no credential to bake")
    if not _encodable(payload):
        raise InputError("the credential is not valid Unicode text")
    encoded = payload.encode("utf-8")
    if len(encoded) > MAX_PAYLOAD_BYTES:
        raise InputError("the credential is larger than 5 MB")
    return encoded


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bake_png(
    image: bytes,
    payload: str,
    *,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_chunks: int = MAX_CHUNKS,
) -> bytes:
    """Return ``image`` with ``payload`` in one ``openbadgecredential`` iTXt chunk (§5.3.1).

    Any existing such chunk is dropped (at most one may exist); the new one goes just before
    the first IDAT, after IHDR, PLTE and the other header chunks. Every other chunk is kept
    byte for byte, so the pixels do not change.
    """
    text = _check_payload(payload)
    if b"\0" in text:
        # Neither JSON nor a JWS holds a raw null, and PNG text readers commonly stop at one.
        raise InputError("the credential contains a null character")
    chunks = _read_chunks(image, max_bytes=max_bytes, max_chunks=max_chunks)
    kept = [c for c in chunks if not (c.type == b"iTXt" and _itxt_fields(c.data))]
    # Keyword, then compression flag 0, method 0, empty language tag, empty translation.
    baked = _Chunk(b"iTXt", PNG_KEYWORD + b"\0\0\0\0\0" + text)
    first_idat = next(i for i, c in enumerate(kept) if c.type == b"IDAT")
    kept.insert(first_idat, baked)
    return PNG_SIGNATURE + b"".join(c.encode() for c in kept)


# -- SVG (OB 3.0 §5.3.2) ------------------------------------------------------------------


class _Refused(Exception):
    """Raised from inside the XML parser to stop it; turned into InputError outside."""


@dataclass
class _SvgScan:
    """What one pass of the XML parser saw, with byte offsets for surgery on the text."""

    root_name: str | None = None
    root_start: int = -1
    root_prefixes: dict[str, str] = field(default_factory=dict)
    credentials: list[tuple[int, int]] = field(default_factory=list)
    first_value: str | None = None


def _tag_end(data: bytes, start: int) -> int:
    """Offset just past the ``>`` of the tag that opens at ``start`` (quotes skipped)."""
    pos, quote = start, 0
    while pos < len(data):
        byte = data[pos]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in (0x22, 0x27):
            quote = byte
        elif byte == 0x3E:
            return pos + 1
        pos += 1
    raise InputError("the SVG is damaged: a tag is not closed")


def _scan_svg(data: bytes, *, encoding: str | None, offsets: bool = False,
              element: str = f"{OB_NAMESPACE} credential") -> _SvgScan:
    """Parse once; with ``offsets`` (UTF-8 input only) also find where each element ends."""
    scan = _SvgScan()
    parser = xml.parsers.expat.ParserCreate(encoding=encoding, namespace_separator=" ")
    depth = 0
    pending: dict[str, str] = {}
    open_credential: dict[str, Any] | None = None

    def refuse(message: str) -> Callable[..., Any]:
        def handler(*_: Any) -> Any:
            raise _Refused(message)
        return handler

    def on_namespace(prefix: str | None, uri: str) -> None:
        pending[prefix or ""] = uri

    def on_start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, open_credential
        depth += 1
        where = parser.CurrentByteIndex
        if depth == 1:
            scan.root_name, scan.root_start = name, where
            scan.root_prefixes = dict(pending)
        pending.clear()
        if open_credential is not None:
            open_credential["depth"] += 1
            return
        if name == element:
            open_credential = {"start": where, "depth": 1, "text": [], "attrs": attrs}
            end = _tag_end(data, where) if offsets else 0
            if offsets and data[end - 2:end] == b"/>":
                close_credential(end)

    def close_credential(end: int) -> None:
        nonlocal open_credential
        if open_credential is None:
            return
        scan.credentials.append((open_credential["start"], end))
        if scan.first_value is None:
            attrs = open_credential["attrs"]
            scan.first_value = (
                attrs["verify"] if "verify" in attrs else "".join(open_credential["text"])
            )
        open_credential = None

    def on_end(_name: str) -> None:
        nonlocal depth
        depth -= 1
        if open_credential is None:
            return
        open_credential["depth"] -= 1
        if open_credential["depth"] == 0:
            where = parser.CurrentByteIndex
            closing_tag = offsets and data[where:where + 2] == b"</"
            close_credential(_tag_end(data, where) if closing_tag else where)

    def on_text(text: str) -> None:
        if open_credential is not None:
            open_credential["text"].append(text)

    def on_doctype(name: str, system_id: str | None, public_id: str | None,
                   internal_subset: int) -> None:
        # Only the standard SVG 1.1 declaration, and only as a name: the DTD is never read
        # (expat's default leaves external parameter entities alone) and nothing may be
        # declared inside the file.
        if (name, public_id, system_id) != _SVG11_DOCTYPE or internal_subset:
            raise _Refused(
                "SVG files with a DOCTYPE other than the standard SVG 1.1 one are not "
                "accepted (it can define entities that expand without bound)"
            )

    parser.StartDoctypeDeclHandler = on_doctype
    parser.SkippedEntityHandler = refuse("SVG files that refer to entities are not accepted")
    parser.EntityDeclHandler = refuse("SVG files that declare entities are not accepted")
    parser.ExternalEntityRefHandler = refuse("SVG files that refer to entities are not accepted")
    parser.StartNamespaceDeclHandler = on_namespace
    parser.StartElementHandler = on_start
    parser.EndElementHandler = on_end
    parser.CharacterDataHandler = on_text
    try:
        parser.Parse(data, True)
    except _Refused as exc:
        raise InputError(str(exc)) from None
    except xml.parsers.expat.ExpatError as exc:
        raise InputError(f"the SVG is not well-formed XML: {exc}") from None
    local = (scan.root_name or "").rpartition(" ")
    if local[2] != "svg" or local[0] not in ("", SVG_NAMESPACE):
        raise InputError("this is XML but not an SVG image (the root element is not <svg>)")
    return scan


def _svg_bytes(svg: bytes | str, max_bytes: int) -> tuple[bytes, str | None]:
    """The bytes to parse and the encoding to force (text is always read as UTF-8)."""
    if isinstance(svg, str):
        if not _encodable(svg):
            raise InputError("the SVG is not valid Unicode text")
        data, encoding = svg.encode("utf-8"), "utf-8"
    elif isinstance(svg, bytes | bytearray):
        data, encoding = bytes(svg), None
    else:
        raise InputError("an SVG image must be given as text or bytes")
    if len(data) > max_bytes:
        raise InputError(f"the image is larger than {max_bytes:,} bytes")
    return data, encoding


def extract_svg(data: bytes | str, *, max_bytes: int = MAX_IMAGE_BYTES) -> str | None:
    """The first ``openbadges:credential`` element's ``verify`` or text (§5.3.2), or None.

    The element is found by its namespace, whatever prefix the file gives it.
    """
    raw, encoding = _svg_bytes(data, max_bytes)
    return _scan_svg(raw, encoding=encoding).first_value


def _cdata(payload: str) -> str:
    # "]]>" would end the section early: close it between "]]" and ">". A carriage return
    # would be read back as a line feed (XML §2.11), so it travels as a character reference.
    parts = payload.replace("]]>", "]]]]><![CDATA[>").split("\r")
    return "]]>&#13;<![CDATA[".join(parts).join(("<![CDATA[", "]]>"))


def _attribute(value: str) -> str:
    # Tabs and line breaks in an attribute are read back as spaces (XML §3.3.3) unless they
    # are character references.
    for char, ref in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"),
                      ("\t", "&#9;"), ("\n", "&#10;"), ("\r", "&#13;")):
        value = value.replace(char, ref)
    return value


def _require_utf8(raw: bytes) -> None:
    """Baking writes UTF-8 text, so the file must already be UTF-8 to be kept as it is."""
    declared = re.match(rb"^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']+)", raw)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise InputError("only UTF-8 SVG files can be baked")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("only UTF-8 SVG files can be baked") from None


def bake_svg(svg: bytes | str, payload: str, *, jws: bool) -> str:
    """Return ``svg`` with ``payload`` baked in as one ``openbadges:credential`` (§5.3.2).

    With ``jws`` the compact JWS goes in ``verify``; otherwise the JSON goes in a CDATA
    section. Existing credential elements are removed; only the root start tag changes
    otherwise, so the rest of the file is kept as it was. The result is UTF-8 text.
    """
    _check_payload(payload)
    if _xml_forbidden().search(payload):
        raise InputError("the credential contains characters that cannot be written in XML")
    # Imported here: reading images (on every verification) needs none of the JWS code.
    from issuer.core.proofs.vc_jwt import looks_like_jws

    if jws and not looks_like_jws(payload):
        raise InputError("a VC-JWT credential must be a compact JWS")
    raw, encoding = _svg_bytes(svg, MAX_IMAGE_BYTES)
    if encoding is None:
        _require_utf8(raw)
    scan = _scan_svg(raw, encoding=encoding, offsets=True)
    bound = scan.root_prefixes.get("openbadges")
    if bound not in (None, OB_NAMESPACE):
        raise InputError("the SVG already uses the prefix 'openbadges' for another namespace")
    element = (
        f'<openbadges:credential verify="{_attribute(payload)}"/>' if jws
        else f"<openbadges:credential>{_cdata(payload)}</openbadges:credential>"
    ).encode("utf-8")
    out = raw
    for start, end in reversed(scan.credentials):
        out = out[:start] + out[end:]
    tag_end = _tag_end(out, scan.root_start)
    closing = tag_end - 2 if out[tag_end - 2:tag_end] == b"/>" else tag_end - 1
    declaration = b"" if bound else f' xmlns:openbadges="{OB_NAMESPACE}"'.encode()
    opened = out[scan.root_start:closing] + declaration + b">" + element
    if closing == tag_end - 2:
        # <svg .../> has no content to follow the element: give it an end tag.
        qname = out[scan.root_start + 1:].split(b">", 1)[0].split(b"/", 1)[0].split()[0]
        opened += b"</" + qname + b">"
    out = out[:scan.root_start] + opened + out[tag_end:]
    result = out.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    if extract_svg(result) != payload:
        raise InputError("the SVG could not be baked without changing the credential")
    return result
