"""Revocation and suspension with W3C Bitstring Status List v1.0 (Recommendation, May 2025)
and its predecessor, W3C CCG Status List 2021 (https://w3c-ccg.github.io/vc-status-list-2021/).

* :class:`Bitstring` is the list itself: index 0 is the left-most (most significant) bit of
  the first byte (§2.2 ``encodedList``, §7.1), at least 131,072 entries (§3.2 step 2, §6.1),
  published as multibase base64url of its GZIP compression (§3.3, §3.4).
* :func:`status_entry` and :func:`status_list_credential` build the two documents of §2.1
  and §2.2; the caller signs the list credential like any other.
* :func:`check_entry` is the §3.2 Validate Algorithm once the list is in hand and trusted;
  :class:`BitstringStatusChecker` fetches the list, has its signature verified, and plugs
  into the verifier (OB 3.0 §9.1 step 4).

Status List 2021 is the same algorithm under other names (:data:`STATUS_LIST_2021`): the
entry ``StatusList2021Entry``, the list ``StatusList2021Credential`` with a ``StatusList2021``
subject, and ``encodedList`` as base64 of the GZIP data without a multibase prefix (Status
List 2021 §2 "Data Model" and its "Bitstring Expansion Algorithm"; its lists are also at
least 16 KB, the same 131,072 entries).

Only ``statusSize`` 1 and the purposes ``revocation`` and ``suspension`` are supported (§1.3
lets a processor support size 1 only). Whatever cannot be answered is "could not check", a
warning, and never "not revoked".
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from issuer.core.datetimes import format_datetime
from issuer.core.errors import InputError, IssuerError
from issuer.core.multibase import multibase_decode, multibase_encode
from issuer.core.nodes import issuer_id, types_of
from issuer.core.verify import Outcome, StatusChecker, StatusResult
from issuer.core.vocab import VC_V2

__all__ = [
    "BITSTRING_STATUS_LIST",
    "ENTRY_TYPE",
    "LIST_CREDENTIAL_TYPE",
    "LIST_TYPE",
    "MAX_DECODED_BYTES",
    "MIN_ENTRIES",
    "PURPOSES",
    "STATUS_LIST_2021",
    "Bitstring",
    "BitstringStatusChecker",
    "ListKind",
    "StatusRoute",
    "check_entry",
    "index_number",
    "list_kind",
    "routed_status",
    "status_bit",
    "status_entry",
    "status_list_credential",
    "status_list_url",
]

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_TYPE = "BitstringStatusList"
PURPOSES = ("revocation", "suspension")

#: §3.2 step 2 ``minimumNumberOfEntries``; §6.1: fewer entries give holders too little
#: group privacy.
MIN_ENTRIES = 131_072
#: A gzip stream of a few kilobytes can expand to gigabytes; a list is never allowed to
#: exceed this once decompressed (134 million entries).
MAX_DECODED_BYTES = 16 * 1024 * 1024
#: base64url of a gzip stream no bigger than the decompressed limit, plus gzip overhead.
_MAX_ENCODED_CHARS = (MAX_DECODED_BYTES + 1024) * 4 // 3 + 8

_DECIMAL = re.compile(r"^[0-9]+$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]+$")
_SHOWN_DIGITS = 20
#: A list of at most MAX_DECODED_BYTES holds fewer than 10**12 entries, so an index with
#: more digits (leading zeros aside) is past the end of any list.
_MAX_INDEX_DIGITS = 12

_PAST_TENSE = {"revocation": "revoked", "suspension": "suspended"}


class Bitstring:
    """A status bitstring; bit ``i`` is bit ``7 - i % 8`` of byte ``i // 8`` (§7.1)."""

    __slots__ = ("_bytes",)

    def __init__(self, size: int = MIN_ENTRIES) -> None:
        if isinstance(size, bool) or not isinstance(size, int):
            raise InputError("the bitstring size must be a whole number")
        if size < MIN_ENTRIES:
            raise InputError(f"a status list holds at least {MIN_ENTRIES:,} entries")
        if size % 8 or size > MAX_DECODED_BYTES * 8:
            raise InputError(
                f"the bitstring size must be a multiple of 8 and at most "
                f"{MAX_DECODED_BYTES * 8:,}"
            )
        self._bytes = bytearray(size // 8)

    @classmethod
    def from_bytes(cls, data: bytes) -> Bitstring:
        bits = cls(len(data) * 8)
        bits._bytes[:] = data
        return bits

    @property
    def size(self) -> int:
        return len(self._bytes) * 8

    def __len__(self) -> int:
        return self.size

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bitstring) and self._bytes == other._bytes

    __hash__ = None  # type: ignore[assignment]  # mutable, so not hashable

    def _position(self, index: int) -> tuple[int, int]:
        if isinstance(index, bool) or not isinstance(index, int):
            raise InputError("a status list index must be a whole number")
        if not 0 <= index < self.size:
            raise InputError(f"the index {index} is outside the status list (0 to "
                             f"{self.size - 1})")
        return index // 8, 0x80 >> (index % 8)

    def get(self, index: int) -> bool:
        byte, mask = self._position(index)
        return bool(self._bytes[byte] & mask)

    def set(self, index: int, value: bool = True) -> None:
        byte, mask = self._position(index)
        if value:
            self._bytes[byte] |= mask
        else:
            self._bytes[byte] &= ~mask & 0xFF

    def to_bytes(self) -> bytes:
        return bytes(self._bytes)

    def encode(self) -> str:
        """§3.3 Bitstring Generation Algorithm step 3: GZIP, then multibase base64url."""
        if not self._bytes.strip(b"\x00"):
            # An empty list, as most checked here are (one entry's bit read, and not set):
            # its text depends on its size alone.
            return _empty_encoded(len(self._bytes))
        return _encoded(self.to_bytes())

    @classmethod
    def decode(cls, encoded: str, *, max_bytes: int = MAX_DECODED_BYTES) -> Bitstring:
        """§3.4 Bitstring Expansion Algorithm, refusing anything malformed or oversized."""
        if not isinstance(encoded, str) or not encoded.startswith("u"):
            raise InputError("encodedList must be multibase base64url (starting with 'u')")
        if len(encoded) > _MAX_ENCODED_CHARS:
            raise InputError("encodedList is too long")
        if len(encoded) <= _SHORT_LIST_CHARS:
            return cls.from_bytes(_short_list_bytes(encoded, max_bytes))
        return cls.inflate(_compressed(encoded), max_bytes=max_bytes)

    @classmethod
    def decode_2021(cls, encoded: str, *, max_bytes: int = MAX_DECODED_BYTES) -> Bitstring:
        """Status List 2021 "Bitstring Expansion Algorithm": base64 (either alphabet, padding
        optional, as deployed lists vary) of the GZIP data, with no multibase prefix."""
        if not isinstance(encoded, str) or not encoded:
            raise InputError("encodedList must be base64 text")
        if len(encoded) > _MAX_ENCODED_CHARS:
            raise InputError("encodedList is too long")
        text = encoded.rstrip("=")
        # A few publishers added the multibase "u" of the later Recommendation; GZIP data
        # always starts "H4sI" in base64, so the prefix cannot be mistaken for data.
        if text.startswith("uH4sI"):
            text = text[1:]
        if not _BASE64.match(text) or len(text) % 4 == 1:
            raise InputError("encodedList is not base64 text")
        try:
            compressed = base64.urlsafe_b64decode(
                text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raise InputError("encodedList is not base64 text") from None
        return cls.inflate(compressed, max_bytes=max_bytes)

    @classmethod
    def inflate(cls, compressed: bytes, *, max_bytes: int = MAX_DECODED_BYTES) -> Bitstring:
        """The list in one GZIP member (RFC 1952), never expanded past ``max_bytes``."""
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # a GZIP member (RFC 1952)
        try:
            data = inflater.decompress(compressed, max_bytes + 1)
        except zlib.error:
            raise InputError("encodedList is not GZIP-compressed data") from None
        if len(data) > max_bytes or inflater.unconsumed_tail:
            raise InputError(
                f"the status list is larger than {max_bytes:,} bytes when decompressed"
            )
        if not inflater.eof:
            raise InputError("encodedList is truncated: the GZIP data does not end")
        if inflater.unused_data:
            raise InputError("encodedList has data after the end of its GZIP data")
        if len(data) * 8 < MIN_ENTRIES:
            # §3.2 step 9 STATUS_LIST_LENGTH_ERROR.
            raise InputError(
                f"the status list holds {len(data) * 8:,} entries, fewer than the "
                f"{MIN_ENTRIES:,} required"
            )
        return cls.from_bytes(data)


def _compressed(encoded: str) -> bytes:
    try:
        return multibase_decode(encoded)
    except IssuerError:
        raise InputError("encodedList is not valid unpadded base64url") from None


#: A list this short in text (an empty or nearly empty one, as most are) is kept decoded:
#: verifying a credential decodes its lists again and again. At most a few hundred KB each.
_SHORT_LIST_CHARS = 512


@lru_cache(maxsize=8)
def _short_list_bytes(encoded: str, max_bytes: int) -> bytes:
    return Bitstring.inflate(_compressed(encoded), max_bytes=max_bytes).to_bytes()


def _encoded(data: bytes) -> str:
    # mtime=0 keeps the output a function of the bits alone, so an unchanged list
    # re-encodes (and re-signs) to the same text.
    return multibase_encode(gzip.compress(data, compresslevel=9, mtime=0), "u")


@lru_cache(maxsize=8)
def _empty_encoded(size_bytes: int) -> str:
    return _encoded(bytes(size_bytes))


@dataclass(frozen=True)
class ListKind:
    """The names one status list method gives the same bitstring algorithm."""

    entry_type: str
    credential_type: str
    list_type: str
    decode: Callable[[str], Bitstring]


BITSTRING_STATUS_LIST = ListKind(ENTRY_TYPE, LIST_CREDENTIAL_TYPE, LIST_TYPE, Bitstring.decode)
STATUS_LIST_2021 = ListKind("StatusList2021Entry", "StatusList2021Credential",
                            "StatusList2021", Bitstring.decode_2021)
_KINDS = (BITSTRING_STATUS_LIST, STATUS_LIST_2021)


def list_kind(entry: Any) -> ListKind | None:
    """The bitstring method a ``credentialStatus`` entry uses, by its type; None for others."""
    types = types_of(entry)
    return next((k for k in _KINDS if k.entry_type in types), None)


def status_list_url(entry: Any) -> str | None:
    """The URL a status entry is checked against: the bitstring list credential it names,
    or for other methods (1EdTech Revocation List) the entry's own ``id``."""
    if not isinstance(entry, Mapping):
        return None
    url = entry.get("statusListCredential") if list_kind(entry) else entry.get("id")
    return url if isinstance(url, str) else None


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise InputError(f"the status purpose must be one of {', '.join(PURPOSES)}")


def _check_url(url: str) -> None:
    if not isinstance(url, str) or ":" not in url or any(c.isspace() for c in url):
        raise InputError("the status list URL must be an absolute URL")


def status_entry(list_url: str, index: int, purpose: str) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` (§2.1) for one credential.

    Its ``id`` names the entry, not the list (§2.1 forbids the list URL); OB 3.0 requires
    an ``id`` on every ``credentialStatus`` (§B.1.21).
    """
    _check_url(list_url)
    _check_purpose(purpose)
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InputError("a status list index must be a whole number, 0 or more")
    return {
        "id": f"{list_url}#{index}",
        "type": ENTRY_TYPE,
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def status_list_credential(
    list_url: str,
    issuer: Mapping[str, Any] | str,
    purpose: str,
    bits: Bitstring,
    valid_from: datetime,
) -> dict[str, Any]:
    """The unsigned ``BitstringStatusListCredential`` (§2.2, §3.1 steps 2-4).

    Only the VC 2.0 context is named, which defines every status term; pass an ``issuer``
    that uses VC 2.0 terms only (``id``, ``name``), or its extra terms will be reported as
    issuer-dependent.
    """
    _check_url(list_url)
    _check_purpose(purpose)
    if not isinstance(bits, Bitstring):
        raise InputError("the status list must be a Bitstring")
    return {
        "@context": [VC_V2],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_CREDENTIAL_TYPE],
        "issuer": issuer if isinstance(issuer, str) else dict(issuer),
        "validFrom": format_datetime(valid_from),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": LIST_TYPE,
            "statusPurpose": purpose,
            "encodedList": bits.encode(),
        },
    }


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]


def _list_subject(list_credential: Mapping[str, Any], kind: ListKind) -> Mapping[str, Any]:
    if not isinstance(list_credential, Mapping):
        raise InputError("the status list is not a JSON object")
    if kind.credential_type not in types_of(list_credential):
        raise InputError(f"the status list is not a {kind.credential_type}")
    subject = list_credential.get("credentialSubject")
    if kind.list_type not in types_of(subject):
        raise InputError(f"the status list's credentialSubject is not a {kind.list_type}")
    return subject


def index_number(index: Any) -> int | None:
    """A ``statusListIndex`` (a base-10 number as a string, §2.1) as a number; None when it
    is not one, or is too long to be inside any list (``int()`` refuses strings of over
    4,300 digits)."""
    if not isinstance(index, str) or not _DECIMAL.match(index):
        return None
    digits = index.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_INDEX_DIGITS else None


def status_bit(bits: Bitstring, index: str, size: int = 1) -> bool:
    """The status an entry's ``statusListIndex`` points at (§3.2 steps 10-12), set or not.

    The entry's bits start at ``index × statusSize``; an index past the end of the list is
    a RANGE_ERROR (InputError). Only 1-bit entries are read: their one bit is the status.
    """
    number = index_number(index)
    position = bits.size if number is None else number * size
    if position >= bits.size:
        shown = index if len(index) <= _SHOWN_DIGITS else index[:_SHOWN_DIGITS] + "…"
        raise InputError(f"the status list index {shown} is outside the list "
                         f"({bits.size:,} entries)")
    return bits.get(position)


def check_entry(entry: Mapping[str, Any], list_credential: Mapping[str, Any]) -> StatusResult:
    """§3.2 Validate Algorithm, steps 3 and 5-13, for a list whose proof is already checked.

    Malformed entries and lists raise InputError (§3 MALFORMED_VALUE_ERROR, §3.2 RANGE_ERROR
    and STATUS_LIST_LENGTH_ERROR); what this code does not support, or a list for another
    purpose, is a WARNING: the status is unknown, not good.
    """
    kind = list_kind(entry)
    if kind is None:
        raise InputError(f"the status entry is not a {ENTRY_TYPE}")
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str):
        raise InputError("the status entry's statusPurpose must be a string")
    if purpose not in PURPOSES:
        return StatusResult(Outcome.WARNING,
                            f"could not check the status: the purpose {purpose!r} is not "
                            "supported")
    size = entry.get("statusSize", 1)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError("the status entry's statusSize must be a whole number above 0")
    if size != 1:
        return StatusResult(Outcome.WARNING,
                            "could not check the status: only 1-bit status entries are "
                            "supported")
    index = entry.get("statusListIndex")
    if not isinstance(index, str) or not _DECIMAL.match(index):
        raise InputError("the status entry's statusListIndex must be a base-10 number as a "
                         "string")
    url = entry.get("statusListCredential")
    if not isinstance(url, str):
        raise InputError("the status entry's statusListCredential must be a URL")
    list_id = list_credential.get("id") if isinstance(list_credential, Mapping) else None
    if list_id is not None and list_id != url:
        return StatusResult(Outcome.WARNING,
                            f"could not check the status: the list obtained for {url} is "
                            f"the list {list_id}")
    subject = _list_subject(list_credential, kind)
    purposes = _strings(subject.get("statusPurpose"))
    if not purposes:
        raise InputError("the status list's statusPurpose must be one or more strings")
    if purpose not in purposes:
        return StatusResult(Outcome.WARNING,
                            f"could not check the status: the status list is for "
                            f"{' and '.join(purposes)}, not {purpose}")
    encoded = subject.get("encodedList")
    if not isinstance(encoded, str):
        raise InputError("the status list has no encodedList")
    word = _PAST_TENSE[purpose]
    if status_bit(kind.decode(encoded), index, size):
        return StatusResult(Outcome.FAILED,
                            f"{word}: the issuer's status list marks this credential as {word}")
    return StatusResult(Outcome.PASSED,
                        f"not {word} (checked against the issuer's status list just now)")


class BitstringStatusChecker:
    """The verifier's status checker for ``BitstringStatusListEntry`` and
    ``StatusList2021Entry`` (OB 3.0 §9.1 step 4).

    ``fetch`` returns the list credential for a URL, or None when it cannot be had (a cache
    or a network client: this module does no I/O). ``verify_list`` says whether the list's
    proof verifies; give it a Verifier *without* this checker, since a status list's own
    status is not looked up (loops are refused regardless).

    A list that cannot be fetched, or whose signature does not verify, gives a WARNING
    ("could not check"), not a FAILED: an unverified list proves nothing either way. Failing
    on it would let whoever can corrupt a copy of the list revoke every credential on it,
    and passing would let them un-revoke; the honest answer is that the status is unknown.
    By default the list must also come from the credential's own issuer: VC Bitstring
    Status List §3.2 leaves trust in a different list issuer to the verifier, and this
    verifier has no one else to trust.
    """

    def __init__(
        self,
        fetch: Callable[[str], Mapping[str, Any] | None],
        verify_list: Callable[[Mapping[str, Any]], bool],
        *,
        same_issuer: bool = True,
    ) -> None:
        self._fetch = fetch
        self._verify_list = verify_list
        self._same_issuer = same_issuer
        self._local = threading.local()

    def __call__(
        self, entry: Mapping[str, Any], credential: Mapping[str, Any]
    ) -> StatusResult:
        types = types_of(entry)
        if list_kind(entry) is None:
            name = types[0] if types else "without a type"
            return StatusResult(Outcome.WARNING,
                                f"could not check the status: the status method {name!r} "
                                "is not supported")
        url = entry.get("statusListCredential")
        if not isinstance(url, str) or not url:
            return _unknown("the status entry names no statusListCredential")
        active: set[str] = getattr(self._local, "active", set())
        if url in active:
            return _unknown("the status list refers back to itself")
        self._local.active = active | {url}
        try:
            return self._check(entry, credential, url)
        finally:
            self._local.active = active

    def _check(
        self, entry: Mapping[str, Any], credential: Mapping[str, Any], url: str
    ) -> StatusResult:
        try:
            list_credential = self._fetch(url)
        except IssuerError as exc:
            # The fetcher's refusals and failures say why (address refused, time, size).
            return _unknown(f"the status list was not available: {exc.message}")
        except Exception:  # noqa: BLE001 - a failing fetch means "unavailable", whatever it was
            list_credential = None
        if not isinstance(list_credential, Mapping):
            return _unknown("the status list was not available")
        try:
            trusted = bool(self._verify_list(list_credential))
        except Exception:  # noqa: BLE001 - a list that breaks the verifier is not trusted
            trusted = False
        if not trusted:
            return _unknown("the status list's signature could not be verified, so it "
                            "cannot be trusted")
        if self._same_issuer:
            list_issuer, issuer = issuer_id(list_credential), issuer_id(credential)
            if list_issuer != issuer:
                return _unknown(f"the status list is issued by {list_issuer}, not by the "
                                f"credential's issuer {issuer}")
        try:
            return check_entry(entry, list_credential)
        except IssuerError as exc:
            return _unknown(exc.message)


#: Which lists a checker answers for (by ``statusListCredential``), and the checker.
StatusRoute = tuple[Callable[[str], bool], StatusChecker]


def routed_status(routes: Sequence[StatusRoute], otherwise: StatusChecker | str
                  ) -> StatusChecker:
    """One checker from several: each entry goes to the first route whose test accepts its
    list URL (a pinned copy, this installation's lists), every other entry to ``otherwise``
    (a checker, or the reason it is "could not check": never "not revoked")."""

    def check(entry: Mapping[str, Any], credential: Mapping[str, Any]) -> StatusResult:
        url = entry.get("statusListCredential")
        if isinstance(url, str):
            for answers, checker in routes:
                if answers(url):
                    return checker(entry, credential)
        url = status_list_url(entry)
        if isinstance(otherwise, str):
            shown = url if isinstance(url, str) and len(url) <= 200 else "the status list"
            return _unknown(otherwise.format(url=shown))
        return otherwise(entry, credential)

    return check


def _unknown(why: str) -> StatusResult:
    return StatusResult(Outcome.WARNING, f"could not check the status: {why}")
