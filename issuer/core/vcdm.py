"""The MUSTs of the W3C Verifiable Credentials Data Model that a JSON Schema does not state.

Issuing and verifying apply the same rules, so this service never signs a credential that it
would itself refuse. Each problem names the member and the section it comes from (VC Data
Model 2.0 for ``https://www.w3.org/ns/credentials/v2`` credentials; the VC 1.1 date members
for ``https://www.w3.org/2018/credentials/v1`` ones).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from issuer.core.datetimes import parse_datetime
from issuer.core.errors import InputError, IssuerError
from issuer.core.multibase import multibase_decode
from issuer.core.vocab import VC_V1

__all__ = ["credential_problems"]

#: XML Schema 1.1 ``dateTime`` (Part 2 §3.3.7): VC 1.1 §4.6/§4.7 dates, time zone optional.
_DATE_TIME = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")
#: W3C Subresource Integrity §3.5 integrity metadata: ``<algorithm>-<base64 digest>``.
_SRI = re.compile(r"(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})")
_SRI_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}
#: Multihash codes (multiformats table) of the digests a relatedResource may carry, and the
#: length of each digest.
_MULTIHASH_LENGTHS = {0x12: 32, 0x13: 64, 0x16: 32, 0x14: 64, 0x20: 48, 0x15: 48}
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and _URL_SCHEME.fullmatch(value) is not None


def credential_problems(document: Mapping[str, Any]) -> list[str]:
    """Every rule ``document`` breaks, as ``member: what is wrong (section)``; [] when none."""
    legacy = _list(document.get("@context"))[:1] == [VC_V1]
    problems: list[str] = []
    problems += _issuer_problems(document, legacy)
    problems += _subject_problems(document)
    problems += _date_problems(document, legacy)
    problems += _typed_entries(document, "credentialSchema", "VCDM 2.0 §4.11", need_id=True)
    # VC 1.1 §4.9 also wants each status entry's id; VCDM 2.0 §4.10 made it optional.
    problems += _typed_entries(document, "credentialStatus",
                               "VC Data Model 1.1 §4.9" if legacy else "VCDM 2.0 §4.10",
                               need_id=legacy)
    problems += _typed_entries(document, "refreshService", "VCDM 2.0 §5.4", need_id=False)
    problems += _typed_entries(document, "termsOfUse", "VCDM 2.0 §5.5", need_id=False)
    problems += _typed_entries(document, "evidence", "VCDM 2.0 §5.6", need_id=False)
    problems += _related_resource_problems(document)
    return problems


def _issuer_problems(document: Mapping[str, Any], legacy: bool) -> list[str]:
    """VCDM 2.0 §4.7 (VC 1.1 §4.5): ``issuer`` is a URL or an object whose ``id`` is one.

    A missing issuer is the proof check's to report: a VC-JWT may name it in ``iss`` only.
    """
    if "issuer" not in document:
        return []
    section = "VC Data Model 1.1 §4.5" if legacy else "VCDM 2.0 §4.7"
    value = document["issuer"]
    found = value.get("id") if isinstance(value, Mapping) else value
    if not _is_url(found):
        return [f"issuer: must be a URL or an object whose id is a URL ({section})"]
    return []


def _subject_problems(document: Mapping[str, Any]) -> list[str]:
    """VCDM 2.0 §4.8: ``credentialSubject`` holds one or more claims about each subject."""
    subjects = _list(document.get("credentialSubject"))
    if not subjects:
        return ["credentialSubject: missing or empty; a credential makes claims about at "
                "least one subject (VCDM 2.0 §4.8)"]
    problems = []
    for index, subject in enumerate(subjects):
        where = "credentialSubject" if len(subjects) == 1 else f"credentialSubject[{index}]"
        if not isinstance(subject, Mapping):
            problems.append(f"{where}: must be an object (VCDM 2.0 §4.8)")
        elif not subject:
            problems.append(f"{where}: empty; it must state at least one claim (VCDM 2.0 "
                            "§4.8)")
    return problems


def _date_problems(document: Mapping[str, Any], legacy: bool) -> list[str]:
    """VCDM 2.0 §4.9: ``validFrom``/``validUntil`` are XML Schema dateTimeStamps; VC 1.1
    §4.6/§4.7: ``issuanceDate``/``expirationDate`` are XML Schema dateTimes."""
    problems = []
    for name in ("validFrom", "validUntil"):
        if name in document:
            try:
                parse_datetime(document[name])
            except InputError:
                problems.append(f"{name}: {document[name]!r} is not an XML Schema "
                                "dateTimeStamp such as 2024-01-01T00:00:00Z (VCDM 2.0 §4.9)")
    start, end = (_instant(document.get(name)) for name in ("validFrom", "validUntil"))
    if start is not None and end is not None and end < start:
        problems.append("validUntil: earlier than validFrom; a validity period cannot end "
                        "before it starts (VCDM 2.0 §4.9)")
    if legacy:
        for name in ("issuanceDate", "expirationDate"):
            value = document.get(name)
            if name in document and not (isinstance(value, str)
                                         and _DATE_TIME.fullmatch(value)):
                problems.append(f"{name}: {value!r} is not an XML Schema dateTime "
                                "(VC Data Model 1.1 §4.6, §4.7)")
    return problems


def _instant(value: Any) -> datetime | None:
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except InputError:
        return None


def _typed_entries(document: Mapping[str, Any], member: str, section: str, *,
                   need_id: bool) -> list[str]:
    """Each entry is an object with a ``type`` (and an ``id`` URL when ``need_id``; an
    ``id`` given is a URL)."""
    if member not in document:
        return []
    entries = _list(document[member])
    problems = []
    for index, entry in enumerate(entries):
        where = member if not isinstance(document[member], list) else f"{member}[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: must be an object ({section})")
            continue
        if not entry.get("type"):
            problems.append(f"{where}: has no type ({section})")
        if (need_id or "id" in entry) and not _is_url(entry.get("id")):
            problems.append(f"{where}: its id must be a URL ({section})")
    return problems


def _related_resource_problems(document: Mapping[str, Any]) -> list[str]:
    """VCDM 2.0 §5.3: each related resource has an ``id`` URL, no two the same, and a
    ``digestSRI`` (W3C SRI) or ``digestMultibase`` (a multibase multihash) of its content."""
    if "relatedResource" not in document:
        return []
    problems = []
    seen: set[str] = set()
    for index, entry in enumerate(_list(document["relatedResource"])):
        where = f"relatedResource[{index}]"
        if not isinstance(entry, Mapping):
            problems.append(f"{where}: must be an object (VCDM 2.0 §5.3)")
            continue
        ident = entry.get("id")
        if not _is_url(ident):
            problems.append(f"{where}: must have an id that is a URL (VCDM 2.0 §5.3)")
        elif ident in seen:
            problems.append(f"{where}: the id {ident} is listed twice (VCDM 2.0 §5.3)")
        else:
            seen.add(ident)
        if "digestSRI" not in entry and "digestMultibase" not in entry:
            problems.append(f"{where}: needs a digestSRI or a digestMultibase (VCDM 2.0 §5.3)")
        if "digestSRI" in entry and not _valid_sri(entry["digestSRI"]):
            problems.append(f"{where}: digestSRI is not SRI integrity metadata such as "
                            "sha384-<base64 digest> (VCDM 2.0 §5.3)")
        if "digestMultibase" in entry and not _valid_multihash(entry["digestMultibase"]):
            problems.append(f"{where}: digestMultibase is not a multibase-encoded multihash "
                            "(VCDM 2.0 §5.3)")
    return problems


def _valid_sri(value: Any) -> bool:
    match = _SRI.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return False
    try:
        digest = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(digest) == _SRI_LENGTHS[match.group(1)]


def _valid_multihash(value: Any) -> bool:
    try:
        raw = multibase_decode(value)
    except (IssuerError, ValueError):
        return False
    # Every code above is below 0x80, so its varint is the code itself, as is the length.
    return (len(raw) >= 2 and raw[0] in _MULTIHASH_LENGTHS
            and raw[1] == _MULTIHASH_LENGTHS[raw[0]] == len(raw) - 2)
