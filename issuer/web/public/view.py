"""What a person sees of a credential, read from the signed document itself.

The page shows what the issuer signed, not what the achievement says today: an achievement
edited after the award must not change a credential already issued (OB 3.0 §B.1.1, the
achievement travels inside the credential). The reader tolerates any shape, because the same
code describes whatever an employer pastes into the verify page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_WEB_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
_IMAGE_DATA_URL = re.compile(r"^data:image/(png|svg\+xml|jpeg|gif|webp)[;,]", re.IGNORECASE)


@dataclass(frozen=True)
class EvidenceView:
    """OB 3.0 §B.1.9 Evidence, as shown to people."""

    name: str | None
    narrative: list[list[str]]
    description: str | None
    url: str | None


@dataclass(frozen=True)
class CredentialView:
    achievement_name: str | None = None
    achievement_description: str | None = None
    achievement_id: str | None = None
    image_url: str | None = None
    image_caption: str | None = None
    criteria: list[list[str]] = field(default_factory=list)
    criteria_url: str | None = None
    issuer_id: str | None = None
    issuer_name: str | None = None
    issuer_url: str | None = None
    recipient_name: str | None = None
    narrative: list[list[str]] = field(default_factory=list)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    evidence: list[EvidenceView] = field(default_factory=list)

    @property
    def description_paragraphs(self) -> list[list[str]]:
        return paragraphs(self.achievement_description)

    def summary(self, fallback_title: str, fallback_issuer: str) -> str:
        """One sentence for link previews (Open Graph ``og:description``)."""
        title = self.achievement_name or fallback_title
        issuer = self.issuer_name or fallback_issuer
        who = f"{self.recipient_name} earned" if self.recipient_name else "A badge:"
        text = f"{who} {title}, issued by {issuer}."
        if self.achievement_description:
            text += f" {self.achievement_description}"
        return " ".join(text.split())

    def expired(self, now: datetime) -> bool:
        return self.valid_until is not None and self.valid_until < now


def web_url(value: Any) -> str | None:
    """``value`` if it is an http(s) URL that is safe to put in a link, else None."""
    return value if isinstance(value, str) and _WEB_URL.match(value) else None


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, Mapping):
        # A language map ({"@value": …} or {"en": …}) shows its first text.
        for item in value.values():
            if isinstance(item, str) and item.strip():
                return item.strip()
    return None


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def paragraphs(text: Any) -> list[list[str]]:
    """Plain text as paragraphs of lines, split on blank lines.

    OB 3.0 narratives are Markdown; showing them as escaped text keeps every character the
    issuer wrote visible while no markup from the document ever reaches the page.
    """
    value = _text(text)
    if value is None:
        return []
    blocks = re.split(r"\n\s*\n", value.replace("\r\n", "\n").replace("\r", "\n"))
    return [[line.rstrip() for line in block.strip("\n").split("\n")]
            for block in blocks if block.strip()]


def parse_date(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def display_date(moment: datetime | None) -> str:
    """A date as people write it ("5 March 2025"), in UTC so every reader sees the same day."""
    if moment is None:
        return ""
    moment = moment.astimezone(UTC)
    return f"{moment.day} {moment:%B %Y}"


def _image(achievement: Mapping[str, Any]) -> tuple[str | None, str | None]:
    image = achievement.get("image")
    url: Any
    caption: str | None
    if isinstance(image, str):
        url, caption = image, None
    elif isinstance(image, Mapping):
        url, caption = image.get("id"), _text(image.get("caption"))
    else:
        return None, None
    if isinstance(url, str) and (web_url(url) or _IMAGE_DATA_URL.match(url)):
        return url, caption
    return None, caption


def recipient_name(subject: Mapping[str, Any]) -> str | None:
    """OB 3.0 §B.1.12: the unhashed ``name`` identifier; hashed identities are never shown."""
    for entry in _as_list(subject.get("identifier")):
        if (isinstance(entry, Mapping) and entry.get("identityType") == "name"
                and entry.get("hashed") is False):
            return _text(entry.get("identityHash"))
    return None


def _evidence(doc: Mapping[str, Any]) -> list[EvidenceView]:
    items = []
    for entry in _as_list(doc.get("evidence")):
        if isinstance(entry, str):
            entry = {"id": entry}
        if not isinstance(entry, Mapping):
            continue
        view = EvidenceView(name=_text(entry.get("name")),
                            narrative=paragraphs(entry.get("narrative")),
                            description=_text(entry.get("description")),
                            url=web_url(entry.get("id")))
        if view.name or view.narrative or view.description or view.url:
            items.append(view)
    return items


def credential_view(document: Mapping[str, Any] | None) -> CredentialView:
    """The human-readable parts of an OB 3.0 AchievementCredential (§B.1.2)."""
    if not isinstance(document, Mapping):
        return CredentialView()
    subject = _first(document.get("credentialSubject"))
    subject = subject if isinstance(subject, Mapping) else {}
    achievement = subject.get("achievement")
    achievement = achievement if isinstance(achievement, Mapping) else {}
    criteria = achievement.get("criteria")
    criteria = criteria if isinstance(criteria, Mapping) else {}
    issuer = document.get("issuer")
    issuer = issuer if isinstance(issuer, Mapping) else {"id": issuer}
    image_url, caption = _image(achievement)
    return CredentialView(
        achievement_name=_text(achievement.get("name")) or _text(document.get("name")),
        achievement_description=(_text(achievement.get("description"))
                                 or _text(document.get("description"))),
        achievement_id=web_url(achievement.get("id")),
        image_url=image_url,
        image_caption=caption,
        criteria=paragraphs(criteria.get("narrative")),
        criteria_url=web_url(criteria.get("id")),
        issuer_id=issuer.get("id") if isinstance(issuer.get("id"), str) else None,
        issuer_name=_text(issuer.get("name")),
        issuer_url=web_url(issuer.get("url")),
        recipient_name=recipient_name(subject),
        narrative=paragraphs(subject.get("narrative")),
        valid_from=parse_date(document.get("validFrom") or document.get("issuanceDate")),
        valid_until=parse_date(document.get("validUntil") or document.get("expirationDate")),
        evidence=_evidence(document),
    )


def load_document(text: str) -> Mapping[str, Any] | None:
    """The stored JSON, or None if it is not a JSON object (the page then says so)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, Mapping) else None
